//! The engine's error type.

use std::time::Duration;

use datafusion::error::DataFusionError;
use kpi_catalog::CatalogError;
use kpi_formula::FormulaError;

/// Everything that can go wrong registering data or calculating a KPI.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The formula, a dimension, the filter or the query settings are invalid; the formula
    /// error carries diagnostics with positions.
    #[error(transparent)]
    Formula(#[from] FormulaError),
    /// The catalog refused something (an unknown KPI, module or value chain code, for example).
    #[error(transparent)]
    Catalog(#[from] CatalogError),
    /// Data was registered for a name that is not an object model of the catalog.
    #[error("unknown object model `{name}`{}; register data under one of the catalog's object models",
        suggestion.as_ref().map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default())]
    UnknownObjectModel {
        /// The name given.
        name: String,
        /// The closest object model code.
        suggestion: Option<String>,
    },
    /// A calculation reads an object model that has no data registered.
    #[error(
        "no data is registered for object model `{0}`; register record batches, a Parquet or CSV file, or a table provider for it first"
    )]
    NoData(String),
    /// Registered data lacks a column of the object model.
    #[error("data for `{object_model}` has no column `{column}` (expected {expected}){}",
        suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    MissingColumn {
        /// The object model.
        object_model: String,
        /// The column the object model declares.
        column: String,
        /// Its declared type.
        expected: String,
        /// The closest column name found in the data.
        suggestion: Option<String>,
    },
    /// A column of registered data has a type that cannot stand for the declared one.
    #[error("column `{object_model}.{column}` has type {found} but the object model declares {expected}{}",
        help.as_ref().map(|h| format!("; {h}")).unwrap_or_default())]
    SchemaMismatch {
        /// The object model.
        object_model: String,
        /// The column.
        column: String,
        /// The declared type.
        expected: String,
        /// The type found in the data.
        found: String,
        /// What to do about it.
        help: Option<String>,
    },
    /// A column declared not nullable holds nulls.
    #[error(
        "column `{object_model}.{column}` is declared not nullable but the data holds nulls; fill them or declare the column `nullable: true`"
    )]
    UnexpectedNulls {
        /// The object model.
        object_model: String,
        /// The column.
        column: String,
    },
    /// A file could not be read as data.
    #[error("cannot read {path} as {format}: {message}")]
    Read {
        /// The file or directory.
        path: String,
        /// Parquet or CSV.
        format: &'static str,
        /// What went wrong.
        message: String,
    },
    /// A calculation ran longer than its timeout and was stopped.
    #[error("{what} did not finish within {}; it was stopped (raise the timeout or narrow the query)", humanize(*after))]
    Timeout {
        /// The KPI code or "formula".
        what: String,
        /// The timeout.
        after: Duration,
    },
    /// The calculation was cancelled by its caller.
    #[error("{0} was cancelled")]
    Cancelled(String),
    /// The engine's memory limit was reached.
    #[error(
        "{what} needs more memory than the engine's limit of {limit} bytes allows ({message}); raise `EngineOptions::memory_limit` or narrow the query"
    )]
    MemoryLimit {
        /// The KPI code or "formula".
        what: String,
        /// The configured limit in bytes.
        limit: usize,
        /// DataFusion's account of the reservation that failed.
        message: String,
    },
    /// An option has a value the engine cannot use.
    #[error("invalid option {option}: {message}")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// Why it is invalid.
        message: String,
    },
    /// A plan could not be written as SQL of a dialect.
    #[error("cannot write the plan as {dialect} SQL: {message}")]
    Unparse {
        /// The dialect.
        dialect: &'static str,
        /// What the unparser could not express.
        message: String,
    },
    /// DataFusion failed while executing a plan.
    #[error("execution failed: {0}")]
    Execution(DataFusionError),
}

impl EngineError {
    /// A short stable code for the kind of error, for bindings and logs (`KPI_FORMULA`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Formula(FormulaError::Invalid(_)) => "KPI_FORMULA",
            EngineError::Formula(_) => "KPI_QUERY",
            EngineError::Catalog(_) => "KPI_CATALOG",
            EngineError::UnknownObjectModel { .. } | EngineError::NoData(_) => "KPI_DATA",
            EngineError::MissingColumn { .. } | EngineError::SchemaMismatch { .. } | EngineError::UnexpectedNulls { .. } => "KPI_SCHEMA",
            EngineError::Read { .. } => "KPI_READ",
            EngineError::Timeout { .. } => "KPI_TIMEOUT",
            EngineError::Cancelled(_) => "KPI_CANCELLED",
            EngineError::MemoryLimit { .. } => "KPI_MEMORY",
            EngineError::InvalidOption { .. } => "KPI_OPTION",
            EngineError::Unparse { .. } => "KPI_SQL",
            EngineError::Execution(_) => "KPI_EXECUTION",
        }
    }

    /// Maps a DataFusion failure of the calculation `what`, recognising memory exhaustion.
    pub(crate) fn from_execution(e: DataFusionError, what: &str, limit: Option<usize>) -> EngineError {
        match (e.find_root(), limit) {
            (DataFusionError::ResourcesExhausted(message), Some(limit)) => {
                EngineError::MemoryLimit { what: what.to_string(), limit, message: message.clone() }
            }
            _ => EngineError::Execution(e),
        }
    }
}

fn humanize(d: Duration) -> String {
    if d.as_secs() >= 1 { format!("{:.1} s", d.as_secs_f64()) } else { format!("{} ms", d.as_millis()) }
}
