//! Where a command's data comes from: Parquet and CSV files named per object model, a directory
//! holding them, or generated demo data.

use std::path::{Path, PathBuf};

use clap::Args;
use kpi_catalog::{Catalog, DemoOptions};
use kpi_core::Engine;

use crate::error::CliError;

/// The data to calculate over.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// `MODEL=PATH` (a Parquet or CSV file, or a directory of them) for one object model, or a
    /// directory holding `<model>.parquet`, `<model>.csv` or `<model>/` per object model;
    /// repeatable.
    #[arg(long, short = 'd', value_name = "DIR|MODEL=PATH")]
    pub data: Vec<String>,
    /// Calculate over this many rows of generated demo data per fact table instead.
    #[arg(long, value_name = "ROWS", conflicts_with = "data")]
    pub demo: Option<usize>,
}

/// A file format the engine reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Parquet,
    Csv,
}

impl Format {
    /// The format of a file by its extension, or of a directory by the files in it.
    fn of(path: &Path) -> Result<Format, CliError> {
        if path.is_dir() {
            let entries = std::fs::read_dir(path).map_err(CliError::io(path))?;
            let mut csv = false;
            for entry in entries {
                let entry = entry.map_err(CliError::io(path))?;
                match Format::by_extension(&entry.path()) {
                    Some(Format::Parquet) => return Ok(Format::Parquet),
                    Some(Format::Csv) => csv = true,
                    None => {}
                }
            }
            return if csv {
                Ok(Format::Csv)
            } else {
                Err(CliError::Usage(format!("`{}` holds no .parquet or .csv files", path.display())))
            };
        }
        Format::by_extension(path)
            .ok_or_else(|| CliError::Usage(format!("`{}` is neither a .parquet nor a .csv file (nor a directory of them)", path.display())))
    }

    fn by_extension(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "parquet" | "parq" => Some(Format::Parquet),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }
}

impl DataArgs {
    /// Whether any data was given.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty() && self.demo.is_none()
    }

    /// Registers the data with `engine`; the object models registered.
    pub async fn register(&self, engine: &Engine) -> Result<Vec<String>, CliError> {
        if let Some(rows) = self.demo {
            let data = engine.catalog().demo_data(&DemoOptions::new(rows))?;
            let models: Vec<String> = data.table_names().map(str::to_string).collect();
            engine.register_demo(data)?;
            return Ok(models);
        }
        let mut registered = Vec::new();
        for item in &self.data {
            for (model, path) in sources(engine.catalog(), item)? {
                match Format::of(&path)? {
                    Format::Parquet => engine.register_parquet(&model, &path).await?,
                    Format::Csv => engine.register_csv(&model, &path).await?,
                }
                registered.push(model);
            }
        }
        Ok(registered)
    }
}

/// The object models and paths one `--data` value names.
fn sources(catalog: &Catalog, item: &str) -> Result<Vec<(String, PathBuf)>, CliError> {
    if let Some((model, path)) = item.split_once('=') {
        // An unknown model is the catalog's error, with its did-you-mean.
        catalog.object_model(model)?;
        return Ok(vec![(model.to_string(), PathBuf::from(path))]);
    }
    let dir = Path::new(item);
    if !dir.is_dir() {
        let hint = if dir.exists() { "is not a directory; give a file as MODEL=PATH" } else { "does not exist" };
        return Err(CliError::Usage(format!("--data `{item}` {hint}")));
    }
    let mut found = Vec::new();
    for model in catalog.object_models() {
        let candidates = [format!("{}.parquet", model.code), format!("{}.csv", model.code), model.code.clone()];
        if let Some(path) = candidates.iter().map(|name| dir.join(name)).find(|p| p.exists()) {
            found.push((model.code.clone(), path));
        }
    }
    if found.is_empty() {
        return Err(CliError::Usage(format!(
            "`{item}` holds no data of the catalog's object models (looked for <model>.parquet, <model>.csv and <model>/)"
        )));
    }
    Ok(found)
}
