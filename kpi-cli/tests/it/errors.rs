//! Every bad input gets one clear message and a non-zero exit, never a panic or a backtrace.

use crate::support::{kpi, workspace, workspace_with_data};

#[test]
fn bad_inputs_get_clear_errors() {
    let dir = workspace_with_data(500);
    let cases: &[(&[&str], &str)] = &[
        (&["calc", "-c", "missing.yaml", "-k", "revenue", "-d", "data"], "cannot read `missing.yaml`"),
        (&["calc", "-k", "revenu", "-d", "data"], "did you mean `revenue`"),
        (&["calc", "-k", "revenue", "-d", "data", "--start", "2024-13-01", "--end", "2025-01-01"], "cannot read `2024-13-01`"),
        (&["calc", "-k", "revenue", "-d", "data", "--start", "+262142-01-01", "--end", "+262142-02-01"], "KPI_"),
        (&["calc", "-k", "revenue", "-d", "data", "-g", "fortnight"], "fortnight"),
        (&["calc", "-k", "revenue", "-d", "data", "-b", "orders.colour"], "colour"),
        (&["calc", "-f", "sum(orders.order_value", "-d", "data"], "KPI_FORMULA"),
        (&["calc", "-k", "revenue", "-d", "nowhere"], "does not exist"),
        (&["calc", "-k", "revenue", "-d", "ordres=data/orders.parquet"], "did you mean `orders`"),
        (&["calc", "-k", "revenue", "-d", "orders=answers.yaml"], "neither a .parquet nor a .csv"),
        (&["calc", "-k", "revenue", "-d", "orders=data/missing.parquet"], "missing.parquet"),
        (&["calc", "-k", "revenue"], "no data"),
        (&["calc", "-k", "revenue", "-d", "data", "--format", "parquet"], "needs a file"),
        (&["calc", "-k", "revenue", "-d", "data", "--timeout", "soon"], "timeout"),
        (&["sql", "-k", "revenue", "--dialect", "oracle"], "unknown SQL dialect `oracle`"),
        (&["explain", "-k", "revenue"], "no data"),
        (&["price", "missing.yaml", "-k", "revenue"], "missing.yaml"),
        (&["price", "catalog.yaml", "-k", "revenue"], "KPI_PRICING"),
        (&["price", "answers.yaml", "-k", "no_such_kpi"], "no_such_kpi"),
        (&["demo", "--out", "more", "--start", "2024-01-01", "--end", "2023-01-01"], "KPI_CATALOG"),
        (&["demo", "--out", "more", "--models", "nothing"], "nothing"),
    ];
    for (args, expected) in cases {
        let run = kpi(dir.path(), args).expect_clear_error();
        assert!(run.stderr.contains(expected), "`kpi {}`: expected {expected:?} in\n{}", args.join(" "), run.stderr);
    }
}

#[test]
fn a_command_line_clap_cannot_parse_exits_2() {
    let dir = workspace();
    for args in [&["calc"][..], &["calc", "-k", "a", "-f", "b"], &["frobnicate"], &["calc", "-k", "revenue", "--start", "2024-01-01"]] {
        let run = kpi(dir.path(), args).expect(2);
        assert!(run.stderr.contains("Usage"), "{}", run.stderr);
    }
}
