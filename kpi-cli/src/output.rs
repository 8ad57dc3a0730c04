//! Writing a result: a table for people, CSV, JSON or Parquet for programs.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::pretty::pretty_format_batches;
use kpi_core::{EngineError, KpiResult};
use serde_json::Value;

use crate::error::CliError;
use crate::tables::{self, TableFormat};

/// A result's output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// An aligned table.
    Table,
    /// CSV with a header row.
    Csv,
    /// The engine's JSON document: rows, summaries, timing.
    Json,
    /// A zstd-compressed Parquet file (needs --out).
    Parquet,
}

/// Where and how to write the result.
#[derive(Args, Debug, Clone)]
pub struct OutputArgs {
    /// Output format; by default from --out's extension, else a table.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<OutputFormat>,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl OutputArgs {
    /// The format to write: the one asked for, or the one --out's extension names.
    pub fn format(&self) -> Result<OutputFormat, CliError> {
        let by_extension =
            self.out.as_deref().and_then(|p| p.extension()).and_then(|e| e.to_str()).and_then(|e| match e.to_ascii_lowercase().as_str() {
                "csv" => Some(OutputFormat::Csv),
                "json" => Some(OutputFormat::Json),
                "parquet" => Some(OutputFormat::Parquet),
                _ => None,
            });
        let format = self.format.or(by_extension).unwrap_or(OutputFormat::Table);
        if format == OutputFormat::Parquet && self.out.is_none() {
            return Err(CliError::Usage("Parquet output needs a file: add --out result.parquet".into()));
        }
        Ok(format)
    }

    /// Writes `result`.
    pub fn write(&self, result: &KpiResult) -> Result<(), CliError> {
        let footer = format!("{} rows in {:.1?}", result.num_rows(), result.timing().total);
        self.write_rows(&Rows { schema: result.schema(), batches: result.batches(), json: result.to_json(), footer })
    }

    /// Writes a forecast.
    pub fn write_forecast(&self, forecast: &kpi_core::forecast::Forecast) -> Result<(), CliError> {
        let models: Vec<String> = forecast.groups.iter().map(|g| g.forecast.model.clone()).collect();
        let mut footer =
            format!("{} groups forecast {} periods ahead ({})", forecast.groups.len(), forecast.options.horizon, models.join(", "));
        for (dimensions, e) in &forecast.skipped {
            let group: Vec<String> = dimensions.iter().map(ToString::to_string).collect();
            footer.push_str(&format!("\nskipped {}: {e}", group.join(", ")));
        }
        self.write_rows(&Rows {
            schema: forecast.schema(),
            batches: std::slice::from_ref(forecast.batch()),
            json: forecast.to_json(),
            footer,
        })
    }

    fn write_rows(&self, result: &Rows<'_>) -> Result<(), CliError> {
        let format = self.format()?;
        match &self.out {
            Some(path) => {
                let file = File::create(path).map_err(CliError::io(path))?;
                let mut out = io::BufWriter::new(file);
                write_result(result, format, &mut out, path)?;
                out.flush().map_err(CliError::io(path))?;
                out.into_inner()
                    .map_err(|e| CliError::Io { path: path.clone(), source: e.into_error() })?
                    .sync_all()
                    .map_err(CliError::io(path))
            }
            None => {
                let mut out = io::BufWriter::new(io::stdout());
                write_result(result, format, &mut out, Path::new("<stdout>"))?;
                out.flush().map_err(CliError::io("<stdout>"))
            }
        }
    }
}

/// What a command writes: Arrow rows, the JSON document, and a line for people under the table.
struct Rows<'a> {
    schema: SchemaRef,
    batches: &'a [RecordBatch],
    json: Value,
    footer: String,
}

fn write_result(result: &Rows<'_>, format: OutputFormat, out: &mut (dyn Write + Send), path: &Path) -> Result<(), CliError> {
    let io = |e: io::Error| CliError::Io { path: path.to_path_buf(), source: e };
    let arrow = |e: datafusion::arrow::error::ArrowError| EngineError::Internal(format!("could not write the result: {e}"));
    match format {
        OutputFormat::Table => {
            let table = pretty_format_batches(result.batches).map_err(arrow)?;
            writeln!(out, "{table}").map_err(io)?;
            writeln!(out, "{}", result.footer).map_err(io)
        }
        OutputFormat::Csv => write_table(TableFormat::Csv, result, out, path),
        OutputFormat::Json => {
            let text = serde_json::to_string_pretty(&result.json)
                .map_err(|e| EngineError::Internal(format!("could not write the result as JSON: {e}")))?;
            writeln!(out, "{text}").map_err(io)
        }
        OutputFormat::Parquet => write_table(TableFormat::Parquet, result, out, path),
    }
}

fn write_table(format: TableFormat, result: &Rows<'_>, out: &mut (dyn Write + Send), path: &Path) -> Result<(), CliError> {
    tables::write(format, out, result.schema.clone(), result.batches, |_| {})
        .map(drop)
        .map_err(|e| CliError::Io { path: path.to_path_buf(), source: io::Error::other(e) })
}
