//! `kpi import-dbt`: a dbt project's semantic layer as a catalog file, with what was left out.

use std::path::PathBuf;

use clap::Args;

use crate::error::CliError;

/// The arguments of `kpi import-dbt`.
#[derive(Args, Debug)]
pub struct ImportDbtArgs {
    /// A dbt project directory, one of its YAML files, or its `target/semantic_manifest.json`.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
    /// Where to write the catalog (YAML); standard output by default.
    #[arg(short, long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Fail (exit 1) when anything could not be imported.
    #[arg(long)]
    pub strict: bool,
}

/// Imports, writes the catalog and lists what was skipped on standard error, located.
pub fn run(args: &ImportDbtArgs) -> Result<bool, CliError> {
    let imported = kpi_catalog::import::import_dbt(&args.path)?;
    let yaml = imported.catalog.to_yaml()?;
    match &args.out {
        Some(out) => std::fs::write(out, yaml).map_err(|source| CliError::Io { path: out.clone(), source })?,
        None => print!("{yaml}"),
    }
    for s in &imported.skipped {
        eprintln!("{}: skipped {}: {}", s.location, s.what, s.reason);
    }
    eprintln!(
        "imported {} KPIs and {} object models; {} skipped",
        imported.catalog.kpis().count(),
        imported.catalog.object_models().count(),
        imported.skipped.len()
    );
    Ok(!args.strict || imported.skipped.is_empty())
}
