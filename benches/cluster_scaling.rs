//! How calculations scale on a Ballista cluster of 1, 2 and 4 executors on this machine
//! (`scripts/cluster.sh`: kpi-scheduler and kpi-executor processes, 2 tasks each), against the
//! same calculation in this process. Run in release, with the release binaries:
//!
//! ```text
//! cargo build --release -p kpi-executor -p kpi-benches --bin cluster-scaling
//! target/release/cluster-scaling --rows 10000000 --copies 1,10 --executors 1,2,4
//! ```
//!
//! `--tasks` sets the tasks each executor runs at once (2 by default). `--rows` demo orders are written as Parquet files of 1M rows; `--copies` lists how many
//! times the files are repeated in the table's directory (10 copies of 10M rows is a table of
//! 100M). For each size: revenue by month and region, in this process and on each cluster
//! (median of `--runs`, 3 by default, after one run that warms caches and the data's bounds),
//! as rows per second and rows per second per executor; and the overhead of a cluster for a
//! small query (1,000 orders). Prints a Markdown table; checks every cluster's rows against the
//! local ones.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use kpi_catalog::{Catalog, DemoOptions};
use kpi_core::{ClusterOptions, Engine, EngineOptions, KpiResult};
use kpi_formula::{Grain, Query};

fn arg<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

fn list(text: &str) -> Vec<usize> {
    text.split(',').map(|n| n.trim().replace('_', "").parse().expect("a list of numbers")).collect()
}

/// Writes `batches` as Parquet files of about `per_file` rows under `dir`, `copies` times.
fn write_table(dir: &Path, schema: datafusion::arrow::datatypes::SchemaRef, batches: &[RecordBatch], per_file: usize, copies: usize) {
    std::fs::create_dir_all(dir).expect("a directory");
    let mut files: Vec<Vec<RecordBatch>> = vec![Vec::new()];
    let mut rows = 0;
    for batch in batches {
        if rows >= per_file {
            files.push(Vec::new());
            rows = 0;
        }
        rows += batch.num_rows();
        files.last_mut().expect("a file").push(batch.clone());
    }
    for (i, file) in files.iter().enumerate() {
        let first = dir.join(format!("part-0-{i}.parquet"));
        let mut writer = ArrowWriter::try_new(std::fs::File::create(&first).expect("created"), schema.clone(), None).expect("a writer");
        for batch in file {
            writer.write(batch).expect("written");
        }
        writer.close().expect("closed");
        for copy in 1..copies {
            std::fs::copy(&first, dir.join(format!("part-{copy}-{i}.parquet"))).expect("copied");
        }
    }
}

/// A running cluster of `executors`, stopped when dropped.
struct Cluster {
    dir: PathBuf,
    url: String,
}

