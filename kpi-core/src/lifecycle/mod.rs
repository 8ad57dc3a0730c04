//! Data lifecycle: retention policies enforced on the engine's clock, archives of Parquet with
//! an index, calculations that read archived and active rows together, and durability through
//! a data directory (a write-ahead log and checkpoints).
//!
//! The rules that make it safe, whichever step a crash interrupts:
//! - an append is acknowledged only once its log record is synced;
//! - rows are released from active data only after their archive files are synced and the
//!   index that lists them is replaced atomically; a file the index does not list is never read;
//! - the index records each run (its cutoff and the log position it read at), so opening a data
//!   directory leaves out exactly the rows a run released, even if the crash came before the
//!   release itself: every row is in the archive or in active data, once.

mod archived;
mod datadir;
mod durable;
mod fault;
mod history;
mod index;
mod parquet;
mod plan;
mod run;
mod split;
mod store;
mod verify;
mod wal;

#[cfg(test)]
mod crash_tests;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use kpi_catalog::{Catalog, ClientConfig, DataKind, RetentionPolicy};

pub(crate) use archived::ArchivedData;
use archived::ArchivedFile;
use datadir::DataDir;
pub(crate) use datadir::DurableTable;
pub(crate) use history::model_of;
pub use history::{HISTORY_TABLE, HistoryQuery, HistoryRow};
pub use index::{ArchiveEntry, ArchiveIndex, ArchiveRun};
pub use plan::{ModelStorage, PlannedRelease, RetentionPlan, StorageReport};
pub use run::{RetentionProgress, RetentionReport, RunOutcome};
use store::ArchiveStore;
pub(crate) use wal::Record;

use crate::engine::Engine;
use crate::error::EngineError;
use crate::options::EngineOptions;

/// The lifecycle state of an engine.
pub(crate) struct Lifecycle {
    /// The data directory, when the engine is durable.
    data_dir: Option<DataDir>,
    /// Where archives go, when there is such a place.
    archive: Option<ArchiveStore>,
    /// The archive's index as last written.
    index: RwLock<ArchiveIndex>,
    policy: RwLock<Option<RetentionPolicy>>,
    /// One retention run or checkpoint at a time.
    runs: tokio::sync::Mutex<()>,
    /// The last run whose release each object model's active data reflects.
    released: Mutex<HashMap<String, u64>>,
    /// Archived rows by object model, for calculations.
    archived: RwLock<HashMap<String, Arc<ArchivedData>>>,
    /// Rows appended over a table provider before a restart, waiting for it to be registered
    /// again.
    pending: Mutex<HashMap<String, Vec<RecordBatch>>>,
    /// The client of an engine for one client, named in archive entries.
    client: Option<String>,
    /// Whether the task that enforces the policy every hour runs.
    enforcing: std::sync::atomic::AtomicBool,
    /// The latest revision of each value in KPI history.
    revisions: history::Revisions,
}

impl Lifecycle {
    /// Opens the archive and the data directory of `options`, recovering the tables the
    /// directory holds.
    pub(crate) fn open(
        options: &EngineOptions,
        catalog: &Catalog,
        client: Option<&ClientConfig>,
        ctx: &SessionContext,
    ) -> Result<(Lifecycle, BTreeMap<String, DurableTable>), EngineError> {
        let archive = match (&options.archive_location, &options.data_dir) {
            (Some(location), _) => Some(ArchiveStore::open(location)?),
            (None, Some(dir)) => Some(ArchiveStore::open(&crate::DataLocation::Path(dir.join("archive")))?),
            (None, None) => None,
        };
        let index = match &archive {
            Some(store) => block_on_thread(ArchiveIndex::load(store))?,
            None => ArchiveIndex::default(),
        };
        let policy = options.retention_policy.clone().or_else(|| client.and_then(|c| c.retention.clone()));
        if let Some(policy) = &policy {
            check_policy(policy, archive.is_some())?;
        }
        let (data_dir, tables) = match &options.data_dir {
            Some(dir) => {
                let (data_dir, tables) = DataDir::open(dir, catalog, &index.runs)?;
                (Some(data_dir), tables)
            }
            None => (None, BTreeMap::new()),
        };
        let mut released = HashMap::new();
        for run in &index.runs {
            let last = released.entry(run.object_model.clone()).or_insert(0);
            *last = run.run.max(*last);
        }
        let lifecycle = Lifecycle {
            data_dir,
            archive,
            index: RwLock::new(ArchiveIndex::default()),
            policy: RwLock::new(policy),
            runs: tokio::sync::Mutex::new(()),
            released: Mutex::new(released),
            archived: RwLock::default(),
            pending: Mutex::default(),
            client: client.map(|c| c.id.clone()),
            enforcing: std::sync::atomic::AtomicBool::new(false),
            revisions: history::Revisions::default(),
        };
        lifecycle.set_index(index, catalog, ctx)?;
        Ok((lifecycle, tables))
    }

