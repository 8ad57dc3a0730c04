//! Shared scans: a dashboard's queries of one scan shape run as one plan, and every result is
//! the one the query gives alone.

use std::sync::Arc;

use kpi_catalog::Catalog;
use kpi_core::{CachePolicy, Engine, EngineError, EngineOptions};
use kpi_formula::{Grain, Query};
use proptest::prelude::*;

use crate::support::{assert_same_rows, demo, engine_with, range};

fn uncached() -> Engine {
    engine_with(EngineOptions::default().with_cache(CachePolicy::disabled()))
}

/// Each item of the dashboard equals the query calculated alone, errors included.
async fn assert_dashboard_is_one_by_one(engine: &Engine, oracle: &Engine, queries: &[Query]) {
    let dashboard = engine.dashboard(queries).await;
    for item in &dashboard.items {
        match (&item.outcome, oracle.calculate(&item.query).await) {
            (Ok(shared), Ok(alone)) => assert_same_rows(shared, &alone),
            (Err(a), Err(b)) => assert_eq!(a.code(), b.code(), "{:?}: {a} vs {b}", item.query.target),
            (a, b) => panic!("{:?}: {a:?} vs {b:?}", item.query.target),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_standard_kpi_in_one_dashboard_equals_each_alone() {
    let engine = uncached();
    let mut queries = Vec::new();
    for kpi in Catalog::standard().kpis() {
        let q = Query::kpi(&kpi.code).with_grain(kpi.default_grain.unwrap_or(Grain::Month)).with_range(range("2024-01-01", "2024-07-01"));
        queries.push(q.clone().by(kpi.dimensions.iter().take(1).cloned()));
        queries.push(q);
    }
    assert_dashboard_is_one_by_one(&engine, &uncached(), &queries).await;
    let shared = engine.metrics().shared_scans;
    assert!(shared as usize > queries.len() / 2, "{shared} of {} answered by shared plans", queries.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_kpi_a_hundred_times_is_one_calculation() {
    let engine = uncached();
    let q = Query::kpi("revenue").with_grain(Grain::Month).by(["orders.region"]);
    let dashboard = engine.dashboard(&vec![q.clone(); 100]).await;
    let alone = uncached().calculate(&q).await.unwrap();
    for item in &dashboard.items {
        assert_same_rows(item.outcome.as_ref().unwrap(), &alone);
    }
    assert_eq!(engine.metrics().shared_scans, 100);
    assert_eq!(engine.metrics().calculations, 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_formulas_share_one_scan() {
    let engine = uncached();
    let queries: Vec<Query> = (0..1_000)
        .map(|i| {
            Query::formula(format!("sum(orders.order_value where orders.discount > {}) / count(orders)", f64::from(i % 50) * 0.004))
                .with_grain(Grain::Quarter)
        })
        .collect();
    let dashboard = engine.dashboard(&queries).await;
    assert_eq!(dashboard.errors().count(), 0);
    assert_eq!(engine.metrics().shared_scans, 1_000);
    for i in [0, 7, 999] {
        assert_same_rows(dashboard.items[i].outcome.as_ref().unwrap(), &uncached().calculate(&queries[i]).await.unwrap());
    }
}

/// A query whose shared plan cannot run (it reads a table with no data) fails alone, with its
/// own error; the others of its shape are answered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_kpi_fails_alone() {
    let engine = Engine::with_options(Catalog::standard().clone(), EngineOptions::default().with_cache(CachePolicy::disabled())).unwrap();
    engine.register_batches("orders", demo().batches("orders").unwrap().to_vec()).unwrap();
    let month = |q: Query| q.with_grain(Grain::Month);
    let queries = vec![
        month(Query::kpi("revenue")),
        month(Query::formula("sum(orders.order_value where orders.customer.segment = 'enterprise')")),
        month(Query::kpi("order_count")),
        month(Query::formula("sum(orders.no_such_column)")),
    ];
    let dashboard = engine.dashboard(&queries).await;
    let outcomes: Vec<_> = dashboard.items.iter().map(|i| i.outcome.as_ref().map_err(EngineError::code)).collect();
    assert!(outcomes[0].is_ok() && outcomes[2].is_ok(), "{outcomes:?}");
    assert_eq!(outcomes[1].as_ref().unwrap_err(), &"KPI_DATA");
    assert!(outcomes[3].is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_memory_limit_holds_for_a_shared_plan() {
    let engine = engine_with(EngineOptions::default().with_memory_limit(16 * 1024).with_cache(CachePolicy::disabled()));
    let q = |f: &str| Query::formula(f).with_grain(Grain::Day).by(["order_lines.order.region", "order_lines.order.channel"]);
    let queries = vec![q("count_distinct(order_lines.product_id)"), q("count_distinct(order_lines.order_id)")];
    let dashboard = engine.dashboard(&queries).await;
    for item in &dashboard.items {
        assert!(matches!(&item.outcome, Err(EngineError::MemoryLimit { limit: 16384, .. })), "{:?}", item.outcome);
    }
}

/// Cached results of a dashboard are hits the second time, and after an append the results
/// are again those of each query alone (patched or shared).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_dashboard_is_cached_and_follows_appends() {
    let engine = engine_with(EngineOptions::default());
    let queries: Vec<Query> = ["revenue", "order_count", "average_order_value", "perfect_order_rate"]
        .iter()
        .map(|k| Query::kpi(*k).with_grain(Grain::Month).by(["orders.region"]))
        .collect();
    engine.dashboard(&queries).await;
    let before = engine.metrics();
    assert_eq!(before.shared_scans, 4, "{before:?}");
    engine.dashboard(&queries).await;
    assert_eq!(engine.metrics().cache_hits - before.cache_hits, 4);
    let rows = demo().batches("orders").unwrap()[0].slice(0, 25);
    engine.append_batches("orders", vec![rows.clone()]).unwrap();
    let oracle = uncached();
    oracle.append_batches("orders", vec![rows]).unwrap();
    assert_dashboard_is_one_by_one(&engine, &oracle, &queries).await;
}

fn kpi_code() -> impl Strategy<Value = String> {
    let codes: Vec<String> = Catalog::standard().kpis().map(|k| k.code.clone()).collect();
    proptest::sample::select(codes)
}

fn dashboard_query() -> impl Strategy<Value = Query> {
    let grain = proptest::sample::select(vec![None, Some(Grain::Day), Some(Grain::Week), Some(Grain::Month)]);
    let by = proptest::sample::select(vec![vec![], vec!["orders.region"], vec!["orders.channel", "orders.region"]]);
    let filter = proptest::sample::select(vec![None, Some("orders.region = 'europe'"), Some("orders.discount > 0.1")]);
    let ranged = any::<bool>();
    (kpi_code(), grain, by, filter, ranged).prop_map(|(code, grain, by, filter, ranged)| {
        let mut q = Query::kpi(code).by(by);
        q.grain = grain;
        q.filter = filter.map(String::from);
        if ranged {
            q = q.with_range(range("2024-02-01", "2024-06-01"));
        }
        q
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Random dashboards (KPIs, grains, dimensions, filters, ranges; repeats included), asked
    /// before and after random appends of orders: every item equals its query calculated alone
    /// in an engine without a cache over the same rows.
    #[test]
    fn shared_dashboards_equal_one_by_one(
        queries in proptest::collection::vec(dashboard_query(), 2..24),
        appends in proptest::collection::vec((0usize..2_900, 1usize..60), 0..3),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let engine = Arc::new(engine_with(EngineOptions::default()));
            let oracle = uncached();
            assert_dashboard_is_one_by_one(&engine, &oracle, &queries).await;
            let orders = demo().batches("orders").unwrap();
            let all = datafusion::arrow::compute::concat_batches(&orders[0].schema(), orders).unwrap();
            for (at, n) in appends {
                let rows = all.slice(at, n.min(all.num_rows() - at));
                engine.append_batches("orders", vec![rows.clone()]).unwrap();
                oracle.append_batches("orders", vec![rows]).unwrap();
                assert_dashboard_is_one_by_one(&engine, &oracle, &queries).await;
            }
        });
    }
}

/// A small query asked again over the same data runs its prepared physical plan (fresh operator
/// state each time, concurrently too); new data or new definitions plan again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_small_query_runs_its_prepared_plan() {
    let engine = uncached();
    let q = Query::kpi("perfect_order_rate").with_grain(Grain::Month).by(["orders.region"]);
    let first = engine.calculate(&q).await.unwrap();
    let again = engine.calculate(&q).await.unwrap();
    assert_same_rows(&first, &again);
    assert_eq!(engine.metrics().plans_reused, 1);
    let runs = futures::future::join_all((0..8).map(|_| engine.calculate(&q))).await;
    for r in runs {
        assert_same_rows(&r.unwrap(), &first);
    }
    assert_eq!(engine.metrics().plans_reused, 9);

    let rows = demo().batches("orders").unwrap()[0].slice(0, 40);
    engine.append_batches("orders", vec![rows.clone()]).unwrap();
    let after = engine.calculate(&q).await.unwrap();
    assert_eq!(engine.metrics().plans_reused, 9, "new data plans again");
    let oracle = uncached();
    oracle.append_batches("orders", vec![rows]).unwrap();
    assert_same_rows(&after, &oracle.calculate(&q).await.unwrap());

    let mut kpi = Catalog::standard().kpi("perfect_order_rate").unwrap().clone();
    kpi.formula = "count(orders where orders.in_full) / count(orders)".into();
    engine.define_kpi(kpi).await.unwrap();
    let redefined = engine.calculate(&q).await.unwrap();
    assert_eq!(engine.metrics().plans_reused, 9, "new definitions plan again");
    assert_ne!(redefined.rows(), after.rows());
}
