//! Error types of the crate.

use datafusion::error::DataFusionError;

use crate::diagnostic::Diagnostics;
use crate::period::Grain;

/// A problem with the query around a formula that has no position in formula text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// The grain name is not one of the grains.
    #[error("unknown grain `{found}`{}; expected minute, hour, day, week, month, quarter or year",
        suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownGrain {
        /// The name given.
        found: String,
        /// The closest grain name.
        suggestion: Option<String>,
    },
    /// The time zone is not an IANA zone name.
    #[error("unknown time zone `{0}`; expected an IANA name such as `UTC` or `Europe/Berlin`")]
    UnknownTimeZone(String),
    /// A time bound could not be read.
    #[error(
        "cannot read `{0}` as a time; expected a date (2024-01-31), a local date-time (2024-01-31T13:00:00) or an RFC 3339 time with offset (2024-01-31T13:00:00Z)"
    )]
    BadTime(String),
    /// The range's start is not before its end.
    #[error("the time range is empty: start {start} is not before end {end}")]
    EmptyRange {
        /// The start given.
        start: String,
        /// The end given.
        end: String,
    },
    /// The range holds more periods than a query may produce.
    #[error("the query spans more than {limit} {grain} periods; narrow the time range or use a coarser grain")]
    TooManyPeriods {
        /// The grain asked for.
        grain: Grain,
        /// The limit.
        limit: usize,
    },
    /// A grain was asked for but none of the formula's tables has a time column.
    #[error(
        "grain `{grain}` needs a table with a time column, but the formula only reads {tables}; drop the grain or add a time column to one of them"
    )]
    NoTimeColumn {
        /// The grain asked for.
        grain: Grain,
        /// The tables the formula reads.
        tables: String,
    },
}

/// Any error of compiling a formula query to a plan.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormulaError {
    /// The formula, a filter, a dimension or a referenced KPI is invalid; each diagnostic has a span.
    #[error("{0}")]
    Invalid(Diagnostics),
    /// The query settings are invalid.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// DataFusion refused the plan (a bug in lowering, or a table source that does not match its model).
    #[error("could not build the DataFusion plan: {0}")]
    Plan(#[from] DataFusionError),
}

impl FormulaError {
    /// The diagnostics, when the error is about formula text.
    pub fn diagnostics(&self) -> Option<&Diagnostics> {
        match self {
            FormulaError::Invalid(d) => Some(d),
            _ => None,
        }
    }
}

impl From<Diagnostics> for FormulaError {
    fn from(d: Diagnostics) -> Self {
        FormulaError::Invalid(d)
    }
}

impl From<crate::diagnostic::Diagnostic> for FormulaError {
    fn from(d: crate::diagnostic::Diagnostic) -> Self {
        FormulaError::Invalid(d.into())
    }
}
