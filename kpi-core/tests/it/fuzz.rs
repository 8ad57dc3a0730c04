//! Fuzzing through the public API: query documents and engine settings made of known keys with
//! values good, bad and extreme. Every one is a result or a typed error (never a panic, never
//! an internal error) within the engine's timeout. Runs briefly in CI;
//! `KPI_FUZZ_CASES=20000 cargo nextest run --workspace fuzz::` runs it longer.

use std::time::Duration;

use kpi_core::{EngineError, EngineOptions, EngineSettings, QuerySpec};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::support::engine_with;

pub(crate) fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("KPI_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

fn text(choices: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => proptest::sample::select(choices).prop_map(|s| Value::String(s.to_string())),
        1 => "\\PC{0,40}".prop_map(Value::String),
    ]
}

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(0)),
        Just(json!(-1)),
        Just(json!(1e20)),
        Just(json!(1e-9)),
        Just(json!(u64::MAX)),
        Just(json!(i64::MIN)),
        (0u64..100_000).prop_map(|n| json!(n)),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(|f| json!(f)),
    ]
}

const TIMES: &[&str] = &[
    "2024-01-01",
    "2024-03-01",
    "2024-02-29T12:00:00",
    "2024-01-01T00:00:00Z",
    "2024-06-30T23:59:59+05:30",
    "1700-01-01",
    "2201-01-01",
    "1699-12-31",
    "+262142-12-31T12:00",
    "-262143-01-01",
    "0000-01-01",
    "9999-12-31",
    "2024-13-01",
    "",
];
const FORMULAS: &[&str] = &[
    "sum(orders.order_value)",
    "count(orders)",
    "rolling(count(orders), '100000000 days')",
    "rolling(count(orders), '20 years')",
    "prev(count(orders), 10000)",
    "growth(sum(orders.order_value), 12)",
    "cumulative(count(orders))",
    "to_date(count(orders), 'year')",
    "count(orders) / 0",
    "median(orders.order_value)",
    "count_distinct(orders.customer_id) where orders.region = 'europe'",
    "sum(orders.missing)",
    "(((",
    "count(orders) +",
    "percentile(orders.order_value, 2)",
];

fn document() -> impl Strategy<Value = Value> {
    let fields = (
        proptest::option::of(text(&["revenue", "order_count", "perfect_order_rate", "revenu", "dau_mau_ratio", "on_time_delivery_rate"])),
        proptest::option::of(text(FORMULAS)),
        proptest::option::of(text(&["minute", "hour", "day", "week", "month", "quarter", "year", "decade"])),
        proptest::option::of(proptest::collection::vec(
            text(&["orders.region", "orders.channel", "orders.order_id", "orders.customer.segment", "orders.nope"]),
            0..3,
        )),
        (proptest::option::of(text(TIMES)), proptest::option::of(text(TIMES))),
        proptest::option::of(text(&[
            "orders.region = 'europe'",
            "orders.order_value > 10",
            "sum(orders.order_value) > 1",
            "orders.region =",
        ])),
        proptest::option::of(text(&["UTC", "Europe/Berlin", "America/New_York", "Mars/Olympus"])),
        proptest::option::of(text(&["monday", "sunday", "funday"])),
        proptest::option::of(text(&["include", "omit", "sometimes"])),
        proptest::option::of(prop_oneof![number(), text(&["250ms", "5min", "1h 30m", "forever"])]),
    );
    fields.prop_map(|(kpi, formula, grain, by, (start, end), filter, timezone, week_start, empty, timeout)| {
        let mut doc = Map::new();
        let mut put = |key: &str, value: Option<Value>| {
            if let Some(v) = value {
                doc.insert(key.to_string(), v);
            }
        };
        put("kpi", kpi);
        put("formula", formula);
        put("grain", grain);
        put("by", by.map(Value::Array));
        put("start", start);
        put("end", end);
        put("where", filter);
        put("timezone", timezone);
        put("week_start", week_start);
        put("empty_periods", empty);
        put("timeout", timeout);
        Value::Object(doc)
    })
}

fn typed(e: &EngineError) -> Result<(), TestCaseError> {
    prop_assert!(e.code() != "KPI_INTERNAL", "internal error: {e}");
    prop_assert!(EngineError::CODES.iter().any(|(c, _)| *c == e.code()), "unknown code {}", e.code());
    Ok(())
}

proptest! {
    #![proptest_config(cases(48))]

    #[test]
    fn query_documents_answer_or_fail_typed(doc in document()) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let engine = engine_with(EngineOptions::default().with_timeout(Duration::from_secs(5)));
        match QuerySpec::from_value(doc.clone()) {
            Err(e) => typed(&e)?,
            Ok(spec) => match runtime.block_on(engine.calculate_spec(&spec)) {
                Ok(_) => {}
                Err(e) => {
                    // Only a document's own (tiny) timeout may stop it; the engine's 5 s never should.
                    prop_assert!(e.code() != "KPI_TIMEOUT" || doc.get("timeout").is_some(), "{doc} ran into the timeout");
                    typed(&e)?
                }
            },
        }
    }

    #[test]
    fn settings_documents_are_options_or_typed_errors(
        timeout in proptest::option::of(prop_oneof![number(), text(&["1s", "-5s", "1e400s", "0"])]),
        memory in proptest::option::of(number()),
        rows in proptest::option::of(number()),
        lanes in proptest::option::of(number()),
        zone in proptest::option::of(text(&["UTC", "Europe/Berlin", "Nowhere"])),
    ) {
        let mut doc = Map::new();
        for (key, value) in [("timeout", timeout), ("memory_limit", memory), ("max_result_rows", rows), ("lane_concurrency", lanes), ("timezone", zone)] {
            if let Some(v) = value {
                doc.insert(key.to_string(), v);
            }
        }
        match EngineSettings::from_value(Value::Object(doc)).and_then(|s| s.to_options()) {
            Ok(options) => prop_assert!(options.timeout.is_none_or(|t| t > Duration::ZERO)),
            Err(e) => typed(&e)?,
        }
    }
}
