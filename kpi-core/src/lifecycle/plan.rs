//! What retention would do now, without doing it, and how much data is hot and cold against
//! what the policy's storage estimate expects.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::split::{by_month, rows_before};
use crate::engine::Engine;
use crate::error::EngineError;

/// What [`Engine::apply_retention`] would do now.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RetentionPlan {
    /// The policy's source-data rule in words, e.g. `90 days active, archived 1 year`.
    pub policy: Option<String>,
    /// Where archives go.
    pub archive_location: Option<String>,
    /// Rows with event times before this leave active data.
    #[serde(serialize_with = "crate::result::instant")]
    pub before: Option<DateTime<Utc>>,
    /// Per object model with rows to release.
    pub releases: Vec<PlannedRelease>,
    /// Archive files whose archive period has ended, which would be removed.
    pub expiring_files: Vec<String>,
}

/// Rows of one object model that would leave active data.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedRelease {
    /// The object model.
    pub object_model: String,
    /// `archive` or `delete`.
    pub action: &'static str,
    /// Rows.
    pub rows: u64,
    /// Their months (`YYYY-MM`).
    pub periods: Vec<String>,
    /// Their size in memory (Arrow), in bytes.
    pub bytes: u64,
}

/// Rows and bytes hot (active) and cold (archived), per object model.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StorageReport {
    /// Per object model.
    pub models: Vec<ModelStorage>,
    /// Bytes of the write-ahead log since the last checkpoint.
    pub wal_bytes: u64,
}

/// Storage of one object model.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ModelStorage {
    /// The object model.
    pub object_model: String,
    /// Active rows held in memory.
    pub hot_rows: u64,
    /// Their size in memory (Arrow), in bytes.
    pub hot_bytes: u64,
    /// Archived rows.
    pub cold_rows: u64,
    /// Their size in the archive (zstd Parquet), in bytes.
    pub cold_bytes: u64,
    /// Archive files.
    pub cold_files: u64,
    /// Hot bytes per day of event time the active rows span.
    pub hot_bytes_per_day: Option<f64>,
    /// What the policy's storage estimate expects hot at that rate: bytes per day times the
    /// active days (the formula of the pricing model's storage estimate).
    pub expected_hot_bytes: Option<f64>,
}

impl Engine {
    /// What [`Engine::apply_retention`] would archive, delete and remove if it ran now.
    pub fn retention_plan(&self) -> Result<RetentionPlan, EngineError> {
        let Some(policy) = self.retention_policy() else { return Ok(RetentionPlan::default()) };
        let rule = &policy.staged_source_data;
        let now = self.inner.options.clock.now();
        let before = super::run::cutoff(now, rule);
        let mut plan = RetentionPlan {
            policy: Some(rule.describe()),
            archive_location: self.inner.lifecycle.archive.as_ref().map(|a| a.describe()),
            before: Some(before),
            ..RetentionPlan::default()
        };
        let tables = self.inner.tables.read().unwrap_or_else(|p| p.into_inner()).clone();
        let mut models: Vec<&String> = tables.keys().collect();
        models.sort();
        for code in models {
            let model = self.model(code)?;
            let Some(batches) = tables[code].active_batches() else { continue };
            if model.time_column.is_none() {
                continue;
            }
            let rule = policy.rule(super::history::data_kind_of(code));
            let old = rows_before(&model, &batches, super::run::cutoff(now, rule).timestamp_micros())?;
            let rows: u64 = old.iter().map(|b| b.num_rows() as u64).sum();
            if rows > 0 {
                plan.releases.push(PlannedRelease {
                    object_model: code.clone(),
                    action: if rule.archival_enabled { "archive" } else { "delete" },
                    rows,
                    periods: by_month(&model, &old)?.keys().map(|m| m.label()).collect(),
                    bytes: old.iter().map(|b| b.get_array_memory_size() as u64).sum(),
                });
            }
        }
        let index = self.archive_index();
        let lifecycle = &self.inner.lifecycle;
        if let Some(store) = &lifecycle.archive {
            plan.expiring_files = index
                .entries
                .iter()
                .filter(|e| e.removed_at.is_none() && e.expires_at.is_some_and(|t| t <= now))
                .map(|e| store.describe_file(&e.file))
                .collect();
        }
        Ok(plan)
    }

    /// Rows and bytes hot and cold per object model, with what the policy's storage estimate
    /// expects hot at the current rate.
    pub fn storage(&self) -> StorageReport {
        let tables = self.inner.tables.read().unwrap_or_else(|p| p.into_inner()).clone();
        let lifecycle = &self.inner.lifecycle;
        let active_days = self.retention_policy().map(|p| p.staged_source_data.active_days() as f64);
        let mut codes: Vec<String> = tables.keys().cloned().chain(lifecycle.archived_models()).collect();
        codes.sort();
        codes.dedup();
        let mut report = StorageReport {
            wal_bytes: lifecycle.data_dir.as_ref().map_or(0, |d| d.wal.lock().unwrap_or_else(|p| p.into_inner()).bytes),
            ..StorageReport::default()
        };
        for code in codes {
            let mut storage = ModelStorage { object_model: code.clone(), ..ModelStorage::default() };
            if let Some(batches) = tables.get(&code).and_then(|d| d.active_batches()) {
                storage.hot_rows = batches.iter().map(|b| b.num_rows() as u64).sum();
                storage.hot_bytes = batches.iter().map(|b| b.get_array_memory_size() as u64).sum();
                if let Some((first, last)) = tables.get(&code).and_then(|d| d.memory_span()) {
                    let days = ((last - first) as f64 / 86_400e6).max(1.0);
                    storage.hot_bytes_per_day = Some(storage.hot_bytes as f64 / days);
                    storage.expected_hot_bytes = active_days.map(|d| storage.hot_bytes as f64 / days * d);
                }
            }
            if let Some(archive) = lifecycle.archive_of(&code) {
                storage.cold_rows = archive.rows();
                storage.cold_bytes = archive.files.iter().map(|f| f.bytes).sum();
                storage.cold_files = archive.files.len() as u64;
            }
            report.models.push(storage);
        }
        report
    }
}
