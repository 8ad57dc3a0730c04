//! Bad answers: every problem listed at once, with a path and a way to fix it; never a panic or
//! a silent default.

use kpi_pricing::{Answers, PricingError};

use crate::{MINIMAL, SPEC_KPIS, price_yaml, problem_paths};

#[test]
fn minimal_answers_price() {
    let p = price_yaml(&["perfect_order_rate"], MINIMAL).unwrap();
    assert_eq!(p.licensing.value_chains, ["scor"]);
    assert!(p.infrastructure.sizing.is_some());
    // Every default applied is written down.
    assert!(p.assumptions.iter().any(|a| a.contains("Staged source data: the recommended 90 days active")), "{:?}", p.assumptions);
    assert!(p.assumptions.iter().any(|a| a.contains("on-demand queries an hour")));
}

#[test]
fn every_problem_is_listed_at_once() {
    let yaml = r#"
proposal_date: 22/11/2026
license_term: 2
value_chains: [scorr]
data_integration:
  order: { method: batch_conformed }
  customers: { method: batch_conformed, tm_hours: { min: 10, max: 20 } }
kpi_implementation:
  revenue: { complexity: otb }
  perfect_order_rate: { complexity: rbac, tm_hours: { min: 1, max: 2 } }
environment: { platform: none, cloud_architect_hours: 40 }
retention:
  staged_source_data: { retention_period: 0, retention_unit: days, archival_enabled: false, archival_period: 3 }
infrastructure: { daily_gb: -5, concurrent_users: 10, refresh: hour }
managed_services: { retainer: false, additional_hours: 20 }
"#;
    let err = price_yaml(&["perfect_order_rate"], yaml).unwrap_err();
    assert_eq!(err.code(), "KPI_PRICING");
    let paths = problem_paths(&err);
    for expected in [
        "proposal_date",
        "license_term",
        "value_chains[0]",
        "data_integration.order",
        "data_integration.customers",
        "data_integration.orders",
        "kpi_implementation.revenue",
        "kpi_implementation.perfect_order_rate.tm_hours",
        "environment.cloud_architect_hours",
        "retention.staged_source_data.retention_period",
        "retention.staged_source_data.archival_period",
        "infrastructure.daily_gb",
        "managed_services",
    ] {
        assert!(paths.iter().any(|p| p == expected), "no problem at {expected}: {paths:#?}");
    }
    let text = err.to_string();
    assert!(text.contains("a licence term of 2 years is not sold"), "{text}");
    assert!(text.contains("did you mean `scor`?"), "{text}");
    assert!(text.contains("did you mean `orders`?"), "{text}");
}

#[test]
fn unknown_kpis_are_listed_with_suggestions() {
    let err = price_yaml(&["perfect_order_rat", "nope_at_all", "revenue"], MINIMAL).unwrap_err();
    assert_eq!(problem_paths(&err), ["kpis[0]", "kpis[1]"]);
    assert!(err.to_string().contains("did you mean `perfect_order_rate`?"));
    let none: [&str; 0] = [];
    let err = price_yaml(&none, MINIMAL).unwrap_err();
    assert_eq!(problem_paths(&err), ["kpis"]);
}

#[test]
fn missing_steps_are_named() {
    let err = price_yaml(&["perfect_order_rate"], "proposal_date: 2026-11-22").unwrap_err();
    let paths = problem_paths(&err);
    for expected in ["license_term", "data_integration.orders", "environment", "infrastructure", "managed_services"] {
        assert!(paths.contains(&expected.to_string()), "{paths:?}");
    }
}

