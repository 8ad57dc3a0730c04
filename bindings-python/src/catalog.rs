//! The catalog: what can be measured, browsed as JSON documents that the Python layer turns
//! into dictionaries, edited (an engine keeps the catalog it was made with), imported from the
//! seeds' JSON and SQL definitions, and demo data generated from it; client configurations.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use kpi_catalog::DemoOptions;
use pyo3::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::arrow::Table;
use crate::errors::{Outcome, guarded};

/// A catalog of KPIs, object models, modules and value chains.
#[pyclass(module = "kpi_engine._native", frozen)]
pub(crate) struct Catalog {
    inner: Mutex<Arc<kpi_catalog::Catalog>>,
}

fn json<T: Serialize>(value: &T) -> Outcome<String> {
    serde_json::to_string(value).map_err(|e| kpi_core::EngineError::Internal(format!("could not write JSON: {e}")).into())
}

/// A catalog definition (a KPI, an object model, ...) from JSON text.
fn definition<T: DeserializeOwned>(what: &str, text: &str) -> Outcome<T> {
    Ok(kpi_catalog::parse_definition::<T>(what, text)?)
}

impl Catalog {
    pub(crate) fn new(inner: Arc<kpi_catalog::Catalog>) -> Catalog {
        Catalog { inner: Mutex::new(inner) }
    }

    /// The catalog as it is now.
    pub(crate) fn get(&self) -> Arc<kpi_catalog::Catalog> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Edits the catalog; engines made before keep the catalog they were made with.
    fn edit<T>(&self, change: impl FnOnce(&mut kpi_catalog::Catalog) -> T) -> T {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        change(Arc::make_mut(&mut guard))
    }
}

impl Catalog {
    /// Runs an import on a copy, kept only when it succeeds (an import adds its KPIs before
    /// validating them, so a failed one must leave this catalog as it was).
    fn import(
        &self,
        run: impl FnOnce(&mut kpi_catalog::Catalog) -> Result<Vec<String>, kpi_catalog::CatalogError>,
    ) -> Outcome<Vec<String>> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = guard.as_ref().clone();
        let codes = run(&mut next)?;
        *guard = Arc::new(next);
        Ok(codes)
    }
}

#[pymethods]
impl Catalog {
    /// The standard catalog that ships with the engine.
    #[staticmethod]
    fn standard() -> Catalog {
        Catalog::new(Arc::new(kpi_catalog::Catalog::standard()))
    }

    /// An empty catalog.
    #[staticmethod]
    fn empty() -> Catalog {
        Catalog::new(Arc::new(kpi_catalog::Catalog::new()))
    }

    /// A catalog from YAML text.
    #[staticmethod]
    fn from_yaml(text: &str) -> Outcome<Catalog> {
        guarded(|| Ok(Catalog::new(Arc::new(kpi_catalog::Catalog::from_yaml(text)?))))
    }

    /// A catalog from JSON text.
    #[staticmethod]
    fn from_json(text: &str) -> Outcome<Catalog> {
        guarded(|| Ok(Catalog::new(Arc::new(kpi_catalog::Catalog::from_json(text)?))))
    }

    /// A catalog imported from a dbt project, with what was skipped as JSON.
    #[staticmethod]
    fn from_dbt(path: std::path::PathBuf) -> Outcome<(Catalog, String)> {
        guarded(|| {
            let imported = kpi_catalog::import::import_dbt(path)?;
            let skipped = serde_json::Value::Array(imported.skipped.iter().map(kpi_catalog::import::Skipped::to_json).collect());
            Ok((Catalog::new(Arc::new(imported.catalog)), skipped.to_string()))
        })
    }

    /// A catalog from a YAML or JSON file.
    #[staticmethod]
    fn load(path: std::path::PathBuf) -> Outcome<Catalog> {
        guarded(|| Ok(Catalog::new(Arc::new(kpi_catalog::Catalog::load(path)?))))
    }

    /// The KPIs as a JSON list, optionally only those of a module or a value chain.
    #[pyo3(signature = (module=None, value_chain=None))]
    fn kpis_json(&self, module: Option<&str>, value_chain: Option<&str>) -> Outcome<String> {
        guarded(|| {
            let c = self.get();
            json(&c.kpis_filtered(module, value_chain)?)
        })
    }