    /// Replaces the index, and the archived rows calculations read with it.
    fn set_index(&self, index: ArchiveIndex, catalog: &Catalog, ctx: &SessionContext) -> Result<(), EngineError> {
        let mut archived = HashMap::new();
        if let Some(store) = &self.archive {
            let models: std::collections::BTreeSet<&String> = index.entries.iter().map(|e| &e.object_model).collect();
            for code in models {
                let Ok(model) = model_of(catalog, code) else { continue };
                let kind = history::data_kind_of(code);
                let files = index
                    .live(code, kind)
                    .map(|e| {
                        Ok(ArchivedFile {
                            url: store.scan_url(ctx, &e.file)?,
                            start: e.period_start.timestamp_micros(),
                            end: e.period_end.timestamp_micros(),
                            rows: e.rows,
                            bytes: e.bytes,
                        })
                    })
                    .collect::<Result<Vec<_>, EngineError>>()?;
                if let Some(data) = ArchivedData::new(&model, files)? {
                    archived.insert(code.clone(), data);
                }
            }
        }
        *self.archived.write().unwrap_or_else(|p| p.into_inner()) = archived;
        *self.index.write().unwrap_or_else(|p| p.into_inner()) = index;
        Ok(())
    }

    /// Writes `record` to the log (a no-op without a data directory); the caller holds the
    /// engine's tables lock, so log order is the order changes are applied in.
    pub(crate) fn log(&self, record: &Record) -> Result<(), EngineError> {
        if let Some(dir) = &self.data_dir {
            dir.wal.lock().unwrap_or_else(|p| p.into_inner()).write(record)?;
        }
        Ok(())
    }

    /// Fails once the engine closed its data directory: nothing may be written there since.
    fn check_open(&self) -> Result<(), EngineError> {
        match &self.data_dir {
            Some(dir) if dir.wal.lock().unwrap_or_else(|p| p.into_inner()).closed => {
                Err(EngineError::Storage { path: dir.root().display().to_string(), message: "the engine closed its data directory".into() })
            }
            _ => Ok(()),
        }
    }

    /// The position of the last record logged (0 without a data directory).
    fn lsn(&self) -> u64 {
        self.data_dir.as_ref().map_or(0, |d| d.wal.lock().unwrap_or_else(|p| p.into_inner()).lsn)
    }

    /// The archived rows of `model`.
    pub(crate) fn archive_of(&self, model: &str) -> Option<Arc<ArchivedData>> {
        self.archived.read().unwrap_or_else(|p| p.into_inner()).get(model).cloned()
    }

    /// Object models with archived rows.
    pub(crate) fn archived_models(&self) -> Vec<String> {
        self.archived.read().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect()
    }

    /// Rows of `model` appended over a provider before a restart, taken to append them again.
    pub(crate) fn take_pending(&self, model: &str) -> Option<Vec<RecordBatch>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).remove(model)
    }

    /// Whether rows appended over `model`'s provider wait for it.
    pub(crate) fn has_pending(&self, model: &str) -> bool {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).contains_key(model)
    }

    /// Keeps rows appended over a provider until it is registered again.
    pub(crate) fn hold_pending(&self, model: &str, batches: Vec<RecordBatch>) {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).insert(model.to_string(), batches);
    }
}

/// Refuses a policy that breaks a regulation it names, has an empty active period, or
/// archives with nowhere to archive to.
pub(crate) fn check_policy(policy: &RetentionPolicy, has_archive: bool) -> Result<(), EngineError> {
    let violations = policy.violations();
    if !violations.is_empty() {
        let rule = violations.iter().map(|v| format!("{} ({})", v.regulation.label(), v.data.code())).collect::<Vec<_>>().join(", ");
        let message = violations.iter().map(|v| v.message.clone()).collect::<Vec<_>>().join("; ");
        return Err(EngineError::Retention { rule, message });
    }
    for kind in [DataKind::StagedSourceData, DataKind::AnalyticsData] {
        let rule = policy.rule(kind);
        if rule.retention_period == 0 {
            return Err(EngineError::Retention {
                rule: format!("{}.retention_period", kind.code()),
                message: "the active period must be at least 1".into(),
            });
        }
        if rule.archival_enabled && rule.archival_period == 0 && rule.archival_unit != kpi_catalog::ArchivalUnit::Indefinite {
            return Err(EngineError::Retention {
                rule: format!("{}.archival_period", kind.code()),
                message: "an archive period must be at least 1, or the unit `indefinite`".into(),
            });
        }
        if rule.archival_enabled && !has_archive {
            return Err(EngineError::Retention {
                rule: format!("{}.archival_enabled", kind.code()),
                message:
                    "the policy archives data but the engine has no archive location; open it with a data directory or an archive location"
                        .into(),
            });
        }
    }
    Ok(())
}

/// Runs `future` to completion on a thread of its own with its own runtime: loading an index
/// from an object store while an engine is built, from any context (inside a runtime or not).
fn block_on_thread<T: Send>(future: impl std::future::Future<Output = Result<T, EngineError>> + Send) -> Result<T, EngineError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime =
                    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| EngineError::Internal(e.to_string()))?;
                runtime.block_on(future)
            })
            .join()
            .unwrap_or_else(|_| Err(EngineError::Internal("loading the archive index panicked".into())))
    })
}

