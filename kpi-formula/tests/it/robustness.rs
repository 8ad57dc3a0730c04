//! No input makes the language panic: arbitrary text, soups of the language's own tokens, and
//! whatever of those compiles is planned and executed. Printing a parsed formula reads back as
//! the same tree.

use proptest::prelude::*;

use kpi_formula::{Grain, Query, Source, ast::same_shape, check_formula, compile, parse};

use crate::support::{h1, model, world};

const TOKENS: &[&str] = &[
    "sum(",
    "count(",
    "count_distinct(",
    "avg(",
    "min(",
    "max(",
    "median(",
    "percentile(",
    "prev(",
    "growth(",
    "rolling(",
    "to_date(",
    "cumulative(",
    "coalesce(",
    "nullif(",
    "abs(",
    "round(",
    "least(",
    "greatest(",
    "days_between(",
    "orders",
    "orders.order_value",
    "orders.status",
    "orders.on_time",
    "orders.ordered_at",
    "orders.customer.segment",
    "order_lines.quantity",
    "order_lines.product.unit_cost",
    "customers.region",
    "expenses.amount",
    "products.unit_cost",
    "returns.amount",
    "revenue",
    "aov",
    "perfect_order_rate",
    "order_count",
    "(",
    ")",
    ",",
    ".",
    "+",
    "-",
    "*",
    "/",
    "%",
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "and",
    "or",
    "not",
    "in",
    "between",
    "is",
    "null",
    "true",
    "false",
    "case",
    "when",
    "then",
    "else",
    "end",
    "where",
    "like",
    "0",
    "1",
    "2",
    "0.5",
    "'completed'",
    "'3 months'",
    "'month'",
    "'2024-02-01'",
    "1e308",
    "99999999999999999999",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 1..24).prop_map(|t| t.join(" "))
}

/// Formulas more likely to be valid: a few shapes filled with tokens.
fn plausible() -> impl Strategy<Value = String> {
    let agg = prop::sample::select(&["sum", "avg", "min", "max", "median", "count", "count_distinct"][..]);
    let col = prop::sample::select(
        &["orders.order_value", "order_lines.quantity", "expenses.amount", "order_lines.product.unit_cost", "returns.amount"][..],
    );
    let cond = prop::sample::select(
        &["", " where orders.status = 'completed'", " where orders.on_time", " where order_lines.order.channel in ('web')"][..],
    );
    let wrap = prop::sample::select(
        &[
            "{}",
            "prev({}, 2)",
            "growth({})",
            "rolling({}, '2 months')",
            "to_date({}, 'quarter')",
            "cumulative({})",
            "{} / nullif({}, 0)",
            "coalesce({}, -1) * 2",
        ][..],
    );
    (agg, col, cond, wrap, any::<bool>()).prop_map(|(a, c, w, wrap, ratio)| {
        let inner = format!("{a}({c}{w})");
        let f = wrap.replace("{}", &inner);
        if ratio { format!("{f} / count(orders)") } else { f }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,80}") {
        let m = model();
        let _ = check_formula(&text, &m);
    }

    #[test]
    fn token_soups_never_panic_and_round_trip(text in soup()) {
        let m = model();
        let _ = check_formula(&text, &m);
        if let Ok(tree) = parse(&Source::new("f", text.clone())) {
            let printed = tree.to_string();
            let again = parse(&Source::new("f", printed.clone())).map_err(|e| TestCaseError::fail(format!("{printed}\n{e}")))?;
            prop_assert!(same_shape(&tree, &again), "{} -> {}", text, printed);
        }
        let q = Query::formula(text).with_grain(Grain::Month).with_range(h1());
        if let Ok(c) = compile(&q, &m) {
            c.to_logical_plan(&kpi_formula::ModelSources(&m)).map_err(|e| TestCaseError::fail(e.to_string()))?;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, failure_persistence: None, .. ProptestConfig::default() })]

    /// Whatever compiles also plans and executes, by dimension or not.
    #[test]
    fn compiled_formulas_execute(formula in prop_oneof![plausible(), soup()], by_channel in any::<bool>()) {
        let w = world();
        let mut q = Query::formula(formula.clone()).with_grain(Grain::Month).with_range(h1());
        if by_channel {
            q = q.by(["orders.channel"]);
        }
        if let Ok(c) = compile(&q, &w.model) {
            let plan = c.to_logical_plan(&w.sources).map_err(|e| TestCaseError::fail(format!("{formula}: {e}")))?;
            let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let result = rt.block_on(async { w.ctx.execute_logical_plan(plan).await?.collect().await });
            prop_assert!(result.is_ok(), "{}: {:?}", formula, result.err());
        }
    }
}

