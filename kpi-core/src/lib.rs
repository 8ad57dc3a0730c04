//! # kpi-core
//!
//! The KPI engine: data registration, on-demand and streaming calculation over DataFusion,
//! caching, subscriptions, SQL export and scale-out — the only crate with a runtime.
//!
//! This crate is the workspace's place for that capability (see `../shared/DESIGN.md`); its
//! content arrives with the engine and streaming issues. Until then, plans are built with
//! [`kpi_formula::plan`] and executed with a DataFusion `SessionContext` directly, as
//! `examples/quickstart` does. It has no public items yet.
