//! Data lifecycle benchmarks (targets from the data lifecycle issue):
//!
//! * archive throughput: 1M orders (9 months of them past a 90-day policy) written to zstd
//!   Parquet with the index and released, in rows per second;
//! * the cost of a merged query: revenue by month and region over a year of 1M orders with 9
//!   months archived, against the same query over active data only and over the same rows never
//!   archived, in the same run;
//! * a durable append (write-ahead log, synced) of 1,000 orders against an in-memory one.
//!
//! `cargo bench -p kpi-benches --bench lifecycle`. Run as a test (`cargo test --benches`) the
//! data is small, so the benchmarks only prove they work.

use std::hint::black_box;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use kpi_catalog::{Catalog, DemoOptions, RetentionPolicy};
use kpi_core::{CachePolicy, CalculateOptions, Engine, EngineOptions, ManualClock};
use kpi_formula::{Grain, Query};
use tokio::runtime::Runtime;

/// Whether criterion measures (`cargo bench`) rather than runs once as a test.
fn measuring() -> bool {
    std::env::args().any(|a| a == "--bench")
}

fn orders() -> &'static Vec<datafusion::arrow::array::RecordBatch> {
    static DATA: OnceLock<Vec<datafusion::arrow::array::RecordBatch>> = OnceLock::new();
    DATA.get_or_init(|| {
        let rows = if measuring() { 1_000_000 } else { 5_000 };
        let options = DemoOptions::new(rows).with_seed(3).with_range("2024-01-01", "2025-01-01").expect("range").only(["orders"]);
        Catalog::standard().demo_data(&options).expect("demo").batches("orders").expect("orders").to_vec()
    })
}

fn policy() -> RetentionPolicy {
    RetentionPolicy::from_yaml("staged_source_data: { retention_period: 90, archival_enabled: true, archival_period: 1 }\nanalytics_data: { retention_period: 1, retention_unit: years }").expect("policy")
}

/// An engine over the orders with its archive in `dir`, at the start of 2025.
fn engine(dir: &std::path::Path) -> Engine {
    let clock = Arc::new(ManualClock::new("2025-01-01T00:00:00Z".parse().expect("time")));
    let options = EngineOptions::default()
        .with_archive_location(dir)
        .with_retention_policy(policy())
        .with_clock(clock)
        .with_cache(CachePolicy::disabled());
    let engine = Engine::with_options(Catalog::standard().clone(), options).expect("engine");
    engine.register_batches("orders", orders().clone()).expect("register");
    engine
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime")
}

fn archive_throughput(c: &mut Criterion) {
    let rt = runtime();
    let archived = {
        let dir = tempfile::tempdir().expect("dir");
        engine(dir.path()).retention_plan().expect("plan").releases.iter().map(|r| r.rows).sum::<u64>()
    };
    let mut group = c.benchmark_group("lifecycle: archive");
    group.sample_size(10).measurement_time(Duration::from_secs(20)).throughput(Throughput::Elements(archived));
    group.bench_function(format!("apply_retention, {archived} rows to Parquet"), |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("dir");
                let engine = engine(dir.path());
                (dir, engine)
            },
            |(dir, engine)| {
                let report = rt.block_on(engine.apply_retention()).expect("run");
                assert!(report.models.iter().any(|m| m.archived_rows > 0));
                drop(dir);
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn merged_query(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("dir");
    let setup = OnceLock::new();
    let setup = || {
        setup.get_or_init(|| {
            let archived = engine(dir.path());
            rt.block_on(archived.apply_retention()).expect("run");
            let never = Engine::with_options(Catalog::standard().clone(), EngineOptions::default().with_cache(CachePolicy::disabled()))
                .expect("engine");
            never.register_batches("orders", orders().clone()).expect("register");
            (archived, never)
        })
    };
    let range = kpi_formula::TimeRange::parse("2024-01-01", "2025-01-01", &kpi_formula::Calendar::default()).expect("range");
    let query = Query::kpi("revenue").with_grain(Grain::Month).by(["orders.region"]).with_range(range);
    let mut group = c.benchmark_group("lifecycle: revenue by month and region over a year");
    group.sample_size(20).measurement_time(Duration::from_secs(10));
    group.bench_function("9 months archived, merged", |b| {
        let (archived, _) = setup();
        b.iter(|| rt.block_on(async { black_box(archived.calculate(&query).await.expect("result")) }))
    });
    group.bench_function("active data only", |b| {
        let (archived, _) = setup();
        let options = CalculateOptions::default().active_only();
        b.iter(|| rt.block_on(async { black_box(archived.calculate_with(&query, &options).await.expect("result")) }))
    });
    group.bench_function("never archived (all in memory)", |b| {
        let (_, never) = setup();
        b.iter(|| rt.block_on(async { black_box(never.calculate(&query).await.expect("result")) }))
    });
    group.finish();
}

fn durable_append(c: &mut Criterion) {
    let batch = orders()[0].slice(0, orders()[0].num_rows().min(1_000));
    let dir = tempfile::tempdir().expect("dir");
    let durable = Engine::with_options(Catalog::standard().clone(), EngineOptions::default().with_data_dir(dir.path())).expect("engine");
    let memory = Engine::new(Catalog::standard().clone()).expect("engine");
    let mut group = c.benchmark_group("lifecycle: append of 1,000 orders");
    group.sample_size(20).measurement_time(Duration::from_secs(5)).throughput(Throughput::Elements(batch.num_rows() as u64));
    group.bench_function("durable (write-ahead log, synced)", |b| {
        b.iter(|| durable.append_batches("orders", vec![batch.clone()]).expect("append"))
    });
    group.bench_function("in memory", |b| b.iter(|| memory.append_batches("orders", vec![batch.clone()]).expect("append")));
    group.finish();
}

criterion_group!(benches, archive_throughput, merged_query, durable_append);
criterion_main!(benches);
