//! Pricing errors: every problem with the answers or the price book, listed at once.

use std::fmt;

use kpi_catalog::CatalogError;

/// What can go wrong while pricing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PricingError {
    /// The answers (or a price book) have problems; each one is listed.
    #[error("{} problem(s) with the {what}:\n{problems}", problems.len())]
    Invalid {
        /// What was checked: `answers` or `price book`.
        what: &'static str,
        /// Every problem found.
        problems: Problems,
    },
    /// A document (answers or price book) is not valid YAML or JSON of the expected shape.
    #[error("cannot read the {what}: {message}")]
    Parse {
        /// What was read.
        what: &'static str,
        /// The parser's message, with its line and column when it has them.
        message: String,
    },
    /// The catalog refused the selected KPIs (unknown code, invalid formula).
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

impl PricingError {
    /// Every code [`PricingError::code`] gives of its own, with its kind (catalog refusals
    /// carry the catalog's code).
    pub const CODES: &'static [(&'static str, kpi_formula::ErrorCategory)] = &[("KPI_PRICING", kpi_formula::ErrorCategory::Pricing)];

    /// A stable code for bindings: `KPI_PRICING` for problems with answers or a price book,
    /// `KPI_CATALOG` when the catalog refused the KPIs.
    pub fn code(&self) -> &'static str {
        match self {
            PricingError::Invalid { .. } | PricingError::Parse { .. } => "KPI_PRICING",
            PricingError::Catalog(e) => e.code(),
        }
    }

    /// The kind, matching [`PricingError::code`].
    pub fn kind(&self) -> kpi_formula::ErrorCategory {
        match self {
            PricingError::Invalid { .. } | PricingError::Parse { .. } => kpi_formula::ErrorCategory::Pricing,
            PricingError::Catalog(e) => e.kind(),
        }
    }

    /// The listed problems (empty for parse and catalog errors).
    pub fn problems(&self) -> &[Problem] {
        match self {
            PricingError::Invalid { problems, .. } => &problems.0,
            _ => &[],
        }
    }
}

/// One problem with an answer or a price-book entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// Where: the answer's path, e.g. `data_integration.orders.method`.
    pub path: String,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to fix it, when there is a likely fix.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        if let Some(help) = &self.help {
            write!(f, " (help: {help})")?;
        }
        Ok(())
    }
}

/// A list of problems.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Iterates over them.
    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.0.iter()
    }

    /// Records a problem at `path`.
    pub(crate) fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem { path: path.into(), message: message.into(), help: None });
    }

    /// Records a problem with a hint on how to fix it.
    pub(crate) fn add_with_help(&mut self, path: impl Into<String>, message: impl Into<String>, help: Option<String>) {
        self.0.push(Problem { path: path.into(), message: message.into(), help });
    }

    /// `Ok(value)` when there are no problems, else the error for `what`.
    pub(crate) fn into_result<T>(self, what: &'static str, value: T) -> Result<T, PricingError> {
        if self.is_empty() { Ok(value) } else { Err(PricingError::Invalid { what, problems: self }) }
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "  - {p}")?;
        }
        Ok(())
    }
}

/// `did you mean `x`?` for `name` among `candidates`.
pub(crate) fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    kpi_formula::diagnostic::did_you_mean(name, candidates).map(|s| format!("did you mean `{s}`?"))
}
