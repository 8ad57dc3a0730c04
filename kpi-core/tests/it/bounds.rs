//! Inputs at the edges of time and size: each is a typed error within a second, never a panic
//! or a hang (issue: no panic on any input).

use std::time::{Duration, Instant};

use datafusion::arrow::array::{ArrayRef, RecordBatch, TimestampMicrosecondArray};
use kpi_catalog::{Catalog, KpiDefinition};
use kpi_core::{Engine, EngineError, EngineSettings, QuerySpec};
use kpi_formula::Grain;

use crate::support::{demo, engine};

/// Runs `f`, asserting it answers within a second.
async fn quickly<T>(f: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let out = f.await;
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    out
}

async fn calculate(engine: &Engine, doc: serde_json::Value) -> EngineError {
    let spec = QuerySpec::from_value(doc).unwrap();
    quickly(engine.calculate_spec(&spec)).await.unwrap_err()
}

#[tokio::test]
async fn times_beyond_the_supported_years_are_query_errors() {
    let engine = engine();
    let far =
        calculate(&engine, serde_json::json!({"kpi": "revenue", "grain": "day", "start": "2024-01-01", "end": "+262142-12-31T12:00"}))
            .await;
    assert_eq!(far.code(), "KPI_QUERY", "{far}");
    assert!(far.to_string().contains("outside the supported years 1700–2200"), "{far}");
    let early =
        calculate(&engine, serde_json::json!({"kpi": "revenue", "grain": "week", "start": "-262143-01-01", "end": "2024-01-01"})).await;
    assert_eq!(early.code(), "KPI_QUERY", "{early}");
    // The edges themselves calculate.
    let spec =
        QuerySpec::from_value(serde_json::json!({"kpi": "revenue", "grain": "year", "start": "1700-01-01", "end": "2201-01-01"})).unwrap();
    assert_eq!(engine.calculate_spec(&spec).await.unwrap().num_rows(), 501);
}

#[tokio::test]
async fn windows_and_offsets_reach_at_most_twenty_years() {
    let engine = engine();
    let huge = serde_json::json!({"formula": "rolling(count(orders), '100000000 days')", "grain": "day", "start": "2024-01-01", "end": "2024-02-01"});
    let err = calculate(&engine, huge).await;
    assert_eq!(err.code(), "KPI_FORMULA", "{err}");
    assert!(err.to_string().contains("at most 20 years"), "{err}");
    let back = serde_json::json!({"formula": "prev(count(orders), 10000)", "grain": "year", "start": "2024-01-01", "end": "2025-01-01"});
    let err = calculate(&engine, back).await;
    assert!(err.to_string().contains("reaches back more than 20 years"), "{err}");
    // The longest reach from the first supported year still calculates.
    for formula in ["rolling(count(orders), '20 years')", "prev(count(orders), 240)"] {
        let doc = serde_json::json!({"formula": formula, "grain": "month", "start": "1700-01-01", "end": "1701-01-01"});
        let spec = QuerySpec::from_value(doc).unwrap();
        assert_eq!(engine.calculate_spec(&spec).await.unwrap().num_rows(), 12, "{formula}");
    }
}

#[tokio::test]
async fn a_row_stamped_at_the_end_of_time_is_a_data_error() {
    let engine = engine();
    let orders = demo().batches("orders").unwrap()[0].slice(0, 1);
    let at = orders.schema().index_of("ordered_at").unwrap();
    let mut columns: Vec<ArrayRef> = orders.columns().to_vec();
    let end_of_time = TimestampMicrosecondArray::from(vec![i64::MAX]);
    columns[at] = std::sync::Arc::new(end_of_time);
    let stamped = RecordBatch::try_new(orders.schema(), columns).unwrap();
    let err = engine.append_batches("orders", vec![stamped]).unwrap_err();
    assert_eq!((err.code(), err.kind().as_str()), ("KPI_DATA", "data"), "{err}");
    assert!(err.to_string().contains("orders.ordered_at"), "{err}");
    // Nothing was appended: the default range still ends with the demo data.
    let result = engine.calculate(&kpi_formula::Query::kpi("order_count").with_grain(Grain::Year)).await.unwrap();
    assert!(result.num_rows() < 10);
}

#[test]
fn a_timeout_of_1e20_seconds_is_an_option_error() {
    let err = EngineSettings::from_value(serde_json::json!({"timeout": 1e20})).and_then(|s| s.to_options()).unwrap_err();
    assert_eq!(err.code(), "KPI_OPTION", "{err}");
}

#[tokio::test]
async fn kpis_that_double_at_every_level_are_a_catalog_error_naming_the_chain() {
    let mut catalog = Catalog::standard();
    catalog.add_kpi(KpiDefinition::new("k0", "k0", "count(orders)"));
    for i in 1..30 {
        catalog.add_kpi(KpiDefinition::new(format!("k{i}"), format!("k{i}"), format!("k{0} + k{0}", i - 1)));
    }
    let started = Instant::now();
    let problems = catalog.problems();
    assert!(started.elapsed() < Duration::from_secs(1), "validating took {:?}", started.elapsed());
    assert!(problems.to_string().contains("k29 → k28"), "{problems}");
    let engine = Engine::new(catalog).unwrap();
    let err = calculate(&engine, serde_json::json!({"kpi": "k29"})).await;
    assert_eq!(err.code(), "KPI_FORMULA", "{err}");
    assert!(err.to_string().contains("expression nodes"), "{err}");
}

#[tokio::test]
async fn a_result_past_the_row_limit_stops_with_a_query_error() {
    let engine = crate::support::engine_with(kpi_core::EngineOptions::default().with_max_result_rows(Some(1_000)));
    let doc = serde_json::json!({"kpi": "revenue", "grain": "day", "by": ["orders.order_id"], "start": "2024-01-01", "end": "2024-03-01"});
    let err = calculate(&engine, doc).await;
    assert_eq!(err.code(), "KPI_QUERY", "{err}");
    assert!(matches!(err, EngineError::TooManyRows { limit: 1_000, at_least: None, .. }), "{err}");
    // Periods alone past the limit: refused before planning, with the estimate.
    let doc = serde_json::json!({"kpi": "revenue", "grain": "hour", "start": "2024-01-01", "end": "2024-03-01"});
    let err = calculate(&engine, doc).await;
    assert!(matches!(err, EngineError::TooManyRows { limit: 1_000, at_least: Some(1_001), .. }), "{err}");
    assert!(err.to_string().contains("1001 periods"), "{err}");
    let settings = EngineSettings::from_value(serde_json::json!({"max_result_rows": 0})).and_then(|s| s.to_options());
    assert_eq!(settings.unwrap_err().code(), "KPI_OPTION");
    assert_eq!(kpi_core::EngineOptions::default().max_result_rows, Some(kpi_core::DEFAULT_MAX_RESULT_ROWS));
}

#[tokio::test]
async fn a_hundred_thousand_dimensions_are_refused_at_once() {
    let engine = engine();
    let many = calculate(&engine, serde_json::json!({"kpi": "revenue", "by": vec!["orders.region"; 100_000]})).await;
    assert_eq!(many.code(), "KPI_FORMULA", "{many}");
    assert!(many.to_string().contains("at most 32 dimensions"), "{many}");
    let twice = calculate(&engine, serde_json::json!({"kpi": "revenue", "by": ["orders.region", "orders.region"]})).await;
    assert!(twice.to_string().contains("listed twice"), "{twice}");
}
