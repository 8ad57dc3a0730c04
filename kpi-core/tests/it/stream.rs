//! Streaming through the public API: snapshots, changes and corrections after appends, shared
//! views that live only while subscribed, slow subscribers, timed refreshes on a driven clock,
//! and the invariant that streamed values equal an on-demand calculation.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use kpi_catalog::Catalog;
use kpi_core::{CachePolicy, CalculateOptions, Engine, EngineOptions, ManualClock, Refresh, Subscription, UpdateKind, Updates};
use kpi_formula::{Grain, Query, TimeRange};
use proptest::prelude::*;

/// A small catalog: events with a time, a region, a user and an amount, and KPIs over every
/// aggregate and time function.
pub(crate) fn catalog() -> Catalog {
    Catalog::from_yaml(
        r#"
object_models:
  - code: events
    name: Event
    time_column: at
    columns:
      - { name: at, type: timestamp, nullable: false }
      - { name: region, type: string }
      - { name: user_id, type: int64 }
      - { name: amount, type: float64 }
kpis:
  - { code: total, name: Total, formula: sum(events.amount), unit: currency, schedule: daily, default_grain: hour }
  - { code: events, name: Events, formula: count(events), schedule: daily }
  - { code: average, name: Average, formula: avg(events.amount) }
  - { code: smallest, name: Smallest, formula: min(events.amount) }
  - { code: largest, name: Largest, formula: max(events.amount) }
  - { code: users, name: Users, formula: count_distinct(events.user_id), schedule: "*/5 * * * *" }
  - { code: middle, name: Median, formula: median(events.amount) }
  - { code: p90, name: P90, formula: "percentile(events.amount, 0.9)" }
  - { code: per_user, name: Per user, formula: "sum(events.amount) / count_distinct(events.user_id)" }
  - { code: before, name: Previous, formula: prev(sum(events.amount)) }
  - { code: change, name: Growth, formula: growth(count(events)) }
  - { code: recent, name: Rolling, formula: "rolling(sum(events.amount), '3 minutes')" }
  - { code: today, name: Day to date, formula: "to_date(count(events), 'day')" }
  - { code: running, name: Running users, formula: cumulative(count_distinct(events.user_id)) }
"#,
    )
    .unwrap()
}

fn schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("at", DataType::Timestamp(TimeUnit::Microsecond, None), false),
        Field::new("region", DataType::Utf8, true),
        Field::new("user_id", DataType::Int64, true),
        Field::new("amount", DataType::Float64, true),
    ]))
}

/// An event: seconds after 2024-01-01T00:00, region, user, amount.
pub(crate) type Event = (i64, Option<&'static str>, Option<i64>, Option<f64>);

pub(crate) fn batch(events: &[Event]) -> RecordBatch {
    let base = 1_704_067_200_000_000i64;
    RecordBatch::try_new(
        schema(),
        vec![
            Arc::new(TimestampMicrosecondArray::from_iter_values(events.iter().map(|e| base + e.0 * 1_000_000))),
            Arc::new(StringArray::from_iter(events.iter().map(|e| e.1))),
            Arc::new(Int64Array::from_iter(events.iter().map(|e| e.2))),
            Arc::new(Float64Array::from_iter(events.iter().map(|e| e.3))),
        ],
    )
    .unwrap()
}

pub(crate) fn engine(events: &[Event]) -> Engine {
    let engine = Engine::new(catalog()).unwrap();
    engine.register_batches("events", vec![batch(events)]).unwrap();
    engine
}

/// The oracle: `events` registered at once in an engine without a cache.
pub(crate) fn uncached(events: &[Event]) -> Engine {
    let engine = Engine::with_options(catalog(), EngineOptions::default().with_cache(CachePolicy::disabled())).unwrap();
    engine.register_batches("events", vec![batch(events)]).unwrap();
    engine
}

pub(crate) fn by_minute(kpi: &str) -> Query {
    Query::kpi(kpi).with_grain(Grain::Minute)
}

/// Waits for the next updates, failing the test after a generous bound instead of hanging.
async fn next(sub: &mut Subscription) -> Updates {
    tokio::time::timeout(Duration::from_secs(20), sub.next()).await.expect("an update arrives")
}

/// Period and group → value, as a subscriber that applies every update sees it.
type Seen = BTreeMap<String, Option<f64>>;

fn key(period: Option<DateTime<Utc>>, dims: &[kpi_core::DimensionValue]) -> String {
    format!("{period:?}{dims:?}")
}

fn apply(seen: &mut Seen, updates: &Updates) {
    for u in &updates.updates {
        seen.insert(key(u.period, &u.dimensions), u.value);
    }
}

async fn on_demand(engine: &Engine, query: &Query) -> Seen {
    let options = CalculateOptions { bypass_cache: true, ..CalculateOptions::default() };
    let result = engine.calculate_with(query, &options).await.unwrap();
    result.rows().into_iter().map(|r| (key(r.period, &r.dimensions), r.value)).collect()
}

fn same(a: &Seen, b: &Seen) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|((ka, va), (kb, vb))| {
            ka == kb
                && match (va, vb) {
                    (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                    (None, None) => true,
                    _ => false,
                }
        })
}

