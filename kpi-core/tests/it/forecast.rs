//! Forecasts and trends of calculated KPIs through the engine.

use datafusion::arrow::array::AsArray;
use datafusion::arrow::datatypes::{Float64Type, TimestampMicrosecondType};
use kpi_core::forecast::{ForecastMethod, ForecastOptions, ForecastSettings};
use kpi_core::{Baseline, DimensionValue, QuerySpec};
use kpi_formula::{Grain, Query};

use crate::support::{engine, range};

fn daily_revenue() -> Query {
    Query::kpi("revenue").with_grain(Grain::Day).with_range(range("2024-01-01", "2024-07-01"))
}

#[tokio::test]
async fn a_daily_forecast_continues_the_range_with_intervals_per_region() {
    let engine = engine();
    let options = ForecastOptions { horizon: 14, ..ForecastOptions::default() };
    let forecast = engine.forecast(&daily_revenue().by(["orders.region"]), &options).await.unwrap();
    assert_eq!(forecast.groups.len(), 4);
    assert!(forecast.skipped.is_empty());
    let batch = forecast.batch();
    let names: Vec<String> = batch.schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, ["period", "orders.region", "value", "lower", "upper"]);
    assert_eq!(batch.num_rows(), 4 * 14);
    let calculated = engine.calculate(&daily_revenue().by(["orders.region"])).await.unwrap();
    assert_eq!(batch.schema().field(1).data_type(), calculated.schema().field(1).data_type(), "dimensions keep their type");
    let periods = batch.column(0).as_primitive::<TimestampMicrosecondType>();
    let first = chrono::DateTime::from_timestamp_micros(periods.value(0)).unwrap();
    assert_eq!(first.to_rfc3339(), "2024-07-01T00:00:00+00:00", "the first forecast period follows the range");
    let (value, lower, upper) = (
        batch.column(2).as_primitive::<Float64Type>(),
        batch.column(3).as_primitive::<Float64Type>(),
        batch.column(4).as_primitive::<Float64Type>(),
    );
    for i in 0..batch.num_rows() {
        assert!(lower.value(i) <= value.value(i) && value.value(i) <= upper.value(i));
    }
    for group in &forecast.groups {
        // 182 days of history: the weekly season can be chosen, and each group's model is named.
        assert_eq!(group.history.len(), 182);
        assert!(group.forecast.model.starts_with("ETS(A,"), "{}", group.forecast.model);
        assert_eq!(group.forecast.fitted.len(), 182);
    }
    let json = forecast.to_json();
    assert_eq!(json["groups"][0]["forecast"].as_array().unwrap().len(), 14);
    assert_eq!(json["season_length"], 7, "a day's season is a week");
}

