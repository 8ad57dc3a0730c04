//! Reading and writing catalogs as YAML or JSON documents with a schema version.

use std::path::Path;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Entry};
use crate::error::CatalogError;
use crate::kpi::KpiDefinition;
use crate::object_model::ObjectModel;
use crate::source::{Location, Node, Origin, SourceFile};
use crate::value_chain::{Module, ValueChain};

/// The schema version this library writes and the newest it reads.
pub const SCHEMA_VERSION: u32 = 1;

/// The largest document accepted, so a huge input is refused before it is parsed.
pub const MAX_DOCUMENT_BYTES: usize = 64 << 20;

/// A document format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// YAML 1.2.
    Yaml,
    /// JSON.
    Json,
}

impl Format {
    /// The format a file's extension names (`.yaml`, `.yml`, `.json`); YAML otherwise, since JSON
    /// is YAML too.
    pub fn of_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("json") => Format::Json,
            _ => Format::Yaml,
        }
    }
}

/// The on-disk shape of a catalog.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct CatalogDocument {
    #[serde(default = "current_version")]
    pub schema_version: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value_chains: Vec<ValueChain>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<Module>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub object_models: Vec<ObjectModel>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kpis: Vec<KpiDefinition>,
}

fn current_version() -> u32 {
    SCHEMA_VERSION
}

/// A parsed document with its source (for locations).
pub(crate) struct Parsed<T> {
    pub value: T,
    pub file: Arc<SourceFile>,
}

impl<T> Parsed<T> {
    /// The origin of the `index`-th item of the top-level list `list`.
    pub fn origin(&self, list: &str, index: usize) -> Origin {
        let node = self.file.root.as_ref().and_then(|r| r.get(list)).and_then(|n| n.items().get(index)).cloned();
        Origin::new(&self.file, format!("{list}[{index}]"), node)
    }

    /// The origin of the document itself.
    pub fn root(&self) -> Origin {
        Origin::new(&self.file, String::new(), self.file.root.clone())
    }
}

/// Parses `text` as `format` into `T`, keeping a position tree for later problems.
pub(crate) fn parse<T: DeserializeOwned>(text: &str, format: Format, name: Option<&str>) -> Result<Parsed<T>, CatalogError> {
    let location = |line: u64, column: u64| Location {
        file: name.map(str::to_string),
        path: String::new(),
        line: (line > 0).then_some(line as u32),
        column: (column > 0).then_some(column as u32),
    };
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(CatalogError::Syntax {
            location: location(0, 0),
            message: format!("the document is {} bytes; at most {MAX_DOCUMENT_BYTES} are accepted", text.len()),
        });
    }
    let value = match format {
        Format::Yaml => serde_saphyr::from_str::<T>(text).map_err(|e| {
            let at = e.location();
            CatalogError::Syntax {
                location: location(at.map_or(0, |l| l.line()), at.map_or(0, |l| l.column())),
                message: first_line(&e.to_string()),
            }
        })?,
        Format::Json => serde_json::from_str::<T>(text).map_err(|e| CatalogError::Syntax {
            location: location(e.line() as u64, e.column() as u64),
            message: strip_position(&e.to_string()),
        })?,
    };
    // JSON is YAML 1.2, so the same parser gives positions for both.
    let root = serde_saphyr::from_str::<Node>(text).ok();
    Ok(Parsed { value, file: Arc::new(SourceFile { name: name.map(str::to_string), text: text.to_string(), root }) })
}

/// The parser's message without its own position prefix (the location carries it).
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message).trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    match line.strip_prefix("line ").and_then(|rest| rest.split_once(": ")) {
        Some((position, rest)) if position.contains("column") => rest.to_string(),
        _ => line.to_string(),
    }
}

fn strip_position(message: &str) -> String {
    message.split(" at line ").next().unwrap_or(message).to_string()
}

/// Reads a file to text.
/// One definition (a KPI, an object model, a list of SQL KPIs, ...) read from YAML or JSON text,
/// as bindings and servers receive them; `what` names it in the error.
///
/// ```
/// let kpi: kpi_catalog::KpiDefinition = kpi_catalog::parse_definition("KPI", r#"{"code": "web_orders", "name": "Web orders", "formula": "count(orders where orders.channel = 'web')"}"#)?;
/// assert_eq!(kpi.code, "web_orders");
/// # Ok::<(), kpi_catalog::CatalogError>(())
/// ```
pub fn parse_definition<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, CatalogError> {
    Ok(parse::<T>(text, Format::Yaml, Some(what))?.value)
}

