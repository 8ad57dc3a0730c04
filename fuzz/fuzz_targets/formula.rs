//! Any text as a formula: parsed and resolved against the standard catalog, a result or
//! diagnostics, never a panic.
#![no_main]

use std::sync::LazyLock;

use kpi_catalog::Catalog;
use libfuzzer_sys::fuzz_target;

static CATALOG: LazyLock<Catalog> = LazyLock::new(Catalog::standard);

fuzz_target!(|text: &str| {
    let _ = kpi_formula::check_formula(text, &*CATALOG);
});
