//! A dbt project (tests/dbt/shop, written for these tests) imported as a catalog: the formulas
//! it gives, what it leaves out and where, and its KPIs' numbers against hand-written SQL.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::datasource::{MemTable, TableProvider, provider_as_source};
use datafusion::logical_expr::TableSource;
use datafusion::prelude::SessionContext;
use kpi_catalog::import::{DbtImport, import_dbt, import_dbt_sources};
use kpi_formula::{Calendar, Grain, Query, TimeRange};

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dbt/shop")
}

fn shop() -> DbtImport {
    import_dbt(project()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_shop_imports_and_lists_what_it_cannot_express() {
    let imported = shop();
    let formula = |code: &str| imported.catalog.kpi(code).unwrap_or_else(|e| panic!("{e}")).formula.clone();
    assert_eq!(formula("revenue"), "sum(orders.amount where orders.status = 'completed')");
    assert_eq!(formula("orders_placed"), "count(orders)");
    assert_eq!(formula("average_order_value"), "revenue / orders_placed");
    assert_eq!(formula("revenue_7d"), "rolling(sum(orders.amount), '7 days', 'first')");
    assert_eq!(formula("revenue_mtd"), "to_date(sum(orders.amount), 'month')");
    assert_eq!(formula("typical_order"), "percentile_disc(orders.amount, 0.5)");
    assert_eq!(formula("total_balance"), "last(sum(balances.amount), balances.account_id)");
    assert_eq!(formula("gifts"), "count(orders where orders.is_gift)");
    assert_eq!(formula("large_orders"), "count(orders where (case when (orders.amount > 100) then true else false end))");
    assert_eq!(formula("tax_due"), "sum(orders.amount * 0.2)");
    assert_eq!(
        formula("checkout_conversion"),
        "conversion_rate(count(customers.customer_id), count_distinct(orders.customer_id where orders.status = 'completed'), customers.customer_id = orders.customer_id, '30 days')"
    );
    assert_eq!(
        formula("first_orders"),
        "coalesce(conversions(count(customers.customer_id where customers.region = 'eu'), count(orders), customers.customer_id = orders.customer_id and customers.customer_id = orders.customer_id), 0)"
    );
    assert_eq!(
        formula("big_spenders_revenue"),
        "sum(orders.amount where per(orders.customer_id, average_order_value, orders.customer_id) > 50)"
    );
    assert_eq!(formula("loyal_revenue"), "sum(orders.amount where per(orders.customer_id, orders_placed, orders.customer_id) > 10)");
    assert_eq!(
        formula("loyal_signups"),
        "count(customers.customer_id where per(customers.customer_id, orders_placed, orders.customer_id) >= 12)"
    );
    assert_eq!(imported.catalog.kpi("revenue").unwrap().name, "Revenue");
    let orders = imported.catalog.object_model("orders").unwrap();
    assert_eq!(orders.primary_key, ["order_id"]);
    assert_eq!(orders.time_column.as_deref(), Some("ordered_at"));
    assert_eq!(orders.relationship("customer").map(|r| r.to.as_str()), Some("customers"));

    let skipped: Vec<(&str, &str)> = imported.skipped.iter().map(|s| (s.what.as_str(), s.reason.as_str())).collect();
    let reason = |what: &str| skipped.iter().find(|(w, _)| *w == what).map(|(_, r)| *r).unwrap_or_else(|| panic!("{what} in {skipped:#?}"));
    assert!(reason("dimension orders.channel_group").contains("reads `channel`, which no entity, dimension or measure"));
    assert_eq!(formula("revenue_mom"), "revenue - prev(revenue, '1 month')");
    assert!(reason("metric revenue_all_time").contains("period_agg"));
    assert_eq!(formula("regional_revenue"), "sum(orders.amount where orders.customer.region = 'eu')");
    assert!(reason("metric revenue_fiscal_qtd").contains("granularity `fiscal_quarter`: a custom granularity"));
    assert_eq!(skipped.len(), 3, "{skipped:#?}");
    let fiscal = imported.skipped.iter().find(|s| s.what == "metric revenue_fiscal_qtd").unwrap();
    assert!(fiscal.location.file.as_deref().is_some_and(|f| f.ends_with("metrics.yml")), "{}", fiscal.location);
    let text = std::fs::read_to_string(project().join("models/metrics.yml")).unwrap();
    let line = text.lines().position(|l| l.contains("name: revenue_fiscal_qtd")).unwrap() as u32 + 1;
    assert_eq!(fiscal.location.line.map(|l| l.abs_diff(line) <= 3), Some(true), "{} vs line {line}", fiscal.location);
}

#[test]
fn the_manifest_dbt_writes_imports_like_the_yaml() {
    let manifest = r#"{
      "semantic_models": [{
        "name": "orders", "defaults": {"agg_time_dimension": "ordered_at"},
        "entities": [{"name": "order", "type": "primary", "expr": "order_id"}],
        "dimensions": [{"name": "ordered_at", "type": "time"}, {"name": "status", "type": "categorical"}],
        "measures": [{"name": "order_total", "agg": "sum", "expr": "amount"}]
      }],
      "metrics": [
        {"name": "revenue", "type": "simple", "type_params": {"measure": {"name": "order_total", "filter": null}},
         "filter": {"where_filters": [{"where_sql_template": "{{ Dimension('order__status') }} = 'completed'"}]}},
        {"name": "revenue_7d", "type": "cumulative",
         "type_params": {"measure": {"name": "order_total"}, "cumulative_type_params": {"window": {"count": 7, "granularity": "day"}, "period_agg": "average"}}},
        {"name": "reorders", "type": "conversion", "type_params": {"conversion_type_params": {
          "base_measure": {"name": "order_total", "filter": null, "fill_nulls_with": null}, "conversion_measure": {"name": "order_total"},
          "entity": "order", "calculation": "conversions", "window": {"count": 7, "granularity": "day"}, "constant_properties": null}}},
        {"name": "revenue_yoy", "type": "derived", "type_params": {"expr": "(revenue - last_year) / last_year", "metrics": [
          {"name": "revenue", "filter": null, "alias": null, "offset_window": null, "offset_to_grain": null},
          {"name": "revenue", "filter": null, "alias": "last_year", "offset_window": {"count": 1, "granularity": "year"}, "offset_to_grain": null}]}}
      ]
    }"#;
    let imported = import_dbt_sources(&[("target/semantic_manifest.json".into(), manifest.into())]).unwrap();
    assert_eq!(imported.catalog.kpi("revenue").unwrap().formula, "sum(orders.amount where orders.status = 'completed')");
    assert_eq!(imported.catalog.kpi("revenue_7d").unwrap().formula, "rolling(sum(orders.amount), '7 days', 'average')");
    assert_eq!(
        imported.catalog.kpi("reorders").unwrap().formula,
        "conversions(sum(orders.amount), sum(orders.amount), orders.order_id = orders.order_id, '7 days')"
    );
    assert_eq!(imported.catalog.kpi("revenue_yoy").unwrap().formula, "(revenue - prev(revenue, '1 year')) / prev(revenue, '1 year')");
    assert!(imported.skipped.is_empty(), "{:?}", imported.skipped);
}

#[test]
fn unsupported_jinja_and_broken_files_are_located_errors() {
    let yaml = "semantic_models:\n  - name: t\n    entities: [{ name: t, type: primary, expr: id }]\n    dimensions: [{ name: at, type: time }]\n    measures: [{ name: rows, agg: sum, expr: 1 }]\nmetrics:\n  - name: m\n    type: simple\n    type_params: { measure: rows }\n    filter: \"{{ Metric('x', group_by=['t']) }} > 1 and {{ Custom('y') }}\"\n";
    let imported = import_dbt_sources(&[("m.yml".into(), yaml.into())]).unwrap();
    let skipped = &imported.skipped[0];
    assert_eq!(skipped.what, "metric m");
    assert!(skipped.reason.contains("Metric('x'): a metric over more than one semantic model (or not imported)"), "{}", skipped.reason);
    assert_eq!(skipped.location.line, Some(7));
    let err = import_dbt_sources(&[("bad.yml".into(), "metrics: [ {".into())]).unwrap_err();
    assert!(err.to_string().contains("bad.yml"), "{err}");
}

/// Hand-made shop data: 400 orders, 40 customers, 300 balance snapshots in 2024 H1.
fn tables() -> Vec<(&'static str, RecordBatch)> {
    let mut seed = 7u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    const JAN_1: i64 = 1_704_067_200_000_000;
    const DAY: i64 = 86_400_000_000;
    let ts = || DataType::Timestamp(TimeUnit::Microsecond, None);
    let batch = |fields: Vec<Field>, columns: Vec<ArrayRef>| RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let statuses = ["completed", "completed", "returned", "open"];
    let n = 400;
    let orders = batch(
        vec![
            Field::new("order_id", DataType::Int64, false),
            Field::new("customer_id", DataType::Int64, true),
            Field::new("ordered_at", ts(), false),
            Field::new("status", DataType::Utf8, false),
            Field::new("amount", DataType::Float64, true),
            Field::new("is_gift", DataType::Boolean, true),
        ],
        vec![
            Arc::new(Int64Array::from_iter_values(0..n)),
            Arc::new(Int64Array::from_iter((0..n).map(|_| Some(1 + next(40) as i64)))),
            Arc::new(TimestampMicrosecondArray::from_iter_values((0..n).map(|_| JAN_1 + next(182) as i64 * DAY + next(DAY as u64) as i64))),
            Arc::new(StringArray::from_iter_values((0..n).map(|_| statuses[next(4) as usize]))),
            Arc::new(Float64Array::from_iter((0..n).map(|_| Some(5.0 + next(20_000) as f64 / 100.0)))),
            Arc::new(BooleanArray::from_iter((0..n).map(|_| Some(next(5) == 0)))),
        ],
    );
    let customers = batch(
        vec![
            Field::new("customer_id", DataType::Int64, false),
            Field::new("signed_up_at", ts(), true),
            Field::new("region", DataType::Utf8, true),
        ],
        vec![
            Arc::new(Int64Array::from_iter_values(1..=40)),
            // From two weeks before H1 to May, so signups convert to orders within H1.
            Arc::new(TimestampMicrosecondArray::from_iter_values((1..=40).map(|i| JAN_1 + (i * 4 - 20) * DAY + i * 3_600_000_000))),
            Arc::new(StringArray::from_iter_values((1..=40).map(|i| if i % 3 == 0 { "eu" } else { "us" }))),
        ],
    );
    let m = 300;
    let balances = batch(
        vec![
            Field::new("balance_id", DataType::Int64, false),
            Field::new("account_id", DataType::Int64, true),
            Field::new("as_of", ts(), true),
            Field::new("amount", DataType::Float64, true),
        ],
        vec![
            Arc::new(Int64Array::from_iter_values(0..m)),
            Arc::new(Int64Array::from_iter((0..m).map(|_| Some(1 + next(10) as i64)))),
            Arc::new(TimestampMicrosecondArray::from_iter_values((0..m).map(|_| JAN_1 + next(182) as i64 * DAY))),
            Arc::new(Float64Array::from_iter((0..m).map(|_| Some(next(1_000) as f64)))),
        ],
    );
    vec![("orders", orders), ("customers", customers), ("balances", balances)]
}

const MONTHS: &str = "SELECT * FROM (VALUES (TIMESTAMP '2024-01-01'), (TIMESTAMP '2024-02-01'), (TIMESTAMP '2024-03-01'), \
    (TIMESTAMP '2024-04-01'), (TIMESTAMP '2024-05-01'), (TIMESTAMP '2024-06-01')) AS t(period)";

#[tokio::test]
async fn imported_kpis_give_the_numbers_of_hand_written_sql() {
    let imported = shop();
    let ctx = SessionContext::new();
    let mut sources: HashMap<String, Arc<dyn TableSource>> = HashMap::new();
    for (name, batch) in tables() {
        let provider: Arc<dyn TableProvider> = Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]]).unwrap());
        ctx.register_table(name, provider.clone()).unwrap();
        sources.insert(name.to_string(), provider_as_source(provider));
    }
    let range = TimeRange::parse("2024-01-01", "2024-07-01", &Calendar::default()).unwrap();
    let h1 = "ordered_at >= TIMESTAMP '2024-01-01' AND ordered_at < TIMESTAMP '2024-07-01'";
    let monthly = |value: &str, from: &str| {
        format!(
            "WITH p AS ({MONTHS}), a AS (SELECT date_trunc('month', o.ordered_at) AS m, {value} AS v FROM {from} GROUP BY 1) \
             SELECT CAST(a.v AS DOUBLE) AS value FROM p LEFT JOIN a ON a.m = p.period ORDER BY p.period"
        )
    };
    let orders = format!("(SELECT * FROM orders WHERE {h1}) o");
    let with_region = format!("(SELECT * FROM orders WHERE {h1}) o LEFT JOIN customers c ON o.customer_id = c.customer_id");
    let revenue = "SUM(CASE WHEN o.status = 'completed' THEN o.amount END)";
    let mut cases = vec![
        ("revenue", monthly(revenue, &orders)),
        ("average_order_value", monthly(&format!("{revenue} / COUNT(*)"), &orders)),
        (
            "eu_share",
            monthly(
                &format!("COALESCE(SUM(CASE WHEN o.status = 'completed' AND c.region = 'eu' THEN o.amount END), 0) / {revenue}"),
                &with_region,
            ),
        ),
        ("gift_share", monthly("CAST(SUM(CASE WHEN o.status = 'completed' THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(*)", &orders)),
        ("gifts", monthly("SUM(CASE WHEN o.is_gift THEN 1 ELSE 0 END)", &orders)),
        ("large_orders", monthly("COUNT(*) FILTER (WHERE o.amount > 100)", &orders)),
        ("regional_revenue", monthly("SUM(CASE WHEN c.region = 'eu' THEN o.amount END)", &with_region)),
        ("tax_due", monthly("SUM(o.amount * 0.2)", &orders)),
        ("revenue_mtd", monthly("SUM(o.amount)", &orders)),
        (
            "revenue_mom",
            format!(
                "WITH p AS ({MONTHS}), a AS (SELECT date_trunc('month', ordered_at) AS m, SUM(CASE WHEN status = 'completed' THEN amount END) AS v \
                 FROM orders GROUP BY 1) SELECT CAST(cur.v - was.v AS DOUBLE) AS value FROM p LEFT JOIN a cur ON cur.m = p.period \
                 LEFT JOIN a was ON was.m = p.period - INTERVAL '1 month' ORDER BY p.period"
            ),
        ),
        (
            "revenue_7d",
            format!(
                "WITH p AS ({MONTHS}) SELECT CAST(SUM(o.amount) AS DOUBLE) AS value FROM p LEFT JOIN orders o \
                 ON o.ordered_at >= p.period + INTERVAL '1 day' - INTERVAL '7 days' AND o.ordered_at < p.period + INTERVAL '1 day' \
                 GROUP BY p.period ORDER BY p.period"
            ),
        ),
        (
            "total_balance",
            format!(
                "WITH p AS ({MONTHS}), r AS (SELECT *, date_trunc('month', as_of) AS m, MAX(as_of) OVER (PARTITION BY date_trunc('month', as_of), account_id) AS edge \
                 FROM balances), a AS (SELECT m, SUM(amount) AS v FROM r WHERE as_of = edge GROUP BY m) \
                 SELECT CAST(a.v AS DOUBLE) AS value FROM p LEFT JOIN a ON a.m = p.period ORDER BY p.period"
            ),
        ),
    ];
    // Customers by signup month, and the orders they placed after signing up (within `window`).
    let signups = |window: &str, region: &str, value: &str| {
        format!(
            "WITH p AS ({MONTHS}), c AS (SELECT * FROM customers WHERE signed_up_at >= TIMESTAMP '2024-01-01' AND signed_up_at < TIMESTAMP '2024-07-01' {region}), \
             a AS (SELECT date_trunc('month', c.signed_up_at) AS m, COUNT(DISTINCT c.customer_id) AS base, \
                   COUNT(DISTINCT CASE WHEN o.status = 'completed' THEN o.customer_id END) AS buyers, COUNT(o.order_id) AS orders \
                   FROM c LEFT JOIN orders o ON o.customer_id = c.customer_id AND o.ordered_at >= c.signed_up_at {window} GROUP BY 1) \
             SELECT CAST({value} AS DOUBLE) AS value FROM p LEFT JOIN a ON a.m = p.period ORDER BY p.period"
        )
    };
    cases.push((
        "checkout_conversion",
        signups("AND o.ordered_at < c.signed_up_at + INTERVAL '30 days'", "", "CAST(a.buyers AS DOUBLE) / NULLIF(a.base, 0)"),
    ));
    cases.push(("first_orders", signups("", "AND region = 'eu'", "COALESCE(a.orders, 0)")));
    // Each customer's orders over all time.
    let per_customer = "(SELECT customer_id, COUNT(*) AS n FROM orders GROUP BY customer_id)";
    cases.push((
        "loyal_revenue",
        monthly(
            "SUM(CASE WHEN n.n > 10 THEN o.amount END)",
            &format!("{orders} LEFT JOIN {per_customer} n ON n.customer_id = o.customer_id"),
        ),
    ));
    cases.push((
        "big_spenders_revenue",
        monthly(
            "SUM(CASE WHEN n.aov > 50 THEN o.amount END)",
            &format!(
                "{orders} LEFT JOIN (SELECT customer_id, SUM(CASE WHEN status = 'completed' THEN amount END) / COUNT(*) AS aov \
                 FROM orders GROUP BY customer_id) n ON n.customer_id = o.customer_id"
            ),
        ),
    ));
    cases.push((
        "loyal_signups",
        format!(
            "WITH p AS ({MONTHS}), a AS (SELECT date_trunc('month', c.signed_up_at) AS m, COUNT(*) FILTER (WHERE n.n >= 12) AS v \
             FROM customers c LEFT JOIN {per_customer} n ON n.customer_id = c.customer_id GROUP BY 1) \
             SELECT CAST(COALESCE(a.v, 0) AS DOUBLE) AS value FROM p LEFT JOIN a ON a.m = p.period ORDER BY p.period"
        ),
    ));
    let values = |batches: &[RecordBatch]| -> Vec<Option<f64>> {
        batches
            .iter()
            .flat_map(|b| {
                let v = b.column_by_name("value").unwrap().as_any().downcast_ref::<Float64Array>().unwrap().clone();
                (0..v.len()).map(move |i| (!v.is_null(i)).then(|| v.value(i))).collect::<Vec<_>>()
            })
            .collect()
    };
    for (code, sql) in cases {
        let query = Query::kpi(code).with_grain(Grain::Month).with_range(range);
        let plan = kpi_formula::plan(&query, &imported.catalog, &sources).unwrap_or_else(|e| panic!("{code}: {e}"));
        let ours = values(&ctx.execute_logical_plan(plan).await.unwrap().collect().await.unwrap());
        let oracle = values(&ctx.sql(&sql).await.unwrap_or_else(|e| panic!("{code}: {e}")).collect().await.unwrap());
        assert_eq!(ours.len(), 6, "{code}");
        assert!(oracle.iter().any(Option::is_some), "{code}: the oracle has values");
        for (a, b) in ours.iter().zip(&oracle) {
            let same = match (a, b) {
                (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                (None, None) => true,
                _ => false,
            };
            assert!(same, "{code}: {ours:?} != {oracle:?}");
        }
    }
}
