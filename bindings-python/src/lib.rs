//! # kpi-engine-python
//!
//! The native module `kpi_engine._native` of the Python package `kpi_engine` (pyo3): a thin
//! layer that converts types and errors and holds no business logic. Data crosses the boundary
//! through the Arrow C stream interface; structured values (catalog entries, plans) as JSON
//! that the pure-Python layer turns into dictionaries.

mod arrow;
mod catalog;
mod engine;
mod errors;
mod pricing;
mod stream;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    m.add_class::<catalog::Catalog>()?;
    m.add_class::<catalog::ClientConfig>()?;
    m.add_class::<engine::Engine>()?;
    m.add_class::<engine::CalcResult>()?;
    m.add_class::<engine::ForecastResult>()?;
    m.add_function(wrap_pyfunction!(engine::forecast_series, m)?)?;
    m.add_class::<stream::Subscription>()?;
    m.add_class::<stream::Feed>()?;
    m.add_class::<arrow::Table>()?;
    m.add_function(wrap_pyfunction!(catalog::generate_demo, m)?)?;
    m.add_class::<pricing::Proposal>()?;
    m.add_function(wrap_pyfunction!(pricing::questionnaire_json, m)?)?;
    m.add_function(wrap_pyfunction!(pricing::price, m)?)?;
    Ok(())
}
