//! `kpi calc` gives the engine's numbers, in every output format.

use std::fs::File;

use datafusion::arrow::array::{Array, Float64Array};
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use kpi_core::{Engine, QuerySpec};

use crate::support::{kpi, workspace_with_data};

/// The engine's own answer over the files `kpi demo` wrote.
fn in_process(dir: &std::path::Path, spec: &QuerySpec) -> serde_json::Value {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let engine = Engine::new(kpi_catalog::Catalog::standard()).expect("an engine");
        for model in ["orders", "customers"] {
            engine.register_parquet(model, dir.join(format!("data/{model}.parquet"))).await.expect("registered");
        }
        engine.calculate_spec(spec).await.expect("calculated").to_json()
    })
}

#[test]
fn json_csv_and_parquet_agree_with_the_engine() {
    let dir = workspace_with_data(5_000);
    let args =
        ["calc", "-k", "revenue", "-g", "month", "-b", "orders.region", "-d", "data", "--start", "2024-01-01", "--end", "2024-07-01"];
    let json: serde_json::Value =
        serde_json::from_str(&kpi(dir.path(), &[&args[..], &["--format", "json"]].concat()).expect(0).stdout).expect("JSON");
    let mut spec = QuerySpec::kpi("revenue");
    spec.grain = Some("month".into());
    spec.by = vec!["orders.region".into()];
    spec.start = Some("2024-01-01".into());
    spec.end = Some("2024-07-01".into());
    let expected = in_process(dir.path(), &spec);
    assert_eq!(json["rows"], expected["rows"]);
    let rows = json["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 6 * 4, "six months by four regions");

    kpi(dir.path(), &[&args[..], &["-o", "revenue.csv"]].concat()).expect(0);
    let csv = std::fs::read_to_string(dir.path().join("revenue.csv")).expect("written");
    assert_eq!(csv.lines().next(), Some("period,orders.region,value"));
    assert_eq!(csv.lines().count(), 1 + rows.len());

    kpi(dir.path(), &[&args[..], &["-o", "revenue.parquet"]].concat()).expect(0);
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(dir.path().join("revenue.parquet")).expect("written"))
        .expect("a Parquet file")
        .build()
        .expect("readable");
    let mut values = Vec::new();
    for batch in reader {
        let batch = batch.expect("a batch");
        let column = batch.column_by_name("value").expect("a value column");
        let column = column.as_any().downcast_ref::<Float64Array>().expect("f64 values");
        values.extend((0..column.len()).map(|i| column.is_valid(i).then(|| column.value(i))));
    }
    let from_json: Vec<Option<f64>> = rows.iter().map(|r| r["value"].as_f64()).collect();
    assert_eq!(values, from_json);
}

#[test]
fn demo_rows_and_a_formula() {
    let dir = workspace_with_data(2_000);
    let run = kpi(dir.path(), &["calc", "-f", "count(orders)", "-d", "data", "--format", "json"]).expect(0);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(json["rows"][0]["value"].as_f64(), Some(2_000.0), "{json}");

    let run = kpi(dir.path(), &["calc", "-f", "count(orders)", "--demo", "300", "--format", "csv"]).expect(0);
    assert_eq!(run.stdout.trim(), "value\n300.0");
}

#[test]
fn fiscal_years_from_the_command_line() {
    let dir = workspace_with_data(2_000);
    let args = ["calc", "-k", "revenue", "-g", "quarter", "-d", "data", "--start", "2024-02-01", "--end", "2024-08-01"];
    let out = kpi(dir.path(), &[&args[..], &["--fiscal-year-start", "feb", "--format", "json"]].concat()).expect(0);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let mut spec = QuerySpec::kpi("revenue");
    spec.grain = Some("quarter".into());
    spec.start = Some("2024-02-01".into());
    spec.end = Some("2024-08-01".into());
    spec.fiscal_year_start = Some("february".into());
    assert_eq!(json["rows"], in_process(dir.path(), &spec)["rows"]);
    let periods: Vec<&str> = json["rows"].as_array().expect("rows").iter().map(|r| r["period"].as_str().expect("a period")).collect();
    assert_eq!(periods, ["2024-02-01T00:00:00Z", "2024-05-01T00:00:00Z"]);
    let bad = kpi(dir.path(), &[&args[..], &["--fiscal-year-start", "smarch"]].concat()).expect_clear_error();
    assert!(bad.stderr.contains("unknown month `smarch`"), "{}", bad.stderr);
}

#[test]
fn retail_months_from_the_command_line() {
    let dir = workspace_with_data(2_000);
    let args = ["calc", "-k", "revenue", "-g", "month", "-d", "data", "--start", "2024-02-04", "--end", "2024-05-05"];
    let out = kpi(dir.path(), &[&args[..], &["--retail-calendar", "nrf", "--format", "json"]].concat()).expect(0);
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    let mut spec = QuerySpec::kpi("revenue");
    spec.grain = Some("month".into());
    spec.start = Some("2024-02-04".into());
    spec.end = Some("2024-05-05".into());
    spec.retail_calendar = Some("4-5-4, saturday nearest the end of january".into());
    assert_eq!(json["rows"], in_process(dir.path(), &spec)["rows"]);
    let periods: Vec<&str> = json["rows"].as_array().expect("rows").iter().map(|r| r["period"].as_str().expect("a period")).collect();
    assert_eq!(periods, ["2024-02-04T00:00:00Z", "2024-03-03T00:00:00Z", "2024-04-07T00:00:00Z"]);
    let bad = kpi(dir.path(), &[&args[..], &["--retail-calendar", "4-4-4"]].concat()).expect_clear_error();
    assert!(bad.stderr.contains("calendar `4-4-4`: expected `nrf` or `4-4-5`"), "{}", bad.stderr);
    let form = kpi(dir.path(), &[&args[..], &["--calendar-table", "fiscal"]].concat()).expect_clear_error();
    assert!(form.stderr.contains("write `table(date_column, month=column"), "{}", form.stderr);
    let unknown = kpi(dir.path(), &[&args[..], &["--calendar-table", "fiscal(day, month=period)"]].concat()).expect_clear_error();
    assert!(unknown.stderr.contains("unknown object model `fiscal`"), "{}", unknown.stderr);
}
