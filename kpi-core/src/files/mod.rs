//! Parquet and CSV files as the data of object models: a local file, a directory (hive
//! partitions `key=value/` read as columns), a glob, or a URL of an object store or web server.

use std::fmt;
use std::path::{Path, PathBuf};

use datafusion::arrow::datatypes::{DataType, Schema};
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::csv::CsvFormat;
use datafusion::datasource::listing::{ListingOptions, ListingTableUrl};
use datafusion::prelude::{CsvReadOptions, SessionContext};
use futures::StreamExt;
use kpi_catalog::ObjectModel;

use crate::data::{TableData, conform_provider};
use crate::engine::Engine;
use crate::error::EngineError;

#[cfg(feature = "object-stores")]
pub(crate) mod stores;

/// Where the files of a table are.
///
/// Built from text or a path: text with a scheme (`s3://bucket/orders/`) is a URL, anything else
/// a local path. A path or URL ending in a directory reads every file in it with the format's
/// extension, and directories named `key=value` become columns (hive partitioning); a path with
/// `*`, `?` or `[` is a glob.
///
/// ```
/// use kpi_core::DataLocation;
/// assert!(matches!(DataLocation::from("s3://bucket/orders/"), DataLocation::Url(_)));
/// assert!(matches!(DataLocation::from("data/orders/*.parquet"), DataLocation::Path(_)));
/// // Shown without credentials or query strings (signed URLs carry their secret there).
/// let signed = DataLocation::from("https://user:secret@example.com/o.parquet?sig=abc");
/// assert_eq!(signed.to_string(), "https://example.com/o.parquet");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DataLocation {
    /// A local file, directory or glob pattern.
    Path(PathBuf),
    /// A URL: `s3://`, `s3a://`, `gs://`, `az://`, `abfs(s)://`, `http(s)://` or `file://`.
    Url(String),
}

impl DataLocation {
    /// Reads `text` as a URL when it starts with a scheme (`letters://`), as a path otherwise.
    pub fn parse(text: &str) -> DataLocation {
        let scheme = text.split_once("://").map(|(s, _)| s);
        let is_scheme = |s: &str| {
            s.len() > 1
                && s.starts_with(|c: char| c.is_ascii_alphabetic())
                && s.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        };
        match scheme {
            Some(s) if is_scheme(s) => DataLocation::Url(text.to_string()),
            _ => DataLocation::Path(PathBuf::from(text)),
        }
    }
}

impl From<&str> for DataLocation {
    fn from(text: &str) -> Self {
        DataLocation::parse(text)
    }
}

impl From<String> for DataLocation {
    fn from(text: String) -> Self {
        DataLocation::parse(&text)
    }
}

impl From<&String> for DataLocation {
    fn from(text: &String) -> Self {
        DataLocation::parse(text)
    }
}

impl From<&Path> for DataLocation {
    fn from(path: &Path) -> Self {
        DataLocation::Path(path.to_path_buf())
    }
}

impl From<PathBuf> for DataLocation {
    fn from(path: PathBuf) -> Self {
        DataLocation::Path(path)
    }
}

impl From<&PathBuf> for DataLocation {
    fn from(path: &PathBuf) -> Self {
        DataLocation::Path(path.clone())
    }
}

impl fmt::Display for DataLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataLocation::Path(path) => write!(f, "{}", path.display()),
            DataLocation::Url(text) => f.write_str(&redacted(text)),
        }
    }
}

/// `url` without its query string and credentials: user information with a password, or any
/// on the web (a bare name before `@` is an Azure container).
fn redacted(url: &str) -> String {
    let without_query = url.split(['?', '#']).next().unwrap_or(url);
    match without_query.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            let host = match authority.rsplit_once('@') {
                Some((user, host)) if user.contains(':') || scheme.starts_with("http") => host,
                _ => authority,
            };
            format!("{scheme}://{host}{path}")
        }
        None => without_query.to_string(),
    }
}

/// The file formats the engine reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileKind {
    #[cfg(feature = "parquet")]
    Parquet,
    Csv,
}

impl FileKind {
    fn name(self) -> &'static str {
        match self {
            #[cfg(feature = "parquet")]
            FileKind::Parquet => "Parquet",
            FileKind::Csv => "CSV",
        }
    }

    fn format(self) -> std::sync::Arc<dyn FileFormat> {
        match self {
            #[cfg(feature = "parquet")]
            FileKind::Parquet => std::sync::Arc::new(datafusion::datasource::file_format::parquet::ParquetFormat::default()),
            FileKind::Csv => std::sync::Arc::new(CsvFormat::default().with_has_header(true)),
        }
    }

    fn extension(self) -> &'static str {
        match self {
            #[cfg(feature = "parquet")]
            FileKind::Parquet => ".parquet",
            FileKind::Csv => ".csv",
        }
    }
}

impl Engine {
    /// Registers Parquet files as the data of `object_model`: a file, a directory of files
    /// (with hive partitions `key=value/` read as columns), a glob, or a URL of an object
    /// store (`s3://`, `gs://`, `az://`) or web server (`https://`) with credentials from the
    /// usual environment variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`).
    #[cfg(feature = "parquet")]
    pub async fn register_parquet(&self, object_model: &str, location: impl Into<DataLocation>) -> Result<(), EngineError> {
        self.register_files(object_model, &location.into(), FileKind::Parquet).await
    }

