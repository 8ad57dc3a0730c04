//! The engine's error type.

use std::time::Duration;

use datafusion::error::DataFusionError;
use kpi_catalog::CatalogError;
use kpi_formula::{ErrorCategory, FormulaError};

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
    /// A KPI definition change was refused (it would break the catalog, or remove a KPI others
    /// use); nothing changed.
    #[error("{0}")]
    DefinitionRefused(String),
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
    #[error("data for `{object_model}` has no column `{column}` (expected {expected}){}; it has {}",
        suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default(),
        column_list(found))]
    MissingColumn {
        /// The object model.
        object_model: String,
        /// The column the object model declares.
        column: String,
        /// Its declared type.
        expected: String,
        /// The closest column name found in the data.
        suggestion: Option<String>,
        /// The columns the data has.
        found: Box<[String]>,
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
    /// A row's event time lies outside the years the engine calculates.
    #[error(
        "column `{object_model}.{column}` holds the time {time}, outside the supported years {min}–{max}; correct or drop the row",
        min = kpi_formula::MIN_YEAR, max = kpi_formula::MAX_YEAR
    )]
    TimeOutOfRange {
        /// The object model.
        object_model: String,
        /// Its time column.
        column: String,
        /// The first time found outside the years.
        time: String,
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
    /// A database or other data source could not be reached or read. The location names the
    /// host and database, never a password.
    #[error("{system} at {location}: {message}")]
    Source {
        /// The kind of source: `PostgreSQL`, ...
        system: &'static str,
        /// Where it is, without credentials (`postgresql://user@host:port/database`).
        location: String,
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
    /// A result would have more rows than the engine allows.
    #[error(
        "{what} gives more than {limit} rows{} (periods × dimension groups); narrow the time range, use a coarser grain or fewer dimensions, or raise `max_result_rows`",
        at_least.map(|n| format!(": {n} periods before any dimension, estimated before running")).unwrap_or_default()
    )]
    TooManyRows {
        /// The KPI code or "formula".
        what: String,
        /// The limit.
        limit: usize,
        /// The periods of the range when they alone pass the limit, found before execution;
        /// `None` when the rows were counted as they came.
        at_least: Option<usize>,
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
    /// A series could not be forecast or its trend found (too short, no values).
    #[error("cannot forecast {what}: {error}")]
    Forecast {
        /// The KPI code or "formula".
        what: String,
        /// Why.
        error: crate::forecast::ForecastError,
    },
    /// An alert rule or notifier was refused: an unknown KPI or source, contradicting
    /// thresholds, a missing or meaningless setting, a name already taken.
    #[error("alert rule `{rule}`: {message}")]
    InvalidAlert {
        /// The rule's (or notifier's) name.
        rule: String,
        /// What is wrong, naming the setting.
        message: String,
    },
    /// A report definition was refused (unknown KPIs, a bad range, schedule, time zone or
    /// format, too many KPIs), or names no report the engine has.
    #[error("report `{report}`: {message}")]
    InvalidReport {
        /// The report's name or id.
        report: String,
        /// What is wrong, naming the setting.
        message: String,
    },
    /// A notification or report could not be delivered (an unreachable mail server, a webhook
    /// that kept failing, a directory that cannot be written).
    #[error("cannot deliver to {target}: {message}")]
    Delivery {
        /// Where it was going: `smtp://host:port`, a webhook URL without credentials, a path.
        target: String,
        /// What went wrong.
        message: String,
    },
    /// A retention policy was refused: it breaks a rule of a regulation it names
    /// ([`kpi_catalog::RetentionPolicy::violations`]), or has a setting the engine cannot enforce.
    #[error("retention policy refused: {rule}: {message}")]
    Retention {
        /// The rule broken, e.g. `SOX (staged_source_data)` or the setting.
        rule: String,
        /// What it requires and what the policy does.
        message: String,
    },
    /// The data directory or the archive location cannot be written or read: nothing was
    /// released or acknowledged.
    #[error("storage at {path}: {message}")]
    Storage {
        /// The file, directory or URL.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// An archive file does not match its checksum or cannot be read; calculations that reach
    /// its periods fail rather than leave them out.
    #[error("archive file {path} (periods {periods}) is corrupt: {message}; restore it from a backup or remove its entry from the index")]
    CorruptArchive {
        /// The file.
        path: String,
        /// The periods it holds, e.g. `2024-01`.
        periods: String,
        /// What is wrong.
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
    /// A query document ([`QuerySpec`](crate::QuerySpec)) or a settings document
    /// ([`EngineSettings`](crate::EngineSettings)) has an unknown field, a value of the wrong
    /// type, or contradicting fields.
    #[error("invalid {document}: {message}")]
    InvalidDocument {
        /// Which document: `query` or `engine settings`.
        document: &'static str,
        /// What is wrong, with the field's name.
        message: String,
    },
    /// The engine's Ballista cluster could not be reached within the connect timeout, is not a
    /// scheduler that reads the engine's plans (a stock Ballista, or another engine version),
    /// or failed the calculation.
    #[error("Ballista cluster at {url}: {message}")]
    Cluster {
        /// `df://host:port`.
        url: String,
        /// What went wrong, and what to do about it.
        message: String,
    },
    /// The engine has a cluster, and a calculation reads a table whose rows the cluster's
    /// executors cannot read.
    #[error(
        "`{object_model}` cannot be read on the cluster at {cluster}: {why}. A cluster's executors read Parquet or CSV files they can reach (a shared directory or an object store): register the table with register_parquet or register_csv, or calculate with an engine without `cluster`"
    )]
    LocalOnly {
        /// The object model.
        object_model: String,
        /// `df://host:port`.
        cluster: String,
        /// Why its rows are only here.
        why: &'static str,
    },
    /// A bug: the engine panicked or reached a state it should not. The calculation or call
    /// failed; the engine itself keeps working.
    #[error("internal error (a bug in the KPI engine; please report it): {0}")]
    Internal(String),
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
    /// Every code [`EngineError::code`] gives, with its kind.
    pub const CODES: &'static [(&'static str, ErrorCategory)] = &[
        ("KPI_FORMULA", ErrorCategory::Formula),
        ("KPI_QUERY", ErrorCategory::Query),
        ("KPI_OPTION", ErrorCategory::Query),
        ("KPI_ALERT", ErrorCategory::Query),
        ("KPI_REPORT", ErrorCategory::Query),
        ("KPI_RETENTION", ErrorCategory::Query),
        ("KPI_CATALOG", ErrorCategory::Catalog),
        ("KPI_DEFINITION", ErrorCategory::Catalog),
        ("KPI_DATA", ErrorCategory::Data),
        ("KPI_SCHEMA", ErrorCategory::Data),
        ("KPI_READ", ErrorCategory::Data),
        ("KPI_SOURCE", ErrorCategory::Data),
        ("KPI_FORECAST", ErrorCategory::Data),
        ("KPI_DELIVERY", ErrorCategory::Data),
        ("KPI_STORAGE", ErrorCategory::Data),
        ("KPI_ARCHIVE", ErrorCategory::Data),
        ("KPI_CLUSTER", ErrorCategory::Data),
        ("KPI_LOCAL_ONLY", ErrorCategory::Query),
        ("KPI_TIMEOUT", ErrorCategory::Calculation),
        ("KPI_CANCELLED", ErrorCategory::Calculation),
        ("KPI_MEMORY", ErrorCategory::Calculation),
        ("KPI_SQL", ErrorCategory::Calculation),
        ("KPI_EXECUTION", ErrorCategory::Calculation),
        ("KPI_INTERNAL", ErrorCategory::Internal),
    ];

    /// The kind of a `code` of [`EngineError::CODES`] (or of another crate's error, whose
    /// codes share the `KPI_` names); [`ErrorCategory::Internal`] for a code no crate gives.
    pub fn kind_of_code(code: &str) -> ErrorCategory {
        match code {
            "KPI_PRICING" => ErrorCategory::Pricing,
            _ => Self::CODES.iter().find(|(c, _)| *c == code).map_or(ErrorCategory::Internal, |(_, k)| *k),
        }
    }

    /// The kind of failure, which the bindings turn into their exception class.
    pub fn kind(&self) -> ErrorCategory {
        match self {
            EngineError::Formula(e) => e.kind(),
            EngineError::Catalog(e) => e.kind(),
            _ => Self::kind_of_code(self.code()),
        }
    }

    /// The error as JSON: `code`, `kind`, `message`, and for invalid formula text the first
    /// problem's `line`, `column` and byte `start` and `end`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut out = serde_json::json!({ "code": self.code(), "kind": self.kind().as_str(), "message": self.to_string() });
        if let EngineError::Formula(FormulaError::Invalid(diagnostics)) = self {
            let first = diagnostics.first();
            let at = first.line_col();
            out["line"] = at.line.into();
            out["column"] = at.column.into();
            out["start"] = first.span.start.into();
            out["end"] = first.span.end.into();
        }
        out
    }

    /// A short stable code for the kind of error, for bindings and logs (`KPI_FORMULA`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::Formula(e) => e.code(),
            EngineError::Catalog(e) => e.code(),
            EngineError::DefinitionRefused(_) => "KPI_DEFINITION",
            EngineError::UnknownObjectModel { .. } | EngineError::NoData(_) | EngineError::TimeOutOfRange { .. } => "KPI_DATA",
            EngineError::MissingColumn { .. } | EngineError::SchemaMismatch { .. } | EngineError::UnexpectedNulls { .. } => "KPI_SCHEMA",
            EngineError::Read { .. } => "KPI_READ",
            EngineError::Source { .. } => "KPI_SOURCE",
            EngineError::Forecast { .. } => "KPI_FORECAST",
            EngineError::Timeout { .. } => "KPI_TIMEOUT",
            EngineError::Cancelled(_) => "KPI_CANCELLED",
            EngineError::MemoryLimit { .. } => "KPI_MEMORY",
            EngineError::InvalidOption { .. } => "KPI_OPTION",
            EngineError::InvalidAlert { .. } => "KPI_ALERT",
            EngineError::InvalidReport { .. } => "KPI_REPORT",
            EngineError::Delivery { .. } => "KPI_DELIVERY",
            EngineError::Retention { .. } => "KPI_RETENTION",
            EngineError::Storage { .. } => "KPI_STORAGE",
            EngineError::CorruptArchive { .. } => "KPI_ARCHIVE",
            EngineError::Cluster { .. } => "KPI_CLUSTER",
            EngineError::LocalOnly { .. } => "KPI_LOCAL_ONLY",
            EngineError::InvalidDocument { .. } | EngineError::TooManyRows { .. } => "KPI_QUERY",
            EngineError::Internal(_) => "KPI_INTERNAL",
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

/// Column names for a message: the first 30 of them, and how many more.
fn column_list(names: &[String]) -> String {
    const SHOWN: usize = 30;
    if names.is_empty() {
        return "no columns".into();
    }
    let shown: Vec<String> = names.iter().take(SHOWN).map(|c| format!("`{c}`")).collect();
    let more = names.len().saturating_sub(SHOWN);
    if more > 0 { format!("{} and {more} more", shown.join(", ")) } else { shown.join(", ") }
}
