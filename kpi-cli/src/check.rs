//! `kpi check`: every problem of one or more catalog files, located, for people and for CI.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use kpi_catalog::{Catalog, CatalogError};

use crate::error::CliError;

/// How problems are listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// `file:line:column (path): message [kind]`, one per problem, with help lines.
    Text,
    /// A JSON array of `{ file, line, column, path, kind, message, help }`.
    Json,
}

/// The arguments of `kpi check`.
#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The catalog files (YAML, or JSON for `.json`).
    #[arg(required = true, value_name = "CATALOG")]
    pub files: Vec<PathBuf>,
    /// How to list problems.
    #[arg(long, value_enum, default_value = "text")]
    pub format: CheckFormat,
}

/// Checks every file; whether all were free of problems. Unreadable files are problems too.
pub fn run(args: &CheckArgs) -> Result<bool, CliError> {
    let mut json = Vec::new();
    let mut clean = true;
    for file in &args.files {
        let problems = match Catalog::load(file) {
            Ok(catalog) => {
                if args.format == CheckFormat::Text {
                    eprintln!(
                        "{}: ok ({} KPIs, {} object models)",
                        file.display(),
                        catalog.kpis().count(),
                        catalog.object_models().count()
                    );
                }
                continue;
            }
            Err(CatalogError::Invalid(problems)) => problems.to_json().as_array().cloned().unwrap_or_default(),
            Err(CatalogError::Syntax { location, message }) => {
                vec![serde_json::json!({
                    "kind": "syntax", "message": message, "help": null,
                    "file": location.file.clone().unwrap_or_else(|| file.display().to_string()),
                    "path": location.path, "line": location.line, "column": location.column,
                })]
            }
            Err(other) => vec![serde_json::json!({
                "kind": other.code(), "message": other.to_string(), "help": null,
                "file": file.display().to_string(), "path": "", "line": null, "column": null,
            })],
        };
        clean = false;
        match args.format {
            CheckFormat::Text => {
                for p in &problems {
                    println!("{}", text(p));
                }
                eprintln!("{}: {} problem{}", file.display(), problems.len(), if problems.len() == 1 { "" } else { "s" });
            }
            CheckFormat::Json => json.extend(problems),
        }
    }
    if args.format == CheckFormat::Json {
        println!("{}", serde_json::Value::Array(json));
    }
    Ok(clean)
}

/// One problem as `file:line:column (path): message [kind]` and an indented help line.
fn text(problem: &serde_json::Value) -> String {
    let field = |k: &str| problem.get(k).and_then(|v| v.as_str()).unwrap_or_default();
    let number = |k: &str| problem.get(k).and_then(|v| v.as_u64());
    let mut out = field("file").to_string();
    if let Some(line) = number("line") {
        out.push_str(&format!(":{line}"));
        if let Some(column) = number("column") {
            out.push_str(&format!(":{column}"));
        }
    }
    if !field("path").is_empty() {
        out.push_str(&format!(" ({})", field("path")));
    }
    out.push_str(&format!(": {} [{}]", field("message"), field("kind")));
    if !field("help").is_empty() {
        out.push_str(&format!("\n  help: {}", field("help")));
    }
    out
}
