//! Browsing the catalog: the seed's metadata endpoints as functions, and search.

use kpi_formula::diagnostic::did_you_mean;

use crate::catalog::{Catalog, Entry};
use crate::error::CatalogError;
use crate::kpi::KpiDefinition;
use crate::object_model::ObjectModel;
use crate::value_chain::{Module, ValueChain};

fn find<'a, T>(entries: &'a [Entry<T>], kind: &'static str, code: &str, code_of: impl Fn(&T) -> &str) -> Result<&'a T, CatalogError> {
    entries.iter().map(|e| &e.item).find(|t| code_of(t) == code).ok_or_else(|| CatalogError::NotFound {
        kind,
        code: code.to_string(),
        suggestion: did_you_mean(code, entries.iter().map(|e| code_of(&e.item))).map(str::to_string),
    })
}

/// One search result: a KPI and how well it matched.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SearchHit<'a> {
    /// The KPI found.
    pub kpi: &'a KpiDefinition,
    /// Higher is better: matches in the code and name weigh more than in tags and the description.
    pub score: f64,
}

impl Catalog {
    /// The KPIs of a module and/or a value chain (every KPI with neither), in definition order.
    pub fn kpis_filtered(&self, module: Option<&str>, value_chain: Option<&str>) -> Result<Vec<&KpiDefinition>, CatalogError> {
        let mut kpis = match module {
            Some(m) => self.kpis_in_module(m)?,
            None => self.kpis().collect(),
        };
        if let Some(chain) = value_chain {
            let in_chain = self.kpis_in_value_chain(chain)?;
            kpis.retain(|k| in_chain.iter().any(|x| x.code == k.code));
        }
        Ok(kpis)
    }

    /// Every KPI, in definition order.
    pub fn kpis(&self) -> impl Iterator<Item = &KpiDefinition> {
        self.kpis.iter().map(|e| &e.item)
    }

    /// The KPI `code`.
    pub fn kpi(&self, code: &str) -> Result<&KpiDefinition, CatalogError> {
        find(&self.kpis, "KPI", code, |k| &k.code)
    }

    /// The KPIs of module `code` (an error if there is no such module).
    pub fn kpis_in_module(&self, code: &str) -> Result<Vec<&KpiDefinition>, CatalogError> {
        self.module(code)?;
        Ok(self.kpis().filter(|k| k.module.as_deref() == Some(code)).collect())
    }

    /// The KPIs of value chain `code`, directly or through their module.
    pub fn kpis_in_value_chain(&self, code: &str) -> Result<Vec<&KpiDefinition>, CatalogError> {
        self.value_chain(code)?;
        Ok(self.kpis().filter(|k| self.value_chain_of(k) == Some(code)).collect())
    }

    /// The value chain a KPI belongs to: its own, or its module's.
    pub fn value_chain_of<'a>(&'a self, kpi: &'a KpiDefinition) -> Option<&'a str> {
        kpi.value_chain.as_deref().or_else(|| {
            let module = kpi.module.as_deref()?;
            self.modules().find(|m| m.code == module).map(|m| m.value_chain.as_str())
        })
    }

    /// Every object model.
    pub fn object_models(&self) -> impl Iterator<Item = &ObjectModel> {
        self.object_models.iter().map(|e| &e.item)
    }

    /// The object model `code`.
    pub fn object_model(&self, code: &str) -> Result<&ObjectModel, CatalogError> {
        find(&self.object_models, "object model", code, |m| &m.code)
    }

    /// Every module.
    pub fn modules(&self) -> impl Iterator<Item = &Module> {
        self.modules.iter().map(|e| &e.item)
    }

    /// The module `code`.
    pub fn module(&self, code: &str) -> Result<&Module, CatalogError> {
        find(&self.modules, "module", code, |m| &m.code)
    }

    /// The modules of value chain `code`.
    pub fn modules_in_value_chain(&self, code: &str) -> Result<Vec<&Module>, CatalogError> {
        self.value_chain(code)?;
        Ok(self.modules().filter(|m| m.value_chain == code).collect())
    }

    /// Every value chain.
    pub fn value_chains(&self) -> impl Iterator<Item = &ValueChain> {
        self.value_chains.iter().map(|e| &e.item)
    }

    /// The value chain `code`.
    pub fn value_chain(&self, code: &str) -> Result<&ValueChain, CatalogError> {
        find(&self.value_chains, "value chain", code, |v| &v.code)
    }

    /// KPIs matching every word of `text` (case-insensitive) in their code, name, description,
    /// tags, module or value chain, best first. An empty query matches nothing.
    ///
    /// ```
    /// let catalog = kpi_catalog::Catalog::standard();
    /// let hits = catalog.search("churn");
    /// assert!(hits.iter().any(|h| h.kpi.code == "customer_churn_rate"));
    /// ```
    pub fn search(&self, text: &str) -> Vec<SearchHit<'_>> {
        let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
        if words.is_empty() {
            return Vec::new();
        }
        let mut hits: Vec<SearchHit<'_>> = self
            .kpis()
            .filter_map(|kpi| {
                let fields = [
                    (kpi.code.to_lowercase(), 4.0),
                    (kpi.name.to_lowercase(), 4.0),
                    (kpi.tags.join(" ").to_lowercase(), 2.0),
                    (format!("{} {}", kpi.module.as_deref().unwrap_or(""), self.value_chain_of(kpi).unwrap_or("")).to_lowercase(), 1.5),
                    (kpi.description.to_lowercase(), 1.0),
                ];
                let mut score = 0.0;
                for w in &words {
                    let s: f64 = fields.iter().filter(|(f, _)| f.contains(w.as_str())).map(|(_, weight)| weight).sum();
                    if s == 0.0 {
                        return None;
                    }
                    score += s;
                }
                Some(SearchHit { kpi, score })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.kpi.code.cmp(&b.kpi.code)));
        hits
    }
}
