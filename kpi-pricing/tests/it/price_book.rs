//! Price books: the specification's defaults, overrides from YAML and JSON, and bad books.

use kpi_pricing::{LicenseTerm, Money, PriceBook, PricingError, price};

use crate::{SPEC_ANSWERS, SPEC_KPIS};

#[test]
fn defaults_are_the_specification_rates() {
    let b = PriceBook::default();
    assert_eq!(b.rates.integration_developer, Money::dollars(70));
    assert_eq!(b.rates.integration_architect, Money::dollars(175));
    assert_eq!(b.environment.cloud_architect_hours.min, 40.into());
    assert_eq!(b.environment.cloud_architect_hours.max, 80.into());
    assert_eq!(b.integration.batch_conformed.hours, 15.into());
    assert_eq!(b.integration.streaming_api_non_architected.hours.max, 60.into());
    assert_eq!(b.kpi_implementation.otb.hours.to_string(), "0.5");
    assert_eq!(b.storage.hot_per_gb_month.to_string(), "$0.10");
    assert_eq!(b.storage.cold_per_gb_month.to_string(), "$0.01");
    assert_eq!(b.network.per_gb.to_string(), "$0.09");
    assert_eq!(b.instances["t3.xlarge"], Money::dollars(150));
    b.validate().unwrap();
}

#[test]
fn the_whole_book_round_trips_through_yaml_and_json() {
    let book = PriceBook::default();
    assert_eq!(PriceBook::from_yaml(&book.to_yaml()).unwrap(), book);
    assert_eq!(PriceBook::from_json(&book.to_json()).unwrap(), book);
    assert_eq!(PriceBook::from_yaml("").unwrap(), book);
}

#[test]
fn overrides_change_the_proposal() {
    let book = PriceBook::from_json(r#"{"licensing": {"three_year": "31000.50"}, "network": {"per_gb": 0.05}}"#).unwrap();
    assert_eq!(book.licensing.annual_per_value_chain(LicenseTerm::Three).to_string(), "$31,000.50");
    assert_eq!(book.licensing.one_year, Money::dollars(35_000));
    let answers = kpi_pricing::Answers::from_yaml(SPEC_ANSWERS).unwrap();
    let p = price(&kpi_catalog::Catalog::standard(), &SPEC_KPIS, &answers, &book).unwrap();
    assert_eq!(p.licensing.annual_total.to_string(), "$62,001");
    assert_eq!(p.infrastructure.network.monthly, Money::dollars(50));
}

#[test]
fn bad_books_list_their_problems() {
    let err = PriceBook::from_yaml(
        "licensing: { one_year: -1 }\nenvironment: { cloud_architect_hours: { min: 80, max: 40 } }\nsizing: { gateway_instance: t3.tiny, min_replicas: 0 }",
    )
    .unwrap_err();
    let paths: Vec<&str> = err.problems().iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["licensing.one_year", "environment.cloud_architect_hours", "sizing.min_replicas", "sizing.gateway_instance"]);
    let err = PriceBook::from_yaml("licensing: { two_year: 1 }").unwrap_err();
    assert!(matches!(&err, PricingError::Parse { message, .. } if message.contains("two_year")), "{err}");
    assert!(PriceBook::from_yaml("- a list").is_err());
    assert!(PriceBook::from_yaml("storage: { hot_per_gb_month: .inf }").is_err());
}

#[test]
fn an_invalid_book_is_refused_by_pricing() {
    let mut book = PriceBook::default();
    book.instances.remove("t3.large");
    let answers = kpi_pricing::Answers::from_yaml(SPEC_ANSWERS).unwrap();
    let err = price(&kpi_catalog::Catalog::standard(), &SPEC_KPIS, &answers, &book).unwrap_err();
    assert!(err.to_string().contains("t3.large"), "{err}");
}
