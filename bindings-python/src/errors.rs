//! The exception hierarchy: `KpiError` and one subclass per kind of failure
//! ([`ErrorCategory`]), each carrying the Rust message, the error's stable `code` and its
//! `kind`; formula errors also their line, column and span.
//!
//! Rust errors become exceptions through [`Failure`] (`From` impls, so `?` converts them): the
//! class comes from the error's kind in the core, never from a table of codes kept here.

use kpi_catalog::CatalogError as RustCatalogError;
use kpi_core::{EngineError, ErrorCategory};
use kpi_formula::FormulaError as RustFormulaError;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(kpi_engine, KpiError, PyException, "Base class of every error of the KPI engine; `code` and `kind` say which.");
create_exception!(kpi_engine, FormulaError, KpiError, "A formula, filter or dimension is invalid; `line`, `column` and `span` say where.");
create_exception!(kpi_engine, QueryError, KpiError, "The query's settings are invalid (grain, range, time zone, options).");
create_exception!(kpi_engine, CatalogError, KpiError, "The catalog is invalid, or names something it does not hold.");
create_exception!(kpi_engine, DataError, KpiError, "Registered data is missing or does not fit its object model.");
create_exception!(kpi_engine, PricingError, KpiError, "A proposal's answers or price book are invalid.");
create_exception!(kpi_engine, CalculationError, KpiError, "A calculation failed, timed out, was cancelled or ran out of memory.");
create_exception!(kpi_engine, InternalError, KpiError, "A bug in the KPI engine (it panicked); the engine keeps working.");

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("KpiError", py.get_type::<KpiError>())?;
    for kind in ErrorCategory::ALL {
        m.add(kind.class_name(), class(py, kind))?;
    }
    m.add_function(wrap_pyfunction!(error_codes, m)?)?;
    m.add_function(wrap_pyfunction!(error_from_json, m)?)?;
    Ok(())
}

fn class(py: Python<'_>, kind: ErrorCategory) -> Bound<'_, pyo3::types::PyType> {
    match kind {
        ErrorCategory::Formula => py.get_type::<FormulaError>(),
        ErrorCategory::Query => py.get_type::<QueryError>(),
        ErrorCategory::Catalog => py.get_type::<CatalogError>(),
        ErrorCategory::Data => py.get_type::<DataError>(),
        ErrorCategory::Calculation => py.get_type::<CalculationError>(),
        ErrorCategory::Pricing => py.get_type::<PricingError>(),
        _ => py.get_type::<InternalError>(),
    }
}

/// Every error code the engine and pricing give, with its kind: `[(code, kind), ...]`.
#[pyfunction]
fn error_codes() -> Vec<(&'static str, &'static str)> {
    let pricing = kpi_pricing::PricingError::CODES.iter();
    EngineError::CODES.iter().chain(pricing).map(|(code, kind)| (*code, kind.as_str())).collect()
}

/// The exception an error's JSON (`code`, `kind`, `message`, as subscription updates and
/// dashboards carry it) stands for.
#[pyfunction]
fn error_from_json(py: Python<'_>, detail: &str) -> Py<PyAny> {
    let value: serde_json::Value = serde_json::from_str(detail).unwrap_or_default();
    let text = |key: &str| value.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let kind = ErrorCategory::ALL.into_iter().find(|k| k.as_str() == text("kind")).unwrap_or(ErrorCategory::Internal);
    let err = exception(kind, &text("code"), text("message"), None);
    let instance = err.value(py);
    for key in ["line", "column", "start", "end"] {
        if let Some(n) = value.get(key).and_then(|v| v.as_u64()) {
            let _ = instance.setattr(key, n);
        }
    }
    instance.clone().into_any().unbind()
}

/// An exception of `kind`'s class with `code`, `kind` and, for formula text, where.
pub(crate) fn exception(kind: ErrorCategory, code: &str, message: String, formula: Option<&RustFormulaError>) -> PyErr {
    Python::attach(|py| {
        let err = PyErr::from_type(class(py, kind), message);
        let value = err.value(py);
        // Setting attributes on a fresh exception instance cannot fail in practice; if it did,
        // the exception would still carry its message.
        let _ = value.setattr("code", code);
        let _ = value.setattr("kind", kind.as_str());
        if let Some(RustFormulaError::Invalid(diagnostics)) = formula {
            let first = diagnostics.first();
            let at = first.line_col();
            for (name, v) in [("line", at.line), ("column", at.column), ("start", first.span.start), ("end", first.span.end)] {
                let _ = value.setattr(name, v);
            }
        }
        err
    })
}

/// Any failure of a call into the engine; converts into the matching Python exception.
pub(crate) enum Failure {
    Engine(EngineError),
    Catalog(RustCatalogError),
    Pricing(kpi_pricing::PricingError),
    Python(PyErr),
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Self {
        Failure::Engine(e)
    }
}

impl From<RustCatalogError> for Failure {
    fn from(e: RustCatalogError) -> Self {
        Failure::Catalog(e)
    }
}

impl From<kpi_pricing::PricingError> for Failure {
    fn from(e: kpi_pricing::PricingError) -> Self {
        Failure::Pricing(e)
    }
}

impl From<PyErr> for Failure {
    fn from(e: PyErr) -> Self {
        Failure::Python(e)
    }
}

impl From<Failure> for PyErr {
    fn from(f: Failure) -> PyErr {
        match f {
            Failure::Engine(e) => {
                let formula = match &e {
                    EngineError::Formula(f) => Some(f),
                    _ => None,
                };
                exception(e.kind(), e.code(), e.to_string(), formula)
            }
            Failure::Catalog(e) => exception(e.kind(), e.code(), e.to_string(), None),
            Failure::Pricing(e) => exception(e.kind(), e.code(), e.to_string(), None),
            Failure::Python(e) => e,
        }
    }
}

/// What a call into the engine returns.
pub(crate) type Outcome<T> = Result<T, Failure>;

/// The message of a caught panic.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// Runs a synchronous export, turning a panic inside into an `InternalError` rather than
/// pyo3's `PanicException` (a `BaseException` that `except Exception` does not catch).
pub(crate) fn guarded<T>(work: impl FnOnce() -> Outcome<T>) -> Outcome<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .unwrap_or_else(|panic| Err(EngineError::Internal(panic_message(panic.as_ref())).into()))
}
