//! Arrow data across the boundary through the Arrow C stream interface
//! (`__arrow_c_stream__`), so pyarrow, polars and any PyCapsule source or consumer exchange
//! batches without copying.

use std::ffi::CStr;

use arrow::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use datafusion::arrow::array::{RecordBatch, RecordBatchIterator, RecordBatchReader};
use datafusion::arrow::datatypes::SchemaRef;
use pyo3::prelude::*;
use pyo3::types::PyCapsule;

use kpi_core::ErrorCategory;

use crate::errors::exception;

const STREAM: &CStr = c"arrow_array_stream";

/// A `DataError` (code `KPI_DATA`) about data handed to the engine, as Node gives it.
fn bad_data(message: String) -> PyErr {
    exception(ErrorCategory::Data, "KPI_DATA", message, None)
}

/// Reads every batch of `source`, any object with `__arrow_c_stream__`.
pub(crate) fn read_stream(source: &Bound<'_, PyAny>) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
    if !source.hasattr("__arrow_c_stream__")? {
        let kind = source.get_type().name()?;
        return Err(bad_data(format!(
            "expected Arrow data (a pyarrow Table, a polars or pandas DataFrame, or an object with __arrow_c_stream__), got {kind}"
        )));
    }
    let capsule = source.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>().map_err(|_| bad_data("__arrow_c_stream__ did not return a PyCapsule".into()))?;
    let pointer = capsule.pointer_checked(Some(STREAM))?;
    // SAFETY: the capsule is named `arrow_array_stream`, so by the Arrow PyCapsule protocol it
    // holds an `FFI_ArrowArrayStream`; `from_raw` moves the stream out and marks the original
    // released, as the protocol asks of a consumer.
    let reader = unsafe { ArrowArrayStreamReader::from_raw(pointer.as_ptr().cast::<FFI_ArrowArrayStream>()) }
        .map_err(|e| bad_data(format!("could not read the Arrow stream: {e}")))?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>().map_err(|e| bad_data(format!("could not read the Arrow stream: {e}")))?;
    Ok((schema, batches))
}

/// `batches` as an Arrow C stream capsule.
pub(crate) fn stream_capsule<'py>(py: Python<'py>, schema: SchemaRef, batches: Vec<RecordBatch>) -> PyResult<Bound<'py, PyCapsule>> {
    let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
    let stream = FFI_ArrowArrayStream::new(Box::new(reader));
    PyCapsule::new_with_value(py, stream, STREAM)
}

/// Arrow data held by the engine: a calculation's result or a demo table. Implements the
/// Arrow PyCapsule stream protocol, so `pyarrow.table(t)` and `polars.from_arrow(t)` read it
/// without copying.
#[pyclass(module = "kpi_engine._native", frozen)]
pub(crate) struct Table {
    pub(crate) schema: SchemaRef,
    pub(crate) batches: Vec<RecordBatch>,
}

#[pymethods]
impl Table {
    /// The Arrow C stream of the rows (the Arrow PyCapsule protocol).
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(&self, py: Python<'py>, requested_schema: Option<Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyCapsule>> {
        // The requested schema is a hint a producer may ignore; ours is fixed.
        let _ = requested_schema;
        stream_capsule(py, self.schema.clone(), self.batches.clone())
    }

    /// How many rows there are.
    #[getter]
    fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The column names.
    #[getter]
    fn column_names(&self) -> Vec<String> {
        self.schema.fields().iter().map(|f| f.name().clone()).collect()
    }

    fn __len__(&self) -> usize {
        self.num_rows()
    }
}