    /// Registers CSV files (each with a header row) as the data of `object_model`, read with
    /// the object model's schema, from the same kinds of locations as
    /// [`Engine::register_parquet`].
    pub async fn register_csv(&self, object_model: &str, location: impl Into<DataLocation>) -> Result<(), EngineError> {
        self.register_files(object_model, &location.into(), FileKind::Csv).await
    }

    async fn register_files(&self, object_model: &str, location: &DataLocation, kind: FileKind) -> Result<(), EngineError> {
        let model = &self.model(object_model)?;
        let read_error = |message: String| EngineError::Read { path: location.to_string(), format: kind.name(), message };
        let ctx = &self.inner.ctx;
        let (url, text) = table_url(ctx, location).map_err(read_error)?;
        // A location with no files is an error now, not an empty table or a failure at the
        // first calculation (CSV, read with the model's schema, opens no file to register).
        let state = ctx.state();
        let store = ctx.runtime_env().object_store(&url).map_err(|e| read_error(e.to_string()))?;
        let mut files = url.list_all_files(&state, store.as_ref(), kind.extension()).await.map_err(|e| read_error(e.to_string()))?;
        match files.next().await {
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(read_error(e.to_string())),
            None => return Err(read_error(format!("no {} files there (names ending in `{}`)", kind.name(), kind.extension()))),
        }
        drop(files);
        let listing = ListingOptions::new(kind.format()).with_file_extension(kind.extension());
        let partitions = listing.infer_partitions(&ctx.state(), &url).await.map_err(|e| read_error(e.to_string()))?;
        let partition_cols = partition_columns(model, partitions);
        let frame = match kind {
            #[cfg(feature = "parquet")]
            FileKind::Parquet => {
                let options = datafusion::prelude::ParquetReadOptions::default().table_partition_cols(partition_cols);
                ctx.read_parquet(text.as_str(), options).await
            }
            FileKind::Csv => {
                let file_schema = Schema::new(
                    model
                        .schema()
                        .fields()
                        .iter()
                        .filter(|f| !partition_cols.iter().any(|(p, _)| p == f.name()))
                        .cloned()
                        .collect::<Vec<_>>(),
                );
                let options = CsvReadOptions::new().has_header(true).schema(&file_schema).table_partition_cols(partition_cols);
                ctx.read_csv(text.as_str(), options).await
            }
        }
        .map_err(|e| read_error(e.to_string()))?;
        let provider = conform_provider(ctx, model, frame.into_view())?;
        self.install(
            object_model,
            TableData::provider(provider, 0),
            0,
            crate::lifecycle::Record::Provider { model: object_model.to_string() },
        )
    }
}

/// The partition columns found in the directory names, typed as the object model's columns of
/// the same names (values are parsed from the names), as text otherwise.
fn partition_columns(model: &ObjectModel, names: Vec<String>) -> Vec<(String, DataType)> {
    let schema = model.schema();
    names
        .into_iter()
        .map(|name| {
            let data_type = schema.field_with_name(&name).map_or(DataType::Utf8, |f| f.data_type().clone());
            (name, data_type)
        })
        .collect()
}

/// The listing URL of `location` and the text DataFusion reads it by (a URL without
/// credentials), with the object store it needs registered in `ctx`.
fn table_url(ctx: &SessionContext, location: &DataLocation) -> Result<(ListingTableUrl, String), String> {
    match location {
        DataLocation::Path(path) => {
            let text = path.to_str().ok_or("the path is not valid UTF-8")?;
            let is_glob = text.contains(['*', '?', '[']);
            if !is_glob && !path.exists() {
                return Err("no such file or directory".into());
            }
            Ok((ListingTableUrl::parse(text).map_err(|e| e.to_string())?, text.to_string()))
        }
        #[cfg(feature = "object-stores")]
        DataLocation::Url(text) => {
            if text.contains(['?', '#']) {
                return Err("a URL with a query string (a signed URL) is not read; give the store's credentials in its environment variables (AWS_*, GOOGLE_*, AZURE_*) instead".into());
            }
            let clean = redacted(text);
            Ok((stores::register(ctx, &clean)?, clean))
        }
        #[cfg(not(feature = "object-stores"))]
        DataLocation::Url(_) => {
            let _ = ctx;
            Err("this build of the engine reads local files only (the `object-stores` feature is off)".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths_are_told_apart() {
        for url in ["s3://b/k", "gs://b/", "az://c/p", "abfss://c@a.dfs.core.windows.net/p", "https://h/x.parquet", "file:///tmp/x"] {
            assert!(matches!(DataLocation::from(url), DataLocation::Url(_)), "{url}");
        }
        for path in ["data/x.parquet", "/tmp/a=1/", "C:\\data\\x.csv", "1ab://x", "./s3://x"] {
            assert!(matches!(DataLocation::from(path), DataLocation::Path(_)), "{path}");
        }
    }

    #[test]
    fn shown_urls_carry_no_secrets() {
        assert_eq!(redacted("s3://bucket/a/b.parquet"), "s3://bucket/a/b.parquet");
        assert_eq!(redacted("https://u:p@h:8080/a?x=1#f"), "https://h:8080/a");
        assert_eq!(redacted("https://h"), "https://h");
        assert_eq!(redacted("abfss://container@account.dfs.core.windows.net/p"), "abfss://container@account.dfs.core.windows.net/p");
        assert_eq!(redacted("s3://key:secret@bucket/p"), "s3://bucket/p");
    }
}
