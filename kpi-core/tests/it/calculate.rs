//! Calculations checked against hand-written SQL over the same data.

use kpi_core::{Engine, KpiResult};
use kpi_formula::{Grain, Query};

use crate::support::{assert_same, demo, engine, range, sql};

async fn calc(engine: &Engine, query: Query) -> KpiResult {
    engine.calculate(&query).await.unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn revenue_by_month_and_region_matches_sql() {
    let engine = engine();
    let q = Query::kpi("revenue").with_grain(Grain::Month).by(["orders.region"]).with_range(range("2024-01-01", "2024-07-01"));
    let result = calc(&engine, q).await;
    let oracle = sql(
        "SELECT date_trunc('month', ordered_at) AS period, region, sum(CAST(order_value AS DOUBLE)) FILTER (WHERE status != 'cancelled') AS value
         FROM orders WHERE ordered_at >= TIMESTAMP '2024-01-01' AND ordered_at < TIMESTAMP '2024-07-01' GROUP BY 1, 2",
    )
    .await;
    assert_eq!(result.num_rows(), 24, "6 months x 4 regions");
    assert_same(&result, &oracle);
}

#[tokio::test]
async fn ratio_with_filter_and_navigation_matches_sql() {
    let engine = engine();
    let q = Query::formula("count(orders where orders.in_full and orders.customer.segment = 'enterprise') / count(orders)")
        .with_grain(Grain::Quarter)
        .with_filter("orders.channel = 'web'")
        .with_range(range("2024-01-01", "2024-07-01"));
    let result = calc(&engine, q).await;
    let oracle = sql(
        "SELECT date_trunc('quarter', o.ordered_at), CAST(count(*) FILTER (WHERE o.in_full AND c.segment = 'enterprise') AS DOUBLE) / count(*)
         FROM orders o LEFT JOIN customers c ON o.customer_id = c.customer_id
         WHERE o.channel = 'web' AND o.ordered_at >= TIMESTAMP '2024-01-01' AND o.ordered_at < TIMESTAMP '2024-07-01' GROUP BY 1",
    )
    .await;
    assert_same(&result, &oracle);
}

#[tokio::test]
async fn without_a_range_the_data_bounds_are_used() {
    let engine = engine();
    let result = calc(&engine, Query::kpi("order_count").with_grain(Grain::Month)).await;
    let range = result.range().expect("a range from the data");
    assert_eq!(range.start.to_rfc3339(), "2024-01-01T00:00:00+00:00");
    assert!(range.end.to_rfc3339().starts_with("2024-07-01"), "{range:?}");
    let total: f64 = result.rows().iter().filter_map(|r| r.value).sum();
    assert_eq!(total as usize, demo().rows("orders"));
}

#[tokio::test]
async fn without_a_grain_one_value_covers_everything() {
    let engine = engine();
    let result = calc(&engine, Query::kpi("active_customers")).await;
    let oracle = sql("SELECT CAST(count(DISTINCT customer_id) AS DOUBLE) FROM orders").await;
    assert_eq!(result.num_rows(), 1);
    assert_same(&result, &oracle);
}

#[tokio::test]
async fn time_functions_and_security_filters() {
    let engine = engine();
    let q = Query::formula("cumulative(count(orders))")
        .with_grain(Grain::Month)
        .with_range(range("2024-03-01", "2024-07-01"))
        .with_security(kpi_formula::SecurityContext::new().with_filter("orders", "orders.region = 'europe'"));
    let result = calc(&engine, q).await;
    let oracle = sql("SELECT period, value FROM (
           SELECT period, CAST(sum(n) OVER (ORDER BY period) AS DOUBLE) AS value
           FROM (SELECT date_trunc('month', ordered_at) AS period, count(*) AS n FROM orders WHERE region = 'europe' GROUP BY 1))
         WHERE period >= TIMESTAMP '2024-03-01'")
    .await;
    assert_same(&result, &oracle);
}

#[tokio::test]
async fn a_dashboard_runs_kpis_concurrently_and_isolates_failures() {
    let engine = engine();
    let r = range("2024-01-01", "2024-07-01");
    let queries = vec![
        Query::kpi("revenue").with_grain(Grain::Month).with_range(r),
        Query::kpi("no_such_kpi").with_grain(Grain::Month).with_range(r),
        Query::kpi("first_response_time").with_grain(Grain::Month).with_range(r),
        Query::kpi("revenue").with_grain(Grain::Month).by(["orders.no_such_column"]).with_range(r),
        Query::kpi("mrr").with_grain(Grain::Month).with_range(r),
    ];
    let dashboard = engine.dashboard(&queries).await;
    let ok: Vec<bool> = dashboard.items.iter().map(|i| i.outcome.is_ok()).collect();
    assert_eq!(ok, [true, false, true, false, true]);
    for item in &dashboard.items {
        assert!(item.elapsed <= dashboard.wall);
        if let Ok(r) = &item.outcome {
            assert_eq!(r.num_rows(), 6);
            assert!(r.timing().total > std::time::Duration::ZERO);
        }
    }
    let json = dashboard.to_json();
    assert_eq!(json["items"][1]["error"]["code"], "KPI_FORMULA");
    assert_eq!(engine.calculate_batch(&queries).await.len(), 5);
}

#[tokio::test]
async fn comparing_two_ranges_pairs_groups() {
    let engine = engine();
    let q = Query::kpi("order_count").by(["orders.region"]);
    let cmp = engine.compare(&q, range("2024-06-01", "2024-07-01"), range("2024-05-01", "2024-06-01")).await.unwrap();
    assert_eq!(cmp.rows.len(), 4);
    let oracle = sql(
        "SELECT region, CAST(count(*) AS DOUBLE) FROM orders WHERE ordered_at >= TIMESTAMP '2024-05-01' AND ordered_at < TIMESTAMP '2024-06-01' GROUP BY 1",
    )
    .await;
    let previous = crate::support::keyed(&oracle);
    for row in &cmp.rows {
        assert_eq!(row.previous, previous[&vec![row.dimensions[0].to_string()]]);
        let change = row.current.unwrap() - row.previous.unwrap();
        assert_eq!(row.trend.change, Some(change));
    }
    assert_eq!(cmp.to_json()["rows"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn every_standard_kpi_calculates_through_the_engine_at_every_grain_from_day_to_year() {
    let engine = engine();
    let r = range("2024-01-01", "2024-07-01");
    let grains = [Grain::Day, Grain::Week, Grain::Month, Grain::Quarter, Grain::Year];
    let queries: Vec<Query> =
        engine.catalog().kpis().flat_map(|k| grains.map(|g| Query::kpi(&k.code).with_grain(g).with_range(r))).collect();
    let dashboard = engine.dashboard(&queries).await;
    let errors: Vec<String> = dashboard.errors().map(|(q, e)| format!("{:?} by {:?}: {e}", q.target, q.grain)).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// Distinct counts per period with counts, min and max of the same table (two grouped
/// aggregations inside), over customers with and without orders in a week.
#[tokio::test]
async fn distinct_counts_with_counts_min_and_max_match_sql() {
    let engine = engine();
    let formula = "count(orders) / count_distinct(orders.customer_id) + max(orders.discount) - min(orders.discount) + count(orders.promised_at where orders.channel = 'web')";
    let q = Query::formula(formula).with_grain(Grain::Week).with_range(range("2024-01-01", "2024-07-01"));
    let result = calc(&engine, q).await;
    let oracle = sql("SELECT date_trunc('week', ordered_at) AS period,
                CAST(count(*) AS DOUBLE) / count(DISTINCT customer_id) + max(discount) - min(discount)
                  + count(promised_at) FILTER (WHERE channel = 'web') AS value
         FROM orders WHERE ordered_at >= TIMESTAMP '2024-01-01' AND ordered_at < TIMESTAMP '2024-07-01' GROUP BY 1")
    .await;
    assert_same(&result, &oracle);
    let active = calc(&engine, Query::kpi("active_customers").with_grain(Grain::Month).with_range(range("2024-01-01", "2024-07-01"))).await;
    let oracle = sql("SELECT date_trunc('month', ordered_at) AS period, CAST(count(DISTINCT customer_id) AS DOUBLE) AS value
         FROM orders WHERE ordered_at >= TIMESTAMP '2024-01-01' AND ordered_at < TIMESTAMP '2024-07-01' GROUP BY 1")
    .await;
    assert_same(&active, &oracle);
}
