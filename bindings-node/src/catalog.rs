//! The catalog, browsed as plain objects, and demo data as Arrow IPC streams.

use std::collections::HashMap;
use std::sync::Arc;

use kpi_catalog::DemoOptions;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use serde_json::Value;

use crate::engine::ipc;
use crate::errors;

/// A catalog of KPIs, object models, modules and value chains.
#[napi]
pub struct Catalog {
    pub(crate) inner: Arc<kpi_catalog::Catalog>,
}

/// Which KPIs to list.
#[napi(object)]
pub struct KpiFilter {
    /// Only the KPIs of this module.
    pub module: Option<String>,
    /// Only the KPIs of this value chain.
    pub value_chain: Option<String>,
}

/// How much demo data to generate.
#[napi(object)]
pub struct DemoInput {
    /// Rows of the main fact tables (default 100,000).
    pub rows: Option<u32>,
    /// The seed (default 42).
    pub seed: Option<u32>,
    /// The first instant of event times (with `end`).
    pub start: Option<String>,
    /// The end of event times (with `start`).
    pub end: Option<String>,
}

fn json<T: serde::Serialize>(value: &T) -> napi::Result<Value> {
    serde_json::to_value(value).map_err(|e| errors::coded("KPI_CATALOG", e))
}

#[napi]
impl Catalog {
    /// The standard catalog.
    #[napi(factory)]
    pub fn standard() -> Catalog {
        Catalog { inner: Arc::new(kpi_catalog::Catalog::standard()) }
    }

    /// A catalog from YAML text.
    #[napi(factory)]
    pub fn from_yaml(text: String) -> napi::Result<Catalog> {
        Ok(Catalog { inner: Arc::new(kpi_catalog::Catalog::from_yaml(&text).map_err(errors::catalog)?) })
    }

    /// A catalog from JSON text.
    #[napi(factory)]
    pub fn from_json(text: String) -> napi::Result<Catalog> {
        Ok(Catalog { inner: Arc::new(kpi_catalog::Catalog::from_json(&text).map_err(errors::catalog)?) })
    }

    /// The KPIs, optionally of one module and/or value chain.
    #[napi]
    pub fn kpis(&self, filter: Option<KpiFilter>) -> napi::Result<Value> {
        let c = &self.inner;
        let (module, chain) = filter.map_or((None, None), |f| (f.module, f.value_chain));
        let mut kpis: Vec<&kpi_catalog::KpiDefinition> = match &module {
            Some(m) => c.kpis_in_module(m).map_err(errors::catalog)?,
            None => c.kpis().collect(),
        };
        if let Some(chain) = chain {
            let in_chain = c.kpis_in_value_chain(&chain).map_err(errors::catalog)?;
            kpis.retain(|k| in_chain.iter().any(|x| x.code == k.code));
        }
        json(&kpis)
    }

    /// One KPI.
    #[napi]
    pub fn kpi(&self, code: String) -> napi::Result<Value> {
        json(self.inner.kpi(&code).map_err(errors::catalog)?)
    }

    /// The object models.
    #[napi]
    pub fn object_models(&self) -> napi::Result<Value> {
        json(&self.inner.object_models().collect::<Vec<_>>())
    }

    /// The modules.
    #[napi]
    pub fn modules(&self) -> napi::Result<Value> {
        json(&self.inner.modules().collect::<Vec<_>>())
    }

    /// The value chains.
    #[napi]
    pub fn value_chains(&self) -> napi::Result<Value> {
        json(&self.inner.value_chains().collect::<Vec<_>>())
    }

    /// The object models and columns the KPIs need.
    #[napi]
    pub fn required_objects(&self, kpis: Vec<String>) -> napi::Result<Value> {
        json(&self.inner.required_objects(&kpis).map_err(errors::catalog)?)
    }

    /// A Mermaid diagram of the object models.
    #[napi]
    pub fn diagram(&self, object_models: Vec<String>) -> napi::Result<String> {
        self.inner.diagram(&object_models).map_err(errors::catalog)
    }
}

/// Demo data for every object model: table name → Arrow IPC stream.
#[napi]
pub fn generate_demo(catalog: &Catalog, input: Option<DemoInput>) -> napi::Result<HashMap<String, Buffer>> {
    let input = input.unwrap_or(DemoInput { rows: None, seed: None, start: None, end: None });
    let mut options = DemoOptions::new(input.rows.unwrap_or(100_000) as usize).with_seed(u64::from(input.seed.unwrap_or(42)));
    match (&input.start, &input.end) {
        (Some(start), Some(end)) => options = options.with_range(start, end).map_err(errors::catalog)?,
        (None, None) => {}
        _ => return Err(errors::coded("KPI_QUERY", "give both start and end, or neither")),
    }
    let data = catalog.inner.demo_data(&options).map_err(errors::catalog)?;
    data.into_tables().into_iter().map(|(name, (schema, batches))| Ok((name, ipc(&schema, &batches)?.into()))).collect()
}
