//! The archive index: every archived file with its periods, rows, checksum, client, data kind
//! and policy, and every run that released rows from active data. It is the archive's single
//! source of truth: a file it does not list (left by a run that crashed before updating it) is
//! never read, and its rows are still active.

use chrono::{DateTime, Utc};
use kpi_catalog::DataKind;
use serde::{Deserialize, Serialize};

use super::store::ArchiveStore;
use crate::error::EngineError;

/// The index's file name in the archive location.
pub(crate) const INDEX_FILE: &str = "index.json";

/// The format written; a newer one is refused rather than misread.
const FORMAT: u32 = 1;

/// What an archive holds.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ArchiveIndex {
    /// The index format.
    pub format: u32,
    /// Archived files, oldest first.
    pub entries: Vec<ArchiveEntry>,
    /// Runs that archived or deleted rows, oldest first.
    pub runs: Vec<ArchiveRun>,
}

/// One archived file: the rows of one object model in one month.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArchiveEntry {
    /// The object model.
    pub object_model: String,
    /// Staged source data or analytics data (KPI history).
    pub data: DataKind,
    /// The month, `YYYY-MM` (UTC).
    pub period: String,
    /// The first instant of the period.
    pub period_start: DateTime<Utc>,
    /// The first instant after it.
    pub period_end: DateTime<Utc>,
    /// The file, relative to the archive location.
    pub file: String,
    /// Rows in the file.
    pub rows: u64,
    /// Its size in bytes.
    pub bytes: u64,
    /// SHA-256 of its bytes, in hex.
    pub sha256: String,
    /// The client whose data it is, for an engine of one client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The rule it was archived under, e.g. `90 days active, archived 1 year`.
    pub policy: String,
    /// The run that wrote it.
    pub run: u64,
    /// When it was written.
    pub archived_at: DateTime<Utc>,
    /// When it is removed; `None` to keep it indefinitely.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was removed (past its archive period); removed files are no longer read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_at: Option<DateTime<Utc>>,
}

/// One run of retention over one object model: rows with event times before `before` that were
/// active at log position `lsn` were archived (or deleted) and released from active data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArchiveRun {
    /// Increasing run number.
    pub run: u64,
    /// The object model.
    pub object_model: String,
    /// Rows before this instant were released.
    pub before: DateTime<Utc>,
    /// The write-ahead log position the released rows were read at (0 without a data directory).
    pub lsn: u64,
    /// Rows written to the archive.
    pub archived_rows: u64,
    /// Rows deleted without an archive (the policy deletes after the active period).
    pub deleted_rows: u64,
    /// When it ran.
    pub at: DateTime<Utc>,
}

impl ArchiveIndex {
    /// Reads the index of `store`; an empty one when there is none yet.
    pub(crate) async fn load(store: &ArchiveStore) -> Result<ArchiveIndex, EngineError> {
        let Some(bytes) = store.get(INDEX_FILE).await? else { return Ok(ArchiveIndex { format: FORMAT, ..ArchiveIndex::default() }) };
        let index: ArchiveIndex = serde_json::from_slice(&bytes).map_err(|e| EngineError::Storage {
            path: store.describe_file(INDEX_FILE),
            message: format!("the archive index cannot be read ({e}); restore it from a backup"),
        })?;
        if index.format > FORMAT {
            return Err(EngineError::Storage {
                path: store.describe_file(INDEX_FILE),
                message: format!("the archive index has format {}; this engine reads up to {FORMAT}", index.format),
            });
        }
        Ok(index)
    }

    /// Writes the index to `store` atomically: readers see the old one or the new one.
    pub(crate) async fn save(&self, store: &ArchiveStore) -> Result<(), EngineError> {
        let bytes = serde_json::to_vec_pretty(self).map_err(|e| EngineError::Internal(e.to_string()))?;
        store.put(INDEX_FILE, bytes).await
    }

    /// The next run number.
    pub(crate) fn next_run(&self) -> u64 {
        self.runs.iter().map(|r| r.run).chain(self.entries.iter().map(|e| e.run)).max().unwrap_or(0) + 1
    }

    /// The files of `object_model` still kept, with their data kind.
    pub(crate) fn live(&self, object_model: &str, data: DataKind) -> impl Iterator<Item = &ArchiveEntry> {
        self.entries.iter().filter(move |e| e.object_model == object_model && e.data == data && e.removed_at.is_none())
    }
}
