//! Service proposals: the questionnaire, and pricing a set of KPIs from its answers.

use kpi_pricing::{Answers, PriceBook, ServiceProposal};
use pyo3::prelude::*;

use crate::catalog::Catalog;
use crate::errors::{Outcome, guarded};

/// A priced service proposal.
#[pyclass(module = "kpi_engine._native", frozen)]
pub(crate) struct Proposal {
    inner: ServiceProposal,
}

#[pymethods]
impl Proposal {
    /// The proposal as JSON, with the specification's field names.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The proposal as a Markdown document.
    fn to_markdown(&self) -> String {
        self.inner.to_markdown()
    }
}

fn book(price_book: Option<&str>) -> Outcome<PriceBook> {
    match price_book {
        Some(text) => Ok(PriceBook::from_yaml(text)?),
        None => Ok(PriceBook::default()),
    }
}

/// The questionnaire as JSON: for `kpis` of `catalog` when given, else the general one.
#[pyfunction]
#[pyo3(signature = (catalog=None, kpis=None, price_book=None))]
pub(crate) fn questionnaire_json(catalog: Option<&Catalog>, kpis: Option<Vec<String>>, price_book: Option<&str>) -> Outcome<String> {
    guarded(|| {
        let book = book(price_book)?;
        let questionnaire = match (catalog, kpis) {
            (Some(catalog), Some(kpis)) => kpi_pricing::questionnaire_for(&catalog.get(), &kpis, &book)?,
            _ => kpi_pricing::questionnaire(&book),
        };
        serde_json::to_string(&questionnaire).map_err(|e| kpi_core::EngineError::Internal(format!("could not write JSON: {e}")).into())
    })
}

/// Prices `kpis` of `catalog` from `answers` (JSON or YAML text) with the default price book
/// or one with `price_book`'s overrides (YAML).
#[pyfunction]
#[pyo3(signature = (catalog, kpis, answers, price_book=None))]
pub(crate) fn price(catalog: &Catalog, kpis: Vec<String>, answers: &str, price_book: Option<&str>) -> Outcome<Proposal> {
    guarded(|| {
        let answers = Answers::from_yaml(answers)?;
        let inner = kpi_pricing::price(&catalog.get(), &kpis, &answers, &book(price_book)?)?;
        Ok(Proposal { inner })
    })
}
