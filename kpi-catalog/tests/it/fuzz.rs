//! Fuzzing the catalog loader: the standard catalog's YAML and a client configuration mutated
//! (cut short, a token replaced by YAML-significant or extreme text) always load or fail with a
//! typed catalog error, never a panic or a hang.
//! `KPI_FUZZ_CASES=20000 cargo nextest run --workspace fuzz::` runs it longer.

use std::sync::LazyLock;

use kpi_catalog::Catalog;
use proptest::prelude::*;

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("KPI_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

static STANDARD: LazyLock<String> = LazyLock::new(|| Catalog::standard().to_yaml().unwrap());

const TOKENS: &[&str] = &[
    "",
    ":",
    "- ",
    "[",
    "{",
    "~",
    "null",
    "-1",
    "1e308",
    "NaN",
    "99999999999999999999",
    "'",
    "\"",
    "&a",
    "*a",
    "<<: *a",
    "\n",
    "k0 + k0",
    "rolling(x, '100000000 days')",
    "prev(x, 10000)",
    "orders.customer.orders.customer.region",
    "((((((((((",
];

fn mutated(text: &'static str) -> impl Strategy<Value = String> {
    let len = text.len();
    prop_oneof![
        (0..=len).prop_map(move |at| text[..text.floor_char_boundary(at)].to_string()),
        (0..len, 0usize..16, proptest::sample::select(TOKENS)).prop_map(move |(at, span, token)| {
            let start = text.floor_char_boundary(at);
            let end = text.floor_char_boundary((start + span).min(len));
            format!("{}{token}{}", &text[..start], &text[end..])
        }),
    ]
}

proptest! {
    #![proptest_config(cases(24))]

    #[test]
    fn mutated_catalogs_load_or_fail_typed(yaml in mutated(STANDARD.as_str())) {
        match Catalog::from_yaml(&yaml) {
            Ok(catalog) => {
                let _ = catalog.problems();
            }
            Err(e) => prop_assert!(matches!(e.kind(), kpi_formula::ErrorCategory::Catalog), "{e}: {:?}", e.kind()),
        }
    }
}

#[test]
fn the_mutation_corpus_starts_from_a_catalog_that_loads() {
    assert!(Catalog::from_yaml(&STANDARD).is_ok());
}
