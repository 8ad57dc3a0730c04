//! `kpi calc --cluster`: the same numbers from a Ballista cluster (scripts/cluster.sh starts
//! kpi-scheduler and two kpi-executors of the workspace build), a clear error from a dead one.

use std::path::Path;
use std::process::Command;

use crate::support::{kpi, workspace_with_data};

/// A cluster on loopback, stopped when dropped.
struct Cluster {
    dir: tempfile::TempDir,
    url: String,
}

impl Cluster {
    fn start() -> Cluster {
        let dir = tempfile::tempdir().expect("a scratch directory");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/cluster.sh");
        // The binaries sit beside this test's own directory of the target dir (debug/deps/..).
        let bin = std::env::current_exe().expect("the test binary").parent().and_then(Path::parent).expect("debug/").to_path_buf();
        let out =
            Command::new("bash").arg(&script).arg("start").arg(dir.path().join("c")).env("KPI_CLUSTER_BIN", bin).output().expect("runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        Cluster { url: String::from_utf8_lossy(&out.stdout).trim().to_string(), dir }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/cluster.sh");
        let _ = Command::new("bash").arg(script).arg("stop").arg(self.dir.path().join("c")).status();
    }
}

#[test]
fn calc_on_a_cluster_prints_the_local_numbers() {
    let dir = workspace_with_data(3_000);
    let cluster = Cluster::start();
    let args = ["calc", "-k", "revenue", "-g", "month", "-b", "orders.region", "-d", "data", "--format", "json"];
    let here = kpi(dir.path(), &args).expect(0).stdout;
    let there = kpi(dir.path(), &[&args[..], &["--cluster", &cluster.url]].concat()).expect(0).stdout;
    let (here, there): (serde_json::Value, serde_json::Value) =
        (serde_json::from_str(&here).unwrap(), serde_json::from_str(&there).unwrap());
    assert_eq!(here["rows"].as_array().map(Vec::len), there["rows"].as_array().map(Vec::len));
    for (a, b) in here["rows"].as_array().unwrap().iter().zip(there["rows"].as_array().unwrap()) {
        assert_eq!(a["period"], b["period"]);
        let (x, y) = (a["value"].as_f64().unwrap_or(0.0), b["value"].as_f64().unwrap_or(0.0));
        assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{a} vs {b}");
    }
}

#[test]
fn a_dead_cluster_is_a_clear_error_naming_it() {
    let dir = workspace_with_data(500);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("df://127.0.0.1:{port}");
    let run = kpi(dir.path(), &["calc", "-k", "revenue", "-g", "month", "-d", "data", "--cluster", &url]).expect_clear_error();
    assert!(run.stderr.contains("KPI_CLUSTER") && run.stderr.contains(&url), "{}", run.stderr);
    let run = kpi(dir.path(), &["calc", "-k", "revenue", "-d", "data", "--cluster", "127.0.0.1:50050"]).expect_clear_error();
    assert!(run.stderr.contains("df://host:port"), "{}", run.stderr);
}
