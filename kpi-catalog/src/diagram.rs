//! Mermaid class diagrams of object models and their relationships (the seed's UML viewer).

use std::fmt::Write;

use kpi_formula::Cardinality;

use crate::catalog::Catalog;
use crate::error::CatalogError;

impl Catalog {
    /// A Mermaid `classDiagram` of the object models `codes` (all when empty): their columns,
    /// with `PK` on primary-key columns and `time` on the time column, and the relationships
    /// between them with their cardinality.
    ///
    /// ```
    /// let text = kpi_catalog::Catalog::standard().diagram(&["orders", "customers"])?;
    /// assert!(text.starts_with("classDiagram"));
    /// assert!(text.contains(r#"orders "*" --> "1" customers : customer"#));
    /// # Ok::<(), kpi_catalog::CatalogError>(())
    /// ```
    pub fn diagram<S: AsRef<str>>(&self, codes: &[S]) -> Result<String, CatalogError> {
        let models = if codes.is_empty() {
            self.object_models().collect::<Vec<_>>()
        } else {
            codes.iter().map(|c| self.object_model(c.as_ref())).collect::<Result<Vec<_>, _>>()?
        };
        let shown = |code: &str| models.iter().any(|m| m.code == code);
        let mut out = String::from("classDiagram\n");
        for m in &models {
            let _ = writeln!(out, "  class {} {{", mermaid_name(&m.code));
            if m.name != m.code {
                let _ = writeln!(out, "    <<{}>>", m.name.replace(['<', '>', '{', '}'], ""));
            }
            for c in &m.columns {
                let mut marks = Vec::new();
                if m.primary_key.contains(&c.name) {
                    marks.push("PK");
                }
                if m.time_column.as_deref() == Some(c.name.as_str()) {
                    marks.push("time");
                }
                let ty = c.data_type.to_string().replace(['(', ')', ','], "_");
                let _ =
                    writeln!(out, "    +{ty} {}{}", c.name, if marks.is_empty() { String::new() } else { format!(" {}", marks.join(" ")) });
            }
            out.push_str("  }\n");
        }
        for m in &models {
            for r in m.relationships.iter().filter(|r| shown(&r.to)) {
                let (from, to) = match r.cardinality {
                    Cardinality::ManyToOne => ("*", "1"),
                    Cardinality::OneToOne => ("1", "1"),
                    Cardinality::OneToMany => ("1", "*"),
                    Cardinality::ManyToMany => ("*", "*"),
                };
                let _ = writeln!(out, "  {} \"{from}\" --> \"{to}\" {} : {}", mermaid_name(&m.code), mermaid_name(&r.to), r.name);
            }
        }
        Ok(out)
    }
}

/// Mermaid class names allow letters, digits and `_`; anything else becomes `_`.
fn mermaid_name(code: &str) -> String {
    code.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect()
}
