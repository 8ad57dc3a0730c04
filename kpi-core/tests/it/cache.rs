//! The result cache: hits and misses, TTL per value chain and KPI, invalidation by data change,
//! and cached results brought up to date after appends equal to a calculation from scratch.

use std::sync::Arc;
use std::time::Duration;

use kpi_core::{CacheOutcome, CachePolicy, Engine, EngineOptions, KpiResult, ManualClock};
use kpi_formula::{Grain, Query};
use proptest::prelude::*;

use crate::stream::{Event, KPIS, batch, by_minute, catalog, event, uncached};
use crate::support::{assert_same_rows, demo, engine_with, range};

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
    assert_eq!((first.cache_outcome(), second.cache_outcome()), (CacheOutcome::Full, CacheOutcome::Hit));
    assert_eq!(second.to_json()["cache"], "hit");
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
    assert_eq!(fresh.cache_outcome(), CacheOutcome::Full);
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
    let outcomes = |rs: &[KpiResult], o: CacheOutcome| rs.iter().filter(|r| r.cache_outcome() == o).count();
    assert_eq!(outcomes(&results, CacheOutcome::Full), 1);
    assert_eq!(outcomes(&results, CacheOutcome::Shared) + outcomes(&results, CacheOutcome::Hit), 7);
    let m = engine.metrics();
    // Each found the cache empty (a miss) or, when the first had finished, its result (a hit).
    assert_eq!((m.cache_misses + m.cache_hits, m.cache_hits + m.shared), (8, 7), "{m:?}");

    // After an append the next burst runs once more, over the new data.
    engine.append_batches("orders", vec![demo().batches("orders").unwrap()[0].slice(0, 10)]).unwrap();
    let again: Vec<_> = futures::future::join_all((0..8).map(|_| engine.calculate(&q))).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(again.iter().filter(|r| !r.from_cache()).count(), 1);
    assert_ne!(again[0].rows(), results[0].rows());
}

#[tokio::test]
async fn the_cache_is_bounded_by_bytes_and_by_entries() {
    let q = |region: &str| {
        Query::kpi("revenue")
            .with_grain(Grain::Day)
            .with_range(range("2024-01-01", "2024-07-01"))
            .with_filter(format!("orders.region = '{region}'"))
    };
    let regions = ["europe", "north_america", "asia_pacific", "latin_america"];

    // Room for about two of these results: the oldest goes, the bytes stay under the bound.
    let probe = engine_with(EngineOptions::default());
    let one = probe.calculate(&q("europe")).await.unwrap();
    let size = one.memory_size();
    assert_eq!(probe.metrics().cached_bytes, size as u64);
    // Calculated bytes are counted; a cache hit adds none.
    assert_eq!(probe.metrics().result_bytes, size as u64);
    assert!(probe.calculate(&q("europe")).await.unwrap().from_cache());
    assert_eq!(probe.metrics().result_bytes, size as u64);
    let policy = CachePolicy { max_bytes: size * 5 / 2, ..CachePolicy::default() };
    let engine = engine_with(EngineOptions::default().with_cache(policy));
    for region in regions {
        engine.calculate(&q(region)).await.unwrap();
        assert!(engine.metrics().cached_bytes <= (size * 5 / 2) as u64, "{:?}", engine.metrics());
    }
    assert_eq!(engine.cached_results(), 2);
    assert!(engine.calculate(&q("latin_america")).await.unwrap().from_cache(), "the newest stays");
    assert!(!engine.calculate(&q("europe")).await.unwrap().from_cache(), "the oldest went");

    // A result larger than the whole bound is not cached at all.
    let tiny = engine_with(EngineOptions::default().with_cache(CachePolicy { max_bytes: size / 2, ..CachePolicy::default() }));
    tiny.calculate(&q("europe")).await.unwrap();
    assert_eq!((tiny.cached_results(), tiny.metrics().cached_bytes), (0, 0));

    // And by entries.
    let few = engine_with(EngineOptions::default().with_cache(CachePolicy { max_entries: 3, ..CachePolicy::default() }));
    for region in regions {
        few.calculate(&q(region)).await.unwrap();
    }
    assert_eq!(few.cached_results(), 3);
    few.clear_cache();
    assert_eq!(few.metrics().cached_bytes, 0);
}

