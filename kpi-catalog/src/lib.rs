//! # kpi-catalog
//!
//! The catalog of what can be measured — the seeds' metadata service ("the menu") and demo
//! config service as a library:
//!
//! * **Definitions**: [`ValueChain`]s, [`Module`]s, [`ObjectModel`]s (columns with types, primary
//!   key, time column, relationships with cardinality), [`KpiDefinition`]s and per-client
//!   [`ClientConfig`]urations.
//! * **Loading and saving** YAML and JSON with a schema version ([`Catalog::from_yaml`],
//!   [`Catalog::load`], [`Catalog::to_yaml`]); importing the seed `KPIDefinition` JSON shape and
//!   SQL-defined KPIs ([`import`]).
//! * **Validation** that reports every problem at once, each with its file, YAML line and, for
//!   formulas, the position inside the formula ([`Catalog::problems`]).
//! * **Browsing and search** ([`Catalog::kpis_in_module`], [`Catalog::search`], ...),
//!   **required-objects analysis** ([`Catalog::required_objects`]) and **Mermaid diagrams**
//!   ([`Catalog::diagram`]).
//! * The built-in **standard catalog** ([`Catalog::standard`]) and deterministic **demo data**
//!   for any catalog ([`Catalog::demo_data`]).
//!
//! The catalog is the [`kpi_formula::SemanticModel`] formulas resolve against, so a validated
//! catalog can be handed straight to [`kpi_formula::compile`].
//!
//! ```
//! use kpi_catalog::{Catalog, DemoOptions};
//!
//! let catalog = Catalog::standard();
//! let kpi = catalog.kpi("perfect_order_rate")?;
//! println!("{}: {}", kpi.name, kpi.formula);
//!
//! let needs = catalog.required_objects(&["cash_to_cash_cycle_time"])?;
//! assert!(needs.object_models.contains("invoices"));
//!
//! let data = catalog.demo_data(&DemoOptions::new(1_000).with_seed(1))?;
//! assert_eq!(data.rows("orders"), 1_000);
//! # Ok::<(), kpi_catalog::CatalogError>(())
//! ```

mod analysis;
mod browse;
mod catalog;
mod client;
mod column_type;
mod compliance;
mod demo;
mod diagram;
mod document;
mod error;
mod formula_check;
pub mod import;
mod kpi;
mod object_model;
mod schedule;
mod source;
mod standard;
mod validate;
mod value_chain;

pub use analysis::RequiredObjects;
pub use browse::SearchHit;
pub use catalog::Catalog;
pub use client::{
    ArchivalUnit, ClientConfig, DataSource, FieldMapping, Granularity, IntegrationMode, RetentionPolicy, RetentionRule, RetentionUnit,
};
pub use column_type::{COLUMN_TYPE_NAMES, ColumnType, UnknownColumnType};
pub use compliance::{Compliance, ComplianceViolation, DAYS_PER_YEAR, DataKind};
pub use demo::{ColumnDemo, Distribution, ModelDemo};
#[cfg(feature = "demo")]
pub use demo::{DemoData, DemoOptions, MAX_DEMO_ROWS, generate as generate_demo_data};
pub use document::{Format, MAX_DOCUMENT_BYTES, SCHEMA_VERSION, parse_definition};
pub use error::{CatalogError, Problem, ProblemKind, Problems};
pub use formula_check::FormulaProblem;
pub use kpi::{Complexity, Direction, KpiDefinition, Thresholds, Unit};
pub use object_model::{ColumnDef, KeyPair, KeyPairs, ObjectModel, RelationshipDef};
pub use schedule::{ALIASES as SCHEDULE_ALIASES, Cron, CronError};
pub use source::Location;
pub use value_chain::{Module, ValueChain};
