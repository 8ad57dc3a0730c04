//! SQL-defined KPIs (`seeds/kpi-engine-infrastructure.md`): `SELECT <expression> FROM <table>
//! [WHERE <condition>]`, translated into the formula language.

use datafusion::sql::sqlparser::ast::{
    self as sql, BinaryOperator, DuplicateTreatment, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, SelectItem, SetExpr,
    Statement, TableFactor, UnaryOperator, Value,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use kpi_formula::Grain;
use kpi_formula::ast::{BinaryOp, Expr, ExprKind, Literal, UnaryOp};
use serde::{Deserialize, Serialize};

use super::{call, node, path, print, string};
use crate::catalog::Catalog;
use crate::error::CatalogError;
use crate::kpi::KpiDefinition;

/// A KPI defined by a SQL query, as in the seed's infrastructure definitions:
/// `{ query = "SELECT SUM(amount) FROM subscriptions WHERE status='active'", schedule = "0 0 * * *", retention = "365d" }`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SqlKpi {
    /// The KPI code (the key of the seed's map).
    pub code: String,
    /// Display name; defaults to the code in words.
    #[serde(default)]
    pub name: Option<String>,
    /// `SELECT <expression> FROM <table> [WHERE <condition>]`.
    pub query: String,
    /// Cron schedule.
    #[serde(default)]
    pub schedule: Option<String>,
    /// How long values are kept, e.g. `365d` (informational; retention policies are per client).
    #[serde(default)]
    pub retention: Option<String>,
}

/// Translates SQL KPIs into `catalog` and validates the result, reporting every problem.
pub fn import_sql(kpis: &[SqlKpi], catalog: &mut Catalog) -> Result<Vec<String>, CatalogError> {
    let translated = kpis.iter().map(|k| from_sql(k, catalog)).collect::<Result<Vec<_>, _>>()?;
    let codes = translated.iter().map(|k| k.code.clone()).collect();
    for k in translated {
        catalog.add_kpi(k);
    }
    catalog.validate()?;
    Ok(codes)
}

/// Translates a SQL-defined KPI.
///
/// Aggregates keep their meaning (`COUNT(*)` counts rows, `COUNT(DISTINCT x)` is
/// `count_distinct`) and the `WHERE` condition becomes the `where` of every aggregate. A column
/// outside any aggregate reads a pre-aggregated table and is summed over the period. Conditions
/// on the time column relative to today are replaced by the query grain: `= CURRENT_DATE`
/// becomes a daily KPI, `>= CURRENT_DATE - INTERVAL '7 days'` a 7-day rolling window.
///
/// ```
/// use kpi_catalog::import::{SqlKpi, from_sql};
/// let catalog = kpi_catalog::Catalog::standard();
/// let kpi = from_sql(&SqlKpi {
///     code: "active_mrr".into(),
///     query: "SELECT SUM(mrr) FROM subscription_periods WHERE movement <> 'churned'".into(),
///     ..Default::default()
/// }, &catalog)?;
/// assert_eq!(kpi.formula, "sum(subscription_periods.mrr where (subscription_periods.movement != 'churned'))");
/// # Ok::<(), kpi_catalog::CatalogError>(())
/// ```
pub fn from_sql(kpi: &SqlKpi, catalog: &Catalog) -> Result<KpiDefinition, CatalogError> {
    let fail = |message: String| CatalogError::Import { what: format!("SQL KPI `{}`", kpi.code), message };
    let statements = Parser::parse_sql(&PostgreSqlDialect {}, &kpi.query).map_err(|e| fail(format!("the query does not parse: {e}")))?;
    let [Statement::Query(query)] = statements.as_slice() else {
        return Err(fail("expected exactly one SELECT statement".into()));
    };
    let SetExpr::Select(select) = query.body.as_ref() else {
        return Err(fail("expected a plain SELECT (no UNION, VALUES or sub-queries)".into()));
    };
    let grouped = match &select.group_by {
        GroupByExpr::Expressions(e, _) => !e.is_empty(),
        GroupByExpr::All(_) => true,
    };
    if grouped || select.having.is_some() {
        return Err(fail("GROUP BY and HAVING are not supported: dimensions are chosen per query, not in the KPI".into()));
    }
    let [from] = select.from.as_slice() else {
        return Err(fail("expected exactly one table in FROM".into()));
    };
    if !from.joins.is_empty() {
        return Err(fail(
            "joins are not supported: declare a relationship in the catalog and navigate it (orders.customer.segment)".into(),
        ));
    }
    let TableFactor::Table { name, alias, .. } = &from.relation else {
        return Err(fail("FROM must name a table".into()));
    };
    let table = name.0.last().and_then(|p| p.as_ident()).map(|i| i.value.clone()).ok_or_else(|| fail("FROM must name a table".into()))?;
    let [item] = select.projection.as_slice() else {
        return Err(fail("expected exactly one selected expression: the KPI value".into()));
    };
    let selected = match item {
        SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
        _ => return Err(fail("expected an expression, not `*`".into())),
    };
    let time_column = catalog.object_model(&table).ok().and_then(|m| m.time_column.clone());
    let t = Translator { table: &table, alias: alias.as_ref().map(|a| a.name.value.as_str()), time_column: time_column.as_deref() };

    let mut window = None;
    let mut conditions = Vec::new();
    if let Some(w) = &select.selection {
        for c in conjuncts(w) {
            match t.relative_time(c).map_err(fail)? {
                Some(TimeCondition::Today) => window = window.or(Some(None)),
                Some(TimeCondition::Last(span)) => window = Some(Some(span)),
                None => conditions.push(t.expr(c, true, None).map_err(fail)?),
            }
        }
    }
    let condition =
        conditions.into_iter().reduce(|a, b| node(ExprKind::Binary { op: BinaryOp::And, left: Box::new(a), right: Box::new(b) }));
    let mut formula = t.expr(selected, false, condition.as_ref()).map_err(fail)?;
    if let Some(Some(span)) = &window {
        formula = call("rolling", vec![formula, string(span)], None);
    }
    Ok(KpiDefinition {
        code: kpi.code.clone(),
        name: kpi.name.clone().unwrap_or_else(|| words(&kpi.code)),
        formula: print(&formula),
        default_grain: window.map(|_| Grain::Day),
        sql: Some(kpi.query.clone()),
        schedule: kpi.schedule.clone(),
        tags: vec!["sql".into()],
        ..Default::default()
    })
}

