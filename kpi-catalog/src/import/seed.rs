//! The seed's `KPIDefinition` JSON shape (`seeds/kpi-engine-implementation-guide.md`).

use std::collections::HashMap;

use kpi_formula::Grain;
use kpi_formula::ast::{BinaryOp, Expr, ExprKind, Literal};
use kpi_formula::span::Source;
use serde::{Deserialize, Serialize};

use super::{call, node, path, print, relative_span, string};
use crate::catalog::Catalog;
use crate::error::CatalogError;
use crate::kpi::{Direction, KpiDefinition, Thresholds};

/// A KPI in the seed's `KPIDefinition` shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedKpi {
    /// Becomes the KPI code.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `business`, `user`, `performance` or `custom`; kept as a tag.
    #[serde(default)]
    pub category: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// The expression and its variables.
    pub formula: SeedFormula,
    /// Grains the KPI is aggregated at; the first becomes the default grain.
    #[serde(default)]
    pub aggregations: Vec<String>,
    /// Dimension columns, bare (`region`) or qualified (`orders.region`).
    #[serde(default)]
    pub dimensions: Vec<String>,
    /// Conditions applied to every variable of the filtered table.
    #[serde(default)]
    pub filters: Vec<SeedFilter>,
    /// Calculation frequency.
    #[serde(default)]
    pub schedule: Option<SeedSchedule>,
    /// Warning and critical levels.
    #[serde(default)]
    pub thresholds: Option<SeedThresholds>,
    /// Free-form metadata (not translated).
    #[serde(default)]
    pub metadata: Option<serde_json::Value>,
}

/// The seed's `KPIFormula`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedFormula {
    /// `simple`, `composite` or `custom` (informational).
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// An expression over the variable names, e.g. `marketing_spend / new_customers` or `SUM(x)`.
    pub expression: String,
    /// The variables it uses.
    #[serde(default)]
    pub variables: Vec<SeedVariable>,
}

/// A variable bound to a table column and an aggregation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedVariable {
    /// The name used in the expression.
    pub name: String,
    /// Where its values come from.
    pub source: SeedSource,
    /// A relative window, e.g. `{ field: created_at, period: last_30_days }`.
    #[serde(default)]
    pub time_range: Option<SeedTimeRange>,
}

/// The column a variable reads and how it is aggregated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedSource {
    /// The source database (a data-source concern; not part of the formula).
    #[serde(default)]
    pub database: Option<String>,
    /// The table: an object-model code.
    pub table: String,
    /// The column.
    pub column: String,
    /// `sum`, `count`, `avg`, `min` or `max` (default `sum`).
    #[serde(default)]
    pub aggregation: Option<String>,
}

/// A relative time window for one variable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedTimeRange {
    /// The time column (must be the object model's time column).
    pub field: String,
    /// `last_<n>_<unit>s` (e.g. `last_30_days`) or `last_<unit>`.
    pub period: String,
}

/// A filter condition `{ field, operator, value }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedFilter {
    /// A column, bare or `table.column`.
    pub field: String,
    /// `eq`, `ne`, `gt`, `gte`, `lt`, `lte`, `in`, `not_in` or the symbols `= != > >= < <=`.
    pub operator: String,
    /// A string, number, boolean or (for `in`) a list of them.
    pub value: serde_json::Value,
}

/// How often the KPI is calculated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedSchedule {
    /// `realtime`, `minute`, `hour`, `day`, `week` or `month`.
    pub frequency: String,
    /// IANA time zone (informational).
    #[serde(default)]
    pub timezone: Option<String>,
}

/// Warning and critical levels.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SeedThresholds {
    /// Warning level.
    #[serde(default)]
    pub warning: Option<f64>,
    /// Critical level.
    #[serde(default)]
    pub critical: Option<f64>,
}

const AGGREGATES: [&str; 8] = ["sum", "count", "avg", "min", "max", "count_distinct", "median", "percentile"];

