//! Any JSON text as a query document: turned into a query and compiled against the standard
//! catalog (resolution, periods, windows), a query or a typed error.
#![no_main]

use std::sync::LazyLock;

use kpi_catalog::Catalog;
use kpi_core::QuerySpec;
use libfuzzer_sys::fuzz_target;

static CATALOG: LazyLock<Catalog> = LazyLock::new(Catalog::standard);

fuzz_target!(|text: &str| {
    let Ok(spec) = QuerySpec::from_json(text) else { return };
    let Ok(query) = spec.to_query(&Default::default()) else { return };
    let _ = kpi_formula::compile(&query, &*CATALOG);
});