/// Reads updates until what the subscriber has seen equals an on-demand calculation.
async fn converge(engine: &Engine, sub: &mut Subscription, seen: &mut Seen) {
    let want = on_demand(engine, sub.query()).await;
    while !same(seen, &want) {
        let Ok(updates) = tokio::time::timeout(Duration::from_secs(5), sub.next()).await else {
            panic!("streamed {seen:?}\n  on demand {want:?}");
        };
        assert!(updates.error.is_none(), "{:?}", updates.error);
        apply(seen, &updates);
    }
}

#[tokio::test]
async fn a_subscriber_gets_a_snapshot_then_changes() {
    let engine = engine(&[(10, Some("eu"), Some(1), Some(5.0)), (70, Some("us"), Some(2), Some(7.0))]);
    let mut sub = engine.subscribe(&by_minute("total"), Refresh::OnChange).await.unwrap();
    let snapshot = next(&mut sub).await;
    let values: Vec<(UpdateKind, Option<f64>, u64)> = snapshot.updates.iter().map(|u| (u.kind, u.value, u.revision)).collect();
    assert_eq!(values, [(UpdateKind::Snapshot, Some(5.0), 1), (UpdateKind::Snapshot, Some(7.0), 1)]);
    assert_eq!(snapshot.updates[0].period.unwrap().to_rfc3339(), "2024-01-01T00:00:00+00:00");

    engine.append_batches("events", vec![batch(&[(80, Some("us"), Some(3), Some(1.5))])]).unwrap();
    let change = next(&mut sub).await;
    assert_eq!(change.updates.len(), 1);
    let u = &change.updates[0];
    assert_eq!((u.kind, u.value, u.previous_value, u.revision), (UpdateKind::Change, Some(8.5), Some(7.0), 2));
    assert_eq!(u.kpi, "total");
    assert!(!change.lagged);
    let json = serde_json::to_value(&change).unwrap();
    assert_eq!(json["updates"][0]["period"], "2024-01-01T00:01:00Z");
    assert_eq!(json["updates"][0]["kind"], "change");
}

