//! The catalog, browsed as plain objects and edited (an engine keeps the catalog it was made
//! with), imports of the seeds' JSON and SQL definitions, client configurations, and demo data
//! as Arrow IPC streams.

use std::collections::HashMap;
use std::sync::Arc;

use kpi_catalog::DemoOptions;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::engine::ipc;
use crate::errors::{self, guard};

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
    serde_json::to_value(value).map_err(errors::json_failed)
}

fn definition<T: DeserializeOwned>(what: &str, value: &Value) -> napi::Result<T> {
    kpi_catalog::parse_definition(what, &value.to_string()).map_err(errors::catalog)
}

fn catalog(inner: kpi_catalog::Catalog) -> Catalog {
    Catalog { inner: Arc::new(inner) }
}

impl Catalog {
    /// Runs an import on a copy, kept only when it succeeds (an import adds its KPIs before
    /// validating them, so a failed one must leave this catalog as it was).
    fn import(
        &mut self,
        run: impl FnOnce(&mut kpi_catalog::Catalog) -> Result<Vec<String>, kpi_catalog::CatalogError>,
    ) -> napi::Result<Vec<String>> {
        let mut next = self.inner.as_ref().clone();
        let codes = guard(|| run(&mut next).map_err(errors::catalog))?;
        self.inner = Arc::new(next);
        Ok(codes)
    }
}

#[napi]
impl Catalog {
    /// The standard catalog.
    #[napi(factory)]
    pub fn standard() -> Catalog {
        catalog(kpi_catalog::Catalog::standard())
    }

    /// An empty catalog.
    #[napi(factory)]
    pub fn empty() -> Catalog {
        catalog(kpi_catalog::Catalog::new())
    }

    /// A catalog from YAML text.
    #[napi(factory)]
    pub fn from_yaml(text: String) -> napi::Result<Catalog> {
        guard(|| Ok(catalog(kpi_catalog::Catalog::from_yaml(&text).map_err(errors::catalog)?)))
    }

    /// A catalog from JSON text.
    #[napi(factory)]
    pub fn from_json(text: String) -> napi::Result<Catalog> {
        guard(|| Ok(catalog(kpi_catalog::Catalog::from_json(&text).map_err(errors::catalog)?)))
    }

    /// A catalog imported from a dbt project (directory, YAML file or semantic manifest):
    /// `{ catalog, skipped }`, the catalog as JSON text for `fromJson`.
    #[napi(js_name = "importDbt")]
    pub fn import_dbt(path: String) -> napi::Result<Value> {
        guard(|| {
            let imported = kpi_catalog::import::import_dbt(&path).map_err(errors::catalog)?;
            let catalog = imported.catalog.to_json().map_err(errors::catalog)?;
            let skipped: Vec<Value> = imported.skipped.iter().map(kpi_catalog::import::Skipped::to_json).collect();
            Ok(serde_json::json!({ "catalog": catalog, "skipped": skipped }))
        })
    }

    /// A catalog from a YAML or JSON file.
    #[napi(factory)]
    pub fn load(path: String) -> napi::Result<Catalog> {
        guard(|| Ok(catalog(kpi_catalog::Catalog::load(&path).map_err(errors::catalog)?)))
    }

    /// The KPIs, optionally of one module and/or value chain.
    #[napi]
    pub fn kpis(&self, filter: Option<KpiFilter>) -> napi::Result<Value> {
        guard(|| {
            let (module, chain) = filter.map_or((None, None), |f| (f.module, f.value_chain));
            json(&self.inner.kpis_filtered(module.as_deref(), chain.as_deref()).map_err(errors::catalog)?)
        })
    }

    /// One KPI.
    #[napi]
    pub fn kpi(&self, code: String) -> napi::Result<Value> {
        guard(|| json(self.inner.kpi(&code).map_err(errors::catalog)?))
    }

    /// The KPIs matching every word of `text`, best first: `{ kpi, score }`.
    #[napi]
    pub fn search(&self, text: String) -> napi::Result<Value> {
        guard(|| json(&self.inner.search(&text)))
    }

