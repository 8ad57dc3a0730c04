//! Bad queries get typed errors a user can act on; empty data gives empty results.

use kpi_core::{Engine, EngineError};
use kpi_formula::{Calendar, FormulaError, Grain, Query, TimeRange};

use crate::support::{engine, range};

#[tokio::test]
async fn an_unknown_kpi_suggests_the_closest_code() {
    let err = engine().calculate(&Query::kpi("revenu").with_grain(Grain::Month)).await.unwrap_err();
    assert_eq!(err.code(), "KPI_FORMULA");
    assert!(err.to_string().contains("did you mean `revenue`"), "{err}");
}

#[tokio::test]
async fn an_unknown_dimension_points_at_the_column() {
    let q = Query::kpi("revenue").with_grain(Grain::Month).by(["orders.regoin"]).with_range(range("2024-01-01", "2024-02-01"));
    let err = engine().calculate(&q).await.unwrap_err();
    let EngineError::Formula(FormulaError::Invalid(d)) = &err else { panic!("{err:?}") };
    assert!(d.0[0].message.contains("regoin"), "{err}");
    assert!(err.to_string().contains("did you mean `region`"), "{err}");
}

#[tokio::test]
async fn a_filter_that_does_not_type_check_is_refused() {
    let q = Query::kpi("revenue")
        .with_grain(Grain::Month)
        .with_filter("orders.order_value = 'high'")
        .with_range(range("2024-01-01", "2024-02-01"));
    let err = engine().calculate(&q).await.unwrap_err();
    assert_eq!(err.code(), "KPI_FORMULA", "{err}");
    let q = Query::kpi("revenue").with_filter("sum(orders.order_value) > 3");
    assert_eq!(engine().calculate(&q).await.unwrap_err().code(), "KPI_FORMULA");
}

#[test]
fn a_range_that_starts_after_it_ends_is_refused() {
    let err = TimeRange::parse("2024-03-01", "2024-01-01", &Calendar::default()).unwrap_err();
    assert!(err.to_string().contains("not before end"), "{err}");
    let err: EngineError = FormulaError::from(err).into();
    assert_eq!(err.code(), "KPI_QUERY");
}

#[tokio::test]
async fn a_kpi_over_an_unregistered_model_names_it() {
    let engine = Engine::new(kpi_catalog::Catalog::standard().clone()).unwrap();
    let err = engine.calculate(&Query::kpi("revenue").with_range(range("2024-01-01", "2024-02-01"))).await.unwrap_err();
    assert!(matches!(&err, EngineError::NoData(m) if m == "orders"), "{err:?}");
    assert!(err.to_string().contains("register"), "{err}");
}

#[tokio::test]
async fn empty_tables_give_empty_results() {
    let engine = Engine::new(kpi_catalog::Catalog::standard().clone()).unwrap();
    engine.register_batches("orders", vec![]).unwrap();
    engine.register_batches("customers", vec![]).unwrap();
    let result = engine.calculate(&Query::kpi("average_order_value").with_grain(Grain::Month).by(["orders.region"])).await.unwrap();
    assert_eq!(result.num_rows(), 0);
    assert_eq!(result.schema().fields().len(), 3);
    let result = engine.calculate(&Query::formula("growth(count(orders))").with_grain(Grain::Day)).await.unwrap();
    assert_eq!(result.num_rows(), 0);
    // With an explicit range every period appears: counts are zero, ratios undefined.
    let result =
        engine.calculate(&Query::kpi("order_count").with_grain(Grain::Month).with_range(range("2024-01-01", "2024-03-01"))).await.unwrap();
    assert_eq!(result.rows().iter().map(|r| r.value).collect::<Vec<_>>(), [Some(0.0), Some(0.0)]);
}

#[test]
fn invalid_options_are_refused() {
    let options = kpi_core::EngineOptions::default().with_lane_concurrency(0);
    let err = Engine::with_options(kpi_catalog::Catalog::standard().clone(), options).err().unwrap();
    assert_eq!(err.code(), "KPI_OPTION");
    let err = kpi_core::EngineOptions::default().with_time_zone("Mars/Olympus").unwrap_err();
    assert!(err.to_string().contains("IANA"), "{err}");
}