#[tokio::test]
async fn new_periods_open_and_late_rows_are_corrections() {
    let engine = engine(&[(10, Some("eu"), Some(1), Some(5.0))]);
    let mut sub = engine.subscribe(&by_minute("total").by(["events.region"]), Refresh::OnChange).await.unwrap();
    next(&mut sub).await;
    engine.append_batches("events", vec![batch(&[(130, Some("eu"), Some(1), Some(2.0))])]).unwrap();
    let opened = next(&mut sub).await;
    let latest = opened.updates.iter().filter_map(|u| u.period).max().unwrap();
    assert_eq!(latest.to_rfc3339(), "2024-01-01T00:02:00+00:00");
    // A late row for the first minute corrects it.
    engine.append_batches("events", vec![batch(&[(20, Some("eu"), Some(4), Some(1.0))])]).unwrap();
    let late = next(&mut sub).await;
    let first = late.updates.iter().find(|u| u.period.unwrap().to_rfc3339() == "2024-01-01T00:00:00+00:00").unwrap();
    assert_eq!((first.kind, first.value, first.revision), (UpdateKind::Correction, Some(6.0), 2));
}

#[tokio::test]
async fn subscribers_share_one_view_that_lives_while_subscribed() {
    let engine = engine(&[(10, Some("eu"), Some(1), Some(5.0))]);
    let a = engine.subscribe(&by_minute("total"), Refresh::OnChange).await.unwrap();
    let mut b = engine.subscribe(&by_minute("total"), Refresh::OnChange).await.unwrap();
    let other = engine.subscribe(&by_minute("events"), Refresh::OnChange).await.unwrap();
    let streams = engine.streams();
    assert_eq!(streams.len(), 2);
    assert_eq!(streams.iter().map(|s| s.subscribers).sum::<usize>(), 3);
    // The second subscriber of a running view gets its own snapshot.
    assert_eq!(next(&mut b).await.updates[0].kind, UpdateKind::Snapshot);
    drop(a);
    assert_eq!(engine.streams().len(), 2);
    drop(b);
    assert_eq!(engine.streams().len(), 1);
    drop(other);
    assert!(engine.streams().is_empty());
    // Subscribing again starts a fresh view.
    let _c = engine.subscribe(&by_minute("total"), Refresh::OnChange).await.unwrap();
    assert_eq!(engine.streams().len(), 1);
}

#[tokio::test]
async fn a_slow_subscriber_gets_the_latest_values_marked_lagged() {
    let engine = engine(&[(10, Some("eu"), Some(1), Some(1.0))]);
    let mut slow = engine.subscribe(&by_minute("total"), Refresh::OnChange).await.unwrap();
    let mut fast = engine.subscribe(&by_minute("total"), Refresh::OnChange).await.unwrap();
    next(&mut slow).await;
    let mut fast_seen = Seen::new();
    apply(&mut fast_seen, &next(&mut fast).await);
    for i in 0..20 {
        engine.append_batches("events", vec![batch(&[(11 + i, Some("eu"), Some(1), Some(1.0))])]).unwrap();
        // The fast subscriber keeps up; the slow one does not read at all.
        converge(&engine, &mut fast, &mut fast_seen).await;
    }
    let caught_up = slow.try_next().expect("updates waited");
    assert!(caught_up.lagged);
    assert_eq!(caught_up.updates.len(), 1, "one update per period and group, however many changes");
    let u = &caught_up.updates[0];
    assert_eq!((u.value, u.previous_value, u.revision), (Some(21.0), Some(1.0), 21));
    assert!(slow.try_next().is_none());
}

#[tokio::test]
async fn timed_refreshes_follow_the_engine_clock() {
    let clock = Arc::new(ManualClock::new("2024-01-01T00:00:30Z".parse().unwrap()));
    let engine = Engine::with_options(catalog(), EngineOptions::default().with_clock(clock.clone())).unwrap();
    engine.register_batches("events", vec![batch(&[(10, None, None, Some(1.0))])]).unwrap();
    let mut sub = engine.subscribe(&by_minute("total"), Refresh::Minute).await.unwrap();
    next(&mut sub).await;
    engine.append_batches("events", vec![batch(&[(20, None, None, Some(2.0))])]).unwrap();
    // Not refreshed before the minute turns.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(sub.try_next().is_none());
    clock.advance(Duration::from_secs(30));
    let u = next(&mut sub).await;
    assert_eq!(u.updates[0].value, Some(3.0));
    assert_eq!(u.updates[0].computed_at.to_rfc3339(), "2024-01-01T00:01:00+00:00");
    let every = engine.subscribe(&by_minute("total"), Refresh::Every(Duration::ZERO)).await;
    assert_eq!(every.err().unwrap().code(), "KPI_OPTION");
}

