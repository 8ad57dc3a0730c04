//! A client's field mappings applied to data as it is registered: the client's field names
//! become the object model's column names, so data straight from a client's system fits the
//! model without a renaming step of its own.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{Field, Schema};
use kpi_catalog::ClientConfig;

use crate::error::EngineError;

/// `batches` of `object_model` with each mapped field renamed to its column.
///
/// A mapping's field matches a data column of the same name, or of its last dotted segment
/// (`sales.orders.total_amount` matches `total_amount`). A column the data already has under
/// the model's name is left alone.
pub(crate) fn apply(client: &ClientConfig, object_model: &str, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>, EngineError> {
    let mappings: Vec<_> = client.field_mappings.iter().filter(|m| m.object_model == object_model).collect();
    if mappings.is_empty() {
        return Ok(batches);
    }
    batches
        .into_iter()
        .map(|batch| {
            let schema = batch.schema();
            let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
            for m in &mappings {
                if fields.iter().any(|f| f.name() == &m.column) {
                    continue;
                }
                let short = m.field.rsplit('.').next().unwrap_or(&m.field);
                if let Some(f) = fields.iter_mut().find(|f| f.name() == &m.field) {
                    *f = f.clone().with_name(m.column.clone());
                } else if let Some(f) = fields.iter_mut().find(|f| f.name() == short) {
                    *f = f.clone().with_name(m.column.clone());
                }
            }
            let renamed = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
            RecordBatch::try_new(renamed, batch.columns().to_vec()).map_err(|e| EngineError::Execution(e.into()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, Int64Array};
    use datafusion::arrow::datatypes::DataType;
    use kpi_catalog::{DataSource, FieldMapping};

    fn client() -> ClientConfig {
        ClientConfig {
            id: "acme".into(),
            data_sources: vec![DataSource { name: "erp".into(), kind: "postgresql".into(), ..Default::default() }],
            field_mappings: vec![
                FieldMapping {
                    object_model: "orders".into(),
                    column: "order_value".into(),
                    source: "erp".into(),
                    field: "sales.orders.total_amount".into(),
                },
                FieldMapping { object_model: "orders".into(), column: "order_id".into(), source: "erp".into(), field: "id".into() },
            ],
            ..Default::default()
        }
    }

    #[test]
    fn fields_are_renamed_to_their_columns() {
        let schema =
            Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false), Field::new("total_amount", DataType::Float64, true)]));
        let batch =
            RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1])), Arc::new(Float64Array::from(vec![2.5]))]).unwrap();
        let out = apply(&client(), "orders", vec![batch.clone()]).unwrap();
        let names: Vec<_> = out[0].schema().fields().iter().map(|f| f.name().clone()).collect();
        assert_eq!(names, ["order_id", "order_value"]);
        // Another model's data is left alone.
        assert_eq!(apply(&client(), "customers", vec![batch.clone()]).unwrap()[0].schema(), batch.schema());
    }
}
