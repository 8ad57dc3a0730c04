//! The catalog: every value chain, module, object model and KPI, with where each was defined.

use std::collections::BTreeMap;

use kpi_formula::{SemanticModel, TableModel};

use crate::error::{CatalogError, Problems};
use crate::kpi::KpiDefinition;
use crate::object_model::ObjectModel;
use crate::source::Origin;
use crate::value_chain::{Module, ValueChain};

/// A catalog of what can be measured: value chains, modules, object models and KPIs.
///
/// It is the [`SemanticModel`] formulas resolve against: object models are its tables and KPI
/// codes name its formulas. Load one with [`Catalog::from_yaml`], [`Catalog::from_json`] or
/// [`Catalog::load`], start from [`Catalog::standard`], or build one with the `add_*` methods and
/// [`Catalog::validate`] it.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub(crate) value_chains: Vec<Entry<ValueChain>>,
    pub(crate) modules: Vec<Entry<Module>>,
    pub(crate) object_models: Vec<Entry<ObjectModel>>,
    pub(crate) kpis: Vec<Entry<KpiDefinition>>,
    /// The documents loaded (schema version and root), for document-level checks.
    pub(crate) documents: Vec<(u32, Origin)>,
    /// The formula language's view of each object model (the first of a duplicated code).
    tables: BTreeMap<String, TableModel>,
}

/// A catalog entry and where it was defined (absent for entries added in code).
#[derive(Clone, Debug)]
pub(crate) struct Entry<T> {
    pub item: T,
    pub origin: Option<Origin>,
}

impl<T> Entry<T> {
    pub fn new(item: T, origin: Option<Origin>) -> Self {
        Entry { item, origin }
    }
}

impl Catalog {
    /// An empty catalog.
    pub fn new() -> Self {
        Catalog::default()
    }

    /// Adds a value chain.
    pub fn add_value_chain(&mut self, value_chain: ValueChain) -> &mut Self {
        self.value_chains.push(Entry::new(value_chain, None));
        self
    }

    /// Adds a module.
    pub fn add_module(&mut self, module: Module) -> &mut Self {
        self.modules.push(Entry::new(module, None));
        self
    }

    /// Adds an object model.
    pub fn add_object_model(&mut self, model: ObjectModel) -> &mut Self {
        self.push_object_model(Entry::new(model, None));
        self
    }

    /// Adds a KPI, or replaces the KPI with the same code.
    pub fn add_kpi(&mut self, kpi: KpiDefinition) -> &mut Self {
        self.put_kpi(Entry::new(kpi, None));
        self
    }

    /// Removes the KPI `code`, returning it.
    pub fn remove_kpi(&mut self, code: &str) -> Option<KpiDefinition> {
        let i = self.kpis.iter().position(|e| e.item.code == code)?;
        Some(self.kpis.remove(i).item)
    }

    /// Adds every entry of `other`; KPIs with a code already present replace the existing one.
    pub fn extend(&mut self, other: Catalog) {
        self.documents.extend(other.documents);
        self.value_chains.extend(other.value_chains);
        self.modules.extend(other.modules);
        for m in other.object_models {
            self.push_object_model(m);
        }
        for k in other.kpis {
            self.put_kpi(k);
        }
    }

    pub(crate) fn push_object_model(&mut self, entry: Entry<ObjectModel>) {
        self.tables.entry(entry.item.code.clone()).or_insert_with(|| entry.item.table_model());
        self.object_models.push(entry);
    }

    /// Replaces the KPI of the same code in place, or appends it.
    pub(crate) fn put_kpi(&mut self, entry: Entry<KpiDefinition>) {
        match self.kpis.iter_mut().find(|e| e.item.code == entry.item.code) {
            Some(slot) => *slot = entry,
            None => self.kpis.push(entry),
        }
    }

    /// Appends a KPI even when its code exists (loading keeps duplicates so validation reports them).
    pub(crate) fn push_kpi(&mut self, entry: Entry<KpiDefinition>) {
        self.kpis.push(entry);
    }

    /// Checks every definition and returns every problem found, each located in its file.
    pub fn problems(&self) -> Problems {
        crate::validate::problems(self)
    }

    /// Checks every definition; [`CatalogError::Invalid`] lists every problem found.
    pub fn validate(&self) -> Result<(), CatalogError> {
        let problems = self.problems();
        if problems.is_empty() { Ok(()) } else { Err(CatalogError::Invalid(problems)) }
    }
}

impl SemanticModel for Catalog {
    fn table(&self, name: &str) -> Option<&TableModel> {
        self.tables.get(name)
    }

    fn table_names(&self) -> Vec<&str> {
        self.tables.keys().map(String::as_str).collect()
    }

    fn kpi_formula(&self, code: &str) -> Option<&str> {
        self.kpis.iter().find(|e| e.item.code == code).map(|e| e.item.formula.as_str())
    }

    fn kpi_codes(&self) -> Vec<&str> {
        self.kpis.iter().map(|e| e.item.code.as_str()).collect()
    }
}
