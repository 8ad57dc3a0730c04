//! KPI definitions changed in a running engine.

use napi_derive::napi;
use serde_json::Value;

use crate::engine::Engine;
use crate::errors::{self, guard, guard_async};

#[napi]
impl Engine {
    /// Creates or replaces a KPI from its definition; the change.
    #[napi]
    pub async fn define_kpi(&self, definition: Value) -> napi::Result<Value> {
        guard_async(async {
            let kpi: kpi_catalog::KpiDefinition = kpi_catalog::parse_definition("KPI", &definition.to_string()).map_err(errors::catalog)?;
            let change = self.core().define_kpi(kpi).await.map_err(errors::engine)?;
            serde_json::to_value(change).map_err(errors::json_failed)
        })
        .await
    }

    /// Removes a KPI (and the KPIs using it, with `cascade`); the change.
    #[napi]
    pub async fn remove_kpi(&self, code: String, cascade: Option<bool>) -> napi::Result<Value> {
        guard_async(async {
            let change = self.core().remove_kpi(&code, cascade.unwrap_or(false)).await.map_err(errors::engine)?;
            serde_json::to_value(change).map_err(errors::json_failed)
        })
        .await
    }

    /// Recalculates every live view of the KPI `code` past the cache; how many views.
    #[napi]
    pub async fn trigger(&self, code: String) -> napi::Result<u32> {
        guard_async(async { Ok(self.core().trigger(&code).await.map_err(errors::engine)? as u32) }).await
    }

    /// The client configuration of a client's engine, with the KPIs defined in it since.
    #[napi]
    pub fn client(&self) -> Option<crate::catalog::ClientConfig> {
        self.core().client().map(|inner| crate::catalog::ClientConfig { inner })
    }

    /// The KPIs that use `code`, directly or through others.
    #[napi]
    pub fn dependants(&self, code: String) -> napi::Result<Vec<String>> {
        guard(|| Ok(self.core().dependants(&code)))
    }
}