impl Cluster {
    fn start(executors: usize, tasks: usize, scratch: &Path) -> Cluster {
        let dir = scratch.join(format!("cluster-{executors}"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/cluster.sh");
        let bin = std::env::current_exe().expect("this binary").parent().expect("its directory").to_path_buf();
        let out = Command::new("bash")
            .arg(&script)
            .arg("start")
            .arg(&dir)
            .arg(executors.to_string())
            .env("KPI_CLUSTER_BIN", bin)
            .env("KPI_EXECUTOR_TASKS", tasks.to_string())
            .output()
            .expect("cluster.sh runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        Cluster { url: String::from_utf8_lossy(&out.stdout).trim().to_string(), dir }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/cluster.sh");
        let _ = Command::new("bash").arg(script).arg("stop").arg(&self.dir).status();
    }
}

async fn engine(orders: &Path, cluster: Option<&str>) -> Engine {
    let options = EngineOptions {
        cluster: cluster.map(|url| ClusterOptions::parse(url).expect("a URL")),
        timeout: Some(Duration::from_secs(3600)),
        ..EngineOptions::default()
    };
    let engine = Engine::with_options(Catalog::standard().clone(), options).expect("an engine");
    engine.register_parquet("orders", orders).await.expect("registered");
    engine
}

/// The median time of `runs` calculations of `query` (the cache bypassed), after one warm-up.
async fn timed(engine: &Engine, query: &Query, runs: usize) -> (Duration, KpiResult) {
    let options = kpi_core::CalculateOptions::default().bypassing_cache();
    let first = engine.calculate_with(query, &options).await.expect("calculated");
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        engine.calculate_with(query, &options).await.expect("calculated");
        times.push(started.elapsed());
    }
    times.sort();
    (times[times.len() / 2], first)
}

fn same(a: &KpiResult, b: &KpiResult) -> bool {
    let values = |r: &KpiResult| -> Vec<f64> {
        let mut v: Vec<f64> = r
            .batches()
            .iter()
            .flat_map(|b| {
                let column =
                    datafusion::arrow::compute::cast(b.column(b.num_columns() - 1), &datafusion::arrow::datatypes::DataType::Float64)
                        .expect("a number");
                let column = column.as_any().downcast_ref::<datafusion::arrow::array::Float64Array>().expect("floats").clone();
                column.iter().map(|x| x.unwrap_or(f64::NAN)).collect::<Vec<_>>()
            })
            .collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let (x, y) = (values(a), values(b));
    x.len() == y.len() && x.iter().zip(&y).all(|(p, q)| (p - q).abs() <= 1e-6 * p.abs().max(1.0) || (p.is_nan() && q.is_nan()))
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rows: usize = arg(&args, "--rows").map_or(1_000_000, |n| list(n)[0]);
    let copies = arg(&args, "--copies").map_or(vec![1], list);
    let executors = arg(&args, "--executors").map_or(vec![1, 2, 4], list);
    let runs: usize = arg(&args, "--runs").map_or(3, |n| list(n)[0]).max(1);
    let tasks: usize = arg(&args, "--tasks").map_or(2, |n| list(n)[0]).max(1);
    let scratch = tempfile::tempdir().expect("a scratch directory");

    eprintln!("cluster-scaling: generating {rows} orders");
    let options = DemoOptions::new(rows).with_seed(3).only(["orders"]);
    let data = Catalog::standard().demo_data(&options).expect("demo data");
    let schema = data.schema("orders").expect("orders");
    let batches = data.batches("orders").expect("orders").to_vec();
    let small_options = DemoOptions::new(1_000).with_seed(3).only(["orders"]);
    let small_data = Catalog::standard().demo_data(&small_options).expect("demo data");
    let small = scratch.path().join("small");
    write_table(&small, schema.clone(), small_data.batches("orders").expect("orders"), 1_000_000, 1);
    drop(small_data);

    let query = Query::kpi("revenue").with_grain(Grain::Month).by(["orders.region"]);
    println!("Executors run {tasks} task(s) at once; this process uses every core.");
    println!();
    println!("| rows | where | executors | median | rows/s | rows/s per executor | vs local |");
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for &copy in &copies {
        let dir = scratch.path().join(format!("orders-{copy}"));
        write_table(&dir, schema.clone(), &batches, 1_000_000, copy);
        let total = rows * copy;
        let here = engine(&dir, None).await;
        let (local, expected) = timed(&here, &query, runs).await;
        let rate = |d: Duration| total as f64 / d.as_secs_f64();
        println!("| {total} | this process | – | {} ms | {:.1} M | – | 1.00x |", ms(local), rate(local) / 1e6);
        drop(here);
        for &n in &executors {
            let cluster = Cluster::start(n, tasks, scratch.path());
            let there = engine(&dir, Some(&cluster.url)).await;
            let (took, result) = timed(&there, &query, runs).await;
            assert!(same(&expected, &result), "{n} executors gave other numbers");
            println!(
                "| {total} | cluster | {n} | {} ms | {:.1} M | {:.1} M | {:.2}x |",
                ms(took),
                rate(took) / 1e6,
                rate(took) / 1e6 / n as f64,
                took.as_secs_f64() / local.as_secs_f64()
            );
        }
        std::fs::remove_dir_all(&dir).expect("removed");
    }

    // A small query: the cluster's fixed cost (a job, its stages, fetching the result).
    let here = engine(&small, None).await;
    let (local, expected) = timed(&here, &query, runs.max(5)).await;
    let cluster = Cluster::start(1, tasks, scratch.path());
    let there = engine(&small, Some(&cluster.url)).await;
    let (remote, result) = timed(&there, &query, runs.max(5)).await;
    assert!(same(&expected, &result), "the small query gave other numbers");
    println!();
    println!(
        "| 1,000 orders | this process {} ms | cluster of 1 {} ms | overhead {} ms |",
        ms(local),
        ms(remote),
        ms(remote.saturating_sub(local))
    );
}
