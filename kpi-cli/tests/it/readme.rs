//! The commands of kpi-cli/README.md and of the repository's README.md run as written.

use crate::support::{kpi, workspace};

#[test]
fn readme_commands_run() {
    // The package README first: its `kpi demo` writes the data the others read.
    let readmes = [include_str!("../../README.md"), include_str!("../../../README.md")];
    let lines: Vec<&str> = readmes
        .iter()
        .flat_map(|readme| readme.split("```sh\n").skip(1).filter_map(|b| b.split("```").next()))
        .flat_map(str::lines)
        .filter(|l| l.starts_with("kpi "))
        .collect();
    assert!(lines.len() >= 10, "{lines:?}");
    let dir = workspace();
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_kpi")).parent().expect("the binary's directory").to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    for line in lines {
        let out =
            std::process::Command::new("sh").arg("-c").arg(line).env("PATH", &path).current_dir(dir.path()).output().expect("sh runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "`{line}` failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
        if line.starts_with("kpi price") {
            assert!(stdout.contains("Acme Retail") && stdout.contains('$'), "{stdout}");
        }
        if line.starts_with("kpi sql") {
            assert!(stdout.to_uppercase().contains("SELECT"), "{stdout}");
        }
    }
    assert!(dir.path().join("data/orders.parquet").exists());
    let csv = std::fs::read_to_string(dir.path().join("perfect_order_rate.csv")).expect("calc wrote the CSV");
    assert!(csv.starts_with("period,value"), "{csv}");
    assert_eq!(csv.lines().count(), 5, "a header and four quarters:\n{csv}");
    // Every command documents itself with examples.
    for command in ["check", "calc", "sql", "explain", "price", "demo"] {
        let help = kpi(dir.path(), &[command, "--help"]).expect(0).stdout;
        assert!(help.contains("Examples:") && help.contains(&format!("kpi {command}")), "{help}");
    }
}
