//! KPI definitions created, changed and removed in a running engine.

use std::time::Duration;

use kpi_catalog::KpiDefinition;
use kpi_core::{Refresh, UpdateKind};
use kpi_formula::{Grain, Query};

use crate::support::{engine, range};

fn total(engine: &kpi_core::Engine, kpi: &str) -> impl std::future::Future<Output = Option<f64>> {
    let engine = engine.clone();
    let query = Query::kpi(kpi).with_range(range("2024-01-01", "2024-07-01"));
    async move { engine.calculate(&query).await.unwrap_or_else(|e| panic!("{e}")).rows()[0].value }
}

fn revenue(formula: &str) -> KpiDefinition {
    let mut kpi = kpi_core::Engine::new(kpi_catalog::Catalog::standard()).unwrap().catalog().kpi("revenue").unwrap().clone();
    kpi.formula = formula.into();
    kpi
}

#[tokio::test]
async fn a_new_kpi_calculates_and_a_changed_one_drops_exactly_its_results_and_its_users() {
    let engine = engine();
    let change =
        engine.define_kpi(KpiDefinition::new("web_orders", "Web orders", "count(orders where orders.channel = 'web')")).await.unwrap();
    assert_eq!((change.action, change.affected.clone()), ("created", vec!["web_orders".to_string()]));
    let web = total(&engine, "web_orders").await.unwrap();
    assert!(web > 0.0);

    let before = total(&engine, "revenue").await.unwrap();
    let aov_before = total(&engine, "average_order_value").await.unwrap();
    let orders = total(&engine, "order_count").await.unwrap();
    let cached = engine.cached_results();
    let change = engine.define_kpi(revenue("sum(orders.order_value where orders.status != 'cancelled') * 2")).await.unwrap();
    assert_eq!(change.action, "updated");
    assert!(change.affected.contains(&"average_order_value".to_string()) && change.affected.contains(&"revenue_growth".to_string()));
    assert!(!change.affected.contains(&"order_count".to_string()));
    assert_eq!(change.invalidated_results, 2, "revenue and average order value were cached");
    assert_eq!(engine.cached_results(), cached - 2);
    assert_eq!(total(&engine, "revenue").await, Some(before * 2.0));
    assert!((total(&engine, "average_order_value").await.unwrap() - aov_before * 2.0).abs() < 1e-6);
    // A KPI that does not use revenue is still served from the cache.
    let hits = engine.metrics().cache_hits;
    assert_eq!(total(&engine, "order_count").await, Some(orders));
    assert_eq!(engine.metrics().cache_hits, hits + 1);
    assert_eq!(engine.catalog().kpi("revenue").unwrap().formula, "sum(orders.order_value where orders.status != 'cancelled') * 2");
}

#[tokio::test]
async fn refused_changes_change_nothing() {
    let engine = engine();
    let before = total(&engine, "revenue").await;
    let bad = engine.define_kpi(revenue("sum(orders.ordr_value)")).await.unwrap_err();
    assert_eq!((bad.code(), bad.kind().as_str()), ("KPI_DEFINITION", "catalog"));
    assert!(bad.to_string().contains("ordr_value") && bad.to_string().contains("nothing changed"), "{bad}");
    // A cycle through the KPIs that use it is refused, naming them.
    let cycle = engine.define_kpi(revenue("revenue_growth * 2")).await.unwrap_err();
    assert!(cycle.to_string().contains("used by") && cycle.to_string().contains("revenue_growth"), "{cycle}");
    assert_eq!(total(&engine, "revenue").await, before);
    assert_eq!(engine.metrics().cache_hits, 1, "the cached result survived");

    let used = engine.remove_kpi("revenue", false).await.unwrap_err();
    assert!(used.to_string().contains("average_order_value") && used.to_string().contains("cascade"), "{used}");
    assert!(engine.catalog().kpi("revenue").is_ok());
    assert_eq!(engine.remove_kpi("no_such_kpi", false).await.unwrap_err().code(), "KPI_CATALOG");
}

