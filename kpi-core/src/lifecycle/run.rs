//! A retention run: for each object model, rows past the active period are written to the
//! archive (or deleted, as the policy says) and released from active data; archives past their
//! archive period are removed.

use chrono::{DateTime, Utc};
use datafusion::arrow::array::RecordBatch;
use kpi_catalog::{DataKind, RetentionRule};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::datadir::file_safe;
use super::day_start;
use super::fault::{Fault, hit};
use super::index::{ArchiveEntry, ArchiveRun};
use super::parquet::to_parquet;
use super::split::{Month, by_month, rows_before, split_before};
use crate::data::TableData;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::metrics::Counters;

/// What one retention run did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RetentionReport {
    /// When it ran (the engine's clock).
    #[serde(serialize_with = "crate::result::instant")]
    pub at: Option<DateTime<Utc>>,
    /// Per object model.
    pub models: Vec<RunOutcome>,
    /// Archive files removed because their archive period ended.
    pub expired_files: Vec<String>,
    /// How long the run took, in seconds.
    pub seconds: f64,
}

/// What a run did to one object model.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunOutcome {
    /// The object model.
    pub object_model: String,
    /// Rows with event times before this were released.
    #[serde(serialize_with = "crate::result::instant")]
    pub before: Option<DateTime<Utc>>,
    /// Rows written to the archive.
    pub archived_rows: u64,
    /// Rows deleted.
    pub deleted_rows: u64,
    /// Archive files written.
    pub files: Vec<String>,
    /// Bytes written.
    pub bytes: u64,
    /// Why nothing was done, when nothing was (e.g. data behind a file or database).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// How far a run has come, for progress bars.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RetentionProgress {
    /// The object model being worked on.
    pub object_model: String,
    /// Steps done and the steps of this model (one per month archived, plus the release).
    pub done: u64,
    /// The steps in all.
    pub total: u64,
    /// Rows handled so far in this model.
    pub rows: u64,
}

impl Engine {
    /// Applies the retention policy now (see [`Engine::set_retention_policy`]); without a policy
    /// nothing happens. Rows are released only after their archive is durable, so an error (an
    /// unwritable archive location, for example) leaves them active.
    pub async fn apply_retention(&self) -> Result<RetentionReport, EngineError> {
        self.apply_retention_with(&|_| {}).await
    }

    /// [`Engine::apply_retention`], telling `progress` after each step.
    pub async fn apply_retention_with(
        &self,
        progress: &(dyn Fn(&RetentionProgress) + Send + Sync),
    ) -> Result<RetentionReport, EngineError> {
        let started = std::time::Instant::now();
        let lifecycle = &self.inner.lifecycle;
        let Some(policy) = self.retention_policy() else { return Ok(RetentionReport::default()) };
        let _run = lifecycle.runs.lock().await;
        lifecycle.check_open()?;
        let now = self.inner.options.clock.now();
        for kind in [DataKind::StagedSourceData, DataKind::AnalyticsData] {
            if policy.rule(kind).archival_enabled
                && let Some(store) = &lifecycle.archive
            {
                store.check_writable().await?;
            }
        }
        let mut report = RetentionReport { at: Some(now), ..RetentionReport::default() };
        let mut models: Vec<String> = self.inner.tables.read().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect();
        models.sort();
        let mut released_any = false;
        for model in models {
            // Source data by its rule; KPI history (analytics data) by its own.
            let kind = super::history::data_kind_of(&model);
            let rule = policy.rule(kind);
            let before = cutoff(now, rule);
            let outcome = self.retire(&model, kind, rule, before, now, progress).await?;
            released_any |= outcome.archived_rows + outcome.deleted_rows > 0;
            report.models.push(outcome);
        }
        report.expired_files = self.expire_archives(now).await?;
        if released_any {
            // The log's records before the release are now redundant: checkpoint.
            self.checkpoint_locked()?;
        }
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }

