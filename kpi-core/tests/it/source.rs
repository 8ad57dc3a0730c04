//! A rule on the sources themselves: no `unwrap`, `expect` or panicking macro on a path user
//! input can reach. The few that remain state the invariant that makes them unreachable in an
//! `// invariant:` comment on the line or the two before it; test modules (and `*_tests.rs` files) are exempt.

use std::path::{Path, PathBuf};

/// The crates whose code runs on user input (libraries, bindings, the command line).
const CRATES: [&str; 7] = ["kpi-formula", "kpi-catalog", "kpi-core", "kpi-pricing", "kpi-cli", "bindings-python", "bindings-node"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `line` unwraps, expects or panics (a method named `expect` on `self` is the parser's).
fn panics(line: &str) -> bool {
    let code = line.trim_start();
    if code.starts_with("//") {
        return false;
    }
    let unwrap = line.match_indices(".unwrap()").next().is_some();
    let expect = line.match_indices(".expect(").any(|(i, _)| !line[..i].ends_with("self"));
    let macros = ["panic!(", "unreachable!(", "todo!(", "unimplemented!("].iter().any(|m| line.contains(m));
    unwrap || expect || macros
}

#[test]
fn no_unwrap_or_panic_outside_tests_without_a_stated_invariant() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace");
    let mut files = Vec::new();
    for krate in CRATES {
        rust_files(&workspace.join(krate).join("src"), &mut files);
    }
    assert!(files.len() > 50, "found the sources: {}", files.len());
    let mut found = Vec::new();
    // Files of test modules of their own (`crash_tests.rs`) are exempt whole.
    for file in files.into_iter().filter(|f| !f.to_string_lossy().ends_with("_tests.rs")) {
        let text = std::fs::read_to_string(&file).expect("readable");
        let lines: Vec<&str> = text.lines().collect();
        // Test modules (`#[cfg(test)]` then `mod ...`) end each file by convention.
        let end =
            lines.windows(2).position(|w| w[0].trim() == "#[cfg(test)]" && w[1].trim_start().starts_with("mod ")).unwrap_or(lines.len());
        for (i, line) in lines[..end].iter().enumerate() {
            let stated = lines[i.saturating_sub(2)..=i].iter().any(|l| l.contains("invariant:"));
            if panics(line) && !stated {
                found.push(format!("{}:{}: {}", file.strip_prefix(workspace).unwrap_or(&file).display(), i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "unwrap/expect/panic on a user-reachable path (return an error, or state the invariant):\n{}",
        found.join("\n")
    );
}