/// Parses seed `KPIDefinition` JSON (one object or an array) and translates each KPI.
pub fn from_seed_json(text: &str, catalog: &Catalog) -> Result<Vec<KpiDefinition>, CatalogError> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| CatalogError::Import { what: "seed KPI JSON".into(), message: e.to_string() })?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        one => vec![one],
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let seed: SeedKpi = serde_json::from_value(v)
                .map_err(|e| CatalogError::Import { what: format!("seed KPI #{}", i + 1), message: e.to_string() })?;
            from_seed_kpi(&seed, catalog)
        })
        .collect()
}

/// Translates seed KPIs into `catalog` and validates the result, reporting every problem.
pub fn import_seed_json(text: &str, catalog: &mut Catalog) -> Result<Vec<String>, CatalogError> {
    let kpis = from_seed_json(text, catalog)?;
    let codes = kpis.iter().map(|k| k.code.clone()).collect();
    for k in kpis {
        catalog.add_kpi(k);
    }
    catalog.validate()?;
    Ok(codes)
}

/// Translates one seed KPI into a [`KpiDefinition`].
///
/// Each variable becomes `aggregation(table.column)`; an expression that applies an aggregate to
/// a variable (`SUM(subscription_amount)`) uses the variable's column inside it. A variable's
/// time range `last_30_days` becomes `rolling(..., '30 days')`. Filters become `where` conditions
/// of the aggregates over their table. Bare dimension names are qualified with the first
/// variable table that has the column.
///
/// ```
/// let catalog = kpi_catalog::Catalog::standard();
/// let json = r#"{ "id": "cac", "name": "Customer Acquisition Cost", "category": "business",
///   "description": "Average cost to acquire a new customer",
///   "formula": { "type": "composite", "expression": "marketing_spend / new_customers",
///     "variables": [
///       { "name": "marketing_spend", "source": { "database": "finance", "table": "expenses", "column": "amount", "aggregation": "sum" } },
///       { "name": "new_customers", "source": { "database": "users", "table": "customers", "column": "customer_id", "aggregation": "count" } } ] },
///   "aggregations": ["month", "quarter"], "dimensions": [] }"#;
/// let kpi = &kpi_catalog::import::from_seed_json(json, &catalog)?[0];
/// assert_eq!(kpi.formula, "sum(expenses.amount) / count(customers.customer_id)");
/// # Ok::<(), kpi_catalog::CatalogError>(())
/// ```
pub fn from_seed_kpi(seed: &SeedKpi, catalog: &Catalog) -> Result<KpiDefinition, CatalogError> {
    let what = format!("KPI `{}`", seed.id);
    let fail = |message: String| CatalogError::Import { what: what.clone(), message };
    let variables: HashMap<&str, &SeedVariable> = seed.formula.variables.iter().map(|v| (v.name.as_str(), v)).collect();
    let source = Source::new(format!("expression of {}", seed.id), seed.formula.expression.clone());
    let expr = kpi_formula::parser::parse(&source).map_err(|d| fail(d.render()))?;
    let filters = seed.filters.iter().map(|f| filter(f, &seed.formula.variables)).collect::<Result<Vec<_>, _>>().map_err(fail)?;
    let translator = Translator { variables: &variables, filters: &filters, catalog };
    let formula = translator.expr(&expr, false).map_err(fail)?;

    let tables: Vec<&str> = seed.formula.variables.iter().map(|v| v.source.table.as_str()).collect();
    let dimensions = seed
        .dimensions
        .iter()
        .map(|d| {
            if d.contains('.') {
                return d.clone();
            }
            let owner = tables.iter().find(|t| catalog.object_model(t).is_ok_and(|m| m.column(d).is_some())).or(tables.first());
            owner.map_or_else(|| d.clone(), |t| format!("{t}.{d}"))
        })
        .collect();
    let grains: Vec<Grain> = seed.aggregations.iter().filter_map(|g| Grain::parse(g).ok()).collect();
    let thresholds = seed.thresholds.clone().unwrap_or_default();
    let direction = match (thresholds.warning, thresholds.critical) {
        (Some(w), Some(c)) if c > w => Direction::LowerIsBetter,
        _ => Direction::HigherIsBetter,
    };
    let schedule = match seed.schedule.as_ref().map(|s| s.frequency.to_ascii_lowercase()) {
        None => None,
        Some(f) => match f.as_str() {
            "realtime" => None,
            "minute" => Some("* * * * *"),
            "hour" => Some("0 * * * *"),
            "day" => Some("0 0 * * *"),
            "week" => Some("0 0 * * 1"),
            "month" => Some("0 0 1 * *"),
            other => {
                return Err(fail(format!("unknown schedule frequency `{other}`; expected realtime, minute, hour, day, week or month")));
            }
        }
        .map(str::to_string),
    };
    Ok(KpiDefinition {
        code: seed.id.clone(),
        name: seed.name.clone(),
        description: seed.description.clone(),
        formula: print(&formula),
        direction,
        thresholds: Thresholds { warning: thresholds.warning, critical: thresholds.critical, target: None },
        default_grain: grains.first().copied(),
        dimensions,
        tags: seed.category.iter().cloned().collect(),
        schedule,
        ..Default::default()
    })
}

