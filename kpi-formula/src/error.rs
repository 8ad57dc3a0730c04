//! Error types of the crate, and the [`ErrorCategory`] every error of the workspace reports.

use datafusion::error::DataFusionError;

use crate::diagnostic::Diagnostics;
use crate::period::Grain;

/// What kind of failure an error is, whatever crate raised it: the bindings choose their
/// exception class from it (`FormulaError`, `QueryError`, ...), and it is the `kind` they
/// report beside the error's stable code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ErrorCategory {
    /// Formula, filter or dimension text is invalid; the error has a source span.
    Formula,
    /// The query's settings or an option are invalid (grain, range, time zone, refresh, ...).
    Query,
    /// The catalog is invalid, or does not hold what was asked.
    Catalog,
    /// Registered data is missing, unreadable, or does not fit its object model.
    Data,
    /// A calculation failed, timed out, was cancelled, ran out of memory or could not be
    /// written as SQL.
    Calculation,
    /// A proposal's answers or a price book are invalid.
    Pricing,
    /// A bug: the library panicked or reached a state it should not. The message says where.
    Internal,
}

impl ErrorCategory {
    /// Every category, in declaration order.
    pub const ALL: [ErrorCategory; 7] = [
        ErrorCategory::Formula,
        ErrorCategory::Query,
        ErrorCategory::Catalog,
        ErrorCategory::Data,
        ErrorCategory::Calculation,
        ErrorCategory::Pricing,
        ErrorCategory::Internal,
    ];

    /// The lowercase name the bindings report as `kind`: `formula`, `query`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCategory::Formula => "formula",
            ErrorCategory::Query => "query",
            ErrorCategory::Catalog => "catalog",
            ErrorCategory::Data => "data",
            ErrorCategory::Calculation => "calculation",
            ErrorCategory::Pricing => "pricing",
            ErrorCategory::Internal => "internal",
        }
    }

    /// The name of the exception class that stands for this kind in Python and Node
    /// (subclasses of `KpiError`).
    pub fn class_name(self) -> &'static str {
        match self {
            ErrorCategory::Formula => "FormulaError",
            ErrorCategory::Query => "QueryError",
            ErrorCategory::Catalog => "CatalogError",
            ErrorCategory::Data => "DataError",
            ErrorCategory::Calculation => "CalculationError",
            ErrorCategory::Pricing => "PricingError",
            ErrorCategory::Internal => "InternalError",
        }
    }
}

impl std::fmt::Display for ErrorCategory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    /// The fiscal year start is not a month.
    #[error("unknown month `{0}`; expected a month name (`april`, `apr`) or number (1-12)")]
    UnknownMonth(String),
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
    /// A time lies outside the years the engine supports.
    #[error("{what} {time} is outside the supported years {min}–{max}", min = crate::period::MIN_YEAR, max = crate::period::MAX_YEAR)]
    OutOfRange {
        /// Which time: `start`, `end`, a window...
        what: String,
        /// The time, as given or as calculated.
        time: String,
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
    /// A retail calendar or a calendar table could not be read.
    #[error("calendar `{calendar}`: {message}")]
    BadCalendar {
        /// The calendar as given (its text or the table's name).
        calendar: String,
        /// What is wrong and what to write instead.
        message: String,
    },
    /// A time lies outside the days a calendar table covers.
    #[error("{0}")]
    OutsideCalendar(Box<OutsideCalendar>),
}

/// A time outside the days a calendar table covers (boxed in [`QueryError`], which stays small).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{what} {time} lies outside the calendar table `{calendar}`, which covers {first} to {last}; query inside it or extend the table")]
pub struct OutsideCalendar {
    /// Which time: the range's start or end.
    pub what: String,
    /// The time.
    pub time: String,
    /// The calendar table.
    pub calendar: String,
    /// The first day the table covers.
    pub first: String,
    /// The last day the table covers.
    pub last: String,
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

impl QueryError {
    /// The stable code: `KPI_QUERY`.
    pub fn code(&self) -> &'static str {
        "KPI_QUERY"
    }

    /// The kind: [`ErrorCategory::Query`].
    pub fn kind(&self) -> ErrorCategory {
        ErrorCategory::Query
    }
}

impl FormulaError {
    /// The stable code: `KPI_FORMULA` for invalid text, `KPI_QUERY` for query settings and
    /// for a plan DataFusion refused.
    pub fn code(&self) -> &'static str {
        match self {
            FormulaError::Invalid(_) => "KPI_FORMULA",
            FormulaError::Query(_) | FormulaError::Plan(_) => "KPI_QUERY",
        }
    }

    /// The kind, matching [`FormulaError::code`].
    pub fn kind(&self) -> ErrorCategory {
        match self {
            FormulaError::Invalid(_) => ErrorCategory::Formula,
            FormulaError::Query(_) | FormulaError::Plan(_) => ErrorCategory::Query,
        }
    }

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