#[tokio::test]
async fn a_cascading_removal_takes_the_users_along() {
    let engine = engine();
    total(&engine, "average_order_value").await;
    let change = engine.remove_kpi("revenue", true).await.unwrap();
    assert_eq!(change.action, "removed");
    assert!(change.removed.contains(&"average_order_value".to_string()));
    for gone in std::iter::once("revenue".to_string()).chain(change.removed.clone()) {
        assert!(engine.catalog().kpi(&gone).is_err(), "{gone}");
    }
    let e = engine.calculate(&Query::kpi("average_order_value")).await.unwrap_err();
    assert_eq!(e.code(), "KPI_FORMULA", "{e}");
    assert!(engine.catalog().kpi("order_count").is_ok());
}

#[tokio::test]
async fn subscribers_get_a_fresh_snapshot_of_the_new_definition() {
    let engine = engine();
    let query = Query::kpi("revenue").with_grain(Grain::Month).with_range(range("2024-01-01", "2024-07-01"));
    let mut sub = engine.subscribe(&query, Refresh::OnChange).await.unwrap();
    let first = sub.next().await;
    assert!(first.updates.iter().all(|u| u.kind == UpdateKind::Snapshot));
    let old: Vec<Option<f64>> = first.updates.iter().map(|u| u.value).collect();
    let change = engine.define_kpi(revenue("sum(orders.order_value where orders.status != 'cancelled') / 1000")).await.unwrap();
    assert_eq!(change.refreshed_views, 1);
    let fresh = tokio::time::timeout(Duration::from_secs(10), sub.next()).await.unwrap();
    assert_eq!(fresh.updates.len(), 6);
    assert!(fresh.updates.iter().all(|u| u.kind == UpdateKind::Snapshot));
    for (new, old) in fresh.updates.iter().zip(old) {
        assert!((new.value.unwrap() - old.unwrap() / 1000.0).abs() < 1e-6);
    }
    // The removed KPI's subscribers are told, and the view ends.
    engine.remove_kpi("revenue", true).await.unwrap();
    let last = tokio::time::timeout(Duration::from_secs(10), sub.next()).await.unwrap();
    assert!(last.error.is_some());
    assert!(engine.streams().is_empty());
}

#[tokio::test]
async fn concurrent_changes_of_one_kpi_apply_whole_and_the_last_one_wins() {
    let engine = engine();
    let base = total(&engine, "revenue").await.unwrap();
    let changes: Vec<_> = (1..=8)
        .map(|k| {
            let engine = engine.clone();
            tokio::spawn(async move {
                engine.define_kpi(revenue(&format!("sum(orders.order_value where orders.status != 'cancelled') * {k}"))).await
            })
        })
        .collect();
    for c in changes {
        c.await.unwrap().unwrap();
    }
    let formula = engine.catalog().kpi("revenue").unwrap().formula.clone();
    let factor: f64 = formula.rsplit(' ').next().unwrap().parse().unwrap();
    assert!((total(&engine, "revenue").await.unwrap() - base * factor).abs() < 1e-6 * base * factor);
}

#[tokio::test]
async fn a_client_engines_definitions_are_kept_in_its_configuration() {
    let client: kpi_catalog::ClientConfig = serde_json::from_value(serde_json::json!({"id": "acme", "name": "Acme"})).unwrap();
    let engine = kpi_core::Engine::for_client(&kpi_catalog::Catalog::standard(), client, kpi_core::EngineOptions::default()).unwrap();
    engine.define_kpi(KpiDefinition::new("web_orders", "Web orders", "count(orders where orders.channel = 'web')")).await.unwrap();
    let saved = engine.client().unwrap();
    assert_eq!(saved.custom_kpis.iter().map(|k| k.code.as_str()).collect::<Vec<_>>(), ["web_orders"]);
    // Reopened from the saved configuration, the engine has the KPI.
    let reopened = kpi_core::Engine::for_client(&kpi_catalog::Catalog::standard(), saved, kpi_core::EngineOptions::default()).unwrap();
    assert!(reopened.catalog().kpi("web_orders").is_ok());
    engine.remove_kpi("web_orders", false).await.unwrap();
    assert!(engine.client().unwrap().custom_kpis.is_empty());
}
