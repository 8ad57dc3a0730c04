//! # kpi-catalog
//!
//! The catalog of what can be measured: value chains, modules, object models (tables, columns,
//! keys, relationships), KPI definitions and client configurations, loaded from YAML or JSON,
//! validated with [`kpi_formula`], plus the built-in standard catalog and demo data.
//!
//! This crate is the workspace's place for that capability (see `../shared/DESIGN.md`); its
//! content arrives with the catalog issue. It has no public items yet.
