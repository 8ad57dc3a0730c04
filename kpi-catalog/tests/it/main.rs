//! Integration tests of kpi-catalog through its public API (one binary: see DEVELOPERS.md).

mod support;

mod browse;
mod dbt;
mod demo;
mod fuzz;
mod imports;
mod loading;
mod standard;
mod validation;
