//! Running the built `kpi` binary and the files its commands read.

use std::path::Path;
use std::process::{Command, Output};

/// The questionnaire answers of kpi-pricing's crate example.
pub const ANSWERS: &str = "client_name: Acme Retail
proposal_date: 2026-11-22
license_term: 3
default_integration: { method: batch_non_conformed_single, source_system: SAP ERP }
environment: { platform: aws }
retention: { compliance: [sox] }
infrastructure: { daily_gb: 5, concurrent_users: 200, refresh: minute }
managed_services: { retainer: true, additional_hours: 50 }
";

/// What a run printed and how it ended.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Fails the test with everything the run printed unless it exited with `code`.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(self.code, Some(code), "exit code\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    /// Fails unless the run failed with one clear message: no panic, no backtrace.
    pub fn expect_clear_error(self) -> Run {
        let run = self.expect(1);
        assert!(run.stderr.starts_with("kpi: error ["), "{}", run.stderr);
        for bad in ["panicked", "backtrace", "RUST_BACKTRACE", "internal error"] {
            assert!(!run.stderr.contains(bad), "{}", run.stderr);
        }
        run
    }
}

/// Runs `kpi args...` in `dir`.
pub fn kpi(dir: &Path, args: &[&str]) -> Run {
    Command::new(env!("CARGO_BIN_EXE_kpi")).args(args).current_dir(dir).output().expect("kpi runs").into()
}

/// A scratch directory with the standard catalog as `catalog.yaml` and `answers.yaml`.
pub fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a scratch directory");
    kpi_catalog::Catalog::standard().save(dir.path().join("catalog.yaml")).expect("the catalog is written");
    std::fs::write(dir.path().join("answers.yaml"), ANSWERS).expect("answers are written");
    dir
}

/// A scratch directory as [`workspace`] with demo data written by `kpi demo` into `data/`.
pub fn workspace_with_data(rows: usize) -> tempfile::TempDir {
    let dir = workspace();
    kpi(dir.path(), &["demo", "--out", "data", "--rows", &rows.to_string()]).expect(0);
    dir
}