#[test]
fn the_seed_ttls_are_the_defaults() {
    let p = CachePolicy::default();
    assert_eq!(p.ttl(Some("perfect_order_rate"), Some("deliver"), Some("scor")), Duration::from_secs(3600));
    assert_eq!(p.ttl(Some("new_customers"), Some("acquisition"), Some("crm")), Duration::from_secs(300));
    let p = p.with_module("deliver", Duration::from_secs(60));
    assert_eq!(p.ttl(Some("perfect_order_rate"), Some("deliver"), Some("scor")), Duration::from_secs(60));
}

#[tokio::test]
async fn after_appends_a_cached_result_recalculates_only_the_periods_they_touched() {
    let cached = engine_with(EngineOptions::default());
    let scratch = engine_with(EngineOptions::default().with_cache(CachePolicy::disabled()));
    let q = Query::kpi("revenue").with_grain(Grain::Day).by(["orders.region"]).with_range(range("2024-01-01", "2024-07-01"));
    cached.calculate(&q).await.unwrap();

    // Orders of a few days in the range: the cached result takes their days' new values.
    let orders = demo().batches("orders").unwrap()[0].slice(0, 40);
    for engine in [&cached, &scratch] {
        engine.append_batches("orders", vec![orders.clone()]).unwrap();
    }
    let patched = cached.calculate(&q).await.unwrap();
    assert!(!patched.from_cache());
    assert_eq!(patched.cache_outcome(), CacheOutcome::Patched);
    assert_eq!(cached.metrics().cache_patches, 1);
    assert_same_rows(&patched, &scratch.calculate(&q).await.unwrap());
    assert!(cached.calculate(&q).await.unwrap().from_cache(), "the result brought up to date is cached");

    // A dimension of another table: the periods of an append are not all it changes.
    let by_segment = Query::kpi("revenue").with_grain(Grain::Month).by(["orders.customer.segment"]);
    cached.calculate(&by_segment).await.unwrap();
    for engine in [&cached, &scratch] {
        engine.append_batches("orders", vec![orders.clone()]).unwrap();
    }
    assert_same_rows(&cached.calculate(&by_segment).await.unwrap(), &scratch.calculate(&by_segment).await.unwrap());
    assert_eq!(cached.metrics().cache_patches, 1, "recalculated in full");
}

#[tokio::test]
async fn rows_released_by_retention_make_a_cached_result_recalculate_in_full() {
    let minute =
        |from: i64| batch(&(0..10_000).map(|i| (from + i * 60 / 10_000, Some("eu"), Some(i % 7), Some(1.0))).collect::<Vec<Event>>());
    let engines: Vec<Engine> = [CachePolicy::default(), CachePolicy::disabled()]
        .into_iter()
        .map(|policy| {
            let options = EngineOptions::default().with_cache(policy).with_retention(Duration::from_secs(60));
            let engine = Engine::with_options(catalog(), options).unwrap();
            engine.register_batches("events", vec![minute(0)]).unwrap();
            engine
        })
        .collect();
    let calendar = kpi_formula::Calendar::default();
    let query = by_minute("middle").with_range(kpi_formula::TimeRange::parse("2024-01-01", "2024-01-02", &calendar).unwrap());
    engines[0].calculate(&query).await.unwrap();
    for engine in &engines {
        engine.append_batches("events", vec![minute(240)]).unwrap();
        assert_eq!(engine.metrics().rows_released, 10_000);
    }
    let cached = engines[0].calculate(&query).await.unwrap();
    assert_same_rows(&cached, &engines[1].calculate(&query).await.unwrap());
    assert_eq!(cached.rows().iter().filter(|r| r.value.is_some()).count(), 1, "only the minute kept has a median");
    assert_eq!(engines[0].metrics().cache_patches, 0);
}