pub(crate) fn read(path: &Path) -> Result<String, CatalogError> {
    std::fs::read_to_string(path).map_err(|source| CatalogError::Io { path: path.to_path_buf(), source })
}

/// Writes `value` as `format`.
pub(crate) fn write<T: Serialize>(value: &T, format: Format) -> Result<String, CatalogError> {
    match format {
        Format::Yaml => serde_saphyr::to_string(value).map_err(|e| CatalogError::Write(e.to_string())),
        Format::Json => serde_json::to_string_pretty(value).map_err(|e| CatalogError::Write(e.to_string())),
    }
}

impl Catalog {
    /// Loads and validates a catalog from YAML text.
    ///
    /// ```
    /// let catalog = kpi_catalog::Catalog::from_yaml(r#"
    /// object_models:
    ///   - code: orders
    ///     name: Order
    ///     time_column: ordered_at
    ///     primary_key: [order_id]
    ///     columns:
    ///       - { name: order_id, type: int64 }
    ///       - { name: ordered_at, type: timestamp }
    ///       - { name: order_value, type: "decimal(18,2)" }
    /// kpis:
    ///   - { code: revenue, name: Revenue, formula: sum(orders.order_value), unit: currency }
    /// "#)?;
    /// assert_eq!(catalog.kpi("revenue")?.name, "Revenue");
    /// # Ok::<(), kpi_catalog::CatalogError>(())
    /// ```
    pub fn from_yaml(text: &str) -> Result<Catalog, CatalogError> {
        Catalog::parse_validated(text, Format::Yaml, None)
    }

    /// Loads and validates a catalog from JSON text.
    pub fn from_json(text: &str) -> Result<Catalog, CatalogError> {
        Catalog::parse_validated(text, Format::Json, None)
    }

    /// Loads and validates a catalog file (`.json` is JSON, anything else YAML); problems name the file.
    pub fn load(path: impl AsRef<Path>) -> Result<Catalog, CatalogError> {
        let path = path.as_ref();
        Catalog::parse_validated(&read(path)?, Format::of_path(path), Some(&path.display().to_string()))
    }

    /// Parses a catalog document without validating it, so a tool can list its problems with
    /// [`Catalog::problems`]. `name` (a file name) is used in locations.
    pub fn parse(text: &str, format: Format, name: Option<&str>) -> Result<Catalog, CatalogError> {
        let parsed = parse::<CatalogDocument>(text, format, name)?;
        let mut catalog = Catalog::new();
        catalog.documents.push((parsed.value.schema_version, parsed.root()));
        let doc = &parsed.value;
        for (i, v) in doc.value_chains.iter().enumerate() {
            catalog.value_chains.push(Entry::new(v.clone(), Some(parsed.origin("value_chains", i))));
        }
        for (i, m) in doc.modules.iter().enumerate() {
            catalog.modules.push(Entry::new(m.clone(), Some(parsed.origin("modules", i))));
        }
        for (i, m) in doc.object_models.iter().enumerate() {
            catalog.push_object_model(Entry::new(m.clone(), Some(parsed.origin("object_models", i))));
        }
        for (i, k) in doc.kpis.iter().enumerate() {
            catalog.push_kpi(Entry::new(k.clone(), Some(parsed.origin("kpis", i))));
        }
        Ok(catalog)
    }

    fn parse_validated(text: &str, format: Format, name: Option<&str>) -> Result<Catalog, CatalogError> {
        let catalog = Catalog::parse(text, format, name)?;
        catalog.validate()?;
        Ok(catalog)
    }

    fn document(&self) -> CatalogDocument {
        CatalogDocument {
            schema_version: SCHEMA_VERSION,
            value_chains: self.value_chains().cloned().collect(),
            modules: self.modules().cloned().collect(),
            object_models: self.object_models().cloned().collect(),
            kpis: self.kpis().cloned().collect(),
        }
    }

    /// The catalog as a YAML document (schema version [`SCHEMA_VERSION`]).
    pub fn to_yaml(&self) -> Result<String, CatalogError> {
        write(&self.document(), Format::Yaml)
    }

    /// The catalog as a JSON document.
    pub fn to_json(&self) -> Result<String, CatalogError> {
        write(&self.document(), Format::Json)
    }

    /// Writes the catalog to a file, as JSON for `.json` and YAML otherwise.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CatalogError> {
        let path = path.as_ref();
        let text = write(&self.document(), Format::of_path(path))?;
        std::fs::write(path, text).map_err(|source| CatalogError::Io { path: path.to_path_buf(), source })
    }
}