    /// Archives or deletes the rows of `model` before `before`.
    async fn retire(
        &self,
        model_code: &str,
        kind: DataKind,
        rule: &RetentionRule,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
        progress: &(dyn Fn(&RetentionProgress) + Send + Sync),
    ) -> Result<RunOutcome, EngineError> {
        let lifecycle = &self.inner.lifecycle;
        let mut outcome = RunOutcome { object_model: model_code.to_string(), before: Some(before), ..RunOutcome::default() };
        let model = self.model(model_code)?;
        if model.time_column.is_none() {
            outcome.skipped = Some("the object model has no time column".into());
            return Ok(outcome);
        }
        // What the run reads: the active rows at one log position.
        let (version, lsn, batches) = {
            let tables = self.inner.tables.read().unwrap_or_else(|p| p.into_inner());
            let Some(data) = tables.get(model_code) else { return Ok(outcome) };
            let Some(batches) = data.active_batches() else {
                outcome.skipped = Some("its data is read from a file or a database, which keeps it".into());
                return Ok(outcome);
            };
            (data.version, lifecycle.lsn(), batches)
        };
        let cutoff = before.timestamp_micros();
        let old = rows_before(&model, &batches, cutoff)?;
        let rows: u64 = old.iter().map(|b| b.num_rows() as u64).sum();
        if rows == 0 {
            return Ok(outcome);
        }
        let mut index = self.archive_index();
        let run = index.next_run();
        // One step per month archived, and the release.
        let mut total = 1;
        if rule.archival_enabled {
            let store = lifecycle.archive.as_ref().ok_or_else(|| EngineError::Retention {
                rule: format!("{}.archival_enabled", kind.code()),
                message: "there is no archive location".into(),
            })?;
            let months = by_month(&model, &old)?;
            total += months.len() as u64;
            let schema = model.schema();
            let expires = rule.archive_days();
            for (step, (month, parts)) in months.into_iter().enumerate() {
                let file = format!("{}/{}/{}/run-{run}.parquet", kind.code(), file_safe(model_code), month.label());
                if step as u64 + 2 == total {
                    hit(Fault::ArchiveBeforeSync)?;
                }
                // A month whose archive period has already ended is deleted, not written.
                if expiry(month, expires).is_some_and(|t| t <= now) {
                    outcome.deleted_rows += parts.iter().map(|b| b.num_rows() as u64).sum::<u64>();
                    continue;
                }
                let entry = archive_month(
                    store,
                    &file,
                    &schema,
                    &parts,
                    month,
                    ArchiveContext {
                        model: model_code,
                        kind,
                        client: lifecycle.client.clone(),
                        policy: rule.describe(),
                        run,
                        now,
                        expires_days: expires,
                    },
                )
                .await?;
                outcome.files.push(store.describe_file(&entry.file));
                outcome.bytes += entry.bytes;
                outcome.archived_rows += entry.rows;
                index.entries.push(entry);
                progress(&RetentionProgress {
                    object_model: model_code.to_string(),
                    done: step as u64 + 1,
                    total,
                    rows: outcome.archived_rows,
                });
            }
            hit(Fault::ArchiveAfterParquet)?;
        } else {
            outcome.deleted_rows = rows;
        }
        index.runs.push(ArchiveRun {
            run,
            object_model: model_code.to_string(),
            before,
            lsn,
            archived_rows: outcome.archived_rows,
            deleted_rows: outcome.deleted_rows,
            at: now,
        });
        // The index records the run before anything is released: a crash from here on still
        // leaves every row once in archive or active data (see `datadir`).
        if let Some(store) = &lifecycle.archive {
            index.save(store).await?;
        }
        hit(Fault::ArchiveAfterIndex)?;
        lifecycle.set_index(index, &self.catalog(), &self.inner.ctx)?;
        hit(Fault::ArchiveBeforeRelease)?;
        self.release(model_code, &model, version, batches.iter().map(RecordBatch::num_rows).sum(), cutoff, run)?;
        Counters::add(&self.inner.counters.rows_archived, outcome.archived_rows);
        Counters::add(&self.inner.counters.rows_deleted, outcome.deleted_rows);
        progress(&RetentionProgress { object_model: model_code.to_string(), done: total, total, rows });
        Ok(outcome)
    }

    /// Releases from `model_code`'s active data the rows a run read (its first `read_rows` rows,
    /// as of `version`) with event times before `cutoff`; rows appended since stay. A
    /// registration since then replaced the rows read: nothing is left to release.
    fn release(
        &self,
        model_code: &str,
        model: &kpi_catalog::ObjectModel,
        version: u64,
        read_rows: usize,
        cutoff: i64,
        run: u64,
    ) -> Result<(), EngineError> {
        let lifecycle = &self.inner.lifecycle;
        let mut tables = self.inner.tables.write().unwrap_or_else(|p| p.into_inner());
        let Some(current) = tables.get(model_code) else { return Ok(()) };
        let replaced = current.log_since > version;
        let mut kept = Vec::new();
        if let (false, Some(batches)) = (replaced, current.active_batches()) {
            let mut seen = 0;
            for batch in batches {
                let read = read_rows.saturating_sub(seen).min(batch.num_rows());
                seen += batch.num_rows();
                if read > 0
                    && let (_, Some(rest)) = split_before(model, &batch.slice(0, read), cutoff)?
                {
                    kept.push(rest);
                }
                if read < batch.num_rows() {
                    kept.push(batch.slice(read, batch.num_rows() - read));
                }
            }
            let version = self.next_version();
            let data = TableData::memory(model, kept, version, self.inner.layout)?
                .at_version(version)
                .with_watermark(current.watermark)
                .released_rows()
                .with_archive(&self.inner.ctx, lifecycle.archive_of(model_code))?;
            tables.insert(model_code.to_string(), data);
            drop(tables);
            self.announce(version);
        } else if !replaced {
            // Data behind a provider: only its archive changed.
            let data = current.clone().with_archive(&self.inner.ctx, lifecycle.archive_of(model_code))?;
            tables.insert(model_code.to_string(), data);
        }
        lifecycle.released.lock().unwrap_or_else(|p| p.into_inner()).insert(model_code.to_string(), run);
        Ok(())
    }

