//! Record batches to and from zstd-compressed Parquet, the format of archives and checkpoints.

use bytes::Bytes;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

use crate::error::EngineError;

/// Rows per row group: statistics per group let scans of a range skip the others.
const ROW_GROUP_ROWS: usize = 128 * 1024;

/// `batches` (of `schema`) as one Parquet file, zstd-compressed.
pub(crate) fn to_parquet(schema: &SchemaRef, batches: &[RecordBatch]) -> Result<Vec<u8>, EngineError> {
    let properties = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).map_err(|e| EngineError::Internal(e.to_string()))?))
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    let mut out = Vec::new();
    let mut writer = ArrowWriter::try_new(&mut out, schema.clone(), Some(properties)).map_err(|e| EngineError::Internal(e.to_string()))?;
    for batch in batches {
        writer.write(batch).map_err(|e| EngineError::Internal(e.to_string()))?;
    }
    writer.close().map_err(|e| EngineError::Internal(e.to_string()))?;
    Ok(out)
}

/// The batches of a Parquet file's bytes.
pub(crate) fn from_parquet(bytes: Vec<u8>) -> Result<Vec<RecordBatch>, String> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(bytes)).and_then(|b| b.build()).map_err(|e| e.to_string())?;
    reader.collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())
}
