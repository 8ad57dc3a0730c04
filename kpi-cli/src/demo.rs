//! `kpi demo`: demo data for a catalog, written as one Parquet (or CSV) file per object model,
//! ready for `kpi calc --data DIR`.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use kpi_catalog::DemoOptions;

use crate::error::CliError;
use crate::query::CatalogArgs;
use crate::tables::{self, TableFormat};

/// The file format of demo data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DataFormat {
    /// One zstd-compressed Parquet file per object model.
    Parquet,
    /// One CSV file (with a header row) per object model.
    Csv,
}

/// The arguments of `kpi demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// The directory to write into (created if missing).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,
    /// Rows of each fact table (object models with scale 1; others follow their scale).
    #[arg(long, default_value_t = 100_000)]
    pub rows: usize,
    /// The random seed: the same seed gives the same data.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// First day of the data (default 2024-01-01), with --end.
    #[arg(long, value_name = "DATE", requires = "end")]
    pub start: Option<String>,
    /// End of the data, exclusive (default 2025-01-01), with --start.
    #[arg(long, value_name = "DATE", requires = "start")]
    pub end: Option<String>,
    /// Only these object models (and what they copy values from), comma-separated.
    #[arg(long, value_name = "MODEL", value_delimiter = ',')]
    pub models: Vec<String>,
    /// File format.
    #[arg(long, value_enum, default_value = "parquet")]
    pub format: DataFormat,
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

/// Generates and writes the data; progress goes to standard error when it is a terminal.
pub fn run(args: &DemoArgs) -> Result<(), CliError> {
    let catalog = args.catalog.load()?;
    let options = DemoOptions::new(args.rows)
        .with_seed(args.seed)
        .with_optional_range(args.start.as_deref(), args.end.as_deref())?
        .only(args.models.iter().cloned());
    let spinner = ProgressBar::new_spinner().with_message(format!("generating demo data ({} rows per fact table)", args.rows));
    spinner.enable_steady_tick(Duration::from_millis(120));
    let data = catalog.demo_data(&options);
    spinner.finish_and_clear();
    let data = data?;
    std::fs::create_dir_all(&args.out).map_err(CliError::io(&args.out))?;

    let bar = ProgressBar::new(data.total_rows() as u64).with_style(
        ProgressStyle::with_template("{msg:>24} [{bar:40}] {human_pos}/{human_len} rows ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut written = Vec::new();
    for (model, (schema, batches)) in data.into_tables() {
        bar.set_message(model.clone());
        let (format, extension) = match args.format {
            DataFormat::Parquet => (TableFormat::Parquet, "parquet"),
            DataFormat::Csv => (TableFormat::Csv, "csv"),
        };
        let path = args.out.join(format!("{model}.{extension}"));
        let file = BufWriter::new(File::create(&path).map_err(CliError::io(&path))?);
        let io = |e: String| CliError::Io { path: path.clone(), source: std::io::Error::other(e) };
        let mut rows = 0;
        let file = tables::write(format, file, schema, &batches, |n| {
            rows += n;
            bar.inc(n as u64);
        })
        .map_err(io)?;
        // Durable before it is reported written.
        file.into_inner().map_err(|e| io(e.to_string()))?.sync_all().map_err(CliError::io(&path))?;
        written.push((path, rows));
    }
    bar.finish_and_clear();
    for (path, rows) in written {
        println!("{} ({rows} rows)", path.display());
    }
    Ok(())
}
