//! dbt's expressions and names in the formula language: columns qualified by their table or
//! path, metric inputs substituted by their formulas, granularities and windows checked to be
//! the engine's.

use std::collections::BTreeMap;

/// Whether `text` is a bare column name.
pub(super) fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// An SQL expression of a model's columns in the formula language, its bare names qualified
/// by the table or path (`orders.customer`; each name reported to `column`).
pub(super) fn qualify(table: &str, expr: &str, mut column: impl FnMut(&str)) -> Result<String, String> {
    if is_identifier(expr) {
        column(expr);
        return Ok(format!("{table}.{expr}"));
    }
    let source = kpi_formula::span::Source::new("expr", expr);
    let mut ast = kpi_formula::parser::parse(&source)
        .map_err(|d| format!("the expression `{expr}` is not one the formula language reads: {}", d.message))?;
    rename(&mut ast, &mut |name| {
        column(name);
        Some(table.split('.').chain([name]).map(str::to_string).collect())
    });
    Ok(crate::import::print(&ast))
}

/// `expr` with each bare name replaced by its formula from `names`.
pub(super) fn substitute(expr: &str, names: &BTreeMap<String, String>) -> Result<String, String> {
    let source = kpi_formula::span::Source::new("expr", expr);
    let mut ast = kpi_formula::parser::parse(&source).map_err(|d| format!("the expression `{expr}`: {}", d.message))?;
    let mut unknown = None;
    replace(&mut ast, &mut |name| match names.get(name) {
        Some(formula) => kpi_formula::parser::parse(&kpi_formula::span::Source::new("input", formula)).ok(),
        None => {
            unknown = Some(name.to_string());
            None
        }
    });
    if let Some(name) = unknown {
        return Err(format!("`{name}` in `{expr}` is not one of the metric's inputs"));
    }
    Ok(crate::import::print(&ast))
}

/// Visits every bare (one-part) name of `e`, replacing its path with what `f` gives.
fn rename(e: &mut kpi_formula::ast::Expr, f: &mut impl FnMut(&str) -> Option<Vec<String>>) {
    use kpi_formula::ast::ExprKind;
    if let ExprKind::Path(parts) = &mut e.kind {
        if parts.len() == 1
            && let Some(path) = f(&parts[0].name)
        {
            *parts = path.iter().map(|p| crate::import::ident(p)).collect();
        }
        return;
    }
    for c in e.children_mut() {
        rename(c, f);
    }
}

/// Visits every bare name of `e`, replacing the whole node with what `f` gives.
fn replace(e: &mut kpi_formula::ast::Expr, f: &mut impl FnMut(&str) -> Option<kpi_formula::ast::Expr>) {
    use kpi_formula::ast::ExprKind;
    if let ExprKind::Path(parts) = &e.kind {
        if parts.len() == 1
            && let Some(with) = f(&parts[0].name)
        {
            *e = with;
        }
        return;
    }
    for c in e.children_mut() {
        replace(c, f);
    }
}

/// Why a custom granularity is not imported as one: the engine's grains are fixed, and a
/// company calendar changes what `month`, `quarter` and `year` mean instead.
const CUSTOM_GRAIN: &str = "a custom granularity; the engine's month, quarter and year follow a retail calendar or calendar \
                            table instead (the retail_calendar and calendar_table settings): define it there and write the standard grain";

/// A dbt granularity as the engine's grain name.
pub(super) fn grain_name(granularity: &str) -> Result<String, String> {
    kpi_formula::Grain::parse(granularity)
        .map(|g| g.as_str().to_string())
        .map_err(|_| format!("granularity `{granularity}`: {CUSTOM_GRAIN}"))
}

/// A dbt window (`7 days`) checked to be in standard units.
pub(super) fn span_text(window: &str) -> Result<String, String> {
    kpi_formula::CalendarSpan::parse(window).map(|s| s.to_string()).map_err(|_| format!("window `{window}`: {CUSTOM_GRAIN}"))
}
