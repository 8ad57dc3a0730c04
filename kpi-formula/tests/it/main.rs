//! Integration tests of kpi-formula through its public API (one binary: linking DataFusion is slow).

mod conversions;
mod correctness;
mod date_parts;
mod diagnostics;
mod fiscal_years;
mod offsets;
mod per_entity;
mod retail_calendars;
mod robustness;
mod support;
mod time_functions;
mod time_zones;
