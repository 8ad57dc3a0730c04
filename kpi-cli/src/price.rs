//! `kpi price`: a service proposal from a questionnaire's answers.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use kpi_pricing::{Answers, PriceBook, price};

use crate::error::CliError;
use crate::query::CatalogArgs;

/// A proposal's output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProposalFormat {
    /// The proposal as a Markdown document.
    Markdown,
    /// The specification's `ServiceProposal` JSON.
    Json,
}

/// The arguments of `kpi price`.
#[derive(Args, Debug)]
pub struct PriceArgs {
    /// The questionnaire's answers (YAML, or JSON).
    #[arg(value_name = "ANSWERS")]
    pub answers: PathBuf,
    /// The selected KPIs, comma-separated or repeated.
    #[arg(long = "kpi", short = 'k', value_name = "CODE", value_delimiter = ',', required = true)]
    pub kpis: Vec<String>,
    #[command(flatten)]
    pub catalog: CatalogArgs,
    /// Overrides of the default price book (YAML, or JSON).
    #[arg(long, value_name = "FILE")]
    pub price_book: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: ProposalFormat,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
}

/// Prices the proposal and writes it.
pub fn run(args: &PriceArgs) -> Result<(), CliError> {
    let catalog = args.catalog.load()?;
    let text = std::fs::read_to_string(&args.answers).map_err(CliError::io(&args.answers))?;
    // YAML is a superset of JSON, so one parser reads both.
    let answers = Answers::from_yaml(&text)?;
    let book = match &args.price_book {
        Some(path) => PriceBook::from_yaml(&std::fs::read_to_string(path).map_err(CliError::io(path))?)?,
        None => PriceBook::default(),
    };
    let proposal = price(&catalog, &args.kpis, &answers, &book)?;
    let body = match args.format {
        ProposalFormat::Markdown => proposal.to_markdown(),
        ProposalFormat::Json => proposal.to_json(),
    };
    match &args.out {
        Some(path) => std::fs::write(path, body).map_err(CliError::io(path)),
        None => {
            println!("{body}");
            Ok(())
        }
    }
}
