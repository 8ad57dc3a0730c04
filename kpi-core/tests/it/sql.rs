//! Explain and SQL export.

use kpi_catalog::Catalog;
use kpi_core::{Engine, SqlDialect};
use kpi_formula::{Grain, Query};

use crate::support::{engine, range};

#[tokio::test]
async fn explain_shows_all_three_plans() {
    let q = Query::kpi("perfect_order_rate").with_grain(Grain::Month).by(["orders.region"]).with_range(range("2024-01-01", "2024-07-01"));
    let explain = engine().explain(&q).await.unwrap();
    assert!(explain.logical.contains("TableScan: orders"), "{}", explain.logical);
    assert!(explain.optimized.contains("Aggregate"), "{}", explain.optimized);
    assert!(explain.physical.contains("AggregateExec"), "{}", explain.physical);
    assert!(explain.to_string().contains("physical plan:"));
}

#[tokio::test]
async fn every_standard_kpi_exports_to_every_dialect() {
    // No data registered: SQL export needs only the catalog.
    let engine = Engine::new(Catalog::standard().clone()).unwrap();
    let r = range("2024-01-01", "2024-07-01");
    let mut failures = Vec::new();
    for kpi in engine.catalog().kpis() {
        let grain = kpi.default_grain.unwrap_or(Grain::Month);
        let q = Query::kpi(&kpi.code).with_grain(grain).by(kpi.dimensions.iter().take(1).cloned()).with_range(r);
        for dialect in SqlDialect::ALL {
            match engine.to_sql(&q, dialect).await {
                // What a dialect cannot express is refused with the reason.
                Err(e) if e.code() == "KPI_SQL" && e.to_string().contains("calculate medians and percentiles in the engine") => {
                    assert!(matches!(dialect, SqlDialect::MySql | SqlDialect::Sqlite | SqlDialect::BigQuery), "{e}");
                }
                Err(e) => failures.push(format!("{} / {dialect}: {e}", kpi.code)),
                Ok(_) => {}
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn timescale_buckets_with_time_bucket() {
    let engine = Engine::new(Catalog::standard().clone()).unwrap();
    let q = Query::kpi("revenue").with_grain(Grain::Month).by(["orders.region"]).with_range(range("2024-01-01", "2024-07-01"));
    let timescale = engine.to_sql(&q, SqlDialect::Timescale).await.unwrap();
    assert!(timescale.contains("time_bucket("), "{timescale}");
    assert!(!timescale.contains("date_trunc"), "{timescale}");
    let postgres = engine.to_sql(&q, SqlDialect::Postgres).await.unwrap();
    assert!(postgres.contains("date_trunc"), "{postgres}");
    assert!(postgres.contains("\"orders\""), "{postgres}");
}

#[tokio::test]
async fn the_exported_sql_gives_the_same_numbers_in_datafusion() {
    let engine = engine();
    let q = Query::kpi("average_order_value").with_grain(Grain::Month).by(["orders.channel"]).with_range(range("2024-01-01", "2024-07-01"));
    let sql = engine.to_sql(&q, SqlDialect::Postgres).await.unwrap();
    let result = engine.calculate(&q).await.unwrap();
    let oracle = crate::support::sql(&sql).await;
    crate::support::assert_same(&result, &oracle);
}