#[tokio::test]
async fn a_default_range_that_grows_with_appends_is_followed_when_every_group_fills_the_new_periods() {
    let first: Vec<Event> =
        vec![(10, Some("eu"), Some(1), Some(2.0)), (70, Some("us"), Some(2), Some(3.0)), (130, Some("eu"), Some(3), Some(4.0))];
    // Distinct counts estimated in maintained states: never answered from them, so every
    // answer below is a patch or a full calculation (`maintained.rs` covers the states).
    let options = EngineOptions::default().with_distinct_counts(kpi_core::Estimate::Approximate);
    let cached = Engine::with_options(catalog(), options).unwrap();
    cached.register_batches("events", vec![batch(&first)]).unwrap();
    let query = by_minute("users").by(["events.region"]);
    cached.calculate(&query).await.unwrap();
    let mut so_far = first.clone();
    let mut check = async |events: &[Event]| {
        cached.append_batches("events", vec![batch(events)]).unwrap();
        so_far.extend(events.iter().copied());
        let scratch = uncached(&so_far);
        let (ours, theirs) = (cached.calculate(&query).await.unwrap(), scratch.calculate(&query).await.unwrap());
        assert_same_rows(&ours, &theirs);
        ours.rows().len()
    };
    // Minutes 3 to 5 are new; only `eu` has rows in them, and `us` needs filled rows there:
    // recalculated in full.
    assert_eq!(check(&[(310, Some("eu"), Some(4), Some(5.0))]).await, 6 * 2);
    assert_eq!(cached.metrics().cache_patches, 0);
    // Minute 6 is new and both groups have rows in it: patched.
    assert_eq!(check(&[(365, Some("eu"), Some(5), Some(1.0)), (370, Some("us"), Some(6), Some(1.0))]).await, 7 * 2);
    assert_eq!(cached.metrics().cache_patches, 1);
    // A late row within the range: patched, the range unchanged.
    assert_eq!(check(&[(75, Some("us"), Some(7), Some(10.0))]).await, 7 * 2);
    assert_eq!(cached.metrics().cache_patches, 2);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// For random appends (late and out-of-order times, nulls, new regions), a cached result
    /// asked for again after each append equals the same query over the same rows registered
    /// at once in an engine with no cache: row for row, in the same order.
    #[test]
    fn cached_results_after_appends_equal_a_calculation_from_scratch(
        first in proptest::collection::vec(event(), 1..20),
        appends in proptest::collection::vec(proptest::collection::vec(event(), 1..15), 1..6),
        kpi in proptest::sample::select(KPIS.to_vec()),
        by_region in any::<bool>(),
        ranged in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            // The first rows in the first five minutes, so appends often widen a default range.
            let first: Vec<Event> = first.iter().map(|e| (e.0 / 2, e.1, e.2, e.3)).collect();
            let cached = Engine::new(catalog()).unwrap();
            cached.register_batches("events", vec![batch(&first)]).unwrap();
            // The oracle: every row so far registered at once in an engine without a cache.
            let mut so_far: Vec<Event> = first.clone();
            let scratch = uncached;
            let mut query = by_minute(kpi);
            if by_region {
                query = query.by(["events.region"]);
            }
            if ranged {
                let calendar = kpi_formula::Calendar::default();
                query = query.with_range(kpi_formula::TimeRange::parse("2024-01-01T00:02:00Z", "2024-01-01T00:07:30Z", &calendar).unwrap());
            }
            cached.calculate(&query).await.unwrap();
            for events in &appends {
                cached.append_batches("events", vec![batch(events)]).unwrap();
                so_far.extend(events.iter().copied());
                let result = cached.calculate(&query).await.unwrap();
                assert!(!result.from_cache());
                assert_same_rows(&result, &scratch(&so_far).calculate(&query).await.unwrap());
            }
        });
    }
}

/// Registrations and appends racing from threads while queries are cached and patched: the
/// cached answer at the end is the one calculated from scratch over the data the engine holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_registrations_and_appends_never_patch_from_the_wrong_data() {
    let engine = engine_with(EngineOptions::default());
    let q = Query::kpi("revenue").with_grain(Grain::Day).by(["orders.region"]).with_range(range("2024-01-01", "2024-07-01"));
    let orders = demo().batches("orders").unwrap().to_vec();
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (engine, orders) = (engine.clone(), orders.clone());
            std::thread::spawn(move || {
                for i in 0..20 {
                    if w == 0 && i % 5 == 0 {
                        engine.register_batches("orders", orders.clone()).unwrap();
                    } else {
                        engine.append_batches("orders", vec![orders[0].slice(i * 7 + w * 3, 5)]).unwrap();
                    }
                }
            })
        })
        .collect();
    for _ in 0..20 {
        engine.calculate(&q).await.unwrap();
    }
    for w in writers {
        w.join().unwrap();
    }
    let cached = engine.calculate(&q).await.unwrap();
    let scratch = engine.calculate_with(&q, &kpi_core::CalculateOptions::default().bypassing_cache()).await.unwrap();
    assert_same_rows(&cached, &scratch);
}
