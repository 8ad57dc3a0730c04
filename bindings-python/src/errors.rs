//! The exception hierarchy: `KpiError` and one subclass per kind of failure, each carrying the
//! Rust message and the error's stable `code`; formula errors also their line, column and span.

use kpi_catalog::CatalogError as RustCatalogError;
use kpi_core::EngineError;
use kpi_formula::FormulaError as RustFormulaError;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(kpi_engine, KpiError, PyException, "Base class of every error of the KPI engine.");
create_exception!(kpi_engine, FormulaError, KpiError, "A formula, filter or dimension is invalid; `line`, `column` and `span` say where.");
create_exception!(kpi_engine, QueryError, KpiError, "The query's settings are invalid (grain, range, time zone, options).");
create_exception!(kpi_engine, CatalogError, KpiError, "The catalog is invalid, or names something it does not hold.");
create_exception!(kpi_engine, DataError, KpiError, "Registered data is missing or does not fit its object model.");
create_exception!(kpi_engine, PricingError, KpiError, "A proposal's answers or price book are invalid.");
create_exception!(kpi_engine, CalculationError, KpiError, "A calculation failed, timed out, was cancelled or ran out of memory.");

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("KpiError", py.get_type::<KpiError>())?;
    m.add("FormulaError", py.get_type::<FormulaError>())?;
    m.add("QueryError", py.get_type::<QueryError>())?;
    m.add("CatalogError", py.get_type::<CatalogError>())?;
    m.add("DataError", py.get_type::<DataError>())?;
    m.add("CalculationError", py.get_type::<CalculationError>())?;
    m.add("PricingError", py.get_type::<PricingError>())?;
    Ok(())
}

/// `err` with `code` set, and any further attributes.
fn with_code(err: PyErr, code: &str, more: &[(&str, Option<usize>)]) -> PyErr {
    Python::attach(|py| {
        let value = err.value(py);
        // Setting attributes on a fresh exception instance cannot fail in practice; if it
        // did, the exception still carries its message.
        let _ = value.setattr("code", code);
        for (name, v) in more {
            let _ = value.setattr(*name, *v);
        }
    });
    err
}

pub(crate) fn formula_error(e: &RustFormulaError, code: &str) -> PyErr {
    match e {
        RustFormulaError::Invalid(diagnostics) => {
            let first = diagnostics.first();
            let at = first.line_col();
            let err = FormulaError::new_err(e.to_string());
            with_code(
                err,
                code,
                &[("line", Some(at.line)), ("column", Some(at.column)), ("start", Some(first.span.start)), ("end", Some(first.span.end))],
            )
        }
        _ => with_code(QueryError::new_err(e.to_string()), code, &[]),
    }
}

pub(crate) fn catalog_error(e: &RustCatalogError) -> PyErr {
    with_code(CatalogError::new_err(e.to_string()), "KPI_CATALOG", &[])
}

pub(crate) fn engine_error(e: EngineError) -> PyErr {
    let code = e.code();
    match &e {
        EngineError::Formula(f) => formula_error(f, code),
        EngineError::Catalog(_) => with_code(CatalogError::new_err(e.to_string()), code, &[]),
        EngineError::InvalidOption { .. } => with_code(QueryError::new_err(e.to_string()), code, &[]),
        _ if matches!(code, "KPI_DATA" | "KPI_SCHEMA" | "KPI_READ") => with_code(DataError::new_err(e.to_string()), code, &[]),
        _ => with_code(CalculationError::new_err(e.to_string()), code, &[]),
    }
}

pub(crate) fn pricing_error(e: &kpi_pricing::PricingError) -> PyErr {
    with_code(PricingError::new_err(e.to_string()), e.code(), &[])
}
