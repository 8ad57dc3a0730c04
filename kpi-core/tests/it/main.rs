//! Integration tests of kpi-core through its public API (one binary, modules by topic).

mod alerts;
mod bounds;
mod cache;
mod calculate;
mod calendars;
mod definitions;
mod errors;
mod feed;
mod file_server;
pub mod files;
mod forecast;
mod fuzz;
mod isolation;
mod lifecycle;
mod maintained;
mod postgres;
mod receivers;
mod registration;
mod reports;
mod results;
mod shared;
mod source;
mod sql;
mod stream;
mod support;
mod windows;
