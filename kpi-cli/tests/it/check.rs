//! `kpi check` in CI: a catalog with a mistake is located to its line and column.

use crate::support::{kpi, workspace};

#[test]
fn a_clean_catalog_passes() {
    let dir = workspace();
    let run = kpi(dir.path(), &["check", "catalog.yaml"]).expect(0);
    assert!(run.stderr.contains("catalog.yaml: ok"), "{}", run.stderr);
}

#[test]
fn a_misspelt_column_is_located_with_a_fix() {
    let dir = workspace();
    let text = std::fs::read_to_string(dir.path().join("catalog.yaml")).expect("written");
    // Misspell the first formula that sums order values.
    let at = text.find("orders.order_value").expect("the standard catalog sums order values");
    let broken = format!("{}orders.ordr_value{}", &text[..at], &text[at + "orders.order_value".len()..]);
    std::fs::write(dir.path().join("broken.yaml"), &broken).expect("written");
    let line = broken[..at].lines().count();

    let run = kpi(dir.path(), &["check", "catalog.yaml", "broken.yaml"]).expect(1);
    assert!(run.stdout.contains(&format!("broken.yaml:{line}:")), "expected line {line}:\n{}", run.stdout);
    assert!(run.stdout.contains("ordr_value") && run.stdout.contains("order_value"), "{}", run.stdout);
    assert!(run.stdout.contains("help:"), "a did-you-mean: {}", run.stdout);
    assert!(!run.stdout.contains("catalog.yaml:"), "the clean file has no problems: {}", run.stdout);
    assert!(run.stderr.contains("broken.yaml: 1 problem"), "{}", run.stderr);

    let json = kpi(dir.path(), &["check", "broken.yaml", "--format", "json"]).expect(1);
    let problems: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(problems.as_array().map(Vec::len), Some(1), "{problems}");
    assert_eq!(problems[0]["file"], "broken.yaml");
    assert_eq!(problems[0]["line"].as_u64(), Some(line as u64));
}

#[test]
fn bad_yaml_is_located() {
    let dir = workspace();
    std::fs::write(dir.path().join("bad.yaml"), "kpis:\n  - code: a\n    formula: [unclosed\n").expect("written");
    let run = kpi(dir.path(), &["check", "bad.yaml"]).expect(1);
    assert!(run.stdout.starts_with("bad.yaml:"), "{}", run.stdout);
    assert!(run.stdout.contains("[syntax]"), "{}", run.stdout);
}

/// A dbt project becomes a catalog file that `kpi check` accepts; what was left out is listed
/// on standard error, and `--strict` makes it a failure.
#[test]
fn a_dbt_project_imports_to_a_catalog_that_checks() {
    let dir = workspace();
    let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../kpi-catalog/tests/dbt/shop");
    let project = project.to_str().expect("a UTF-8 path");
    let run = kpi(dir.path(), &["import-dbt", project, "-o", "shop.yaml"]).expect(0);
    assert!(run.stderr.contains("skipped metric revenue_fiscal_qtd: granularity `fiscal_quarter`"), "{}", run.stderr);
    assert!(run.stderr.contains("metrics.yml:"), "located: {}", run.stderr);
    assert!(run.stderr.contains("3 skipped"), "{}", run.stderr);
    kpi(dir.path(), &["check", "shop.yaml"]).expect(0);
    kpi(dir.path(), &["import-dbt", project, "--strict", "-o", "strict.yaml"]).expect(1);
    let missing = kpi(dir.path(), &["import-dbt", "no/such/project"]).expect(1);
    assert!(missing.stderr.contains("no/such/project"), "{}", missing.stderr);
}
