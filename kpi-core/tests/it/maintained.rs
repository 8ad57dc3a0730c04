//! Answers from maintained state: a query asked again after appends is patched once, then
//! followed by partial states that appends update, and every answer equals a calculation from
//! scratch over the same rows.

use std::time::Duration;

use kpi_catalog::KpiDefinition;
use kpi_core::{CacheOutcome, CachePolicy, Engine, EngineOptions, Estimate};
use kpi_formula::{Grain, Query};
use proptest::prelude::*;

use crate::stream::{Event, KPIS, batch, by_minute, catalog, event, uncached};
use crate::support::{assert_same_rows, demo, engine_with, range};

fn minutes(from: &str, to: &str) -> kpi_formula::TimeRange {
    kpi_formula::TimeRange::parse(from, to, &kpi_formula::Calendar::default()).unwrap()
}

#[tokio::test]
async fn a_query_patched_once_is_then_answered_from_states_that_appends_update() {
    let cached = engine_with(EngineOptions::default());
    let oracle = engine_with(EngineOptions::default().with_cache(CachePolicy::disabled()));
    let q = Query::kpi("average_order_value").with_grain(Grain::Week).by(["orders.region"]).with_range(range("2024-01-01", "2024-07-01"));
    assert_eq!(cached.calculate(&q).await.unwrap().cache_outcome(), CacheOutcome::Full);
    let orders = demo().batches("orders").unwrap()[0].clone();
    let mut outcomes = Vec::new();
    for i in 0..4 {
        let rows = orders.slice(i * 25, 25);
        for engine in [&cached, &oracle] {
            engine.append_batches("orders", vec![rows.clone()]).unwrap();
        }
        let ours = cached.calculate(&q).await.unwrap();
        assert_same_rows(&ours, &oracle.calculate(&q).await.unwrap());
        outcomes.push(ours.cache_outcome());
        assert_eq!(ours.to_json()["cache"], ours.cache_outcome().as_str());
        assert_eq!(cached.calculate(&q).await.unwrap().cache_outcome(), CacheOutcome::Hit, "an answer from states is cached");
    }
    use CacheOutcome::{Maintained, Patched};
    assert_eq!(outcomes, [Patched, Maintained, Maintained, Maintained]);
    assert_eq!((cached.metrics().cache_patches, cached.metrics().maintained_answers), (1, 3));
    let held = cached.metrics().maintained_bytes;
    assert!(held > 0, "the states of the followed query are counted");

    // A registration anew: the states are rebuilt from the new rows and still agree.
    for engine in [&cached, &oracle] {
        engine.register_batches("orders", demo().batches("orders").unwrap()[1..].to_vec()).unwrap();
    }
    assert_same_rows(&cached.calculate(&q).await.unwrap(), &oracle.calculate(&q).await.unwrap());
}

#[tokio::test]
async fn what_states_cannot_give_exactly_is_calculated_as_before() {
    // Approximate distinct counts in states, exact ones on demand: never answered from states.
    let approximate = Engine::with_options(catalog(), EngineOptions::default().with_distinct_counts(Estimate::Approximate)).unwrap();
    // Time intelligence: each period depends on others.
    let exact = Engine::new(catalog()).unwrap();
    let first: Vec<Event> = (0..40).map(|i| (i * 13, Some("eu"), Some(i % 9), Some(i as f64))).collect();
    let mut so_far = first.clone();
    for engine in [&approximate, &exact] {
        engine.register_batches("events", vec![batch(&first)]).unwrap();
    }
    let users = by_minute("users").with_range(minutes("2024-01-01T00:00:00Z", "2024-01-01T00:10:00Z"));
    let rolling = by_minute("recent").with_range(minutes("2024-01-01T00:00:00Z", "2024-01-01T00:10:00Z"));
    let asked = [(&approximate, &users), (&exact, &rolling)];
    for (engine, q) in asked {
        engine.calculate(q).await.unwrap();
    }
    for i in 0..3 {
        let rows: Vec<Event> = (0..5).map(|j| (60 * i + j, Some("us"), Some(100 + j), Some(1.0))).collect();
        so_far.extend(rows.iter().copied());
        for (engine, q) in asked {
            engine.append_batches("events", vec![batch(&rows)]).unwrap();
            let ours = engine.calculate(q).await.unwrap();
            assert_ne!(ours.cache_outcome(), CacheOutcome::Maintained);
            assert_same_rows(&ours, &uncached(&so_far).calculate(q).await.unwrap());
        }
    }
    assert_eq!(approximate.metrics().maintained_answers + exact.metrics().maintained_answers, 0);
}

