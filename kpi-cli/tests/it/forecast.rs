//! `kpi forecast` and `kpi trend` over files `kpi demo` wrote.

use crate::support::{kpi, workspace};

fn workspace_with_years() -> tempfile::TempDir {
    let dir = workspace();
    kpi(dir.path(), &["demo", "--out", "data", "--rows", "6000", "--start", "2022-01-01", "--end", "2025-01-01"]).expect(0);
    dir
}

#[test]
fn a_forecast_in_every_format_and_a_trend() {
    let dir = workspace_with_years();
    let base = ["forecast", "-k", "revenue", "-g", "month", "-b", "orders.region", "--horizon", "3", "-d", "data"];
    let table = kpi(dir.path(), &base).expect(0).stdout;
    assert!(table.contains("| period") && table.contains("| lower") && table.contains("4 groups forecast 3 periods ahead"), "{table}");
    let json: serde_json::Value =
        serde_json::from_str(&kpi(dir.path(), &[&base[..], &["--format", "json"]].concat()).expect(0).stdout).expect("JSON");
    assert_eq!(json["groups"].as_array().expect("groups").len(), 4);
    assert_eq!(json["groups"][0]["forecast"][0]["period"], "2025-01-01T00:00:00Z");
    kpi(dir.path(), &[&base[..], &["-o", "forecast.csv"]].concat()).expect(0);
    let csv = std::fs::read_to_string(dir.path().join("forecast.csv")).expect("the CSV");
    assert_eq!(csv.lines().next(), Some("period,orders.region,value,lower,upper"));
    assert_eq!(csv.lines().count(), 1 + 4 * 3);
    let naive = ["forecast", "-k", "order_count", "-g", "month", "--method", "seasonal_naive", "-d", "data", "--format", "json"];
    let naive: serde_json::Value = serde_json::from_str(&kpi(dir.path(), &naive).expect(0).stdout).expect("JSON");
    assert_eq!(naive["groups"][0]["model"], "seasonal naive");

    let trend = kpi(dir.path(), &["trend", "-k", "order_count", "-g", "month", "--window", "12", "-d", "data"]).expect(0).stdout;
    assert!(trend.contains("slope/period"), "{trend}");
    let json = kpi(dir.path(), &["trend", "-k", "order_count", "-g", "month", "--window", "12", "-d", "data", "--json"]).expect(0).stdout;
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json["groups"][0]["observed"], 12);
}

#[test]
fn bad_forecasts_are_one_clear_message() {
    let dir = workspace_with_years();
    let short = kpi(dir.path(), &["forecast", "-k", "revenue", "-g", "year", "-d", "data"]).expect_clear_error();
    assert!(short.stderr.contains("[KPI_FORECAST]") && short.stderr.contains("the series has 3"), "{}", short.stderr);
    let far = kpi(dir.path(), &["forecast", "-k", "revenue", "-g", "month", "--horizon", "100000000", "-d", "data"]).expect_clear_error();
    assert!(far.stderr.contains("invalid option horizon"), "{}", far.stderr);
    let method = kpi(dir.path(), &["forecast", "-k", "revenue", "-g", "month", "--method", "prophet", "-d", "data"]).expect_clear_error();
    assert!(method.stderr.contains("auto, ets, seasonal_naive"), "{}", method.stderr);
    kpi(dir.path(), &["forecast", "-k", "revenue", "-d", "data"]).expect_clear_error();
    kpi(dir.path(), &["trend", "-k", "revenue", "-g", "month", "--window", "2", "-d", "data"]).expect_clear_error();
}

#[test]
fn a_comparison_against_the_range_before_last_year_or_a_range() {
    let dir = workspace_with_years();
    let base = ["compare", "-k", "revenue", "-b", "orders.region", "--current", "2024-07-01,2024-10-01", "-d", "data"];
    let text = kpi(dir.path(), &base).expect(0).stdout;
    assert!(text.contains("previous 2024-04-01 00:00") && text.contains("north_america"), "{text}");
    let json = kpi(dir.path(), &[&base[..], &["--previous", "last_year", "--json"]].concat()).expect(0).stdout;
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(json["previous"]["start"], "2023-07-01T00:00:00Z");
    assert_eq!(json["rows"].as_array().expect("rows").len(), 4);
    let range = kpi(dir.path(), &[&base[..], &["--previous", "2022-01-01,2022-02-01", "--json"]].concat()).expect(0).stdout;
    assert!(range.contains("2022-02-01T00:00:00Z"), "{range}");
    let bad = kpi(dir.path(), &[&base[..], &["--previous", "last_week"]].concat()).expect_clear_error();
    assert!(bad.stderr.contains("not a baseline"), "{}", bad.stderr);
    kpi(dir.path(), &["compare", "-k", "revenue", "--current", "2024-07-01", "-d", "data"]).expect_clear_error();
}
