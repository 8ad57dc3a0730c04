//! The archived rows of one object model as a table: the Parquet files the index lists, which
//! calculations read together with the active rows (archived and active rows never overlap, so
//! their union is the data as if nothing had been archived).

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl};
use kpi_catalog::ObjectModel;

use crate::error::EngineError;

/// One archived file and the event times it covers.
#[derive(Clone, Debug)]
pub(crate) struct ArchivedFile {
    pub(crate) url: ListingTableUrl,
    /// Its month, in microseconds: `[start, end)`.
    pub(crate) start: i64,
    pub(crate) end: i64,
    pub(crate) rows: u64,
    pub(crate) bytes: u64,
}

/// The archived files of one object model and the table that scans them.
#[derive(Clone, Debug)]
pub(crate) struct ArchivedData {
    pub(crate) files: Vec<ArchivedFile>,
    pub(crate) provider: Arc<dyn TableProvider>,
}

impl ArchivedData {
    /// The table over `files` (none for no files).
    pub(crate) fn new(model: &ObjectModel, files: Vec<ArchivedFile>) -> Result<Option<Arc<ArchivedData>>, EngineError> {
        if files.is_empty() {
            return Ok(None);
        }
        let options = ListingOptions::new(Arc::new(ParquetFormat::default())).with_file_extension(".parquet");
        let config = ListingTableConfig::new_with_multi_paths(files.iter().map(|f| f.url.clone()).collect())
            .with_listing_options(options)
            .with_schema(model.schema());
        let table = ListingTable::try_new(config).map_err(EngineError::Execution)?;
        Ok(Some(Arc::new(ArchivedData { files, provider: Arc::new(table) })))
    }

    /// Only the files that may hold event times in `[from, to)`.
    pub(crate) fn narrowed(&self, model: &ObjectModel, from: i64, to: i64) -> Result<Option<Arc<ArchivedData>>, EngineError> {
        let files = self.files.iter().filter(|f| f.end > from && f.start < to).cloned().collect();
        ArchivedData::new(model, files)
    }

    /// Rows archived.
    pub(crate) fn rows(&self) -> u64 {
        self.files.iter().map(|f| f.rows).sum()
    }
}