#[tokio::test]
async fn released_rows_a_definition_change_and_clearing_the_cache_stop_the_states() {
    let events = |from: i64| -> Vec<Event> { (0..30).map(|i| (from + i, Some("eu"), Some(i % 4), Some(2.0))).collect() };
    let engine = Engine::new(catalog()).unwrap();
    engine.register_batches("events", vec![batch(&events(0))]).unwrap();
    let q = by_minute("total").with_range(minutes("2024-01-01T00:00:00Z", "2024-01-01T02:00:00Z"));
    engine.calculate(&q).await.unwrap();
    let mut so_far = events(0);
    let mut append = async |from: i64| {
        engine.append_batches("events", vec![batch(&events(from))]).unwrap();
        so_far.extend(events(from));
        let ours = engine.calculate(&q).await.unwrap();
        assert_same_rows(&ours, &uncached(&so_far).calculate(&q).await.unwrap());
        ours.cache_outcome()
    };
    assert_eq!(append(60).await, CacheOutcome::Patched);
    assert_eq!(append(120).await, CacheOutcome::Maintained);
    // Cleared: the next answer is calculated; asked again after the next append, the query
    // (its last result calculated over appended rows) is followed again.
    assert!(engine.metrics().maintained_bytes > 0);
    engine.clear_cache();
    assert_eq!(engine.metrics().maintained_bytes, 0);
    assert_eq!(engine.calculate(&q).await.unwrap().cache_outcome(), CacheOutcome::Full);
    assert_eq!(append(180).await, CacheOutcome::Maintained);
    assert_eq!(append(240).await, CacheOutcome::Maintained);
    // The KPI redefined: its states go with its cached results.
    let mut total: KpiDefinition = catalog().kpi("total").unwrap().clone();
    total.formula = "sum(events.amount) * 2".into();
    engine.define_kpi(total).await.unwrap();
    let doubled = engine.calculate(&q).await.unwrap();
    assert_ne!(doubled.cache_outcome(), CacheOutcome::Maintained);
    let sum: f64 = doubled.rows().iter().filter_map(|r| r.value).sum();
    assert_eq!(sum, 2.0 * 2.0 * 150.0);

    // Rows released by retention: the states would still count them, so the query is
    // calculated without them. (Batches of 10,000 rows stay pieces of their own, which
    // retention can release.)
    let minute = |from: i64| -> Vec<Event> { (0..10_000).map(|i| (from + i * 60 / 10_000, Some("eu"), Some(i % 7), Some(1.0))).collect() };
    let retained = Engine::with_options(catalog(), EngineOptions::default().with_retention(Duration::from_secs(3_600))).unwrap();
    retained.register_batches("events", vec![batch(&minute(0))]).unwrap();
    let whole_day = by_minute("events").with_range(minutes("2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z"));
    retained.calculate(&whole_day).await.unwrap();
    let mut outcomes = Vec::new();
    for from in [60, 120, 7_300] {
        retained.append_batches("events", vec![batch(&minute(from))]).unwrap();
        outcomes.push(retained.calculate(&whole_day).await.unwrap());
    }
    use CacheOutcome::{Full, Maintained, Patched};
    assert_eq!(outcomes.iter().map(|r| r.cache_outcome()).collect::<Vec<_>>(), [Patched, Maintained, Full]);
    assert_eq!(retained.metrics().rows_released, 30_000);
    // Asked again: states are neither used nor built over data that lost rows.
    retained.append_batches("events", vec![batch(&minute(7_400))]).unwrap();
    assert_ne!(retained.calculate(&whole_day).await.unwrap().cache_outcome(), CacheOutcome::Maintained);
    assert_eq!(outcomes[2].rows().iter().filter_map(|r| r.value).sum::<f64>(), 10_000.0, "only the rows retention kept");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// For random KPIs, dimensions, filters and appends (late and out-of-order times, nulls,
    /// new regions), a cached query asked again after each append equals the same query over
    /// every row registered at once in an engine without a cache; once answered from states,
    /// a query over a fixed range stays answered from them, and one over a default range
    /// (which moves with appends) is not followed.
    #[test]
    fn maintained_answers_equal_a_calculation_from_scratch(
        first in proptest::collection::vec(event(), 1..20),
        appends in proptest::collection::vec(proptest::collection::vec(event(), 1..15), 2..7),
        kpi in proptest::sample::select(KPIS.to_vec()),
        by_region in any::<bool>(),
        filter in proptest::sample::select(vec![None, Some("events.region != 'us'"), Some("events.amount > 10")]),
        ranged in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let cached = Engine::new(catalog()).unwrap();
            cached.register_batches("events", vec![batch(&first)]).unwrap();
            let mut so_far: Vec<Event> = first.clone();
            let mut query = by_minute(kpi);
            if by_region {
                query = query.by(["events.region"]);
            }
            if let Some(f) = filter {
                query = query.with_filter(f);
            }
            if ranged {
                query = query.with_range(minutes("2024-01-01T00:00:00Z", "2024-01-01T00:10:00Z"));
            }
            cached.calculate(&query).await.unwrap();
            let mut followed = false;
            for events in &appends {
                cached.append_batches("events", vec![batch(events)]).unwrap();
                so_far.extend(events.iter().copied());
                let result = cached.calculate(&query).await.unwrap();
                assert_same_rows(&result, &uncached(&so_far).calculate(&query).await.unwrap());
                let maintained = result.cache_outcome() == CacheOutcome::Maintained;
                assert!(!(ranged && followed) || maintained, "{kpi}: followed, then {:?}", result.cache_outcome());
                assert!(ranged || !maintained, "a default range is patched or recalculated, not followed");
                followed |= maintained;
            }
        });
    }
}
