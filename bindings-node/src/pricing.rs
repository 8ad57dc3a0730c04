//! Service proposals.

use kpi_pricing::{Answers, PriceBook, ServiceProposal};
use napi_derive::napi;
use serde_json::Value;

use crate::catalog::Catalog;
use crate::errors::{self, guard};

/// A priced proposal.
#[napi]
pub struct Proposal {
    inner: ServiceProposal,
}

#[napi]
impl Proposal {
    /// The proposal as a plain object, with the specification's field names.
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> Value {
        self.inner.to_json_value()
    }

    /// The proposal as Markdown.
    #[napi]
    pub fn to_markdown(&self) -> String {
        self.inner.to_markdown()
    }
}

/// The questionnaire (for `kpis` of `catalog` when both are given).
#[napi]
pub fn questionnaire(catalog: Option<&Catalog>, kpis: Option<Vec<String>>) -> napi::Result<Value> {
    guard(|| {
        let book = PriceBook::default();
        let q = match (catalog, kpis) {
            (Some(c), Some(kpis)) => kpi_pricing::questionnaire_for(&c.inner, &kpis, &book).map_err(errors::pricing)?,
            _ => kpi_pricing::questionnaire(&book),
        };
        serde_json::to_value(&q).map_err(errors::json_failed)
    })
}

/// Prices `kpis` of `catalog` from `answers` (JSON or YAML text).
#[napi]
pub fn price(catalog: &Catalog, kpis: Vec<String>, answers: String) -> napi::Result<Proposal> {
    guard(|| {
        let answers = Answers::from_yaml(&answers).map_err(errors::pricing)?;
        let inner = kpi_pricing::price(&catalog.inner, &kpis, &answers, &PriceBook::default()).map_err(errors::pricing)?;
        Ok(Proposal { inner })
    })
}