    /// One KPI as a JSON object.
    fn kpi_json(&self, code: &str) -> Outcome<String> {
        guarded(|| json(self.get().kpi(code)?))
    }

    /// The KPIs matching every word of `text`, best first, as JSON (`kpi`, `score`).
    fn search_json(&self, text: &str) -> Outcome<String> {
        guarded(|| json(&self.get().search(text)))
    }

    /// The object models as a JSON list.
    fn object_models_json(&self) -> Outcome<String> {
        guarded(|| json(&self.get().object_models().collect::<Vec<_>>()))
    }

    /// One object model as a JSON object.
    fn object_model_json(&self, code: &str) -> Outcome<String> {
        guarded(|| json(self.get().object_model(code)?))
    }

    /// The modules as a JSON list, optionally only those of a value chain.
    #[pyo3(signature = (value_chain=None))]
    fn modules_json(&self, value_chain: Option<&str>) -> Outcome<String> {
        guarded(|| {
            let c = self.get();
            match value_chain {
                Some(chain) => json(&c.modules_in_value_chain(chain)?),
                None => json(&c.modules().collect::<Vec<_>>()),
            }
        })
    }

    /// One module as a JSON object.
    fn module_json(&self, code: &str) -> Outcome<String> {
        guarded(|| json(self.get().module(code)?))
    }

    /// The value chains as a JSON list.
    fn value_chains_json(&self) -> Outcome<String> {
        guarded(|| json(&self.get().value_chains().collect::<Vec<_>>()))
    }

    /// One value chain as a JSON object.
    fn value_chain_json(&self, code: &str) -> Outcome<String> {
        guarded(|| json(self.get().value_chain(code)?))
    }

    /// What the KPIs need, as a JSON object.
    fn required_objects_json(&self, kpis: Vec<String>) -> Outcome<String> {
        guarded(|| json(&self.get().required_objects(&kpis)?))
    }

    /// A Mermaid diagram of the object models.
    fn diagram(&self, object_models: Vec<String>) -> Outcome<String> {
        guarded(|| Ok(self.get().diagram(&object_models)?))
    }

    /// The catalog as YAML.
    fn to_yaml(&self) -> Outcome<String> {
        guarded(|| Ok(self.get().to_yaml()?))
    }

    /// The catalog as JSON.
    fn to_json(&self) -> Outcome<String> {
        guarded(|| Ok(self.get().to_json()?))
    }

    /// Writes the catalog to a YAML or JSON file (by its extension).
    fn save(&self, path: std::path::PathBuf) -> Outcome<()> {
        guarded(|| Ok(self.get().save(path)?))
    }

    /// Every validation problem as a JSON list (empty when the catalog is valid).
    fn problems_json(&self) -> Outcome<String> {
        guarded(|| json(&self.get().problems().to_json()))
    }

    /// Every problem of a formula over the catalog as a JSON list (empty when it is valid).
    fn validate_formula_json(&self, formula: &str) -> Outcome<String> {
        guarded(|| json(&self.get().validate_formula(formula)))
    }

    /// Raises `CatalogError` listing every problem, if there are any.
    fn validate(&self) -> Outcome<()> {
        guarded(|| Ok(self.get().validate()?))
    }

    /// Adds (or replaces) a KPI from its JSON definition.
    fn add_kpi(&self, definition_json: &str) -> Outcome<()> {
        guarded(|| {
            let kpi: kpi_catalog::KpiDefinition = definition("KPI", definition_json)?;
            self.edit(|c| {
                c.add_kpi(kpi);
            });
            Ok(())
        })
    }

    /// Removes a KPI; its JSON definition, or `None` when there was none.
    fn remove_kpi(&self, code: &str) -> Outcome<Option<String>> {
        guarded(|| self.edit(|c| c.remove_kpi(code)).map(|k| json(&k)).transpose())
    }