#[test]
fn contradictions_are_refused() {
    let cases = [
        (
            "managed_services: { retainer: false }",
            "managed_services: { retainer: false, additional_hours_band: 50-100 }",
            "managed_services",
        ),
        (
            "managed_services: { retainer: false }",
            "managed_services: { retainer: true, additional_hours: 10, additional_hours_band: 50-100 }",
            "managed_services",
        ),
        (
            "infrastructure: { daily_gb: 1, concurrent_users: 10, refresh: hour }",
            "infrastructure: { daily_gb: 1, instances: { api_gateway: { instance_type: t3.medium, count: 1 }, business_services: { instance_type: t3.large, count: 1 }, backend_services: { instance_type: t3.xlarge, count: 1 }, redis: cache.m5.large, active_storage_gb: 1, archive_storage_gb: 1, network_gb_per_month: 1 } }",
            "infrastructure",
        ),
        (
            "environment: { platform: none }",
            "environment: { platform: aws, cloud_architect_hours: -3 }",
            "environment.cloud_architect_hours",
        ),
        (
            "default_integration: { method: batch_conformed }",
            "default_integration: { method: streaming_api_non_architected, tm_hours: { min: 60, max: 40 } }",
            "default_integration.tm_hours",
        ),
    ];
    for (from, to, path) in cases {
        let err = price_yaml(&["perfect_order_rate"], &MINIMAL.replace(from, to)).unwrap_err();
        assert!(problem_paths(&err).contains(&path.to_string()), "{to}: {err}");
    }
}

#[test]
fn huge_and_non_numeric_inputs_are_errors() {
    for (from, to) in [
        ("daily_gb: 1", "daily_gb: 1e40"),
        ("daily_gb: 1", "daily_gb: .nan"),
        ("daily_gb: 1", "daily_gb: 99999999999999"),
        ("concurrent_users: 10", "concurrent_users: -1"),
        ("concurrent_users: 10", "concurrent_users: 1e30"),
        ("license_term: 1", "license_term: three"),
    ] {
        let result = price_yaml(&["perfect_order_rate"], &MINIMAL.replace(from, to));
        assert!(result.is_err(), "{to} was accepted");
    }
    // The largest accepted inputs still price, without overflow.
    let big = MINIMAL
        .replace("daily_gb: 1", "daily_gb: 1000000")
        .replace("concurrent_users: 10", "concurrent_users: 4000000000, queries_per_hour: 4000000000")
        .replace("refresh: hour", "refresh: minute");
    let p = price_yaml(&SPEC_KPIS, &big).unwrap();
    assert!(p.totals.term_total.min <= p.totals.term_total.max);
    assert_eq!(p.infrastructure.details.compute.business_services.instance_count, 600_000);
}

#[test]
fn misspelt_keys_are_parse_errors_with_a_position() {
    let err = Answers::from_yaml("license_term: 3\nmanaged_service: { retainer: true }\n").unwrap_err();
    let PricingError::Parse { message, .. } = &err else { panic!("{err:?}") };
    assert!(message.contains("managed_service"), "{message}");
    assert!(message.contains("line 2") || message.contains("2:"), "{message}");
    let err = Answers::from_json(r#"{"license_term": 3, "environment": {"platform": "mars"}}"#).unwrap_err();
    assert!(err.to_string().contains("mars"), "{err}");
}

#[test]
fn answers_round_trip_through_json() {
    let answers = Answers::from_yaml(crate::SPEC_ANSWERS).unwrap();
    let json = serde_json::to_string(&answers).unwrap();
    assert_eq!(Answers::from_json(&json).unwrap(), answers);
}

#[test]
fn support_bands_are_quoted_at_their_upper_end() {
    for (band, hours, cost) in [("0-50", 0, 5_000), ("50-100", 100, 12_500), ("100-200", 200, 20_000)] {
        let answers = MINIMAL.replace("{ retainer: false }", &format!("{{ retainer: true, additional_hours_band: {band} }}"));
        let p = price_yaml(&["perfect_order_rate"], &answers).unwrap();
        assert_eq!(p.managed_services.estimated_additional_hours, hours.into(), "{band}");
        assert_eq!(p.managed_services.annual_total, kpi_pricing::Money::dollars(cost), "{band}");
        assert!(p.assumptions.iter().any(|a| a.contains(band)), "{:?}", p.assumptions);
    }
}
