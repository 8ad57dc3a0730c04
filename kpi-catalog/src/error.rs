//! Errors of the catalog crate.

use std::fmt;
use std::path::PathBuf;

use crate::source::Location;

/// What went wrong with a catalog, a client configuration or an imported definition.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// A file could not be read or written.
    #[error("cannot read `{path}`: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The text is not well-formed YAML or JSON, or a value has the wrong shape.
    #[error("{location}: {message}")]
    Syntax {
        /// Where the parser stopped.
        location: Location,
        /// What it expected.
        message: String,
    },
    /// The document is well-formed but its definitions have problems; all of them are listed.
    #[error("{0}")]
    Invalid(Problems),
    /// A code that is not in the catalog.
    #[error("unknown {kind} `{code}`{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    NotFound {
        /// What was looked up: `KPI`, `object model`, `module`, `value chain`.
        kind: &'static str,
        /// The code asked for.
        code: String,
        /// The closest existing code, if any is close.
        suggestion: Option<String>,
    },
    /// A definition in a foreign shape (seed `KPIDefinition` JSON, SQL) cannot be translated.
    #[error("cannot import {what}: {message}")]
    Import {
        /// Which definition, e.g. `KPI mrr`.
        what: String,
        /// Why, and what would work.
        message: String,
    },
    /// Demo data cannot be generated with these options.
    #[error("cannot generate demo data: {0}")]
    Demo(String),
    /// The catalog could not be written.
    #[error("cannot write the catalog: {0}")]
    Write(String),
}

impl CatalogError {
    /// The stable code: `KPI_CATALOG`.
    pub fn code(&self) -> &'static str {
        "KPI_CATALOG"
    }

    /// The kind: [`ErrorCategory::Catalog`](kpi_formula::ErrorCategory::Catalog).
    pub fn kind(&self) -> kpi_formula::ErrorCategory {
        kpi_formula::ErrorCategory::Catalog
    }
}

/// One problem found by validation, located in its file.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// What kind of problem it is.
    pub kind: ProblemKind,
    /// What is wrong, in one sentence.
    pub message: String,
    /// How to fix it, when there is a likely fix (e.g. a did-you-mean).
    pub help: Option<String>,
    /// Where: file, document path, line and column.
    pub location: Location,
    /// For formula problems: the formula diagnostic (its span is inside the formula text).
    pub diagnostic: Option<kpi_formula::Diagnostic>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} [{}]", self.location, self.message, self.kind.code())?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// The kinds of validation problems.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The document's schema version is not one this library reads.
    SchemaVersion,
    /// A key that no field reads (usually a typo).
    UnknownField,
    /// A required value is empty.
    Missing,
    /// Two entries share a code or name.
    Duplicate,
    /// A code refers to something that does not exist.
    UnknownReference,
    /// A relationship's key columns have types that cannot be equal.
    KeyType,
    /// A relationship would multiply rows (its target columns are not the target's primary key).
    FanOut,
    /// The time column is missing or not a date/time.
    TimeColumn,
    /// A formula does not parse or resolve (see [`Problem::diagnostic`]).
    Formula(kpi_formula::ErrorKind),
    /// KPIs reference each other in a cycle.
    Cycle,
    /// A dimension path does not resolve for the KPI.
    Dimension,
    /// Thresholds contradict the KPI's direction.
    Thresholds,
    /// A schedule is not a five-field cron expression.
    Schedule,
    /// A demo-data hint cannot be applied.
    Demo,
}

impl ProblemKind {
    /// A stable kebab-case code, e.g. `unknown-reference`.
    pub fn code(self) -> &'static str {
        match self {
            ProblemKind::SchemaVersion => "schema-version",
            ProblemKind::UnknownField => "unknown-field",
            ProblemKind::Missing => "missing",
            ProblemKind::Duplicate => "duplicate",
            ProblemKind::UnknownReference => "unknown-reference",
            ProblemKind::KeyType => "key-type",
            ProblemKind::FanOut => "fan-out",
            ProblemKind::TimeColumn => "time-column",
            ProblemKind::Formula(kpi_formula::ErrorKind::Cycle) | ProblemKind::Cycle => "cycle",
            ProblemKind::Formula(_) => "formula",
            ProblemKind::Dimension => "dimension",
            ProblemKind::Thresholds => "thresholds",
            ProblemKind::Schedule => "schedule",
            ProblemKind::Demo => "demo",
        }
    }
}

/// Every problem validation found, in document order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    /// As JSON, one object per problem: `kind` (its code), `message`, `help`, `file`, `path`,
    /// `line`, `column`.
    pub fn to_json(&self) -> serde_json::Value {
        self.0
            .iter()
            .map(|p| {
                serde_json::json!({
                    "kind": p.kind.code(), "message": p.message, "help": p.help, "file": p.location.file,
                    "path": p.location.path, "line": p.location.line, "column": p.location.column,
                })
            })
            .collect()
    }

    /// Iterates over the problems.
    pub fn iter(&self) -> std::slice::Iter<'_, Problem> {
        self.0.iter()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(f, "{n} problem{} in the catalog", if n == 1 { "" } else { "s" })?;
        for p in &self.0 {
            write!(f, "\n{p}")?;
        }
        Ok(())
    }
}