#[tokio::test]
async fn bad_queries_fail_at_subscribe_and_failed_refreshes_are_reported() {
    let engine = engine(&[(10, None, None, Some(1.0))]);
    let err = engine.subscribe(&by_minute("totl"), Refresh::OnChange).await.err().unwrap();
    assert_eq!(err.code(), "KPI_FORMULA");
    assert!(err.to_string().contains("did you mean"), "{err}");
    let mut sub = engine.subscribe(&by_minute("total"), Refresh::OnChange).await.unwrap();
    next(&mut sub).await;
    assert!(engine.unregister("events"));
    let failed = next(&mut sub).await;
    assert_eq!(failed.error.as_ref().unwrap().code(), "KPI_DATA");
    engine.register_batches("events", vec![batch(&[(10, None, None, Some(4.0))])]).unwrap();
    let back = next(&mut sub).await;
    assert!(back.error.is_none());
    assert_eq!(back.updates[0].value, Some(4.0));
}

pub(crate) const KPIS: [&str; 14] = [
    "total", "events", "average", "smallest", "largest", "users", "middle", "p90", "per_user", "before", "change", "recent", "today",
    "running",
];

pub(crate) fn event() -> impl Strategy<Value = Event> {
    (
        0i64..600,
        proptest::option::weighted(0.9, proptest::sample::select(vec!["eu", "us", "apac"])),
        proptest::option::weighted(0.9, 0i64..8),
        proptest::option::weighted(0.85, (-50i64..500).prop_map(|c| c as f64 / 4.0)),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// For random appends (random times, so late and out-of-order rows; nulls; random regions),
    /// what each subscriber has seen after each append equals an on-demand calculation. The
    /// KPIs share partial states where they group the same way, and the last one subscribes
    /// only after some appends (its aggregates join states that already hold rows).
    #[test]
    fn streamed_values_equal_on_demand(
        first in proptest::collection::vec(event(), 1..20),
        appends in proptest::collection::vec(proptest::collection::vec(event(), 1..15), 1..6),
        kpis in proptest::sample::subsequence(KPIS.to_vec(), 1..4),
        joins_after in 0usize..6,
        by_region in any::<bool>(),
        ranged in any::<bool>(),
        filtered in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let engine = engine(&first);
            let query = |kpi: &str| {
                let mut query = by_minute(kpi);
                if by_region {
                    query = query.by(["events.region"]);
                }
                if ranged {
                    let calendar = kpi_formula::Calendar::default();
                    query = query.with_range(TimeRange::parse("2024-01-01T00:02:00Z", "2024-01-01T00:07:30Z", &calendar).unwrap());
                }
                if filtered {
                    query = query.with_filter("events.amount > 10 or events.region = 'eu'");
                }
                query
            };
            let (last, early) = kpis.split_last().unwrap();
            let mut subs = Vec::new();
            for kpi in early {
                subs.push((engine.subscribe(&query(kpi), Refresh::OnChange).await.unwrap(), Seen::new()));
            }
            for (i, events) in appends.iter().enumerate() {
                if i == joins_after.min(appends.len() - 1) {
                    subs.push((engine.subscribe(&query(last), Refresh::OnChange).await.unwrap(), Seen::new()));
                }
                for (sub, seen) in &mut subs {
                    converge(&engine, sub, seen).await;
                }
                engine.append_batches("events", vec![batch(events)]).unwrap();
                for (sub, seen) in &mut subs {
                    converge(&engine, sub, seen).await;
                }
            }
            // Every aggregate over one table without time functions is maintained from states.
            for stream in engine.streams() {
                let kpi = match &stream.query.target { kpi_formula::Target::Kpi(code) => code.clone(), _ => unreachable!() };
                let timeless = KPIS.iter().position(|k| *k == kpi).is_some_and(|i| i < 9);
                assert_eq!(stream.incremental, timeless, "{kpi}");
                // Time functions reach other periods: neither a cube nor spans can follow them.
                let how = if timeless { kpi_core::Maintenance::Cube } else { kpi_core::Maintenance::Recalculation };
                assert_eq!(stream.maintenance, how, "{kpi}");
                assert_eq!(stream.to_json()["maintenance"], how.as_str());
            }
        });
    }
}

