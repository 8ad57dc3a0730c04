//! The `kpi` command line as users run it: the built binary, in a scratch directory.

mod calc;
mod check;
mod cluster;
mod errors;
mod forecast;
mod readme;
mod report;
mod retention;
mod support;
