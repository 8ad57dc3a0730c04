//! The data directory of a durable engine: checkpoints of every in-memory table as Parquet, a
//! manifest naming them and the log position they hold, and the write-ahead log of what came
//! after. Opening the directory restores the tables exactly: the checkpoint, then the log's
//! records after it, with the rows that retention runs released since left out.
//!
//! ```text
//! <data_dir>/LOCK                     held while an engine has the directory open
//! <data_dir>/manifest.json            { lsn, tables: { model: { file, rows, run } } }
//! <data_dir>/tables/<model>-<lsn>.parquet
//! <data_dir>/wal/<first lsn>.wal      the log after the checkpoint
//! <data_dir>/archive/                 the archive, unless another location is given
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use datafusion::arrow::array::RecordBatch;
use kpi_catalog::Catalog;
use serde::{Deserialize, Serialize};

use super::durable::{storage_error, sync_dir, write_atomically};
use super::fault::{Fault, hit};
use super::index::ArchiveRun;
use super::parquet::{from_parquet, to_parquet};
use super::split::split_before;
use super::wal::{Record, Wal, replay};
use crate::error::EngineError;

const MANIFEST: &str = "manifest.json";
const FORMAT: u32 = 1;

/// What a checkpoint holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    /// Every log record up to this position is in the tables below.
    lsn: u64,
    tables: BTreeMap<String, TableFile>,
}

/// One table of a checkpoint.
#[derive(Debug, Serialize, Deserialize)]
struct TableFile {
    /// The Parquet file under `tables/`; none for a table without rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    rows: u64,
    /// The rows are appended over a table provider registered again after opening.
    #[serde(default)]
    over_provider: bool,
    /// The last retention run whose release the rows reflect.
    #[serde(default)]
    run: u64,
}

/// The rows of one object model as a checkpoint or recovery holds them.
#[derive(Clone, Debug, Default)]
pub(crate) struct DurableTable {
    pub(crate) batches: Vec<RecordBatch>,
    /// Appended over a table provider: they wait for it to be registered again.
    pub(crate) over_provider: bool,
    /// The last retention run whose release they reflect.
    pub(crate) run: u64,
}

/// An open data directory.
pub(crate) struct DataDir {
    root: PathBuf,
    /// The log; written under the engine's tables lock, so its position orders every change.
    pub(crate) wal: Mutex<Wal>,
    /// Held while the directory is open, so two engines never write one log.
    lock: Mutex<Option<File>>,
}

impl DataDir {
    /// Opens (creating) `root` and recovers its tables, leaving out rows the retention `runs`
    /// released.
    pub(crate) fn open(
        root: &Path,
        catalog: &Catalog,
        runs: &[ArchiveRun],
    ) -> Result<(DataDir, BTreeMap<String, DurableTable>), EngineError> {
        fs::create_dir_all(root).map_err(|e| storage_error(root, format!("cannot create the data directory: {e}")))?;
        let lock_path = root.join("LOCK");
        let lock = File::create(&lock_path).map_err(|e| storage_error(&lock_path, e))?;
        lock.try_lock().map_err(|_| storage_error(root, "another engine has this data directory open"))?;
        let manifest = read_manifest(root)?;
        let mut tables: BTreeMap<String, DurableTable> = BTreeMap::new();
        for (model, file) in &manifest.tables {
            let batches = match &file.file {
                Some(name) => {
                    let path = root.join("tables").join(name);
                    let bytes = fs::read(&path).map_err(|e| storage_error(&path, e))?;
                    from_parquet(bytes).map_err(|e| storage_error(&path, format!("the checkpoint cannot be read ({e})")))?
                }
                None => Vec::new(),
            };
            let pending = runs.iter().filter(|r| &r.object_model == model && r.run > file.run);
            let batches = release(catalog, model, batches, pending)?;
            let run = latest_run(runs, model).max(file.run);
            tables.insert(model.clone(), DurableTable { batches, over_provider: file.over_provider, run });
        }
        let wal_dir = root.join("wal");
        let (records, bytes) = replay(&wal_dir, manifest.lsn)?;
        let mut lsn = manifest.lsn;
        let applied: HashMap<String, u64> = manifest.tables.iter().map(|(m, f)| (m.clone(), f.run)).collect();
        for (at, record) in records {
            lsn = at;
            let model = record.model().to_string();
            // Runs the checkpoint did not reflect that read this record's rows.
            let done = applied.get(&model).copied().unwrap_or(0);
            let pending = || runs.iter().filter(|r| r.object_model == model && r.run > done && at <= r.lsn);
            let run = latest_run(runs, &model);
            match record {
                Record::Register { batches, .. } => {
                    let batches = release(catalog, &model, batches, pending())?;
                    tables.insert(model, DurableTable { batches, over_provider: false, run });
                }
                Record::Append { batches, .. } => {
                    let batches = release(catalog, &model, batches, pending())?;
                    let table = tables.entry(model).or_insert_with(|| DurableTable { run, ..DurableTable::default() });
                    table.batches.extend(batches);
                }
                Record::Unregister { .. } => {
                    tables.remove(&model);
                }
                Record::Provider { .. } => {
                    tables.insert(model, DurableTable { batches: Vec::new(), over_provider: true, run });
                }
            }
        }
        let wal = Wal::open(&wal_dir, lsn, bytes)?;
        Ok((DataDir { root: root.to_path_buf(), wal: Mutex::new(wal), lock: Mutex::new(Some(lock)) }, tables))
    }

