//! Errors cross as a JSON reason (`code`, `message`, and `line`/`column`/`start`/`end` for
//! formula errors), which the JavaScript layer turns into typed `Error` subclasses.

use kpi_core::EngineError;
use kpi_formula::FormulaError;
use serde_json::{Value, json};

fn error(value: Value) -> napi::Error {
    napi::Error::from_reason(value.to_string())
}

/// An error of `code` with `message`.
pub(crate) fn coded(code: &str, message: impl std::fmt::Display) -> napi::Error {
    error(json!({ "code": code, "message": message.to_string() }))
}

fn formula(e: &FormulaError, code: &str) -> napi::Error {
    match e {
        FormulaError::Invalid(diagnostics) => {
            let first = diagnostics.first();
            let at = first.line_col();
            error(json!({
                "code": code, "message": e.to_string(), "line": at.line, "column": at.column,
                "start": first.span.start, "end": first.span.end,
            }))
        }
        _ => coded(code, e),
    }
}

pub(crate) fn engine(e: EngineError) -> napi::Error {
    match &e {
        EngineError::Formula(f) => formula(f, e.code()),
        _ => coded(e.code(), &e),
    }
}

pub(crate) fn query(e: kpi_formula::QueryError) -> napi::Error {
    formula(&FormulaError::from(e), "KPI_QUERY")
}

pub(crate) fn catalog(e: kpi_catalog::CatalogError) -> napi::Error {
    coded("KPI_CATALOG", e)
}

pub(crate) fn pricing(e: kpi_pricing::PricingError) -> napi::Error {
    coded(e.code(), e)
}
