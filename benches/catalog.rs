//! Catalog benchmarks: demo-data generation throughput (target: at least 1M rows/s), loading
//! and validating the standard catalog, and pricing a service proposal over it.
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

fn proposal(c: &mut Criterion) {
    use kpi_pricing::{Answers, PriceBook, price, questionnaire_for};
    let catalog = Catalog::standard();
    let book = PriceBook::default();
    let answers = Answers::from_yaml(include_str!("../examples/proposal/answers.yaml")).expect("answers");
    let kpis = ["perfect_order_rate", "on_time_delivery_rate", "new_customers"];
    let all: Vec<&str> = catalog.kpis().map(|k| k.code.as_str()).collect();
    let everything = Answers {
        data_integration: Default::default(),
        kpi_implementation: Default::default(),
        default_integration: Some(kpi_pricing::IntegrationAnswer {
            method: kpi_pricing::IntegrationMethod::BatchConformed,
            source_system: "ERP".into(),
            tm_hours: None,
        }),
        ..answers.clone()
    };
    let mut group = c.benchmark_group("pricing");
    group.bench_function("price the specification's proposal (3 KPIs)", |b| {
        b.iter(|| black_box(price(&catalog, &kpis, &answers, &book).expect("priced")))
    });
    group.bench_function("price a proposal for every standard KPI", |b| {
        b.iter(|| black_box(price(&catalog, &all, &everything, &book).expect("priced")))
    });
    let proposal = price(&catalog, &kpis, &answers, &book).expect("priced");
    group.bench_function("render Markdown + JSON", |b| b.iter(|| black_box((proposal.to_markdown(), proposal.to_json()))));
    group.bench_function("questionnaire for 3 KPIs", |b| {
        b.iter(|| black_box(questionnaire_for(&catalog, &kpis, &book).expect("questionnaire")))
    });
    group.finish();
}

criterion_group!(benches, demo_data, load, proposal);
criterion_main!(benches);
