//! # kpi-engine-python
//!
//! The Python package `kpi_engine` (pyo3 + maturin): a thin layer that converts types and errors
//! and holds no business logic.
//!
//! This crate is the workspace's place for the bindings (see `../shared/DESIGN.md`); they arrive
//! with the Python package issue. It has no public items yet.
