//! Integration tests of kpi-formula through its public API (one binary: linking DataFusion is slow).

mod correctness;
mod diagnostics;
mod ragged_windows;
mod robustness;
mod support;
mod time_zones;
