//! Helpers shared by the integration tests.

use std::sync::Arc;

use datafusion::arrow::array::{Array, Float64Array, RecordBatch};
use datafusion::datasource::{MemTable, TableProvider, provider_as_source};
use datafusion::logical_expr::TableSource;
use datafusion::prelude::SessionContext;
use kpi_catalog::{Catalog, DemoData};
use kpi_formula::{Calendar, Query, TimeRange};

/// Table sources over demo data, for planning KPIs.
pub fn sources(data: &DemoData) -> std::collections::HashMap<String, Arc<dyn TableSource>> {
    data.table_names()
        .map(|t| {
            let provider: Arc<dyn TableProvider> =
                Arc::new(MemTable::try_new(data.schema(t).unwrap(), vec![data.batches(t).unwrap().to_vec()]).unwrap());
            (t.to_string(), provider_as_source(provider))
        })
        .collect()
}

/// Runs a query against demo data and returns the batches.
pub async fn run(catalog: &Catalog, data: &DemoData, query: Query) -> Vec<RecordBatch> {
    let plan = kpi_formula::plan(&query, catalog, &sources(data)).unwrap_or_else(|e| panic!("{e}"));
    SessionContext::new().execute_logical_plan(plan).await.unwrap().collect().await.unwrap()
}

/// The `value` column of result batches.
pub fn values(batches: &[RecordBatch]) -> Vec<Option<f64>> {
    batches
        .iter()
        .flat_map(|b| {
            let v = b.column_by_name("value").unwrap().as_any().downcast_ref::<Float64Array>().unwrap().clone();
            (0..v.len()).map(move |i| v.is_valid(i).then(|| v.value(i)))
        })
        .collect()
}

/// 2024 as a time range in UTC.
pub fn year_2024() -> TimeRange {
    TimeRange::parse("2024-01-01", "2025-01-01", &Calendar::default()).unwrap()
}
