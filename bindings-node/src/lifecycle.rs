//! Data lifecycle: retention policy documents in, plans, reports, the archive index, storage
//! and KPI history out as plain objects.

use napi_derive::napi;
use serde_json::Value;

use crate::engine::{CalcResult, Engine};
use crate::errors::{self, guard, guard_async};

fn json<T: serde::Serialize>(value: &T) -> napi::Result<Value> {
    serde_json::to_value(value).map_err(errors::json_failed)
}

#[napi]
impl Engine {
    /// Sets the retention policy from its document (a client configuration's `retention`).
    #[napi]
    pub fn set_retention_policy(&self, policy: Value) -> napi::Result<()> {
        guard(|| {
            let policy: kpi_catalog::RetentionPolicy = serde_json::from_value(policy)
                .map_err(|e| kpi_core::EngineError::InvalidDocument { document: "retention policy", message: e.to_string() })
                .map_err(errors::engine)?;
            napi::bindgen_prelude::within_runtime_if_available(|| self.core().set_retention_policy(policy)).map_err(errors::engine)
        })
    }

    /// The retention policy, or `null`.
    #[napi]
    pub fn retention_policy(&self) -> napi::Result<Value> {
        guard(|| json(&self.core().retention_policy()))
    }

    /// What applying the policy now would do.
    #[napi]
    pub fn retention_plan(&self) -> napi::Result<Value> {
        guard(|| json(&self.core().retention_plan().map_err(errors::engine)?))
    }

    /// Applies the policy now.
    #[napi]
    pub async fn apply_retention(&self) -> napi::Result<Value> {
        guard_async(async { json(&self.core().apply_retention().await.map_err(errors::engine)?) }).await
    }

    /// The archive index.
    #[napi]
    pub fn archive_index(&self) -> napi::Result<Value> {
        guard(|| json(&self.core().archive_index()))
    }

    /// Checks every archive file against its checksum.
    #[napi]
    pub async fn verify_archive(&self) -> napi::Result<()> {
        guard_async(async { self.core().verify_archive().await.map_err(errors::engine) }).await
    }

    /// Writes a checkpoint of every table to the data directory.
    #[napi]
    pub async fn checkpoint(&self) -> napi::Result<()> {
        guard_async(async { self.core().checkpoint().await.map_err(errors::engine) }).await
    }

    /// Checkpoints and lets go of the data directory.
    #[napi]
    pub async fn close(&self) -> napi::Result<()> {
        guard_async(async { self.core().close().await.map_err(errors::engine) }).await
    }

    /// The data directory, or `null`.
    #[napi]
    pub fn data_dir(&self) -> Option<String> {
        self.core().data_dir().map(|p| p.display().to_string())
    }

    /// Rows and bytes hot and cold per object model.
    #[napi]
    pub fn storage(&self) -> napi::Result<Value> {
        guard(|| json(&self.core().storage()))
    }

    /// Records a result's values as KPI history; the rows recorded.
    #[napi]
    pub fn record_history(&self, result: &CalcResult) -> napi::Result<u32> {
        guard(|| Ok(u32::try_from(self.core().record_history(result.core()).map_err(errors::engine)?).unwrap_or(u32::MAX)))
    }

    /// KPI history for a history query document.
    #[napi]
    pub async fn history(&self, query: Value) -> napi::Result<Value> {
        guard_async(async {
            let query = kpi_core::HistoryQuery::from_document(query, &self.core().options().calendar).map_err(errors::engine)?;
            json(&self.core().history(&query).await.map_err(errors::engine)?)
        })
        .await
    }
}
