//! Record batches written as CSV or zstd Parquet, for results and demo data alike.

use std::io::Write;

use datafusion::arrow::csv::WriterBuilder;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;

/// A file format for tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableFormat {
    /// CSV with a header row.
    Csv,
    /// Parquet, zstd-compressed.
    Parquet,
}

/// Writes `batches` to `out`, calling `written` with each batch's rows; gives `out` back
/// (flushed by the format's writer) so the caller can sync it.
pub fn write<W: Write + Send>(
    format: TableFormat,
    out: W,
    schema: SchemaRef,
    batches: &[RecordBatch],
    mut written: impl FnMut(usize),
) -> Result<W, String> {
    match format {
        TableFormat::Csv => {
            let mut writer = WriterBuilder::new().with_header(true).build(out);
            for batch in batches {
                writer.write(batch).map_err(|e| e.to_string())?;
                written(batch.num_rows());
            }
            Ok(writer.into_inner())
        }
        TableFormat::Parquet => {
            let props = WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::default())).build();
            let mut writer = ArrowWriter::try_new(out, schema, Some(props)).map_err(|e| e.to_string())?;
            for batch in batches {
                writer.write(batch).map_err(|e| e.to_string())?;
                written(batch.num_rows());
            }
            writer.into_inner().map_err(|e| e.to_string())
        }
    }
}
