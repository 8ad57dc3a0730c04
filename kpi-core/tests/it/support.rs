//! Shared demo data, engines over it, and an oracle: the same question as hand-written SQL in a
//! plain DataFusion session.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use kpi_catalog::{Catalog, DemoData, DemoOptions};
use kpi_core::{Engine, EngineOptions, KpiResult};
use kpi_formula::{Calendar, TimeRange};

/// Demo data for the standard catalog: 3,000 orders in the first half of 2024.
pub fn demo() -> &'static DemoData {
    static DATA: OnceLock<DemoData> = OnceLock::new();
    DATA.get_or_init(|| {
        let options = DemoOptions::new(3_000).with_seed(11).with_range("2024-01-01", "2024-07-01").unwrap();
        Catalog::standard().demo_data(&options).unwrap()
    })
}

/// An engine over the standard catalog with the demo data registered.
pub fn engine_with(options: EngineOptions) -> Engine {
    let engine = Engine::with_options(Catalog::standard().clone(), options).unwrap();
    for name in demo().table_names() {
        engine.register_batches(name, demo().batches(name).unwrap().to_vec()).unwrap();
    }
    engine
}

/// An engine with default options over the demo data.
pub fn engine() -> Engine {
    engine_with(EngineOptions::default())
}

/// A time range in UTC.
pub fn range(start: &str, end: &str) -> TimeRange {
    TimeRange::parse(start, end, &Calendar::default()).unwrap()
}

/// Runs SQL over the demo data in a plain DataFusion session.
pub async fn sql(query: &str) -> Vec<RecordBatch> {
    let ctx = SessionContext::new();
    for name in demo().table_names() {
        let table = MemTable::try_new(demo().schema(name).unwrap(), vec![demo().batches(name).unwrap().to_vec()]).unwrap();
        ctx.register_table(name, Arc::new(table)).unwrap();
    }
    ctx.sql(query).await.unwrap().collect().await.unwrap()
}

/// Rows as text keys (all columns but the last, formatted) to the last column's value.
pub fn keyed(batches: &[RecordBatch]) -> BTreeMap<Vec<String>, Option<f64>> {
    let mut out = BTreeMap::new();
    let options = FormatOptions::default().with_null("null");
    for b in batches {
        let n = b.num_columns();
        let formatters: Vec<_> = (0..n - 1).map(|c| ArrayFormatter::try_new(b.column(c).as_ref(), &options).unwrap()).collect();
        let values = datafusion::arrow::compute::cast(b.column(n - 1), &datafusion::arrow::datatypes::DataType::Float64).unwrap();
        let values = values.as_any().downcast_ref::<datafusion::arrow::array::Float64Array>().unwrap();
        for row in 0..b.num_rows() {
            // Periods are zoned (`...Z`) in results and naive in plain SQL over naive columns.
            let key = formatters.iter().map(|f| f.value(row).to_string().trim_end_matches('Z').to_string()).collect();
            out.insert(key, (!values.is_null(row)).then(|| values.value(row)));
        }
    }
    out
}

/// Asserts two keyed results hold the same keys and values within a relative 1e-9.
pub fn assert_same(engine: &KpiResult, oracle: &[RecordBatch]) {
    let ours = keyed(engine.batches());
    let theirs = keyed(oracle);
    assert_eq!(ours.keys().collect::<Vec<_>>(), theirs.keys().collect::<Vec<_>>(), "groups differ");
    for (k, a) in &ours {
        let b = theirs[k];
        match (a, b) {
            (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0), "{k:?}: {a} vs {b}"),
            (a, b) => assert_eq!(*a, b, "{k:?}"),
        }
    }
}

/// Asserts two results have the same rows (periods and groups in the same order) and values
/// within a relative 1e-9.
pub fn assert_same_rows(ours: &KpiResult, theirs: &KpiResult) {
    let (a, b) = (ours.rows(), theirs.rows());
    assert_eq!(a.len(), b.len(), "row counts differ:\n{a:?}\n{b:?}");
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((x.period, &x.dimensions), (y.period, &y.dimensions));
        match (x.value, y.value) {
            (Some(p), Some(q)) => assert!((p - q).abs() <= 1e-9 * p.abs().max(1.0) || (p.is_nan() && q.is_nan()), "{x:?} vs {y:?}"),
            (p, q) => assert_eq!(p, q, "{x:?} vs {y:?}"),
        }
    }
}
