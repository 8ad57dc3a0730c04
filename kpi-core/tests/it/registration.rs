//! Registering data: schema checks, compatible casts, Parquet, CSV, providers, appends.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::datasource::MemTable;
use datafusion::parquet::arrow::ArrowWriter;
use kpi_catalog::Catalog;
use kpi_core::{Engine, EngineError};
use kpi_formula::{Grain, Query};

use crate::support::{demo, engine, range};

fn orders() -> Vec<RecordBatch> {
    demo().batches("orders").unwrap().to_vec()
}

fn fresh() -> Engine {
    Engine::new(Catalog::standard().clone()).unwrap()
}

/// The orders batches with one column replaced.
fn with_column(batch: &RecordBatch, name: &str, column: ArrayRef) -> RecordBatch {
    let schema = batch.schema();
    let i = schema.index_of(name).unwrap();
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields[i] = Field::new(name, column.data_type().clone(), true);
    let mut columns = batch.columns().to_vec();
    columns[i] = column;
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

#[test]
fn a_wrong_type_names_column_and_both_types() {
    let batch = &orders()[0];
    let text: ArrayRef = Arc::new(StringArray::from(vec!["x"; batch.num_rows()]));
    let err = fresh().register_batches("orders", vec![with_column(batch, "order_value", text)]).unwrap_err();
    let EngineError::SchemaMismatch { column, expected, found, .. } = &err else { panic!("{err:?}") };
    assert_eq!((column.as_str(), expected.as_str(), found.as_str()), ("order_value", "decimal(18,2)", "Utf8"));
    assert_eq!(err.code(), "KPI_SCHEMA");
}

#[test]
fn a_missing_column_and_an_unknown_model_are_named() {
    let batch = orders()[0].clone();
    let mut b = batch.clone();
    b.remove_column(batch.schema().index_of("region").unwrap());
    let err = fresh().register_batches("orders", vec![b]).unwrap_err();
    assert!(matches!(&err, EngineError::MissingColumn { column, .. } if column == "region"), "{err:?}");
    let err = fresh().register_batches("order", vec![batch]).unwrap_err();
    assert!(err.to_string().contains("did you mean `orders`"), "{err}");
}

#[test]
fn nulls_in_a_non_nullable_column_are_refused() {
    let batch = &orders()[0];
    let ids: ArrayRef = Arc::new(Int64Array::from((0..batch.num_rows()).map(|i| (i > 0).then_some(i as i64)).collect::<Vec<_>>()));
    let err = fresh().register_batches("orders", vec![with_column(batch, "order_id", ids)]).unwrap_err();
    assert!(matches!(&err, EngineError::UnexpectedNulls { column, .. } if column == "order_id"), "{err:?}");
}

#[tokio::test]
async fn compatible_types_are_cast_and_give_the_same_result() {
    let reference = engine();
    let q = Query::kpi("order_count").with_grain(Grain::Month).by(["orders.channel"]).with_range(range("2024-01-01", "2024-07-01"));
    let expected = reference.calculate(&q).await.unwrap();

    // Nanosecond timestamps and 32-bit ids, as pandas and many Parquet writers produce.
    let converted: Vec<RecordBatch> = orders()
        .iter()
        .map(|b| {
            let ts = cast(b.column_by_name("ordered_at").unwrap(), &DataType::Timestamp(TimeUnit::Nanosecond, None)).unwrap();
            assert!(ts.as_any().is::<TimestampNanosecondArray>());
            let ids: ArrayRef = Arc::new(cast(b.column_by_name("customer_id").unwrap(), &DataType::Int32).unwrap());
            assert!(ids.as_any().is::<Int32Array>());
            with_column(&with_column(b, "ordered_at", ts), "customer_id", ids)
        })
        .collect();
    let engine = fresh();
    engine.register_batches("orders", converted).unwrap();
    let got = engine.calculate(&q).await.unwrap();
    assert_eq!(got.rows(), expected.rows());
}

#[tokio::test]
async fn parquet_csv_and_providers_give_the_same_result_as_memory() {
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("orders.parquet");
    let schema = orders()[0].schema();
    let mut writer = ArrowWriter::try_new(std::fs::File::create(&parquet).unwrap(), schema.clone(), None).unwrap();
    for b in orders() {
        writer.write(&b).unwrap();
    }
    writer.close().unwrap();
    let csv = dir.path().join("orders.csv");
    let mut w = datafusion::arrow::csv::WriterBuilder::new().with_header(true).build(std::fs::File::create(&csv).unwrap());
    for b in orders() {
        w.write(&b).unwrap();
    }
    drop(w);

    let q = Query::kpi("average_order_value").with_grain(Grain::Month).by(["orders.region"]).with_range(range("2024-01-01", "2024-07-01"));
    let expected = engine().calculate(&q).await.unwrap().rows();

    let e = fresh();
    e.register_parquet("orders", &parquet).await.unwrap();
    assert_eq!(e.calculate(&q).await.unwrap().rows(), expected, "parquet");
    e.register_parquet("orders", dir.path()).await.unwrap();
    assert_eq!(e.calculate(&q).await.unwrap().rows(), expected, "parquet directory");
    e.register_csv("orders", &csv).await.unwrap();
    assert_eq!(e.calculate(&q).await.unwrap().rows(), expected, "csv");
    let provider = Arc::new(MemTable::try_new(schema, vec![orders()]).unwrap());
    e.register_table("orders", provider).unwrap();
    assert_eq!(e.calculate(&q).await.unwrap().rows(), expected, "table provider");
    assert!(!e.registered()[0].in_memory);

    let err = e.register_parquet("orders", dir.path().join("missing.parquet")).await.unwrap_err();
    assert_eq!(err.code(), "KPI_READ", "{err}");
}

#[tokio::test]
async fn appended_rows_are_visible_and_versions_move() {
    let all = datafusion::arrow::compute::concat_batches(&orders()[0].schema(), &orders()).unwrap();
    let third = all.num_rows() / 3;
    let first = [all.slice(0, third)];
    let rest = [all.slice(third, all.num_rows() - third)];
    for provider_backed in [false, true] {
        let e = fresh();
        if provider_backed {
            e.register_table("orders", Arc::new(MemTable::try_new(first[0].schema(), vec![first.to_vec()]).unwrap())).unwrap();
        } else {
            e.register_batches("orders", first.to_vec()).unwrap();
        }
        let before = e.registered()[0].version;
        let q = Query::kpi("order_count");
        let count = |r: kpi_core::KpiResult| r.rows()[0].value.unwrap() as usize;
        assert_eq!(count(e.calculate(&q).await.unwrap()), first[0].num_rows());
        e.append_batches("orders", rest.to_vec()).unwrap();
        assert!(e.registered()[0].version > before);
        assert_eq!(count(e.calculate(&q).await.unwrap()), demo().rows("orders"), "provider-backed: {provider_backed}");
    }
}