    /// Adds (or replaces) an object model from its JSON definition.
    fn add_object_model(&self, definition_json: &str) -> Outcome<()> {
        guarded(|| {
            let model: kpi_catalog::ObjectModel = definition("object model", definition_json)?;
            self.edit(|c| {
                c.add_object_model(model);
            });
            Ok(())
        })
    }

    /// Adds (or replaces) a module from its JSON definition.
    fn add_module(&self, definition_json: &str) -> Outcome<()> {
        guarded(|| {
            let module: kpi_catalog::Module = definition("module", definition_json)?;
            self.edit(|c| {
                c.add_module(module);
            });
            Ok(())
        })
    }

    /// Adds (or replaces) a value chain from its JSON definition.
    fn add_value_chain(&self, definition_json: &str) -> Outcome<()> {
        guarded(|| {
            let chain: kpi_catalog::ValueChain = definition("value chain", definition_json)?;
            self.edit(|c| {
                c.add_value_chain(chain);
            });
            Ok(())
        })
    }

    /// Adds everything of `other`, its definitions replacing these of the same code.
    fn extend(&self, other: &Catalog) {
        let other = other.get().as_ref().clone();
        self.edit(|c| c.extend(other));
    }

    /// Imports KPIs in the seed's `KPIDefinition` JSON shape (one object or a list); their codes.
    fn import_seed_json(&self, text: &str) -> Outcome<Vec<String>> {
        guarded(|| self.import(|c| kpi_catalog::import::import_seed_json(text, c)))
    }

    /// Imports SQL-defined KPIs (a JSON list of `{code, query, name?, schedule?}`); their codes.
    fn import_sql(&self, kpis_json: &str) -> Outcome<Vec<String>> {
        guarded(|| {
            let kpis: Vec<kpi_catalog::import::SqlKpi> = definition("SQL KPIs", kpis_json)?;
            self.import(|c| kpi_catalog::import::import_sql(&kpis, c))
        })
    }

    /// The catalog as `client` sees it: its custom KPIs added, everything validated.
    fn for_client(&self, client: &ClientConfig) -> Outcome<Catalog> {
        guarded(|| Ok(Catalog::new(Arc::new(self.get().for_client(&client.inner)?))))
    }
}

/// One client's configuration: selected and custom KPIs, data sources, field mappings, retention.
#[pyclass(module = "kpi_engine._native", frozen)]
pub(crate) struct ClientConfig {
    pub(crate) inner: kpi_catalog::ClientConfig,
}

#[pymethods]
impl ClientConfig {
    /// A client configuration from YAML (or JSON) text.
    #[staticmethod]
    fn from_yaml(text: &str) -> Outcome<ClientConfig> {
        guarded(|| Ok(ClientConfig { inner: kpi_catalog::ClientConfig::from_yaml(text)? }))
    }

    /// A client configuration from JSON text.
    #[staticmethod]
    fn from_json(text: &str) -> Outcome<ClientConfig> {
        guarded(|| Ok(ClientConfig { inner: kpi_catalog::ClientConfig::from_json(text)? }))
    }

    /// The configuration as YAML.
    fn to_yaml(&self) -> Outcome<String> {
        guarded(|| Ok(self.inner.to_yaml()?))
    }

    /// The configuration as JSON.
    fn to_json(&self) -> Outcome<String> {
        guarded(|| Ok(self.inner.to_json()?))
    }
}

/// Demo data for every object model of `catalog`: table name → Arrow table.
#[pyfunction]
#[pyo3(signature = (catalog, rows, seed=42, start=None, end=None))]
pub(crate) fn generate_demo(
    py: Python<'_>,
    catalog: &Catalog,
    rows: usize,
    seed: u64,
    start: Option<String>,
    end: Option<String>,
) -> Outcome<BTreeMap<String, Table>> {
    guarded(|| {
        let options = DemoOptions::new(rows).with_seed(seed).with_optional_range(start.as_deref(), end.as_deref())?;
        let inner = catalog.get();
        let data = py.detach(move || inner.demo_data(&options))?;
        Ok(data.into_tables().into_iter().map(|(name, (schema, batches))| (name, Table { schema, batches })).collect())
    })
}
