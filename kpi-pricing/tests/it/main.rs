//! kpi-pricing through its public API: the specification's worked figures, bad answers, price
//! books, the questionnaire, retention, and properties of every priced proposal.

mod answers;
mod fuzz;
mod golden;
mod price_book;
mod properties;
mod questionnaire;
mod retention;

use kpi_catalog::Catalog;
use kpi_pricing::{Answers, PriceBook, PricingError, ServiceProposal, price};

/// The specification's worked example, as shipped with the `proposal` example.
pub const SPEC_ANSWERS: &str = include_str!("../../../examples/proposal/answers.yaml");
/// The KPIs it is priced for.
pub const SPEC_KPIS: [&str; 3] = ["perfect_order_rate", "on_time_delivery_rate", "new_customers"];

/// Prices `yaml` answers for `kpis` with the default book.
pub fn price_yaml(kpis: &[&str], yaml: &str) -> Result<ServiceProposal, PricingError> {
    let answers = Answers::from_yaml(yaml)?;
    price(&Catalog::standard(), kpis, &answers, &PriceBook::default())
}

/// The specification's proposal.
pub fn spec_proposal() -> ServiceProposal {
    price_yaml(&SPEC_KPIS, SPEC_ANSWERS).expect("the specification's answers price")
}

/// Minimal valid answers, to which a test adds or changes one part.
pub const MINIMAL: &str = r#"
proposal_date: 2026-11-22
license_term: 1
default_integration: { method: batch_conformed }
environment: { platform: none }
infrastructure: { daily_gb: 1, concurrent_users: 10, refresh: hour }
managed_services: { retainer: false }
"#;

/// The problem paths of a pricing error.
pub fn problem_paths(err: &PricingError) -> Vec<String> {
    err.problems().iter().map(|p| p.path.clone()).collect()
}