#[tokio::test]
async fn scheduled_jobs_run_queries_and_publish_to_subscribers() {
    let clock = Arc::new(ManualClock::new("2024-01-01T00:00:30Z".parse().unwrap()));
    let engine = Engine::with_options(catalog(), EngineOptions::default().with_clock(clock.clone())).unwrap();
    engine.register_batches("events", vec![batch(&[(10, None, Some(1), Some(1.0))])]).unwrap();
    // A daily refresh would not move within this test; the job publishes instead.
    let mut sub = engine.subscribe(&by_minute("total"), Refresh::Day).await.unwrap();
    next(&mut sub).await;
    let job = engine.schedule("every minute", "* * * * *", vec![by_minute("total"), by_minute("users")]).await.unwrap();
    assert_eq!(job.next_run.unwrap().to_rfc3339(), "2024-01-01T00:01:00+00:00");
    engine.append_batches("events", vec![batch(&[(20, None, Some(2), Some(2.0))])]).unwrap();
    clock.advance(Duration::from_secs(30));
    assert_eq!(next(&mut sub).await.updates[0].value, Some(3.0));
    let ran = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let jobs = engine.jobs();
            if jobs[0].runs == 1 && jobs[0].next_run.is_some_and(|t| t.to_rfc3339() == "2024-01-01T00:02:00+00:00") {
                return jobs;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the job runs");
    assert_eq!(ran[0].last_run.unwrap().to_rfc3339(), "2024-01-01T00:01:00+00:00");
    assert!(ran[0].last_errors.is_empty());
    assert!(engine.cancel_job(job.id));
    assert!(!engine.cancel_job(job.id));
    assert!(engine.jobs().is_empty());

    let bad_cron = engine.schedule("bad", "every minute", vec![by_minute("total")]).await.unwrap_err();
    assert_eq!(bad_cron.code(), "KPI_OPTION");
    let bad_query = engine.schedule("bad", "* * * * *", vec![by_minute("nope")]).await.unwrap_err();
    assert_eq!(bad_query.code(), "KPI_FORMULA");
    assert!(engine.schedule("empty", "* * * * *", vec![]).await.is_err());

    // The catalog's own schedules: one job per schedule.
    let jobs = engine.schedule_catalog().await.unwrap();
    let summary: Vec<(String, usize)> = jobs.iter().map(|j| (j.schedule.to_string(), j.queries.len())).collect();
    assert_eq!(summary, [("*/5 * * * *".to_string(), 1), ("0 0 * * *".to_string(), 2)]);
    assert!(jobs[1].queries.contains(&Query::kpi("total").with_grain(Grain::Hour)));
    assert_eq!(engine.jobs().len(), 2);
}

#[tokio::test]
async fn subscriptions_move_across_tasks() {
    let engine = engine(&[(10, None, None, Some(1.0))]);
    // Servers subscribe and read in spawned tasks: the futures and the subscription are Send.
    let task = tokio::spawn({
        let engine = engine.clone();
        async move {
            let mut sub = engine.subscribe(&by_minute("total"), Refresh::OnChange).await.unwrap();
            next(&mut sub).await;
            sub
        }
    });
    let sub = task.await.unwrap();
    engine.append_batches("events", vec![batch(&[(15, None, None, Some(2.0))])]).unwrap();
    let mut stream = Box::pin(sub.into_stream());
    let updates = tokio::time::timeout(Duration::from_secs(20), futures::StreamExt::next(&mut stream)).await.unwrap().unwrap();
    assert_eq!(updates.updates[0].value, Some(3.0));
}

#[tokio::test]
async fn late_rows_are_counted_reported_and_kept() {
    let options = EngineOptions::default().with_allowed_lateness(Duration::from_secs(60));
    let engine = Engine::with_options(catalog(), options).unwrap();
    engine.register_batches("events", vec![batch(&[(600, None, None, Some(1.0))])]).unwrap();
    let mut sub = engine.subscribe(&by_minute("total"), Refresh::OnChange).await.unwrap();
    let mut seen = Seen::new();
    apply(&mut seen, &next(&mut sub).await);
    // On time, late within the allowance, and late beyond it.
    let report = engine
        .append_batches("events", vec![batch(&[(610, None, None, Some(2.0)), (590, None, None, Some(4.0)), (100, None, None, Some(8.0))])])
        .unwrap();
    assert_eq!((report.rows, report.late_rows, report.beyond_lateness), (3, 2, 1));
    assert_eq!(report.watermark.unwrap().to_rfc3339(), "2024-01-01T00:10:10+00:00");
    let metrics = engine.metrics();
    assert_eq!((metrics.late_rows, metrics.rows_beyond_lateness), (2, 1));
    // Every row is kept: the too-late one opens (and corrects) its early minute.
    converge(&engine, &mut sub, &mut seen).await;
    let total: f64 = seen.values().flatten().sum();
    assert_eq!(total, 15.0);
    assert_eq!(serde_json::to_value(report).unwrap()["beyond_lateness"], 1);
}

#[tokio::test]
async fn the_current_period_follows_the_data_not_the_range() {
    // A dashboard's range reaches ahead of the data: the minute data is arriving in is current,
    // so its changes are changes, and only earlier minutes get corrections.
    let engine = engine(&[(10, None, None, Some(1.0)), (70, None, None, Some(1.0))]);
    let hour = kpi_formula::TimeRange::parse("2024-01-01T00:00:00", "2024-01-01T01:00:00", &kpi_formula::Calendar::default()).unwrap();
    let mut sub = engine.subscribe(&by_minute("total").with_range(hour), Refresh::OnChange).await.unwrap();
    assert_eq!(next(&mut sub).await.updates.len(), 60);
    engine.append_batches("events", vec![batch(&[(75, None, None, Some(2.0))])]).unwrap();
    let now = next(&mut sub).await;
    assert_eq!((now.updates.len(), now.updates[0].kind), (1, UpdateKind::Change));
    engine.append_batches("events", vec![batch(&[(15, None, None, Some(2.0))])]).unwrap();
    let late = next(&mut sub).await;
    assert_eq!((late.updates.len(), late.updates[0].kind), (1, UpdateKind::Correction));
}

#[tokio::test]
async fn retention_releases_old_rows_while_views_keep_their_values() {
    let engine = Engine::with_options(catalog(), EngineOptions::default().with_retention(Duration::from_secs(60))).unwrap();
    // Events of a minute each, far more than a scan batch, so whole batches can be released.
    let minute = |from: i64| batch(&(0..10_000).map(|i| (from + i * 60 / 10_000, Some("eu"), Some(i % 7), Some(1.0))).collect::<Vec<_>>());
    engine.register_batches("events", vec![minute(0)]).unwrap();
    let mut total = engine.subscribe(&by_minute("total"), Refresh::OnChange).await.unwrap();
    assert_eq!(next(&mut total).await.updates[0].value, Some(10_000.0));

    let report = engine.append_batches("events", vec![minute(240)]).unwrap();
    assert_eq!(report.rows, 10_000);
    assert_eq!(engine.metrics().rows_released, 10_000, "the first minute is more than 60 s behind the latest event");
    assert_eq!(engine.registered()[0].memory_rows, 10_000);
    let mut seen = Seen::new();
    apply(&mut seen, &next(&mut total).await);
    // On demand, only the rows kept count; the view keeps the first minute's value.
    let calculated = on_demand(&engine, &by_minute("total")).await;
    assert_eq!(calculated.len(), 1, "{calculated:?}");
    let first = key(Some("2024-01-01T00:00:00Z".parse().unwrap()), &[]);
    assert!(!seen.contains_key(&first), "no update for the released minute: {seen:?}");
    let snapshot = engine.subscribe(&by_minute("total"), Refresh::OnChange).await.unwrap().next().await;
    assert_eq!(snapshot.updates[0].value, Some(10_000.0), "a new subscriber of the view gets its values");

    // A view started now sees the rows kept, as a calculation does.
    let mut users = engine.subscribe(&by_minute("per_user"), Refresh::OnChange).await.unwrap();
    let mut seen = Seen::new();
    converge(&engine, &mut users, &mut seen).await;
}

/// Date-part dimensions, ragged windows, `at_start`, discrete percentiles, snapshots, per-entity filters and conversions stream too: what a subscriber has
/// seen after appends equals an on-demand calculation.
#[tokio::test]
async fn date_parts_and_calendar_windows_stream_like_on_demand() {
    let engine = engine(&[(10, Some("eu"), Some(1), Some(5.0)), (4_000, Some("us"), Some(2), Some(7.0))]);
    let range = kpi_formula::TimeRange::parse("2024-01-01", "2024-01-02", &kpi_formula::Calendar::default()).unwrap();
    let queries = [
        by_minute("total").by(["hour(events.at)"]),
        Query::formula("rolling(sum(events.amount), '90 minutes')").with_grain(Grain::Hour).with_range(range),
        Query::formula("rolling(count(events), '30 minutes', 'average')").with_grain(Grain::Hour).with_range(range),
        Query::formula("count(events) - at_start(count(events), 'day')").with_grain(Grain::Hour).with_range(range),
        Query::formula("percentile_disc(events.amount, 0.5)").with_grain(Grain::Hour).by(["events.region"]),
        Query::formula("last(sum(events.amount), events.user_id)").with_grain(Grain::Hour).with_range(range),
        Query::formula("sum(events.amount where per(events.user_id, count(events)) > 1)").with_grain(Grain::Hour).with_range(range),
    ];
    for query in queries {
        streams_like_on_demand(&engine, &query, &[(5_000, Some("eu"), Some(3), Some(2.0)), (9_000, None, Some(4), Some(1.0))]).await;
    }
    // A conversion appended later changes the hour of the event it follows.
    let funnel = Query::formula("conversions(count(events where events.region = 'eu'), count(events where events.region is null), events.user_id = events.user_id, '2 hours')")
        .with_grain(Grain::Hour)
        .with_range(range);
    streams_like_on_demand(&engine, &funnel, &[(3_000, None, Some(1), Some(1.0)), (12_000, None, Some(3), Some(1.0))]).await;
    let hours = on_demand(&engine, &funnel).await;
    let midnight = key(Some("2024-01-01T00:00:00Z".parse().unwrap()), &[]);
    assert_eq!(hours[&midnight], Some(1.0), "user 1's event of 00:50 converts the visit of 00:00: {hours:?}");
}

/// Subscribes to `query`, then appends `events`: what the subscriber has seen equals an
/// on-demand calculation before and after.
async fn streams_like_on_demand(engine: &Engine, query: &Query, events: &[Event]) {
    let mut sub = engine.subscribe(query, Refresh::OnChange).await.unwrap();
    let mut seen = Seen::new();
    apply(&mut seen, &next(&mut sub).await);
    converge(engine, &mut sub, &mut seen).await;
    engine.append_batches("events", vec![batch(events)]).unwrap();
    converge(engine, &mut sub, &mut seen).await;
}

/// Fiscal quarters and years (a year from February) stream like on-demand calculations, with
/// appends landing in the first fiscal quarter and in the next.
#[tokio::test]
async fn fiscal_quarters_stream_like_on_demand() {
    let engine = engine(&[(10, Some("eu"), Some(1), Some(5.0)), (4_000, Some("us"), Some(2), Some(7.0))]);
    let cal = kpi_formula::Calendar::default().with_fiscal_year_start(chrono::Month::February);
    let range = kpi_formula::TimeRange::parse("2023-11-01", "2024-11-01", &cal).unwrap();
    let queries = [
        Query::kpi("total").with_grain(Grain::Quarter).with_calendar(cal.clone()).with_range(range),
        Query::formula("to_date(count(events), 'year') + prev(sum(events.amount))")
            .with_grain(Grain::Month)
            .with_calendar(cal.clone())
            .with_range(range),
    ];
    let day = 86_400;
    for query in queries {
        streams_like_on_demand(&engine, &query, &[(20 * day, Some("eu"), Some(3), Some(2.0)), (45 * day, None, Some(4), Some(1.0))]).await;
        let quarters =
            on_demand(&engine, &Query::kpi("total").with_grain(Grain::Quarter).with_calendar(cal.clone()).with_range(range)).await;
        let february: DateTime<Utc> = "2024-02-01T00:00:00Z".parse().unwrap();
        assert!(quarters.contains_key(&key(Some(february), &[])), "{quarters:?}");
    }
}

/// Retail months and quarters (NRF) stream like on-demand calculations, with appends in the
/// retail year's last month (January 2024 ends on 3 February) and in the next year's first.
#[tokio::test]
async fn retail_months_stream_like_on_demand() {
    let engine = engine(&[(10, Some("eu"), Some(1), Some(5.0)), (4_000, Some("us"), Some(2), Some(7.0))]);
    let cal = kpi_formula::Calendar::default().with_retail(kpi_formula::custom_calendar::RetailCalendar::NRF);
    let range = kpi_formula::TimeRange::parse("2023-10-29", "2024-08-04", &cal).unwrap();
    let queries = [
        Query::kpi("total").with_grain(Grain::Quarter).with_calendar(cal.clone()).with_range(range),
        Query::formula("to_date(count(events), 'quarter') + prev(sum(events.amount))")
            .with_grain(Grain::Month)
            .with_calendar(cal.clone())
            .with_range(range),
    ];
    let day = 86_400;
    for query in queries {
        streams_like_on_demand(&engine, &query, &[(20 * day, Some("eu"), Some(3), Some(2.0)), (45 * day, None, Some(4), Some(1.0))]).await;
    }
    let months = on_demand(&engine, &Query::kpi("total").with_grain(Grain::Month).with_calendar(cal).with_range(range)).await;
    let february: DateTime<Utc> = "2024-02-04T00:00:00Z".parse().unwrap();
    assert!(months.contains_key(&key(Some(february), &[])), "{months:?}");
}

/// An offset by a calendar span that is not whole periods (a month back by day) streams like
/// the on-demand calculation, with appends that change the days it reads.
#[tokio::test]
async fn a_month_back_by_day_streams_like_on_demand() {
    let engine = engine(&[(10, Some("eu"), Some(1), Some(5.0)), (31 * 86_400 + 5, Some("us"), Some(2), Some(7.0))]);
    let range = kpi_formula::TimeRange::parse("2024-02-25", "2024-03-05", &Default::default()).unwrap();
    let query = Query::formula("prev(sum(events.amount), '1 month') + count(events)").with_grain(Grain::Day).with_range(range);
    let day = 86_400;
    streams_like_on_demand(&engine, &query, &[(28 * day, Some("eu"), Some(3), Some(2.0)), (60 * day, None, Some(4), Some(1.0))]).await;
}
