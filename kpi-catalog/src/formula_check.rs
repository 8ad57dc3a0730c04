//! Checking formula text against a catalog before it is saved or calculated: every problem with
//! where it is and what to write instead, as editors and definition forms show them.

use serde::Serialize;

use crate::catalog::Catalog;

/// One problem of a formula, located in the text it was found in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FormulaProblem {
    /// A stable kebab-case code of the kind of problem, e.g. `unknown-column`.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// The text the problem is in: `formula`, or `kpi <code>` for a KPI the formula references.
    pub source: String,
    /// Line of the problem's start, from 1.
    pub line: usize,
    /// Column (in characters) of the problem's start, from 1.
    pub column: usize,
    /// Byte offset of the problem's start in its text.
    pub start: usize,
    /// Byte offset of the problem's end.
    pub end: usize,
    /// What was expected there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    /// How to fix it, e.g. a "did you mean".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Catalog {
    /// Every problem of `formula` over this catalog's object models and KPIs; none when it is
    /// valid.
    ///
    /// ```
    /// use kpi_catalog::Catalog;
    /// let problems = Catalog::standard().validate_formula("sum(orders.ordr_value)");
    /// assert_eq!(problems[0].code, "unknown-column");
    /// assert_eq!((problems[0].line, problems[0].column), (1, 12));
    /// assert!(problems[0].help.as_deref().is_some_and(|h| h.contains("order_value")));
    /// assert!(Catalog::standard().validate_formula("revenue / order_count").is_empty());
    /// ```
    pub fn validate_formula(&self, formula: &str) -> Vec<FormulaProblem> {
        let Err(diagnostics) = kpi_formula::check_formula(formula, self) else { return Vec::new() };
        diagnostics
            .iter()
            .map(|d| {
                let at = d.line_col();
                FormulaProblem {
                    code: d.kind.code(),
                    message: d.message.clone(),
                    source: d.source.name.clone(),
                    line: at.line,
                    column: at.column,
                    start: d.span.start,
                    end: d.span.end,
                    expected: d.expected.clone(),
                    found: d.found.clone(),
                    help: d.help.clone(),
                }
            })
            .collect()
    }
}