#[tokio::test]
async fn the_baseline_and_a_named_model_are_available() {
    let engine = engine();
    let naive = ForecastOptions { horizon: 7, method: ForecastMethod::SeasonalNaive, ..ForecastOptions::default() };
    let forecast = engine.forecast(&daily_revenue(), &naive).await.unwrap();
    let group = &forecast.groups[0];
    assert_eq!(group.forecast.model, "seasonal naive");
    // Each forecast day repeats the same weekday of the last week.
    let last_week: Vec<f64> = group.history[182 - 7..].iter().map(|(_, v)| v.unwrap()).collect();
    let values: Vec<f64> = group.forecast.points.iter().map(|p| p.value).collect();
    assert_eq!(values, last_week);

    let settings = ForecastSettings::from_json(r#"{"method": "ets", "trend": "damped", "horizon": 3}"#).unwrap();
    let spec = QuerySpec::from_json(r#"{"kpi": "revenue", "grain": "day", "start": "2024-01-01", "end": "2024-07-01"}"#).unwrap();
    let damped = engine.forecast_spec(&spec, &settings).await.unwrap();
    assert_eq!(damped.groups[0].forecast.model, "ETS(A,Ad,A)");
    let phi = damped.groups[0].forecast.parameters.as_ref().unwrap().phi;
    assert!((0.8..=0.98).contains(&phi), "{phi}");
}

#[tokio::test]
async fn short_series_and_bad_options_get_clear_errors() {
    let engine = engine();
    let monthly = Query::kpi("revenue").with_grain(Grain::Month).with_range(range("2024-05-01", "2024-07-01"));
    let e = engine.forecast(&monthly, &ForecastOptions::default()).await.unwrap_err();
    assert_eq!(e.code(), "KPI_FORECAST");
    assert!(e.to_string().contains("the series has 2"), "{e}");

    let no_grain = Query::kpi("revenue").with_range(range("2024-01-01", "2024-07-01"));
    assert_eq!(engine.forecast(&no_grain, &ForecastOptions::default()).await.unwrap_err().code(), "KPI_OPTION");
    let far = ForecastOptions { horizon: 100_000_000, ..ForecastOptions::default() };
    let e = engine.forecast(&daily_revenue(), &far).await.unwrap_err();
    assert_eq!(e.code(), "KPI_OPTION");
    assert!(e.to_string().contains("horizon"), "{e}");
    let e = ForecastSettings::from_json(r#"{"method": "prophet"}"#).unwrap().to_options(Some(Grain::Day)).unwrap_err();
    assert!(e.to_string().contains("auto, ets, seasonal_naive"), "{e}");
    assert_eq!(ForecastSettings::from_json(r#"{"horizn": 3}"#).unwrap_err().code(), "KPI_QUERY");
}

#[tokio::test]
async fn a_group_too_short_is_skipped_while_the_others_are_forecast() {
    let engine = engine();
    // filter that leaves one region almost empty instead: a region with a handful of days.
    // Counts are 0 in a month without rows; an average has no value.
    let q = Query::kpi("average_order_value")
        .with_grain(Grain::Month)
        .by(["orders.region"])
        .with_range(range("2024-01-01", "2024-07-01"))
        .with_filter("orders.region != 'latin_america' or orders.ordered_at >= '2024-05-01'");
    let forecast = engine.forecast(&q, &ForecastOptions { horizon: 2, ..ForecastOptions::default() }).await.unwrap();
    assert_eq!(forecast.groups.len(), 3);
    assert_eq!(forecast.skipped.len(), 1);
    assert_eq!(forecast.skipped[0].0, vec![DimensionValue::Text("latin_america".into())]);
    assert_eq!(forecast.to_json()["skipped"][0]["dimensions"][0], "latin_america");
}

#[tokio::test]
async fn trends_have_a_slope_and_significance_per_group() {
    let engine = engine();
    let report = engine.trend(&daily_revenue().by(["orders.region"]), Some(60)).await.unwrap();
    assert_eq!(report.groups.len(), 4);
    for g in &report.groups {
        assert!((20..=60).contains(&g.fit.observed), "days with revenue: {}", g.fit.observed);
        assert_eq!(g.start.to_rfc3339(), "2024-05-02T00:00:00+00:00");
        assert!((0.0..=1.0).contains(&g.fit.p_value));
        assert_eq!(g.improving.is_some(), g.fit.significant, "revenue has a direction");
    }
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["grain"], "day");
    assert!(json["groups"][0]["slope"].is_number());
    assert_eq!(engine.trend(&daily_revenue(), Some(2)).await.unwrap_err().code(), "KPI_OPTION");
}

#[tokio::test]
async fn comparisons_take_the_previous_period_last_year_or_a_range() {
    let engine = engine();
    let spec = QuerySpec::from_json(r#"{"kpi": "order_count", "by": ["orders.region"]}"#).unwrap();
    let current = ("2024-05-01", "2024-07-01");
    let before = engine.compare_spec(&spec, current, Baseline::PreviousPeriod).await.unwrap();
    assert_eq!(before.previous, range("2024-03-01", "2024-05-01"));
    let year = engine.compare_spec(&spec, current, Baseline::LastYear).await.unwrap();
    assert_eq!(year.previous, range("2023-05-01", "2023-07-01"));
    // The demo data starts in 2024: every group is new against last year.
    assert!(year.rows.iter().all(|r| r.current.is_some() && r.previous.is_none_or(|p| p == 0.0)));
    let other = engine.compare_spec(&spec, current, Baseline::Range("2024-01-01", "2024-02-01")).await.unwrap();
    assert_eq!(other.previous, range("2024-01-01", "2024-02-01"));
    for row in &before.rows {
        assert_eq!(row.trend.change, Some(row.current.unwrap() - row.previous.unwrap()));
    }
    assert_eq!(Baseline::parse("last_week").unwrap_err().code(), "KPI_QUERY");
}