fn words(code: &str) -> String {
    let text = code.replace('_', " ");
    let mut chars = text.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The `AND`ed parts of a condition.
fn conjuncts(e: &sql::Expr) -> Vec<&sql::Expr> {
    match e {
        sql::Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
            let mut out = conjuncts(left);
            out.extend(conjuncts(right));
            out
        }
        sql::Expr::Nested(inner) => conjuncts(inner),
        other => vec![other],
    }
}

enum TimeCondition {
    Today,
    Last(String),
}

struct Translator<'a> {
    table: &'a str,
    alias: Option<&'a str>,
    time_column: Option<&'a str>,
}

fn is_now(e: &sql::Expr) -> bool {
    match e {
        sql::Expr::Function(f) => {
            let name = f.name.to_string().to_ascii_lowercase();
            matches!(name.as_str(), "current_date" | "current_timestamp" | "now" | "localtimestamp")
        }
        sql::Expr::Nested(inner) => is_now(inner),
        _ => false,
    }
}

impl Translator<'_> {
    fn column(&self, parts: &[sql::Ident]) -> Result<Expr, String> {
        let names: Vec<&str> = parts.iter().map(|p| p.value.as_str()).collect();
        match names.as_slice() {
            [c] => Ok(path(&[self.table, c])),
            [q, c] if *q == self.table || Some(*q) == self.alias => Ok(path(&[self.table, c])),
            _ => Err(format!("`{}` is not a column of `{}`", names.join("."), self.table)),
        }
    }

    /// A condition on the time column relative to now: replaced by the query's grain or window.
    fn relative_time(&self, e: &sql::Expr) -> Result<Option<TimeCondition>, String> {
        let sql::Expr::BinaryOp { left, op, right } = e else { return Ok(None) };
        let column = match left.as_ref() {
            sql::Expr::Identifier(i) => Some(i.value.as_str()),
            sql::Expr::CompoundIdentifier(p) => p.last().map(|i| i.value.as_str()),
            _ => None,
        };
        let relative = is_now(right) || matches!(right.as_ref(), sql::Expr::BinaryOp { left, .. } if is_now(left));
        let (Some(column), true) = (column, relative) else { return Ok(None) };
        if let Some(t) = self.time_column
            && t != column
        {
            return Err(format!(
                "the condition on `{column}` relative to today needs `{column}` to be the time column of `{}`, which is `{t}`",
                self.table
            ));
        }
        match (op, right.as_ref()) {
            (BinaryOperator::Eq, r) if is_now(r) => Ok(Some(TimeCondition::Today)),
            (BinaryOperator::GtEq | BinaryOperator::Gt, sql::Expr::BinaryOp { left, op: BinaryOperator::Minus, right: interval })
                if is_now(left) =>
            {
                Ok(Some(TimeCondition::Last(interval_span(interval)?)))
            }
            _ => Err(format!(
                "the condition `{e}` on the time column is not supported; use `= CURRENT_DATE` or `>= CURRENT_DATE - INTERVAL 'n days'`"
            )),
        }
    }

    /// Translates an expression; `in_aggregate` when inside an aggregate call, `condition` is
    /// the WHERE condition each aggregate gets.
    fn expr(&self, e: &sql::Expr, in_aggregate: bool, condition: Option<&Expr>) -> Result<Expr, String> {
        let rec = |x: &sql::Expr| self.expr(x, in_aggregate, condition);
        let boxed = |x: &sql::Expr| rec(x).map(Box::new);
        Ok(match e {
            sql::Expr::Identifier(i) => self.bare(self.column(std::slice::from_ref(i))?, in_aggregate, condition),
            sql::Expr::CompoundIdentifier(parts) => self.bare(self.column(parts)?, in_aggregate, condition),
            sql::Expr::Nested(inner) => rec(inner)?,
            sql::Expr::Value(v) => node(ExprKind::Literal(match &v.value {
                Value::Number(n, _) => n
                    .parse::<i64>()
                    .map(Literal::Integer)
                    .or_else(|_| n.parse::<f64>().map(Literal::Float))
                    .map_err(|_| format!("bad number {n}"))?,
                Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => Literal::String(s.clone()),
                Value::Boolean(b) => Literal::Boolean(*b),
                Value::Null => Literal::Null,
                other => return Err(format!("the literal {other} is not supported")),
            })),
            sql::Expr::UnaryOp { op, expr } => match op {
                UnaryOperator::Not => node(ExprKind::Unary { op: UnaryOp::Not, expr: boxed(expr)? }),
                UnaryOperator::Minus => node(ExprKind::Unary { op: UnaryOp::Neg, expr: boxed(expr)? }),
                UnaryOperator::Plus => rec(expr)?,
                other => return Err(format!("the operator {other} is not supported")),
            },
            sql::Expr::BinaryOp { left, op, right } => {
                let op = match op {
                    BinaryOperator::Plus => BinaryOp::Add,
                    BinaryOperator::Minus => BinaryOp::Sub,
                    BinaryOperator::Multiply => BinaryOp::Mul,
                    BinaryOperator::Divide => BinaryOp::Div,
                    BinaryOperator::Modulo => BinaryOp::Mod,
                    BinaryOperator::Eq => BinaryOp::Eq,
                    BinaryOperator::NotEq => BinaryOp::NotEq,
                    BinaryOperator::Lt => BinaryOp::Lt,
                    BinaryOperator::LtEq => BinaryOp::LtEq,
                    BinaryOperator::Gt => BinaryOp::Gt,
                    BinaryOperator::GtEq => BinaryOp::GtEq,
                    BinaryOperator::And => BinaryOp::And,
                    BinaryOperator::Or => BinaryOp::Or,
                    other => return Err(format!("the operator {other} is not supported")),
                };
                node(ExprKind::Binary { op, left: boxed(left)?, right: boxed(right)? })
            }
            sql::Expr::IsNull(x) => node(ExprKind::IsNull { expr: boxed(x)?, negated: false }),
            sql::Expr::IsNotNull(x) => node(ExprKind::IsNull { expr: boxed(x)?, negated: true }),
            sql::Expr::IsTrue(x) => rec(x)?,
            sql::Expr::IsFalse(x) => node(ExprKind::Unary { op: UnaryOp::Not, expr: boxed(x)? }),
            sql::Expr::InList { expr, list, negated } => {
                node(ExprKind::InList { expr: boxed(expr)?, list: list.iter().map(rec).collect::<Result<_, _>>()?, negated: *negated })
            }
            sql::Expr::Between { expr, negated, low, high } => {
                node(ExprKind::Between { expr: boxed(expr)?, low: boxed(low)?, high: boxed(high)?, negated: *negated })
            }
            sql::Expr::Like { negated, expr, pattern, escape_char: None, any: false } => {
                node(ExprKind::Like { expr: boxed(expr)?, pattern: boxed(pattern)?, negated: *negated })
            }
            sql::Expr::Case { operand, conditions, else_result, .. } => node(ExprKind::Case {
                operand: operand.as_deref().map(boxed).transpose()?,
                branches: conditions.iter().map(|w| Ok((rec(&w.condition)?, rec(&w.result)?))).collect::<Result<_, String>>()?,
                otherwise: else_result.as_deref().map(boxed).transpose()?,
            }),
            sql::Expr::Function(f) => self.function(f, in_aggregate, condition)?,
            other => return Err(format!("`{other}` is not supported in a KPI query")),
        })
    }

    /// A column outside any aggregate reads a pre-aggregated table: it is summed over the period.
    fn bare(&self, column: Expr, in_aggregate: bool, condition: Option<&Expr>) -> Expr {
        if in_aggregate { column } else { call("sum", vec![column], condition.cloned()) }
    }

    fn function(&self, f: &sql::Function, in_aggregate: bool, condition: Option<&Expr>) -> Result<Expr, String> {
        let name = f.name.to_string().to_ascii_lowercase();
        let FunctionArguments::List(list) = &f.args else {
            return Err(format!("`{name}` is not supported here"));
        };
        let distinct = matches!(list.duplicate_treatment, Some(DuplicateTreatment::Distinct));
        let mut args = Vec::new();
        let mut star = false;
        for a in &list.args {
            match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => args.push(e),
                FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => star = true,
                _ => return Err(format!("the arguments of `{name}` are not supported")),
            }
        }
        let aggregate = match (name.as_str(), distinct) {
            ("count", true) => Some("count_distinct"),
            ("sum" | "count" | "avg" | "min" | "max" | "median", false) => Some(name.as_str()),
            ("sum" | "avg" | "min" | "max" | "median", true) => return Err(format!("{} DISTINCT is not supported", name.to_uppercase())),
            _ => None,
        };
        match aggregate {
            Some(_) if in_aggregate => Err(format!("`{name}` is nested inside another aggregate")),
            Some("count") if star => Ok(call("count", vec![path(&[self.table])], condition.cloned())),
            Some(agg) => {
                let inner = args.iter().map(|a| self.expr(a, true, None)).collect::<Result<Vec<_>, _>>()?;
                Ok(call(agg, inner, condition.cloned()))
            }
            None => {
                let allowed =
                    ["coalesce", "nullif", "abs", "round", "floor", "ceil", "sqrt", "power", "least", "greatest", "lower", "upper"];
                if !allowed.contains(&name.as_str()) {
                    return Err(format!("the function `{name}` is not supported; aggregates and {} are", allowed.join(", ")));
                }
                let inner = args.iter().map(|a| self.expr(a, in_aggregate, condition)).collect::<Result<Vec<_>, _>>()?;
                Ok(call(&name, inner, None))
            }
        }
    }
}

/// `INTERVAL '7 days'` or `INTERVAL '7' DAY` as `'7 days'`.
fn interval_span(e: &sql::Expr) -> Result<String, String> {
    let sql::Expr::Interval(i) = e else { return Err(format!("expected an INTERVAL, found `{e}`")) };
    let sql::Expr::Value(v) = i.value.as_ref() else { return Err(format!("unsupported interval `{e}`")) };
    let text = match &v.value {
        Value::SingleQuotedString(s) => s.clone(),
        Value::Number(n, _) => n.clone(),
        _ => return Err(format!("unsupported interval `{e}`")),
    };
    let text = match &i.leading_field {
        Some(unit) => format!("{text} {unit}"),
        None => text,
    };
    let mut parts = text.split_whitespace();
    let (Some(count), Some(unit)) = (parts.next(), parts.next()) else { return Err(format!("unsupported interval `{e}`")) };
    let count: u32 = count.parse().map_err(|_| format!("unsupported interval `{e}`"))?;
    let unit = unit.to_ascii_lowercase();
    let unit = unit.trim_end_matches('s');
    Ok(format!("{count} {unit}{}", if count == 1 { "" } else { "s" }))
}
