//! Required-objects analysis: what a set of KPIs needs to be calculated.

use std::collections::{BTreeMap, BTreeSet};

use kpi_formula::check_kpi;
use serde::Serialize;

use crate::catalog::Catalog;
use crate::error::{CatalogError, Problems};
use crate::validate::Validator;

/// What a set of KPIs needs: the object models and columns their data must have, and the modules
/// and value chains (for licensing) they belong to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RequiredObjects {
    /// The KPIs asked for and every KPI they reference.
    pub kpis: BTreeSet<String>,
    /// Object models read, including those reached through relationships.
    pub object_models: BTreeSet<String>,
    /// Columns read per object model, including join keys and time columns.
    pub columns: BTreeMap<String, BTreeSet<String>>,
    /// Modules of the KPIs.
    pub modules: BTreeSet<String>,
    /// Value chains of the KPIs.
    pub value_chains: BTreeSet<String>,
}

impl Catalog {
    /// The object models, columns, modules and value chains that the KPIs `codes` need, following
    /// relationships and referenced KPIs.
    ///
    /// ```
    /// let catalog = kpi_catalog::Catalog::standard();
    /// let needs = catalog.required_objects(&["gross_margin"])?;
    /// // Gross margin reads order lines and, through `order_lines.product`, products.
    /// assert!(needs.object_models.contains("order_lines"));
    /// assert!(needs.object_models.contains("products"));
    /// assert!(needs.columns["products"].contains("unit_cost"));
    /// # Ok::<(), kpi_catalog::CatalogError>(())
    /// ```
    pub fn required_objects<S: AsRef<str>>(&self, codes: &[S]) -> Result<RequiredObjects, CatalogError> {
        let mut out = RequiredObjects::default();
        for code in codes {
            let code = code.as_ref();
            self.kpi(code)?;
            let resolved = check_kpi(code, self).map_err(|diags| {
                let mut v = Validator { c: self, out: Vec::new() };
                for d in diags.0 {
                    v.formula_problem(d);
                }
                CatalogError::Invalid(Problems(v.out))
            })?;
            out.kpis.insert(code.to_string());
            out.kpis.extend(resolved.kpis);
            out.object_models.extend(resolved.tables);
            for (table, column) in resolved.columns {
                out.columns.entry(table).or_default().insert(column);
            }
        }
        for table in &out.object_models {
            if let Ok(m) = self.object_model(table)
                && let Some(t) = &m.time_column
            {
                out.columns.entry(table.clone()).or_default().insert(t.clone());
            }
        }
        for code in &out.kpis {
            let Ok(kpi) = self.kpi(code) else { continue };
            out.modules.extend(kpi.module.clone());
            out.value_chains.extend(self.value_chain_of(kpi).map(str::to_string));
        }
        Ok(out)
    }

    /// The KPIs that use `code`, directly or through other KPIs, in catalog order (KPIs whose
    /// formulas do not resolve are left out).
    ///
    /// ```
    /// let catalog = kpi_catalog::Catalog::standard();
    /// let users = catalog.dependants("days_sales_outstanding");
    /// assert!(users.contains(&"cash_to_cash_cycle_time".to_string()));
    /// assert!(catalog.dependants("cash_to_cash_cycle_time").is_empty());
    /// ```
    pub fn dependants(&self, code: &str) -> Vec<String> {
        self.kpis()
            .filter(|k| k.code != code)
            .filter(|k| check_kpi(&k.code, self).is_ok_and(|resolved| resolved.kpis.contains(code)))
            .map(|k| k.code.clone())
            .collect()
    }
}