/// A filter as `(table, condition)`.
fn filter(f: &SeedFilter, variables: &[SeedVariable]) -> Result<(String, Expr), String> {
    let (table, column) = match f.field.split_once('.') {
        Some((t, c)) => (t.to_string(), c.to_string()),
        None => (variables.first().map(|v| v.source.table.clone()).ok_or("a filter needs a variable to name its table")?, f.field.clone()),
    };
    let value = |v: &serde_json::Value| -> Result<Expr, String> {
        Ok(node(ExprKind::Literal(match v {
            serde_json::Value::String(s) => Literal::String(s.clone()),
            serde_json::Value::Bool(b) => Literal::Boolean(*b),
            serde_json::Value::Null => Literal::Null,
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Literal::Integer(i),
                None => Literal::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            other => return Err(format!("filter value {other} is not a string, number, boolean or null")),
        })))
    };
    let column_expr = path(&[&table, &column]);
    let op = match f.operator.to_ascii_lowercase().as_str() {
        "eq" | "=" | "==" => BinaryOp::Eq,
        "ne" | "neq" | "!=" | "<>" => BinaryOp::NotEq,
        "gt" | ">" => BinaryOp::Gt,
        "gte" | ">=" => BinaryOp::GtEq,
        "lt" | "<" => BinaryOp::Lt,
        "lte" | "<=" => BinaryOp::LtEq,
        op @ ("in" | "not_in") => {
            let serde_json::Value::Array(items) = &f.value else { return Err(format!("filter `{}` {op} needs a list value", f.field)) };
            let list = items.iter().map(value).collect::<Result<_, _>>()?;
            return Ok((table, node(ExprKind::InList { expr: Box::new(column_expr), list, negated: op == "not_in" })));
        }
        other => return Err(format!("unknown filter operator `{other}`; expected eq, ne, gt, gte, lt, lte, in or not_in")),
    };
    Ok((table, node(ExprKind::Binary { op, left: Box::new(column_expr), right: Box::new(value(&f.value)?) })))
}

struct Translator<'a> {
    variables: &'a HashMap<&'a str, &'a SeedVariable>,
    filters: &'a [(String, Expr)],
    catalog: &'a Catalog,
}

