//! The engine on a Ballista cluster of `kpi-scheduler` and `kpi-executor` processes.

mod failures;
mod readme;
mod standard;
mod support;
