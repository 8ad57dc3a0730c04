//! Errors cross as a JSON reason (`code`, `kind`, `message`, and `line`/`column`/`start`/`end`
//! for formula errors), which the JavaScript layer turns into the `KpiError` subclass of the
//! error's kind. The kind comes from the core; nothing here maps codes to classes.
//!
//! Every export runs under [`guard`] or [`guard_async`], so a panic inside the engine becomes a
//! `KPI_INTERNAL` error instead of aborting Node or rejecting with a bare `GenericFailure`.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use kpi_core::EngineError;
use serde_json::{Value, json};

fn error(value: Value) -> napi::Error {
    napi::Error::from_reason(value.to_string())
}

/// An error of `code` (its kind from the core's table) with `message`.
pub(crate) fn coded(code: &str, message: impl std::fmt::Display) -> napi::Error {
    error(json!({ "code": code, "kind": EngineError::kind_of_code(code).as_str(), "message": message.to_string() }))
}

/// An engine error with its code, kind, message and position.
pub(crate) fn engine(e: EngineError) -> napi::Error {
    error(e.to_json())
}

/// A catalog error.
pub(crate) fn catalog(e: kpi_catalog::CatalogError) -> napi::Error {
    error(json!({ "code": e.code(), "kind": e.kind().as_str(), "message": e.to_string() }))
}

/// A pricing error.
pub(crate) fn pricing(e: kpi_pricing::PricingError) -> napi::Error {
    error(json!({ "code": e.code(), "kind": e.kind().as_str(), "message": e.to_string() }))
}

/// A value that could not be written as JSON (a bug).
pub(crate) fn json_failed(e: serde_json::Error) -> napi::Error {
    engine(EngineError::Internal(format!("could not write JSON: {e}")))
}

fn panicked(payload: &(dyn std::any::Any + Send)) -> napi::Error {
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string());
    engine(EngineError::Internal(message))
}

/// Runs a synchronous export, turning a panic into an internal error.
pub(crate) fn guard<T>(work: impl FnOnce() -> napi::Result<T>) -> napi::Result<T> {
    std::panic::catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|p| Err(panicked(p.as_ref())))
}

/// Runs an asynchronous export, turning a panic into an internal error.
pub(crate) async fn guard_async<T>(work: impl Future<Output = napi::Result<T>>) -> napi::Result<T> {
    AssertUnwindSafe(work).catch_unwind().await.unwrap_or_else(|p| Err(panicked(p.as_ref())))
}

/// Every error code the engine and pricing give, with its kind, for the parity tests.
#[napi_derive::napi]
pub fn error_codes() -> Vec<Vec<String>> {
    let pricing = kpi_pricing::PricingError::CODES.iter();
    EngineError::CODES.iter().chain(pricing).map(|(code, kind)| vec![code.to_string(), kind.as_str().to_string()]).collect()
}
