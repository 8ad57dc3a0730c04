//! Catalog benchmarks: demo-data generation throughput (target: at least 1M rows/s), loading
//! and validating the standard catalog.
//!
//! `cargo bench -p kpi-benches --bench catalog`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kpi_catalog::{Catalog, DemoOptions};

fn demo_data(c: &mut Criterion) {
    let catalog = Catalog::standard();
    let options = DemoOptions::new(100_000);
    let rows = catalog.demo_data(&options).expect("demo data").total_rows() as u64;
    let mut group = c.benchmark_group("demo_data");
    group.throughput(Throughput::Elements(rows));
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    group.bench_function("standard catalog, 100k orders", |b| b.iter(|| black_box(catalog.demo_data(&options).expect("demo data"))));
    group.finish();
}

fn load(c: &mut Criterion) {
    let yaml = Catalog::standard().to_yaml().expect("yaml");
    let mut group = c.benchmark_group("catalog");
    group.bench_function("parse + validate standard catalog", |b| b.iter(|| black_box(Catalog::from_yaml(&yaml).expect("valid"))));
    let catalog = Catalog::standard();
    group.bench_function("validate standard catalog", |b| b.iter(|| black_box(catalog.problems())));
    group.finish();
}

criterion_group!(benches, demo_data, load);
criterion_main!(benches);
