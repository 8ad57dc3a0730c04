//! KPI definitions changed in a running engine: validated against the whole catalog first,
//! swapped in whole, and followed by exactly the cached results, calculations in flight and
//! views that depend on the KPI (and on KPIs that use it).
//!
//! Every change bumps a generation. A calculation remembers the generation it started in; its
//! result is not served (nor joined while in flight) for a KPI changed in a later generation,
//! so a calculation that began before a change never answers for the new definition.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use kpi_catalog::{Catalog, KpiDefinition};
use kpi_formula::{Query, Target};
use serde::Serialize;

use crate::{Engine, EngineError};

/// The generations of definition changes.
#[derive(Default)]
pub(crate) struct Definitions {
    /// One change at a time, so concurrent changes apply whole, the last one last.
    lock: tokio::sync::Mutex<()>,
    generation: AtomicU64,
    /// The generation each KPI (or a KPI it uses) last changed in.
    changed: RwLock<HashMap<String, u64>>,
    /// The generation of the last change of any KPI: ad-hoc formulas may use any of them.
    any: AtomicU64,
}

impl Definitions {
    /// The generation now.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The generation a result of `query` must have been calculated in, or after, to be used.
    pub(crate) fn valid_since(&self, query: &Query) -> u64 {
        match &query.target {
            Target::Kpi(code) => self.changed.read().unwrap_or_else(|p| p.into_inner()).get(code).copied().unwrap_or(0),
            Target::Formula(_) => self.any.load(Ordering::SeqCst),
        }
    }
}

/// What a definition change did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DefinitionChange {
    /// The KPI defined or removed.
    pub kpi: String,
    /// `created`, `updated` or `removed`.
    pub action: &'static str,
    /// The KPIs whose values may have changed: the KPI and those using it.
    pub affected: Vec<String>,
    /// The KPIs removed with it (a cascading removal).
    pub removed: Vec<String>,
    /// Cached results dropped.
    pub invalidated_results: usize,
    /// Live views recalculated (their subscribers got a fresh snapshot) or ended.
    pub refreshed_views: usize,
}

fn refused(message: String) -> EngineError {
    EngineError::DefinitionRefused(message)
}

impl Engine {
    /// Creates or replaces a KPI in the running engine. The catalog with the change must be
    /// valid as a whole (formula, dimensions, thresholds, no cycle, every KPI that uses it still
    /// resolving); a refused change changes nothing.
    pub async fn define_kpi(&self, kpi: KpiDefinition) -> Result<DefinitionChange, EngineError> {
        let _one_at_a_time = self.inner.definitions.lock.lock().await;
        let current = self.catalog();
        let existed = current.kpi(&kpi.code).is_ok();
        let code = kpi.code.clone();
        let defined = kpi.clone();
        let mut next = Catalog::clone(&current);
        next.add_kpi(kpi);
        if let Err(e) = next.validate() {
            let users = current.dependants(&code);
            let also = if users.is_empty() { String::new() } else { format!(" (used by {})", users.join(", ")) };
            return Err(refused(format!("the definition of `{code}`{also} was refused, nothing changed: {e}")));
        }
        let mut affected = vec![code.clone()];
        affected.extend(next.dependants(&code));
        self.keep_in_client(|client| {
            client.custom_kpis.retain(|k| k.code != code);
            client.custom_kpis.push(defined);
        });
        let (invalidated_results, refreshed_views) = self.swap(next, &affected).await;
        Ok(DefinitionChange {
            kpi: code,
            action: if existed { "updated" } else { "created" },
            affected,
            removed: Vec::new(),
            invalidated_results,
            refreshed_views,
        })
    }

    /// Removes a KPI from the running engine. A KPI other KPIs use is refused, naming them,
    /// unless `cascade`, which removes them too.
    pub async fn remove_kpi(&self, code: &str, cascade: bool) -> Result<DefinitionChange, EngineError> {
        let _one_at_a_time = self.inner.definitions.lock.lock().await;
        let current = self.catalog();
        current.kpi(code)?;
        let users = current.dependants(code);
        if !users.is_empty() && !cascade {
            return Err(refused(format!(
                "`{code}` is used by {}; remove those first, change them, or remove with cascade",
                users.join(", ")
            )));
        }
        let mut next = Catalog::clone(&current);
        for kpi in std::iter::once(code).chain(users.iter().map(String::as_str)) {
            next.remove_kpi(kpi);
        }
        next.validate().map_err(|e| refused(format!("removing `{code}` was refused, nothing changed: {e}")))?;
        let mut affected = vec![code.to_string()];
        affected.extend(users.iter().cloned());
        self.keep_in_client(|client| {
            client.custom_kpis.retain(|k| !affected.contains(&k.code));
            client.selected_kpis.retain(|k| !affected.contains(k));
        });
        let (invalidated_results, refreshed_views) = self.swap(next, &affected).await;
        Ok(DefinitionChange { kpi: code.to_string(), action: "removed", affected, removed: users, invalidated_results, refreshed_views })
    }

    /// The KPIs that use `code`, directly or through others.
    pub fn dependants(&self, code: &str) -> Vec<String> {
        self.catalog().dependants(code)
    }

    /// Applies a change to the client configuration of a client's engine, so saving it keeps
    /// the definitions (a standard KPI removed for a client stays in the standard catalog).
    fn keep_in_client(&self, change: impl FnOnce(&mut kpi_catalog::ClientConfig)) {
        if let Some(client) = self.inner.client.write().unwrap_or_else(|p| p.into_inner()).as_mut() {
            change(client);
        }
    }

    /// Puts `next` in place, marks `affected` changed, drops their cached results and brings
    /// their views up to date; how many results and views that was.
    async fn swap(&self, next: Catalog, affected: &[String]) -> (usize, usize) {
        let defs = &self.inner.definitions;
        // The catalog first: a calculation that reads the new generation reads the new catalog.
        *self.inner.catalog.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(next);
        let generation = defs.generation.fetch_add(1, Ordering::SeqCst) + 1;
        {
            let mut changed = defs.changed.write().unwrap_or_else(|p| p.into_inner());
            for code in affected {
                changed.insert(code.clone(), generation);
            }
        }
        defs.any.store(generation, Ordering::SeqCst);
        let depends = |query: &Query| match &query.target {
            Target::Kpi(code) => affected.contains(code),
            Target::Formula(_) => true,
        };
        let invalidated = self.inner.cache.forget(depends);
        self.inner.answers.forget(depends);
        let refreshed = self.redefine_views(depends).await;
        (invalidated, refreshed)
    }
}
