//! `kpi retention plan` and `kpi archive` over a data directory, and `kpi calc --data-dir`
//! reading the archive together with active data.

use crate::support::{kpi, workspace};

const POLICY: &str = "staged_source_data: { retention_period: 90, archival_enabled: true, archival_period: 1 }
analytics_data: { retention_period: 2, retention_unit: years }
";

#[test]
fn a_plan_then_an_archive_run_leave_every_kpi_as_it_was() {
    let dir = workspace();
    std::fs::write(dir.path().join("retention.yaml"), POLICY).unwrap();
    let before = kpi(dir.path(), &["calc", "-k", "revenue", "-g", "month", "--demo", "3000", "--format", "csv"]).expect(0).stdout;
    let plan = kpi(
        dir.path(),
        &["retention", "plan", "--data-dir", "state", "--demo", "3000", "--policy", "retention.yaml", "--now", "2024-12-31", "--json"],
    )
    .expect(0);
    let plan: serde_json::Value = serde_json::from_str(&plan.stdout).unwrap();
    let orders = plan["releases"].as_array().unwrap().iter().find(|r| r["object_model"] == "orders").unwrap();
    assert_eq!(orders["action"], "archive");
    assert_eq!(orders["periods"].as_array().unwrap().len(), 10, "{orders}");
    // The plan changed nothing; the run archives what it said, with a summary.
    let run = kpi(dir.path(), &["archive", "--data-dir", "state", "--policy", "retention.yaml", "--now", "2024-12-31"]).expect(0);
    assert!(run.stdout.contains("orders") && run.stdout.contains("rows archived in"), "{}", run.stdout);
    assert!(dir.path().join("state/archive/index.json").exists());
    let after = kpi(dir.path(), &["calc", "-k", "revenue", "-g", "month", "--data-dir", "state", "--format", "csv"]).expect(0).stdout;
    assert_eq!(after, before);
    // A second run finds nothing left to do.
    let again =
        kpi(dir.path(), &["archive", "--data-dir", "state", "--policy", "retention.yaml", "--now", "2024-12-31", "--json"]).expect(0);
    let again: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert!(again["models"].as_array().unwrap().iter().all(|m| m["archived_rows"] == 0));
}

#[test]
fn bad_policies_and_unwritable_archives_are_clear_errors() {
    let dir = workspace();
    std::fs::write(dir.path().join("sox.yaml"), format!("{POLICY}compliance: [sox]\n")).unwrap();
    let run = kpi(dir.path(), &["archive", "--data-dir", "state", "--policy", "sox.yaml"]).expect_clear_error();
    assert!(run.stderr.contains("[KPI_RETENTION]") && run.stderr.contains("SOX"), "{}", run.stderr);
    std::fs::write(dir.path().join("retention.yaml"), POLICY).unwrap();
    std::fs::write(dir.path().join("blocked"), "a file").unwrap();
    let run = kpi(
        dir.path(),
        &[
            "archive",
            "--data-dir",
            "state",
            "--demo",
            "500",
            "--policy",
            "retention.yaml",
            "--archive",
            "blocked/archive",
            "--now",
            "2024-12-31",
        ],
    )
    .expect_clear_error();
    assert!(run.stderr.contains("[KPI_STORAGE]") && run.stderr.contains("blocked"), "{}", run.stderr);
    let run = kpi(dir.path(), &["archive", "--data-dir", "state"]).expect_clear_error();
    assert!(run.stderr.contains("--policy"), "{}", run.stderr);
}