    /// The object models.
    #[napi]
    pub fn object_models(&self) -> napi::Result<Value> {
        guard(|| json(&self.inner.object_models().collect::<Vec<_>>()))
    }

    /// One object model.
    #[napi]
    pub fn object_model(&self, code: String) -> napi::Result<Value> {
        guard(|| json(self.inner.object_model(&code).map_err(errors::catalog)?))
    }

    /// The modules, optionally of one value chain.
    #[napi]
    pub fn modules(&self, value_chain: Option<String>) -> napi::Result<Value> {
        guard(|| match value_chain {
            Some(chain) => json(&self.inner.modules_in_value_chain(&chain).map_err(errors::catalog)?),
            None => json(&self.inner.modules().collect::<Vec<_>>()),
        })
    }

    /// One module.
    #[napi]
    pub fn module(&self, code: String) -> napi::Result<Value> {
        guard(|| json(self.inner.module(&code).map_err(errors::catalog)?))
    }

    /// The value chains.
    #[napi]
    pub fn value_chains(&self) -> napi::Result<Value> {
        guard(|| json(&self.inner.value_chains().collect::<Vec<_>>()))
    }

    /// One value chain.
    #[napi]
    pub fn value_chain(&self, code: String) -> napi::Result<Value> {
        guard(|| json(self.inner.value_chain(&code).map_err(errors::catalog)?))
    }

    /// The object models and columns the KPIs need.
    #[napi]
    pub fn required_objects(&self, kpis: Vec<String>) -> napi::Result<Value> {
        guard(|| json(&self.inner.required_objects(&kpis).map_err(errors::catalog)?))
    }

    /// A Mermaid diagram of the object models.
    #[napi]
    pub fn diagram(&self, object_models: Vec<String>) -> napi::Result<String> {
        guard(|| self.inner.diagram(&object_models).map_err(errors::catalog))
    }

    /// Every validation problem (empty when the catalog is valid).
    #[napi]
    pub fn problems(&self) -> napi::Result<Value> {
        guard(|| Ok(self.inner.problems().to_json()))
    }

    /// Every problem of a formula over the catalog (empty when it is valid).
    #[napi]
    pub fn validate_formula(&self, formula: String) -> napi::Result<Value> {
        guard(|| json(&self.inner.validate_formula(&formula)))
    }

    /// Throws a `CatalogError` listing every problem, if there are any.
    #[napi]
    pub fn validate(&self) -> napi::Result<()> {
        guard(|| self.inner.validate().map_err(errors::catalog))
    }

    /// The catalog as YAML.
    #[napi]
    pub fn to_yaml(&self) -> napi::Result<String> {
        guard(|| self.inner.to_yaml().map_err(errors::catalog))
    }

    /// The catalog as JSON text.
    #[napi]
    pub fn to_json_text(&self) -> napi::Result<String> {
        guard(|| self.inner.to_json().map_err(errors::catalog))
    }

    /// Writes the catalog to a YAML or JSON file (by its extension).
    #[napi]
    pub fn save(&self, path: String) -> napi::Result<()> {
        guard(|| self.inner.save(&path).map_err(errors::catalog))
    }

    /// Adds (or replaces) a KPI.
    #[napi]
    pub fn add_kpi(&mut self, definition_value: Value) -> napi::Result<()> {
        guard(|| {
            let kpi: kpi_catalog::KpiDefinition = definition("KPI", &definition_value)?;
            Arc::make_mut(&mut self.inner).add_kpi(kpi);
            Ok(())
        })
    }

    /// Removes a KPI; its definition, or null.
    #[napi]
    pub fn remove_kpi(&mut self, code: String) -> napi::Result<Option<Value>> {
        guard(|| Arc::make_mut(&mut self.inner).remove_kpi(&code).map(|k| json(&k)).transpose())
    }

    /// Adds (or replaces) an object model.
    #[napi]
    pub fn add_object_model(&mut self, definition_value: Value) -> napi::Result<()> {
        guard(|| {
            let model: kpi_catalog::ObjectModel = definition("object model", &definition_value)?;
            Arc::make_mut(&mut self.inner).add_object_model(model);
            Ok(())
        })
    }

