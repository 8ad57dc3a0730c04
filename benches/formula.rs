//! Parse + resolve + lower: a typical KPI (target < 200 µs) and a catalog of 100 KPIs
//! (target < 50 ms), with DataFusion's own SQL planning of the typical KPI as a baseline.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use datafusion::datasource::empty::EmptyTable;
use datafusion::prelude::SessionContext;
use kpi_benches::{TYPICAL, TYPICAL_SQL, kpis, model};
use kpi_formula::{Calendar, Grain, ModelSources, Query, SemanticModel, Target, TimeRange, compile, parse};

fn query(formula: &str) -> Query {
    Query::formula(formula)
        .with_grain(Grain::Month)
        .with_range(TimeRange::parse("2024-01-01", "2025-01-01", &Calendar::default()).expect("valid range"))
}

fn bench(c: &mut Criterion) {
    let m = model();
    let sources = ModelSources(&m);

    c.bench_function("parse/typical", |b| b.iter(|| parse(&kpi_formula::Source::new("f", black_box(TYPICAL))).expect("parses")));
    c.bench_function("compile+lower/typical", |b| {
        b.iter(|| compile(black_box(&query(TYPICAL)), &m).expect("compiles").to_logical_plan(&sources).expect("plans"))
    });

    let catalog: Vec<Query> = kpis().into_iter().map(|(code, _)| Query { target: Target::Kpi(code), ..query("") }).collect();
    c.bench_function("compile+lower/100 kpis", |b| {
        b.iter(|| {
            for q in &catalog {
                black_box(compile(q, &m).expect("compiles").to_logical_plan(&sources).expect("plans"));
            }
        })
    });

    // Baseline: DataFusion planning the hand-written SQL of the typical KPI (same machine, same run).
    let ctx = SessionContext::new();
    for table in ["orders", "expenses"] {
        let schema = m.table(table).expect("table").schema.clone();
        ctx.register_table(table, Arc::new(EmptyTable::new(schema))).expect("registers");
    }
    let state = ctx.state();
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    c.bench_function("baseline/datafusion sql planning of typical", |b| {
        b.iter(|| rt.block_on(state.create_logical_plan(black_box(TYPICAL_SQL))).expect("plans"))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
