//! The catalog: what can be measured, browsed as JSON documents that the Python layer turns
//! into dictionaries, and demo data generated from it.

use std::collections::BTreeMap;
use std::sync::Arc;

use kpi_catalog::DemoOptions;
use pyo3::prelude::*;
use serde::Serialize;

use crate::arrow::Table;
use crate::errors::{CatalogError, catalog_error};

/// A catalog of KPIs, object models, modules and value chains.
#[pyclass(module = "kpi_engine._native", frozen)]
pub(crate) struct Catalog {
    pub(crate) inner: Arc<kpi_catalog::Catalog>,
}

fn json<T: Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| CatalogError::new_err(e.to_string()))
}

#[pymethods]
impl Catalog {
    /// The standard catalog that ships with the engine.
    #[staticmethod]
    fn standard() -> Catalog {
        Catalog { inner: Arc::new(kpi_catalog::Catalog::standard()) }
    }

    /// A catalog from YAML text.
    #[staticmethod]
    fn from_yaml(text: &str) -> PyResult<Catalog> {
        let catalog = kpi_catalog::Catalog::from_yaml(text).map_err(|e| catalog_error(&e))?;
        Ok(Catalog { inner: Arc::new(catalog) })
    }

    /// A catalog from JSON text.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Catalog> {
        let catalog = kpi_catalog::Catalog::from_json(text).map_err(|e| catalog_error(&e))?;
        Ok(Catalog { inner: Arc::new(catalog) })
    }

    /// A catalog from a YAML or JSON file.
    #[staticmethod]
    fn load(path: std::path::PathBuf) -> PyResult<Catalog> {
        let catalog = kpi_catalog::Catalog::load(path).map_err(|e| catalog_error(&e))?;
        Ok(Catalog { inner: Arc::new(catalog) })
    }

    /// The KPIs as a JSON list, optionally only those of a module or a value chain.
    #[pyo3(signature = (module=None, value_chain=None))]
    fn kpis_json(&self, module: Option<&str>, value_chain: Option<&str>) -> PyResult<String> {
        let c = &self.inner;
        let mut kpis: Vec<&kpi_catalog::KpiDefinition> = match module {
            Some(m) => c.kpis_in_module(m).map_err(|e| catalog_error(&e))?,
            None => c.kpis().collect(),
        };
        if let Some(chain) = value_chain {
            let in_chain = c.kpis_in_value_chain(chain).map_err(|e| catalog_error(&e))?;
            kpis.retain(|k| in_chain.iter().any(|x| x.code == k.code));
        }
        json(&kpis)
    }

    /// One KPI as a JSON object.
    fn kpi_json(&self, code: &str) -> PyResult<String> {
        json(self.inner.kpi(code).map_err(|e| catalog_error(&e))?)
    }

    /// The object models as a JSON list.
    fn object_models_json(&self) -> PyResult<String> {
        json(&self.inner.object_models().collect::<Vec<_>>())
    }

    /// The modules as a JSON list.
    fn modules_json(&self) -> PyResult<String> {
        json(&self.inner.modules().collect::<Vec<_>>())
    }

    /// The value chains as a JSON list.
    fn value_chains_json(&self) -> PyResult<String> {
        json(&self.inner.value_chains().collect::<Vec<_>>())
    }

    /// What the KPIs need, as a JSON object.
    fn required_objects_json(&self, kpis: Vec<String>) -> PyResult<String> {
        json(&self.inner.required_objects(&kpis).map_err(|e| catalog_error(&e))?)
    }

    /// A Mermaid diagram of the object models.
    fn diagram(&self, object_models: Vec<String>) -> PyResult<String> {
        self.inner.diagram(&object_models).map_err(|e| catalog_error(&e))
    }

    /// The catalog as YAML.
    fn to_yaml(&self) -> PyResult<String> {
        self.inner.to_yaml().map_err(|e| catalog_error(&e))
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
) -> PyResult<BTreeMap<String, Table>> {
    let mut options = DemoOptions::new(rows).with_seed(seed);
    if let (Some(start), Some(end)) = (&start, &end) {
        options = options.with_range(start, end).map_err(|e| catalog_error(&e))?;
    } else if start.is_some() || end.is_some() {
        return Err(CatalogError::new_err("give both start and end, or neither"));
    }
    let inner = catalog.inner.clone();
    let data = py.detach(move || inner.demo_data(&options)).map_err(|e| catalog_error(&e))?;
    Ok(data.into_tables().into_iter().map(|(name, (schema, batches))| (name, Table { schema, batches })).collect())
}