/// The start of the UTC day of `t`.
fn day_start(t: DateTime<Utc>) -> DateTime<Utc> {
    t.date_naive().and_hms_opt(0, 0, 0).map_or(t, |d| d.and_utc())
}

impl Engine {
    /// Sets the retention policy the engine enforces: source data older than the active period
    /// (whole UTC days, on the engine's clock) is archived to Parquet or deleted, and archives
    /// older than the archive period are removed. It is refused when it breaks a regulation it
    /// names (see [`RetentionPolicy::violations`]) or archives without an archive location.
    /// The engine applies it every hour while it runs inside a tokio runtime; call
    /// [`Engine::apply_retention`] to apply it now.
    pub fn set_retention_policy(&self, policy: RetentionPolicy) -> Result<(), EngineError> {
        let lifecycle = &self.inner.lifecycle;
        check_policy(&policy, lifecycle.archive.is_some())?;
        *lifecycle.policy.write().unwrap_or_else(|p| p.into_inner()) = Some(policy);
        self.enforce_retention();
        Ok(())
    }

    /// The retention policy enforced, if any.
    pub fn retention_policy(&self) -> Option<RetentionPolicy> {
        self.inner.lifecycle.policy.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The archive's index: every archived file and every retention run.
    pub fn archive_index(&self) -> ArchiveIndex {
        self.inner.lifecycle.index.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The data directory, when the engine has one.
    pub fn data_dir(&self) -> Option<&std::path::Path> {
        self.inner.lifecycle.data_dir.as_ref().map(DataDir::root)
    }

    /// Writes every in-memory table to the data directory as a checkpoint and removes the log
    /// it replaces, so that opening the directory reads Parquet rather than replaying appends.
    /// A no-op without a data directory.
    pub async fn checkpoint(&self) -> Result<(), EngineError> {
        let _run = self.inner.lifecycle.runs.lock().await;
        self.checkpoint_locked()
    }

    /// Writes a checkpoint and lets go of the data directory, so another engine (or this
    /// process, later) can open it. Calculations go on over the data in memory; registering,
    /// appending or removing data afterwards fails with [`EngineError::Storage`]. A no-op
    /// without a data directory. Dropping the engine lets go of the directory too, without
    /// the checkpoint (the log is replayed on opening).
    pub async fn close(&self) -> Result<(), EngineError> {
        let _run = self.inner.lifecycle.runs.lock().await;
        if self.inner.lifecycle.check_open().is_err() {
            return Ok(());
        }
        self.checkpoint_locked()?;
        if let Some(dir) = &self.inner.lifecycle.data_dir {
            dir.close();
        }
        Ok(())
    }

    fn checkpoint_locked(&self) -> Result<(), EngineError> {
        let lifecycle = &self.inner.lifecycle;
        let Some(dir) = &lifecycle.data_dir else { return Ok(()) };
        lifecycle.check_open()?;
        let (lsn, tables) = {
            let tables = self.inner.tables.write().unwrap_or_else(|p| p.into_inner());
            let mut wal = dir.wal.lock().unwrap_or_else(|p| p.into_inner());
            wal.rotate()?;
            let released = lifecycle.released.lock().unwrap_or_else(|p| p.into_inner());
            let pending = lifecycle.pending.lock().unwrap_or_else(|p| p.into_inner());
            let mut out = BTreeMap::new();
            for (model, data) in tables.iter() {
                let (batches, over_provider) = data.durable_rows();
                out.insert(model.clone(), DurableTable { batches, over_provider, run: released.get(model).copied().unwrap_or(0) });
            }
            for (model, batches) in pending.iter().filter(|(m, _)| !tables.contains_key(*m)) {
                out.insert(
                    model.clone(),
                    DurableTable { batches: batches.clone(), over_provider: true, run: released.get(model).copied().unwrap_or(0) },
                );
            }
            (wal.lsn, out)
        };
        let catalog = self.catalog();
        dir.checkpoint(|m| catalog.object_model(m).ok().map(|m| m.schema()), lsn, &tables)
    }

    /// Starts the hourly enforcement of the policy, once, when a tokio runtime is at hand.
    pub(crate) fn enforce_retention(&self) {
        let lifecycle = &self.inner.lifecycle;
        if lifecycle.policy.read().unwrap_or_else(|p| p.into_inner()).is_none() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        if lifecycle.enforcing.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let engine = Arc::downgrade(&self.inner);
        runtime.spawn(async move {
            loop {
                let Some(inner) = engine.upgrade() else { return };
                let clock = inner.options.clock.clone();
                drop(inner);
                let now = clock.now();
                let next = now + chrono::Duration::hours(1);
                let next = next.date_naive().and_hms_opt(chrono::Timelike::hour(&next), 0, 0).map_or(next, |t| t.and_utc());
                clock.wait_until(next).await;
                let Some(inner) = engine.upgrade() else { return };
                let engine = Engine { inner };
                if let Err(e) = engine.apply_retention().await {
                    tracing::warn!(error = %e, code = e.code(), "retention run failed; nothing was released");
                }
            }
        });
    }
}
