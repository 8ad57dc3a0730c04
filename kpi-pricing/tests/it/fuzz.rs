//! Fuzzing the answers and the price book: the specification's answers mutated (cut short, a
//! token replaced by YAML-significant or extreme text) always price or fail with a typed
//! pricing error, never a panic. `KPI_FUZZ_CASES=20000 cargo nextest run --workspace fuzz::`
//! runs it longer.

use kpi_pricing::{Answers, PriceBook};
use proptest::prelude::*;

use crate::{SPEC_ANSWERS, SPEC_KPIS, price_yaml};

fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("KPI_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

const TOKENS: &[&str] = &[
    "",
    ":",
    "- ",
    "[",
    "{",
    "~",
    "null",
    "-1",
    "0",
    "1e308",
    "-1e308",
    "NaN",
    ".inf",
    "99999999999999999999",
    "2026-02-30",
    "31/12/262143",
    "'",
    "\"",
    "&a",
    "*a",
    "!!binary x",
    "\n",
    "\t",
    "yes",
];

/// `text` mutated: cut at a char boundary, or a span replaced by a token.
fn mutated(text: &'static str) -> impl Strategy<Value = String> {
    let len = text.len();
    prop_oneof![
        (0..=len).prop_map(move |at| text[..text.floor_char_boundary(at)].to_string()),
        (0..len, 0usize..12, proptest::sample::select(TOKENS)).prop_map(move |(at, span, token)| {
            let start = text.floor_char_boundary(at);
            let end = text.floor_char_boundary((start + span).min(len));
            format!("{}{token}{}", &text[..start], &text[end..])
        }),
    ]
}

proptest! {
    #![proptest_config(cases(64))]

    #[test]
    fn mutated_answers_price_or_fail_typed(yaml in mutated(SPEC_ANSWERS)) {
        if let Err(e) = price_yaml(&SPEC_KPIS, &yaml) {
            prop_assert!(kpi_pricing::PricingError::CODES.iter().any(|(c, _)| *c == e.code()), "{e}");
        }
    }

    #[test]
    fn mutated_price_books_load_or_fail_typed(yaml in mutated(Box::leak(PriceBook::default().to_yaml().into_boxed_str()))) {
        match PriceBook::from_yaml(&yaml) {
            Ok(book) => {
                let answers = Answers::from_yaml(SPEC_ANSWERS).unwrap();
                let _ = kpi_pricing::price(&kpi_catalog::Catalog::standard(), &SPEC_KPIS, &answers, &book);
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