impl Translator<'_> {
    /// The `where` condition of an aggregate over `table`, from the filters.
    fn condition(&self, table: &str) -> Option<Expr> {
        self.filters
            .iter()
            .filter(|(t, _)| t == table)
            .map(|(_, c)| c.clone())
            .reduce(|a, b| node(ExprKind::Binary { op: BinaryOp::And, left: Box::new(a), right: Box::new(b) }))
    }

    /// Wraps an aggregate of a variable in its time window.
    fn windowed(&self, v: &SeedVariable, aggregate: Expr) -> Result<Expr, String> {
        let Some(range) = &v.time_range else { return Ok(aggregate) };
        let span = relative_span(&range.period)
            .ok_or_else(|| format!("time range period `{}` is not of the form last_<n>_<unit>s, e.g. last_30_days", range.period))?;
        if let Some(t) = self.catalog.object_model(&v.source.table).ok().and_then(|m| m.time_column.as_deref())
            && t != range.field
        {
            return Err(format!(
                "variable `{}` has a time range on `{}`, but the time column of `{}` is `{t}`",
                v.name, range.field, v.source.table
            ));
        }
        Ok(call("rolling", vec![aggregate, string(&span)], None))
    }

    fn expr(&self, e: &Expr, in_aggregate: bool) -> Result<Expr, String> {
        let mut out = e.clone();
        match &e.kind {
            ExprKind::Path(parts) if parts.len() == 1 => {
                let Some(v) = self.variables.get(parts[0].name.as_str()) else {
                    return Ok(out);
                };
                let column = path(&[&v.source.table, &v.source.column]);
                if in_aggregate {
                    return Ok(column);
                }
                let agg = v.source.aggregation.as_deref().unwrap_or("sum").to_ascii_lowercase();
                if !AGGREGATES.contains(&agg.as_str()) {
                    return Err(format!("variable `{}` has aggregation `{agg}`; expected sum, count, avg, min or max", v.name));
                }
                return self.windowed(v, call(&agg, vec![column], self.condition(&v.source.table)));
            }
            ExprKind::Call { name, args, filter } => {
                let lower = name.name.to_ascii_lowercase();
                let is_aggregate = AGGREGATES.contains(&lower.as_str());
                let new_args = args.iter().map(|a| self.expr(a, in_aggregate || is_aggregate)).collect::<Result<Vec<_>, _>>()?;
                let new_filter = filter.as_deref().map(|f| self.expr(f, true)).transpose()?;
                // `SUM(variable)`: the variable's table decides the filter and time window.
                let variable = args.first().and_then(|a| match &a.kind {
                    ExprKind::Path(p) if p.len() == 1 => self.variables.get(p[0].name.as_str()).copied(),
                    _ => None,
                });
                let condition = match (new_filter, variable.and_then(|v| self.condition(&v.source.table))) {
                    (Some(a), Some(b)) => Some(node(ExprKind::Binary { op: BinaryOp::And, left: Box::new(a), right: Box::new(b) })),
                    (a, b) => a.or(b),
                };
                let rebuilt = call(&lower, new_args, if is_aggregate { condition } else { None });
                return match (is_aggregate && !in_aggregate, variable) {
                    (true, Some(v)) => self.windowed(v, rebuilt),
                    _ => Ok(rebuilt),
                };
            }
            _ => {}
        }
        replace_children(&mut out, &mut |child| self.expr(child, in_aggregate))?;
        Ok(out)
    }
}

fn fix(b: &mut Box<Expr>, f: &mut dyn FnMut(&Expr) -> Result<Expr, String>) -> Result<(), String> {
    **b = f(b)?;
    Ok(())
}

/// Rewrites every direct child of `e` with `f`.
pub(super) fn replace_children(e: &mut Expr, f: &mut dyn FnMut(&Expr) -> Result<Expr, String>) -> Result<(), String> {
    match &mut e.kind {
        ExprKind::Literal(_) | ExprKind::Path(_) => {}
        ExprKind::Call { args, filter, .. } => {
            for a in args.iter_mut() {
                *a = f(a)?;
            }
            if let Some(flt) = filter {
                fix(flt, f)?;
            }
        }
        ExprKind::Unary { expr, .. } | ExprKind::IsNull { expr, .. } => fix(expr, f)?,
        ExprKind::Binary { left, right, .. } => {
            fix(left, f)?;
            fix(right, f)?;
        }
        ExprKind::InList { expr, list, .. } => {
            fix(expr, f)?;
            for a in list.iter_mut() {
                *a = f(a)?;
            }
        }
        ExprKind::Between { expr, low, high, .. } => {
            fix(expr, f)?;
            fix(low, f)?;
            fix(high, f)?;
        }
        ExprKind::Like { expr, pattern, .. } => {
            fix(expr, f)?;
            fix(pattern, f)?;
        }
        ExprKind::Case { operand, branches, otherwise } => {
            if let Some(o) = operand {
                fix(o, f)?;
            }
            for (w, t) in branches.iter_mut() {
                *w = f(w)?;
                *t = f(t)?;
            }
            if let Some(o) = otherwise {
                fix(o, f)?;
            }
        }
    }
    Ok(())
}
