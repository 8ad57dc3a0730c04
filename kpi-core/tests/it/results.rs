//! Result shapes: rows, series, summaries with status and trend, JSON.

use kpi_core::{DimensionValue, Status, TrendDirection};
use kpi_formula::{Grain, Query};

use crate::support::{engine, range};

#[tokio::test]
async fn rows_series_and_summaries() {
    let engine = engine();
    let q =
        Query::kpi("on_time_delivery_rate").with_grain(Grain::Month).by(["orders.region"]).with_range(range("2024-01-01", "2024-07-01"));
    let result = engine.calculate(&q).await.unwrap();
    let names: Vec<_> = result.schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, ["period", "orders.region", "value"]);
    let rows = result.rows();
    assert_eq!(rows.len(), 24);
    assert_eq!(rows[0].period.unwrap().to_rfc3339(), "2024-01-01T00:00:00+00:00");
    assert!(matches!(rows[0].dimensions[0], DimensionValue::Text(_)));

    let series = result.series();
    assert_eq!(series.len(), 4);
    assert!(series.iter().all(|s| s.points.len() == 6 && s.points.windows(2).all(|w| w[0].0 < w[1].0)));
    let summaries = result.summaries();
    let info = result.info();
    for ((_, summary), s) in summaries.iter().zip(&series) {
        assert_eq!(summary.value, s.points[5].1);
        assert_eq!(summary.previous, s.points[4].1);
        assert_eq!(summary.status, Status::of(summary.value, info.direction, &info.thresholds));
        assert_ne!(summary.status, Status::NotRated);
    }
    assert!(result.summary().is_none(), "one summary only without dimensions");
}

#[tokio::test]
async fn json_holds_rows_summaries_and_timing() {
    let engine = engine();
    let q = Query::kpi("revenue").with_grain(Grain::Month).with_range(range("2024-01-01", "2024-07-01"));
    let result = engine.calculate(&q).await.unwrap();
    let json = serde_json::to_value(&result).unwrap();
    assert_eq!(json["kpi"], "revenue");
    assert_eq!(json["grain"], "month");
    assert_eq!(json["rows"].as_array().unwrap().len(), 6);
    assert_eq!(json["rows"][0]["period"], "2024-01-01T00:00:00Z");
    assert!(json["rows"][0]["value"].as_f64().unwrap() > 0.0);
    assert!(json["timing"]["total"].as_f64().unwrap() > 0.0);
    let summary = &json["summaries"][0]["summary"];
    let trend = result.summary().unwrap().trend;
    assert_eq!(summary["trend"]["direction"], serde_json::to_value(trend.direction).unwrap());
    assert!(matches!(trend.direction, TrendDirection::Up | TrendDirection::Down | TrendDirection::Stable));
}
