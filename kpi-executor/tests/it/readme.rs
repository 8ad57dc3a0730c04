//! The README's cluster commands (its ```` ```sh cluster ```` block) run as written, on free
//! ports and in a scratch directory, with the workspace's binaries on PATH.

use std::path::Path;
use std::process::Command;

use crate::support::free_port;

#[test]
fn the_readme_cluster_commands_run() {
    let readme = include_str!("../../../README.md");
    let block = readme.split("```sh cluster\n").nth(1).and_then(|b| b.split("```").next()).expect("README.md has a ```sh cluster block");
    let dir = tempfile::tempdir().unwrap();
    let mut script = String::from("set -e\ntrap 'kill $(jobs -p) 2>/dev/null' EXIT\n");
    let mut text = block.replace("/tmp/", &format!("{}/", dir.path().display()));
    for port in ["50050", "50051", "50052", "50061", "50062"] {
        text = text.replace(port, &free_port().to_string());
    }
    for line in text.lines() {
        script += line;
        script += "\n";
        // A person types the next command after the scheduler is up; the script waits for it.
        if let Some(port) = line.strip_prefix("kpi-scheduler --bind-port ").and_then(|rest| rest.split_whitespace().next()) {
            script += &format!("for i in $(seq 1 200); do (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && break; sleep 0.1; done\n");
        }
    }
    let bin = Path::new(env!("CARGO_BIN_EXE_kpi-executor")).parent().unwrap();
    assert!(bin.join("kpi").exists(), "the `kpi` binary is built with the workspace (cargo build --workspace)");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = Command::new("bash").arg("-c").arg(&script).env("PATH", path).current_dir(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{script}\nstdout:\n{stdout}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("revenue") || stdout.contains("period"), "{stdout}");
}
