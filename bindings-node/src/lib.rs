//! # kpi-engine-node
//!
//! The addon of the npm package `kpi-engine` (napi-rs): a thin layer that converts types and
//! errors and holds no business logic. The JavaScript layer (`index.js`) wraps it: it turns the
//! errors' JSON reasons into `KpiError` subclasses with a `code`, and builds callbacks and async
//! iterators on the subscription's `next`.

// napi registers exports only outside test builds, so there the items look unused.
#![cfg_attr(test, allow(dead_code))]

mod alerting;
mod catalog;
mod cluster;
mod definitions;
mod engine;
mod errors;
mod feed;
mod forecast;
mod lifecycle;
mod pricing;