    /// Removes archive files past their archive period: the index first says they are gone
    /// (so no calculation reads them), then the files go.
    async fn expire_archives(&self, now: DateTime<Utc>) -> Result<Vec<String>, EngineError> {
        let lifecycle = &self.inner.lifecycle;
        let Some(store) = &lifecycle.archive else { return Ok(Vec::new()) };
        let mut index = self.archive_index();
        let mut expired = Vec::new();
        for entry in index.entries.iter_mut().filter(|e| e.removed_at.is_none() && e.expires_at.is_some_and(|t| t <= now)) {
            entry.removed_at = Some(now);
            expired.push(entry.file.clone());
        }
        if expired.is_empty() {
            return Ok(expired);
        }
        index.save(store).await?;
        lifecycle.set_index(index, &self.catalog(), &self.inner.ctx)?;
        self.attach_archives()?;
        for file in &expired {
            store.delete(file).await?;
        }
        Ok(expired.iter().map(|f| store.describe_file(f)).collect())
    }

    /// Reads every table together with its archive as the index now has it.
    fn attach_archives(&self) -> Result<(), EngineError> {
        let mut tables = self.inner.tables.write().unwrap_or_else(|p| p.into_inner());
        let mut changed = 0;
        for (model, data) in tables.iter_mut() {
            let archive = self.inner.lifecycle.archive_of(model);
            if archive.as_ref().map(|a| a.files.len()) != data.archive.as_ref().map(|a| a.files.len()) {
                let version = self.next_version();
                *data = data.clone().at_version(version).released_rows().with_archive(&self.inner.ctx, archive)?;
                changed = changed.max(version);
            }
        }
        drop(tables);
        if changed > 0 {
            self.announce(changed);
        }
        Ok(())
    }
}

/// The start of the UTC day `rule`'s active period before `now` begins: rows before it leave
/// active data.
pub(crate) fn cutoff(now: DateTime<Utc>, rule: &RetentionRule) -> DateTime<Utc> {
    // Clamped to what the calendar can hold (an active period of millions of years keeps all).
    let days = i64::try_from(rule.active_days()).unwrap_or(i64::MAX).min(3_000_000);
    day_start(now.checked_sub_signed(chrono::Duration::days(days)).unwrap_or(DateTime::<Utc>::MIN_UTC))
}

/// When the archive of `month` expires: the archive period after the month ends (`None` to
/// keep it indefinitely), clamped to what the calendar holds.
fn expiry(month: Month, archive_days: Option<u64>) -> Option<DateTime<Utc>> {
    let days = i64::try_from(archive_days?).unwrap_or(i64::MAX).min(3_000_000);
    Some(month.end().checked_add_signed(chrono::Duration::days(days)).unwrap_or(DateTime::<Utc>::MAX_UTC))
}

/// What an archive entry records besides its file.
struct ArchiveContext<'a> {
    model: &'a str,
    kind: DataKind,
    client: Option<String>,
    policy: String,
    run: u64,
    now: DateTime<Utc>,
    expires_days: Option<u64>,
}

/// Writes the rows of one month as `file`, synced; its index entry.
async fn archive_month(
    store: &super::store::ArchiveStore,
    file: &str,
    schema: &datafusion::arrow::datatypes::SchemaRef,
    parts: &[RecordBatch],
    month: Month,
    context: ArchiveContext<'_>,
) -> Result<ArchiveEntry, EngineError> {
    let bytes = to_parquet(schema, parts)?;
    let entry = ArchiveEntry {
        object_model: context.model.to_string(),
        data: context.kind,
        period: month.label(),
        period_start: month.start(),
        period_end: month.end(),
        file: file.to_string(),
        rows: parts.iter().map(|b| b.num_rows() as u64).sum(),
        bytes: bytes.len() as u64,
        sha256: hex(&Sha256::digest(&bytes)),
        client: context.client,
        policy: context.policy,
        run: context.run,
        archived_at: context.now,
        // Kept for the archive period after the month ends.
        expires_at: context
            .expires_days
            .map(|days| month.end() + chrono::Duration::days(i64::try_from(days).unwrap_or(i64::MAX / 86_400_000_000).min(3_000_000))),
        removed_at: None,
    };
    store.put(file, bytes).await?;
    Ok(entry)
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
