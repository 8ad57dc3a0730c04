//! The command line's errors: the libraries' typed errors and its own, each printed as one
//! message with an exit code.

use std::fmt;
use std::path::PathBuf;

use kpi_catalog::CatalogError;
use kpi_core::EngineError;
use kpi_pricing::PricingError;

/// Exit code of a failed command (clap uses 2 for a command line it cannot parse).
pub const EXIT_FAILURE: u8 = 1;
/// Exit code of a bug in `kpi` itself (it panicked).
pub const EXIT_INTERNAL: u8 = 70;

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// The catalog could not be read or is invalid.
    Catalog(CatalogError),
    /// The engine refused the query or its data.
    Engine(EngineError),
    /// The proposal's answers or price book are invalid.
    Pricing(PricingError),
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// An argument that clap accepted but that does not make sense.
    Usage(String),
}

impl CliError {
    /// The stable code of the error, as the libraries name theirs (`KPI_CATALOG`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            CliError::Catalog(e) => e.code(),
            CliError::Engine(e) => e.code(),
            CliError::Pricing(e) => e.code(),
            CliError::Io { .. } => "KPI_IO",
            CliError::Usage(_) => "KPI_USAGE",
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> CliError {
        let path = path.into();
        move |source| CliError::Io { path, source }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Catalog(e) => write!(f, "{e}"),
            CliError::Engine(e) => write!(f, "{e}"),
            CliError::Pricing(e) => write!(f, "{e}"),
            CliError::Io { path, source } => write!(f, "`{}`: {source}", path.display()),
            CliError::Usage(message) => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for CliError {}

impl From<CatalogError> for CliError {
    fn from(e: CatalogError) -> Self {
        CliError::Catalog(e)
    }
}

impl From<EngineError> for CliError {
    fn from(e: EngineError) -> Self {
        CliError::Engine(e)
    }
}

impl From<PricingError> for CliError {
    fn from(e: PricingError) -> Self {
        CliError::Pricing(e)
    }
}
