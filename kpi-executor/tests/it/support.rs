//! A Ballista cluster on loopback for the tests: `kpi-scheduler` and `kpi-executor` processes
//! on free ports, stopped when dropped, and demo data written as Parquet for them to read.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use kpi_catalog::{Catalog, DemoData, DemoOptions};
use kpi_core::{ClusterOptions, Engine, EngineOptions};

/// A free loopback port (bound, then released for the process that takes it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A scheduler and its executors, each a process of this crate's binaries.
pub struct LocalCluster {
    pub port: u16,
    scheduler: Child,
    pub executors: Vec<Child>,
    _work: tempfile::TempDir,
}

impl LocalCluster {
    /// A scheduler and `executors` executors, the scheduler answering before this returns.
    pub fn start(executors: usize) -> LocalCluster {
        let port = free_port();
        let work = tempfile::tempdir().unwrap();
        let scheduler = Command::new(env!("CARGO_BIN_EXE_kpi-scheduler"))
            .args(["--bind-port", &port.to_string(), "--executor-timeout-seconds", "6"])
            .stdout(Stdio::null())
            .stderr(log(work.path(), "scheduler"))
            .spawn()
            .unwrap();
        let mut cluster = LocalCluster { port, scheduler, executors: Vec::new(), _work: work };
        cluster.wait_for_scheduler();
        for _ in 0..executors {
            cluster.add_executor();
        }
        cluster
    }

    /// Starts one more executor.
    pub fn add_executor(&mut self) {
        let n = self.executors.len();
        let dir = self._work.path().join(format!("executor-{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_kpi-executor"))
            .args(["--scheduler-port", &self.port.to_string()])
            .args(["--bind-port", &free_port().to_string(), "--bind-grpc-port", &free_port().to_string()])
            .args(["--concurrent-tasks", "2", "--heartbeat-seconds", "1"])
            .arg("--work-dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(log(self._work.path(), &format!("executor-{n}")))
            .spawn()
            .unwrap();
        self.executors.push(child);
    }

    /// `df://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("df://127.0.0.1:{}", self.port)
    }

    /// The processes' logs, for a failing test's message.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for entry in std::fs::read_dir(self._work.path()).unwrap().flatten() {
            if entry.path().extension().is_some_and(|e| e == "log") {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                out += &format!("--- {}\n{}\n", entry.path().display(), tail.into_iter().rev().collect::<Vec<_>>().join("\n"));
            }
        }
        out
    }

    fn wait_for_scheduler(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "kpi-scheduler did not listen within 30 s:\n{}", self.logs());
            if let Some(status) = self.scheduler.try_wait().unwrap() {
                panic!("kpi-scheduler exited with {status}:\n{}", self.logs());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        for child in self.executors.iter_mut().chain([&mut self.scheduler]) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn log(dir: &Path, name: &str) -> std::fs::File {
    std::fs::File::create(dir.join(format!("{name}.log"))).unwrap()
}

/// Demo data for the standard catalog: 4,000 orders over 2024.
pub fn demo() -> &'static DemoData {
    static DATA: OnceLock<DemoData> = OnceLock::new();
    DATA.get_or_init(|| {
        let options = DemoOptions::new(4_000).with_seed(7).with_range("2024-01-01", "2025-01-01").unwrap();
        Catalog::standard().demo_data(&options).unwrap()
    })
}

/// The demo data as one Parquet directory per object model (two files each, so scans have
/// more than one partition), written once per test process.
pub fn demo_parquet() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        for name in demo().table_names() {
            let batches = demo().batches(name).unwrap();
            let table = root.join(name);
            std::fs::create_dir_all(&table).unwrap();
            let half = batches.len().div_ceil(2);
            for (i, part) in [&batches[..half], &batches[half..]].into_iter().enumerate() {
                write_parquet(&table.join(format!("part-{i}.parquet")), demo().schema(name).unwrap(), part);
            }
        }
        (dir, root)
    })
    .1
}

fn write_parquet(path: &Path, schema: datafusion::arrow::datatypes::SchemaRef, batches: &[RecordBatch]) {
    let mut writer = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    for batch in batches {
        writer.write(batch).unwrap();
    }
    writer.close().unwrap();
}

/// An engine over the standard catalog reading the demo Parquet files, on `cluster` if given.
pub async fn engine(cluster: Option<&str>) -> Engine {
    let options = EngineOptions { cluster: cluster.map(|url| ClusterOptions::parse(url).unwrap()), ..EngineOptions::default() };
    let engine = Engine::with_options(Catalog::standard().clone(), options).unwrap();
    for name in demo().table_names() {
        engine.register_parquet(name, demo_parquet().join(name)).await.unwrap();
    }
    engine
}
