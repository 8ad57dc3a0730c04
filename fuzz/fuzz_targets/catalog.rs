//! Any text as a catalog document, YAML and JSON: a validated catalog or a located error.
#![no_main]

use kpi_catalog::Catalog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(catalog) = Catalog::from_yaml(text) {
        let _ = catalog.problems();
        let _ = catalog.to_yaml();
    }
    let _ = Catalog::from_json(text);
});