    /// Stops logging and lets go of the directory, for another engine to open.
    pub(crate) fn close(&self) {
        self.wal.lock().unwrap_or_else(|p| p.into_inner()).closed = true;
        self.lock.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// The directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `tables` (every table as of log position `lsn`, the log rotated there) as the new
    /// checkpoint, then removes the log segments and table files it replaces.
    pub(crate) fn checkpoint(
        &self,
        schema_of: impl Fn(&str) -> Option<datafusion::arrow::datatypes::SchemaRef>,
        lsn: u64,
        tables: &BTreeMap<String, DurableTable>,
    ) -> Result<(), EngineError> {
        let dir = self.root.join("tables");
        fs::create_dir_all(&dir).map_err(|e| storage_error(&dir, e))?;
        let mut manifest = Manifest { format: FORMAT, lsn, tables: BTreeMap::new() };
        for (model, table) in tables {
            let rows: usize = table.batches.iter().map(RecordBatch::num_rows).sum();
            let file = match (rows, schema_of(model)) {
                (0, _) | (_, None) => None,
                (_, Some(schema)) => {
                    let name = format!("{}-{lsn}.parquet", file_safe(model));
                    let path = dir.join(&name);
                    write_atomically(&path, &to_parquet(&schema, &table.batches)?).map_err(|e| storage_error(&path, e))?;
                    Some(name)
                }
            };
            manifest
                .tables
                .insert(model.clone(), TableFile { file, rows: rows as u64, over_provider: table.over_provider, run: table.run });
        }
        hit(Fault::CheckpointAfterTables)?;
        let bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| EngineError::Internal(e.to_string()))?;
        let path = self.root.join(MANIFEST);
        write_atomically(&path, &bytes).map_err(|e| storage_error(&path, e))?;
        hit(Fault::CheckpointAfterManifest)?;
        Wal::remove_through(&self.root.join("wal"), lsn)?;
        let kept: Vec<&String> = manifest.tables.values().filter_map(|t| t.file.as_ref()).collect();
        for entry in fs::read_dir(&dir).map_err(|e| storage_error(&dir, e))? {
            let path = entry.map_err(|e| storage_error(&dir, e))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            if name.ends_with(".parquet") && !kept.contains(&&name) {
                fs::remove_file(&path).map_err(|e| storage_error(&path, e))?;
            }
        }
        sync_dir(&dir).map_err(|e| storage_error(&dir, e))
    }
}

fn read_manifest(root: &Path) -> Result<Manifest, EngineError> {
    let path = root.join(MANIFEST);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Manifest { format: FORMAT, ..Manifest::default() }),
        Err(e) => return Err(storage_error(&path, e)),
    };
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| storage_error(&path, format!("the manifest cannot be read ({e})")))?;
    if manifest.format > FORMAT {
        return Err(storage_error(&path, format!("format {} is newer than this engine reads ({FORMAT})", manifest.format)));
    }
    Ok(manifest)
}

/// `batches` without the rows `runs` released (event times before each run's cutoff).
fn release<'a>(
    catalog: &Catalog,
    model: &str,
    batches: Vec<RecordBatch>,
    runs: impl Iterator<Item = &'a ArchiveRun>,
) -> Result<Vec<RecordBatch>, EngineError> {
    let Some(before) = runs.map(|r| r.before.timestamp_micros()).max() else { return Ok(batches) };
    let model = super::model_of(catalog, model)?;
    let model = &model;
    let mut out = Vec::with_capacity(batches.len());
    for batch in &batches {
        if let (_, Some(kept)) = split_before(model, batch, before)? {
            out.push(kept);
        }
    }
    Ok(out)
}

fn latest_run(runs: &[ArchiveRun], model: &str) -> u64 {
    runs.iter().filter(|r| r.object_model == model).map(|r| r.run).max().unwrap_or(0)
}

/// An object model code as part of a file name (codes are identifiers; anything else is
/// replaced).
pub(crate) fn file_safe(model: &str) -> String {
    model.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}
