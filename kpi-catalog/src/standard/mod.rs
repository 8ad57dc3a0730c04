//! The built-in standard catalog: SCOR, CRM, Sales, Financial, Support and SaaS KPIs, the object
//! models behind them, and cross-domain KPIs that join them.

use std::sync::OnceLock;

use crate::catalog::Catalog;
use crate::document::Format;

const OBJECT_MODELS: &str = include_str!("object_models.yaml");
const KPIS: &str = include_str!("kpis.yaml");

impl Catalog {
    /// The standard catalog (parsed once, then cloned).
    ///
    /// ```
    /// let catalog = kpi_catalog::Catalog::standard();
    /// assert!(catalog.kpis().count() >= 40);
    /// assert_eq!(catalog.kpi("perfect_order_rate")?.module.as_deref(), Some("deliver"));
    /// # Ok::<(), kpi_catalog::CatalogError>(())
    /// ```
    pub fn standard() -> Catalog {
        static STANDARD: OnceLock<Catalog> = OnceLock::new();
        STANDARD
            .get_or_init(|| {
                // The embedded documents are checked by the crate's tests; an error here is a build defect.
                let mut catalog = Catalog::parse(OBJECT_MODELS, Format::Yaml, Some("standard/object_models.yaml")).unwrap_or_default();
                if let Ok(kpis) = Catalog::parse(KPIS, Format::Yaml, Some("standard/kpis.yaml")) {
                    catalog.extend(kpis);
                }
                catalog
            })
            .clone()
    }

    /// The YAML documents the standard catalog is built from, by file name: a starting point for
    /// a client's own catalog.
    pub fn standard_documents() -> [(&'static str, &'static str); 2] {
        [("object_models.yaml", OBJECT_MODELS), ("kpis.yaml", KPIS)]
    }
}
