//! Where a command's data comes from: Parquet and CSV files or URLs named per object model, a
//! directory holding them, or generated demo data.

use std::path::Path;

use clap::Args;
use kpi_catalog::{Catalog, DemoOptions};
use kpi_core::{DataLocation, Engine};

use crate::error::CliError;

/// The data to calculate over.
#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// `MODEL=PATH` (a Parquet or CSV file, a directory of them with hive partitions, a glob,
    /// or an `s3://`, `gs://`, `az://` or `https://` URL) for one object model, or a directory
    /// holding `<model>.parquet`, `<model>.csv` or `<model>/` per object model; repeatable.
    #[arg(long, short = 'd', value_name = "DIR|MODEL=PATH")]
    pub data: Vec<String>,
    /// Calculate over this many rows of generated demo data per fact table instead.
    #[arg(long, value_name = "ROWS", conflicts_with = "data")]
    pub demo: Option<usize>,
    /// Calculate over the tables of an engine's data directory (with the rows archived from
    /// it, read together with the active ones); --data and --demo are added to it.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<std::path::PathBuf>,
    /// Calculate on an Apache Ballista cluster: the scheduler's `df://host:port`, running
    /// `kpi-scheduler` with `kpi-executor`s that can read the --data files.
    #[arg(long, value_name = "URL")]
    pub cluster: Option<String>,
}

/// A file format the engine reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Parquet,
    Csv,
}

impl Format {
    /// The format of a location: a file or glob by its extension, a local directory by the
    /// files under it (hive partitions included), a URL of a directory Parquet.
    fn of(location: &DataLocation) -> Result<Format, CliError> {
        let path = match location {
            DataLocation::Url(url) => {
                let path = url.split(['?', '#']).next().unwrap_or(url);
                return match Format::by_extension(Path::new(path)) {
                    Some(format) => Ok(format),
                    None if path.ends_with('/') => Ok(Format::Parquet),
                    None => Err(CliError::Usage(format!("`{location}` is neither a .parquet nor a .csv file (nor a directory/ of them)"))),
                };
            }
            DataLocation::Path(path) => path,
        };
        if path.is_dir() {
            return Format::under(path, 0)?.ok_or_else(|| CliError::Usage(format!("`{}` holds no .parquet or .csv files", path.display())));
        }
        Format::by_extension(path)
            .ok_or_else(|| CliError::Usage(format!("`{}` is neither a .parquet nor a .csv file (nor a directory of them)", path.display())))
    }

    /// The format of the files under `dir` (Parquet wins), searching partition directories a
    /// few levels deep.
    fn under(dir: &Path, depth: usize) -> Result<Option<Format>, CliError> {
        let mut found = None;
        for entry in std::fs::read_dir(dir).map_err(CliError::io(dir))? {
            let path = entry.map_err(CliError::io(dir))?.path();
            let format = if path.is_dir() && depth < 8 { Format::under(&path, depth + 1)? } else { Format::by_extension(&path) };
            match format {
                Some(Format::Parquet) => return Ok(Some(Format::Parquet)),
                Some(Format::Csv) => found = Some(Format::Csv),
                None => {}
            }
        }
        Ok(found)
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
        self.data.is_empty() && self.demo.is_none() && self.data_dir.is_none()
    }

    /// An engine over `catalog` (durable over the data directory when one is given), with the
    /// files or demo data registered.
    pub async fn engine(&self, catalog: kpi_catalog::Catalog) -> Result<Engine, CliError> {
        let mut options = kpi_core::EngineOptions::default();
        if let Some(dir) = &self.data_dir {
            options = options.with_data_dir(dir);
        }
        if let Some(url) = &self.cluster {
            options.cluster = Some(kpi_core::ClusterOptions::parse(url)?);
        }
        let engine = Engine::with_options(catalog, options)?;
        if engine.cluster().is_some() {
            engine.check_cluster().await?;
        }
        self.register(&engine).await?;
        Ok(engine)
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
            for (model, location) in sources(&engine.catalog(), item)? {
                match Format::of(&location)? {
                    Format::Parquet => engine.register_parquet(&model, location).await?,
                    Format::Csv => engine.register_csv(&model, location).await?,
                }
                registered.push(model);
            }
        }
        Ok(registered)
    }
}

/// The object models and paths one `--data` value names.
fn sources(catalog: &Catalog, item: &str) -> Result<Vec<(String, DataLocation)>, CliError> {
    if let Some((model, location)) = item.split_once('=') {
        // An unknown model is the catalog's error, with its did-you-mean.
        catalog.object_model(model)?;
        return Ok(vec![(model.to_string(), DataLocation::parse(location))]);
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
            found.push((model.code.clone(), DataLocation::Path(path)));
        }
    }
    if found.is_empty() {
        return Err(CliError::Usage(format!(
            "`{item}` holds no data of the catalog's object models (looked for <model>.parquet, <model>.csv and <model>/)"
        )));
    }
    Ok(found)
}