#[test]
fn ten_thousand_parentheses_are_an_error() {
    let deep = format!("{}count(orders){}", "(".repeat(10_000), ")".repeat(10_000));
    let e = check_formula(&deep, &model()).unwrap_err();
    assert_eq!(e.first().kind, kpi_formula::ErrorKind::TooDeep);
    let huge = "count(orders) + ".repeat(100_000) + "1";
    assert_eq!(check_formula(&huge, &model()).unwrap_err().first().kind, kpi_formula::ErrorKind::TooDeep);
}

#[test]
fn deep_kpi_chains_are_bounded() {
    let mut m = model();
    for i in 0..100 {
        m.add_kpi(format!("k{i}"), format!("k{} + 1", i + 1));
    }
    m.add_kpi("k100", "count(orders)");
    let e = kpi_formula::check_kpi("k0", &m).unwrap_err();
    assert!(e.iter().any(|d| d.kind == kpi_formula::ErrorKind::TooDeep), "{e}");
    assert!(kpi_formula::check_kpi("k80", &m).is_ok());
}

/// Every combination of aggregate, column, filter and time function: those that compile must
/// plan and execute; a good share must compile (else this test would prove nothing).
#[tokio::test]
async fn combinations_that_compile_execute() {
    let w = world();
    let aggs = ["sum", "avg", "min", "max", "median", "count", "count_distinct", "percentile", "percentile_disc", "approx_percentile"];
    let cols = ["orders.order_value", "order_lines.quantity", "expenses.amount", "order_lines.product.unit_cost", "returns.amount"];
    let conds = [
        "",
        " where orders.status = 'completed'",
        " where order_lines.order.channel in ('web')",
        " where per(orders.customer_id, count(orders)) > 2",
    ];
    let wraps = [
        "{}",
        "prev({}, 2)",
        "growth({})",
        "rolling({}, '2 months')",
        "rolling({}, '45 days', 'average')",
        "to_date({}, 'quarter')",
        "at_start(prev({}), 'quarter')",
        "growth({}, '45 days')",
        "cumulative({})",
        "last({}, orders.customer_id)",
        "{} / nullif({}, 0)",
        "conversion_rate(count(customers), {}, customers.customer_id = orders.customer_id, '30 days')",
    ];
    let (mut compiled, mut executed) = (0, 0);
    let mut combos = Vec::new();
    for a in aggs {
        for c in cols {
            for cond in conds {
                for wrap in wraps {
                    combos.push((a, c, cond, wrap));
                }
            }
        }
    }
    for (n, (a, c, cond, wrap)) in combos.into_iter().enumerate() {
        let arg = if a.contains("percentile") { format!("{c}, 0.75{cond}") } else { format!("{c}{cond}") };
        let f = wrap.replace("{}", &format!("{a}({arg})"));
        let by = if n % 2 == 0 { vec!["orders.channel"] } else { vec![] };
        let q = Query::formula(f.clone()).with_grain(Grain::Month).with_range(h1()).by(by);
        let Ok(c) = compile(&q, &w.model) else { continue };
        compiled += 1;
        let plan = c.to_logical_plan(&w.sources).unwrap_or_else(|e| panic!("{f}: {e}"));
        let batches = w.ctx.execute_logical_plan(plan).await.unwrap().collect().await.unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(batches.iter().map(|b| b.num_rows()).sum::<usize>() >= 6, "{f}: every month appears");
        executed += 1;
    }
    assert!(compiled >= 600 && executed == compiled, "compiled {compiled}, executed {executed}");
}

/// Each KPI the previous one added to itself: 2^30 nodes if references were copied out.
#[test]
fn kpis_that_double_at_every_reference_are_a_bounded_error() {
    let mut m = model();
    m.add_kpi("k0", "count(orders)");
    for i in 1..30 {
        m.add_kpi(format!("k{i}"), format!("k{0} + k{0}", i - 1));
    }
    let started = std::time::Instant::now();
    let e = kpi_formula::check_kpi("k29", &m);
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "{:?}", started.elapsed());
    let e = e.unwrap_err();
    assert!(e.iter().any(|d| d.kind == kpi_formula::ErrorKind::TooDeep), "{e}");
    assert!(e.to_string().contains("k29"), "{e}");
    assert!(kpi_formula::check_kpi("k8", &m).is_ok());
}

/// A name of a megabyte is refused at once: no edit distance against every known name.
#[test]
fn a_very_long_unknown_name_is_refused_quickly() {
    let m = model();
    let name = "o".repeat(1 << 20);
    let started = std::time::Instant::now();
    let e = kpi_formula::check_formula(&format!("count({name})"), &m).unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "{:?}", started.elapsed());
    assert!(!e.to_string().contains("did you mean"));
}
