//! # kpi-engine-node
//!
//! The npm package `kpi-engine` (napi-rs): a thin layer that converts types and errors and holds
//! no business logic.
//!
//! This crate is the workspace's place for the bindings (see `../shared/DESIGN.md`); they arrive
//! with the Node package issue. It has no public items yet.
