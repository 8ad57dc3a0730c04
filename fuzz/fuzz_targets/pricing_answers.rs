//! Any text as questionnaire answers (and as a price book): a priced proposal or a pricing error.
#![no_main]

use std::sync::LazyLock;

use kpi_catalog::Catalog;
use kpi_pricing::{Answers, PriceBook, price};
use libfuzzer_sys::fuzz_target;

static CATALOG: LazyLock<Catalog> = LazyLock::new(Catalog::standard);

fuzz_target!(|text: &str| {
    if let Ok(answers) = Answers::from_yaml(text) {
        if let Ok(proposal) = price(&CATALOG, &["perfect_order_rate", "new_customers"], &answers, &PriceBook::default()) {
            let _ = proposal.to_markdown();
        }
    }
    if let Ok(book) = PriceBook::from_yaml(text) {
        let _ = book.validate();
    }
});
