//! The engine on a Ballista cluster of `kpi-scheduler` and `kpi-executor` processes.

mod failures;
#[path = "../../../kpi-core/tests/it/file_server.rs"]
mod file_server;
mod readme;
mod standard;
mod support;
