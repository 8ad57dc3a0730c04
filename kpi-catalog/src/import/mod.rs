//! Importing KPI definitions written in other shapes: the seed's `KPIDefinition` JSON (an
//! expression over variables bound to table columns and aggregations) and SQL-defined KPIs
//! (`SELECT <aggregates> FROM <table> [WHERE ...]`). Both are translated into the formula
//! language, so the result is an ordinary [`KpiDefinition`](crate::KpiDefinition) that validates
//! and calculates like any other; [`import_seed_json`] and [`import_sql`] add them to a catalog
//! and validate it.

mod dbt;
mod seed;
mod sql;

use kpi_formula::ast::{Expr, ExprKind, Ident, Literal};
use kpi_formula::span::Span;

pub use dbt::{DbtImport, Skipped, import_dbt, import_dbt_sources};
pub use seed::{
    SeedFilter, SeedFormula, SeedKpi, SeedSchedule, SeedSource, SeedThresholds, SeedTimeRange, SeedVariable, from_seed_json, from_seed_kpi,
    import_seed_json,
};
pub use sql::{SqlKpi, from_sql, import_sql};

/// Builders for formula syntax trees (spans are irrelevant for printed formulas).
fn node(kind: ExprKind) -> Expr {
    Expr { kind, span: Span::new(0, 0) }
}

fn ident(name: &str) -> Ident {
    Ident { name: name.to_string(), span: Span::new(0, 0) }
}

fn path(parts: &[&str]) -> Expr {
    node(ExprKind::Path(parts.iter().map(|p| ident(p)).collect()))
}

fn call(name: &str, args: Vec<Expr>, filter: Option<Expr>) -> Expr {
    node(ExprKind::Call { name: ident(name), args, filter: filter.map(Box::new) })
}

fn string(text: &str) -> Expr {
    node(ExprKind::Literal(Literal::String(text.to_string())))
}

/// Prints a formula without the outermost parentheses the printer adds.
fn print(e: &Expr) -> String {
    let text = e.to_string();
    match text.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
        Some(inner) if kpi_formula::parser::parse(&kpi_formula::span::Source::new("f", inner)).is_ok_and(|p| p.to_string() == text) => {
            inner.to_string()
        }
        _ => text,
    }
}

/// A span like `'30 days'` from a relative period such as `last_30_days`, `last_week`.
fn relative_span(period: &str) -> Option<String> {
    let rest = period.trim().to_ascii_lowercase();
    let rest = rest.strip_prefix("last_").or_else(|| rest.strip_prefix("last "))?;
    let (count, unit) = match rest.split_once(['_', ' ']) {
        Some((n, unit)) => (n.parse::<u32>().ok()?, unit.to_string()),
        None => (1, rest.to_string()),
    };
    let unit = unit.trim_end_matches('s');
    matches!(unit, "minute" | "hour" | "day" | "week" | "month" | "quarter" | "year")
        .then(|| format!("{count} {unit}{}", if count == 1 { "" } else { "s" }))
}