    /// Adds (or replaces) a module.
    #[napi]
    pub fn add_module(&mut self, definition_value: Value) -> napi::Result<()> {
        guard(|| {
            let module: kpi_catalog::Module = definition("module", &definition_value)?;
            Arc::make_mut(&mut self.inner).add_module(module);
            Ok(())
        })
    }

    /// Adds (or replaces) a value chain.
    #[napi]
    pub fn add_value_chain(&mut self, definition_value: Value) -> napi::Result<()> {
        guard(|| {
            let chain: kpi_catalog::ValueChain = definition("value chain", &definition_value)?;
            Arc::make_mut(&mut self.inner).add_value_chain(chain);
            Ok(())
        })
    }

    /// Adds everything of `other`; its definitions replace these of the same code.
    #[napi]
    pub fn extend(&mut self, other: &Catalog) {
        Arc::make_mut(&mut self.inner).extend(other.inner.as_ref().clone());
    }

    /// Imports KPIs in the seed's `KPIDefinition` JSON shape; their codes.
    #[napi]
    pub fn import_seed_json(&mut self, text: String) -> napi::Result<Vec<String>> {
        guard(|| self.import(|c| kpi_catalog::import::import_seed_json(&text, c)))
    }

    /// Imports SQL-defined KPIs (`[{ code, query, name?, schedule? }]`); their codes.
    #[napi]
    pub fn import_sql(&mut self, kpis: Value) -> napi::Result<Vec<String>> {
        guard(|| {
            let kpis: Vec<kpi_catalog::import::SqlKpi> = definition("SQL KPIs", &kpis)?;
            self.import(|c| kpi_catalog::import::import_sql(&kpis, c))
        })
    }

    /// The catalog as `client` sees it.
    #[napi]
    pub fn for_client(&self, client: &ClientConfig) -> napi::Result<Catalog> {
        guard(|| Ok(catalog(self.inner.for_client(&client.inner).map_err(errors::catalog)?)))
    }
}

/// One client's configuration: selected and custom KPIs, data sources, field mappings, retention.
#[napi]
pub struct ClientConfig {
    pub(crate) inner: kpi_catalog::ClientConfig,
}

#[napi]
impl ClientConfig {
    /// From YAML (or JSON) text.
    #[napi(factory)]
    pub fn from_yaml(text: String) -> napi::Result<ClientConfig> {
        guard(|| Ok(ClientConfig { inner: kpi_catalog::ClientConfig::from_yaml(&text).map_err(errors::catalog)? }))
    }

    /// From JSON text.
    #[napi(factory)]
    pub fn from_json(text: String) -> napi::Result<ClientConfig> {
        guard(|| Ok(ClientConfig { inner: kpi_catalog::ClientConfig::from_json(&text).map_err(errors::catalog)? }))
    }

    /// As YAML.
    #[napi]
    pub fn to_yaml(&self) -> napi::Result<String> {
        guard(|| self.inner.to_yaml().map_err(errors::catalog))
    }

    /// As a plain object.
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> napi::Result<Value> {
        guard(|| json(&self.inner))
    }
}

/// Demo data for every object model: table name → Arrow IPC stream.
#[napi]
pub fn generate_demo(catalog: &Catalog, input: Option<DemoInput>) -> napi::Result<HashMap<String, Buffer>> {
    guard(|| {
        let input = input.unwrap_or(DemoInput { rows: None, seed: None, start: None, end: None });
        let options = DemoOptions::new(input.rows.unwrap_or(100_000) as usize)
            .with_seed(u64::from(input.seed.unwrap_or(42)))
            .with_optional_range(input.start.as_deref(), input.end.as_deref())
            .map_err(errors::catalog)?;
        let data = catalog.inner.demo_data(&options).map_err(errors::catalog)?;
        data.into_tables().into_iter().map(|(name, (schema, batches))| Ok((name, ipc(&schema, &batches)?.into()))).collect()
    })
}
