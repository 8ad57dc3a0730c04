//! Retail calendars and calendar tables through query and settings documents, and SQL export's
//! refusal of periods only the engine knows.

use std::sync::Arc;

use datafusion::arrow::array::{Date32Array, Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use kpi_catalog::Catalog;
use kpi_core::{Engine, EngineSettings, QuerySpec, SqlDialect};

/// Events, one per day of 2024 with amount 1, and a calendar table of 2024 in thirteen
/// four-week periods (the last takes the two spare days) and as years two halves made of them.
fn engine(settings: &str) -> Engine {
    let catalog = Catalog::from_yaml(
        r#"
object_models:
  - code: events
    name: Event
    time_column: at
    columns:
      - { name: at, type: timestamp, nullable: false }
      - { name: amount, type: float64 }
  - code: fiscal_calendar
    name: Fiscal calendar
    columns:
      - { name: day, type: date, nullable: false }
      - { name: period, type: string }
      - { name: half, type: int64 }
kpis:
  - { code: total, name: Total, formula: sum(events.amount) }
"#,
    )
    .unwrap();
    let engine = Engine::with_options(catalog, EngineSettings::from_json(settings).unwrap().to_options().unwrap()).unwrap();
    let days = 366;
    let jan_1 = 19_723; // days from 1970 to 2024-01-01
    let at: Vec<i64> = (0..days).map(|d| (jan_1 + d) * 86_400_000_000 + 43_200_000_000).collect();
    let events = Arc::new(Schema::new(vec![
        Field::new("at", DataType::Timestamp(TimeUnit::Microsecond, None), false),
        Field::new("amount", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        events,
        vec![Arc::new(TimestampMicrosecondArray::from(at)), Arc::new(Float64Array::from(vec![1.0; days as usize]))],
    )
    .unwrap();
    engine.register_batches("events", vec![batch]).unwrap();
    let calendar = Arc::new(Schema::new(vec![
        Field::new("day", DataType::Date32, false),
        Field::new("period", DataType::Utf8, true),
        Field::new("half", DataType::Int64, true),
    ]));
    let period: Vec<String> = (0..days).map(|d| format!("P{:02}", (d / 28).min(12) + 1)).collect();
    let half: Vec<i64> = (0..days).map(|d| i64::from(d >= 196)).collect();
    let batch = RecordBatch::try_new(
        calendar,
        vec![
            Arc::new(Date32Array::from_iter_values((0..days).map(|d| (jan_1 + d) as i32))),
            Arc::new(StringArray::from(period)),
            Arc::new(datafusion::arrow::array::Int64Array::from(half)),
        ],
    )
    .unwrap();
    engine.register_batches("fiscal_calendar", vec![batch]).unwrap();
    engine
}

fn periods(engine: &Engine, spec: &str) -> Vec<(String, f64)> {
    let spec = QuerySpec::from_json(spec).unwrap();
    let result = tokio::runtime::Runtime::new().unwrap().block_on(engine.calculate_spec(&spec)).unwrap();
    result.rows().into_iter().map(|r| (r.period.unwrap().date_naive().to_string(), r.value.unwrap())).collect()
}

const TABLE: &str = r#""calendar_table": {"table": "fiscal_calendar", "date": "day", "month": "period", "year": "half"}"#;

#[test]
fn a_calendar_table_in_a_query_document() {
    let engine = engine("{}");
    let spec = format!(r#"{{"kpi": "total", "grain": "month", "start": "2024-11-01", "end": "2025-01-01", {TABLE}}}"#);
    assert_eq!(periods(&engine, &spec), [("2024-10-07".to_string(), 28.0), ("2024-11-04".into(), 28.0), ("2024-12-02".into(), 30.0)]);
    let years = format!(r#"{{"kpi": "total", "grain": "year", "start": "2024-01-01", "end": "2025-01-01", {TABLE}}}"#);
    assert_eq!(periods(&engine, &years), [("2024-01-01".to_string(), 196.0), ("2024-07-15".into(), 170.0)]);
    // Twelve months back from December's period is January's.
    let prev =
        format!(r#"{{"formula": "prev(sum(events.amount), 12)", "grain": "month", "start": "2024-12-09", "end": "2025-01-01", {TABLE}}}"#);
    assert_eq!(periods(&engine, &prev), [("2024-12-02".to_string(), 28.0)]);
}

#[test]
fn a_calendar_table_in_the_engine_settings() {
    let engine = engine(&format!("{{{TABLE}}}"));
    let spec = r#"{"kpi": "total", "grain": "month", "start": "2024-01-01", "end": "2024-02-01"}"#;
    assert_eq!(periods(&engine, spec), [("2024-01-01".to_string(), 28.0), ("2024-01-29".into(), 28.0)]);
}

#[test]
fn a_calendar_table_that_cannot_be_read_is_an_option_error() {
    let engine = engine("{}");
    let bad = |table: &str| {
        let spec = QuerySpec::from_json(&format!(r#"{{"kpi": "total", "grain": "month", "calendar_table": {table}}}"#)).unwrap();
        engine.query(&spec).unwrap_err()
    };
    let unknown = bad(r#"{"table": "calendar", "date": "day", "month": "period"}"#);
    assert_eq!(unknown.code(), "KPI_OPTION");
    assert!(unknown.to_string().contains("unknown object model `calendar`"), "{unknown}");
    let column = bad(r#"{"table": "fiscal_calendar", "date": "day", "month": "periode"}"#);
    assert!(column.to_string().contains("no column `periode`"), "{column}");
    let nothing = bad(r#"{"table": "fiscal_calendar", "date": "day"}"#);
    assert!(nothing.to_string().contains("name at least one of the month, quarter and year columns"), "{nothing}");
    let outside =
        QuerySpec::from_json(&format!(r#"{{"kpi": "total", "grain": "month", "start": "2023-12-01", "end": "2024-02-01", {TABLE}}}"#))
            .unwrap();
    let err = tokio::runtime::Runtime::new().unwrap().block_on(engine.calculate_spec(&outside)).unwrap_err();
    assert!(err.to_string().contains("outside the calendar table `fiscal_calendar`"), "{err}");
}

#[test]
fn sql_export_refuses_periods_only_the_engine_knows() {
    let engine = engine("{}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let retail = engine
        .query(
            &QuerySpec::from_json(
                r#"{"kpi": "total", "grain": "month", "start": "2024-02-04", "end": "2024-05-05", "retail_calendar": "nrf"}"#,
            )
            .unwrap(),
        )
        .unwrap();
    let err = rt.block_on(engine.to_sql(&retail, SqlDialect::Postgres)).unwrap_err();
    assert_eq!(err.code(), "KPI_SQL");
    assert!(err.to_string().contains("periods of calendar `4-5-4, saturday nearest the end of january` exist only in the engine"), "{err}");
    // Weeks of a retail calendar are plain weeks, and SQL can bucket them.
    let weeks = engine
        .query(
            &QuerySpec::from_json(
                r#"{"kpi": "total", "grain": "week", "start": "2024-02-04", "end": "2024-03-03", "retail_calendar": "nrf"}"#,
            )
            .unwrap(),
        )
        .unwrap();
    rt.block_on(engine.to_sql(&weeks, SqlDialect::Postgres)).unwrap();
    // A month back by day is the engine's; by month it is a lag any database runs.
    let by_day = engine
        .query(
            &QuerySpec::from_json(
                r#"{"formula": "prev(sum(events.amount), '1 month')", "grain": "day", "start": "2024-03-01", "end": "2024-03-08"}"#,
            )
            .unwrap(),
        )
        .unwrap();
    let err = rt.block_on(engine.to_sql(&by_day, SqlDialect::DuckDb)).unwrap_err();
    assert!(err.to_string().contains("calculated by the engine only"), "{err}");
    let by_month = engine
        .query(
            &QuerySpec::from_json(
                r#"{"formula": "prev(sum(events.amount), '1 month')", "grain": "month", "start": "2024-03-01", "end": "2024-06-01"}"#,
            )
            .unwrap(),
        )
        .unwrap();
    rt.block_on(engine.to_sql(&by_month, SqlDialect::DuckDb)).unwrap();
}

/// In a zone with DST, days and longer periods of a ranged query are found among the civil
/// period starts of its years; in UTC they are truncated.
#[test]
fn civil_periods_in_a_dst_zone_are_searched() {
    let engine = engine("{}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let plan = |json: &str| rt.block_on(engine.explain(&engine.query(&QuerySpec::from_json(json).unwrap()).unwrap())).unwrap().logical;
    let berlin = plan(r#"{"kpi": "total", "grain": "month", "start": "2024-01-01", "end": "2025-01-01", "timezone": "Europe/Berlin"}"#);
    assert!(berlin.contains("civil_period"), "{berlin}");
    let utc = plan(r#"{"kpi": "total", "grain": "month", "start": "2024-01-01", "end": "2025-01-01"}"#);
    assert!(!utc.contains("civil_period") && utc.contains("date_trunc"), "{utc}");
    let hours = plan(r#"{"kpi": "total", "grain": "hour", "start": "2024-03-31", "end": "2024-04-01", "timezone": "Europe/Berlin"}"#);
    assert!(!hours.contains("civil_period"), "{hours}");
    // SQL for another database buckets with its own functions.
    let q = engine
        .query(
            &QuerySpec::from_json(
                r#"{"kpi": "total", "grain": "month", "start": "2024-01-01", "end": "2025-01-01", "timezone": "Europe/Berlin"}"#,
            )
            .unwrap(),
        )
        .unwrap();
    for dialect in SqlDialect::ALL {
        let sql = rt.block_on(engine.to_sql(&q, dialect)).unwrap();
        assert!(!sql.contains("civil_period"), "{dialect}: {sql}");
    }
}
