//! The result cache: hits and misses, TTL per value chain and KPI, invalidation by data change.

use std::sync::Arc;
use std::time::Duration;

use kpi_core::{CachePolicy, EngineOptions, ManualClock};
use kpi_formula::{Grain, Query};

use crate::support::{demo, engine_with, range};

#[tokio::test]
async fn results_are_cached_until_the_ttl_or_a_data_change() {
    let clock = Arc::new(ManualClock::new("2025-01-01T00:00:00Z".parse().unwrap()));
    let policy = CachePolicy::default().with_value_chain("sales", Duration::from_secs(300)).with_kpi("order_count", Duration::ZERO);
    let engine = engine_with(EngineOptions::default().with_cache(policy).with_clock(clock.clone()));
    let q = Query::kpi("revenue").with_grain(Grain::Month).with_range(range("2024-01-01", "2024-07-01"));

    let first = engine.calculate(&q).await.unwrap();
    assert!(!first.from_cache());
    let second = engine.calculate(&q).await.unwrap();
    assert!(second.from_cache());
    assert_eq!(second.rows(), first.rows());
    assert_eq!((engine.metrics().cache_hits, engine.metrics().cache_misses), (1, 1));

    // A different query is a different entry.
    assert!(!engine.calculate(&q.clone().by(["orders.region"])).await.unwrap().from_cache());

    // Past the TTL the result is recalculated.
    clock.advance(Duration::from_secs(301));
    assert!(!engine.calculate(&q).await.unwrap().from_cache());
    assert!(engine.calculate(&q).await.unwrap().from_cache());

    // Appending orders invalidates at once, and the new result counts the new rows.
    let batch = demo().batches("orders").unwrap()[0].slice(0, 10);
    engine.append_batches("orders", vec![batch]).unwrap();
    let after = engine.calculate(&q).await.unwrap();
    assert!(!after.from_cache());
    assert_ne!(after.rows(), first.rows());

    // Data the KPI does not read leaves its cached result alone.
    engine.append_batches("tickets", vec![demo().batches("tickets").unwrap()[0].slice(0, 5)]).unwrap();
    assert!(engine.calculate(&q).await.unwrap().from_cache());

    // A zero TTL turns caching off for that KPI.
    let count = Query::kpi("order_count");
    engine.calculate(&count).await.unwrap();
    assert!(!engine.calculate(&count).await.unwrap().from_cache());
}

#[tokio::test]
async fn bypassing_and_disabling_the_cache() {
    let engine = engine_with(EngineOptions::default().with_cache(CachePolicy::disabled()));
    let q = Query::kpi("order_count");
    engine.calculate(&q).await.unwrap();
    assert!(!engine.calculate(&q).await.unwrap().from_cache());
    assert_eq!(engine.cached_results(), 0);

    let engine = engine_with(EngineOptions::default());
    engine.calculate(&q).await.unwrap();
    let fresh = engine.calculate_with(&q, &kpi_core::CalculateOptions::default().bypassing_cache()).await.unwrap();
    assert!(!fresh.from_cache());
    engine.clear_cache();
    assert_eq!(engine.cached_results(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_calculations_at_once_run_once() {
    let engine = engine_with(EngineOptions::default());
    let q = Query::kpi("revenue").with_grain(Grain::Day).by(["orders.region"]);
    let results: Vec<_> = futures::future::join_all((0..8).map(|_| engine.calculate(&q))).await.into_iter().map(Result::unwrap).collect();
    assert!(results.iter().all(|r| r.rows() == results[0].rows()));
    assert_eq!(results.iter().filter(|r| !r.from_cache()).count(), 1, "one ran, the others took its result");
    let m = engine.metrics();
    assert_eq!((m.cache_misses, m.cache_hits + m.shared), (8, 7), "{m:?}");

    // After an append the next burst runs once more, over the new data.
    engine.append_batches("orders", vec![demo().batches("orders").unwrap()[0].slice(0, 10)]).unwrap();
    let again: Vec<_> = futures::future::join_all((0..8).map(|_| engine.calculate(&q))).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(again.iter().filter(|r| !r.from_cache()).count(), 1);
    assert_ne!(again[0].rows(), results[0].rows());
}

#[test]
fn the_seed_ttls_are_the_defaults() {
    let p = CachePolicy::default();
    assert_eq!(p.ttl(Some("perfect_order_rate"), Some("deliver"), Some("scor")), Duration::from_secs(3600));
    assert_eq!(p.ttl(Some("new_customers"), Some("acquisition"), Some("crm")), Duration::from_secs(300));
    let p = p.with_module("deliver", Duration::from_secs(60));
    assert_eq!(p.ttl(Some("perfect_order_rate"), Some("deliver"), Some("scor")), Duration::from_secs(60));
}
