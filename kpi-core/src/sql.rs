//! Plans shown (explain) and written as SQL for other databases (scale-out to a warehouse).

use std::fmt;
use std::sync::Arc;

use datafusion::common::ScalarValue;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{Expr, LogicalPlan, LogicalPlanBuilder, SubqueryAlias, Union};
use datafusion::physical_plan::displayable;
use datafusion::prelude::{lit, when};
use datafusion::sql::sqlparser::ast;
use datafusion::sql::sqlparser::dialect as parse_dialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::unparser::Unparser;
use datafusion::sql::unparser::dialect::{BigQueryDialect, DuckDBDialect, MySqlDialect, PostgreSqlDialect, SqliteDialect};
use datafusion::sql::unparser::dialect::{Dialect, IntervalStyle};
use kpi_formula::diagnostic::did_you_mean;
use kpi_formula::{ModelSources, Query};
use serde::Serialize;

use crate::engine::Engine;
use crate::error::EngineError;

/// Stack of the thread that writes and checks SQL.
const SQL_STACK_BYTES: usize = 256 << 20;

/// Nesting the SQL check accepts (a UNION ALL of periods nests once per period).
const SQL_RECURSION_LIMIT: usize = 1_000_000;

/// A query's plans, as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explain {
    /// The logical plan as lowered from the formula.
    pub logical: String,
    /// The logical plan after DataFusion's optimiser.
    pub optimized: String,
    /// The physical plan that executes.
    pub physical: String,
}

impl fmt::Display for Explain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "logical plan:\n{}\n\noptimized plan:\n{}\n\nphysical plan:\n{}", self.logical, self.optimized, self.physical)
    }
}

/// A database whose SQL the engine writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SqlDialect {
    /// PostgreSQL.
    Postgres,
    /// TimescaleDB: PostgreSQL with periods bucketed by `time_bucket`.
    Timescale,
    /// MySQL.
    MySql,
    /// SQLite.
    Sqlite,
    /// DuckDB.
    DuckDb,
    /// Google BigQuery.
    BigQuery,
}

impl SqlDialect {
    /// Every dialect.
    pub const ALL: [SqlDialect; 6] =
        [SqlDialect::Postgres, SqlDialect::Timescale, SqlDialect::MySql, SqlDialect::Sqlite, SqlDialect::DuckDb, SqlDialect::BigQuery];

    /// The dialect's name: `postgres`, `timescale`, `mysql`, `sqlite`, `duckdb`, `bigquery`.
    pub fn as_str(self) -> &'static str {
        match self {
            SqlDialect::Postgres => "postgres",
            SqlDialect::Timescale => "timescale",
            SqlDialect::MySql => "mysql",
            SqlDialect::Sqlite => "sqlite",
            SqlDialect::DuckDb => "duckdb",
            SqlDialect::BigQuery => "bigquery",
        }
    }

    /// Reads a dialect name (case-insensitive; `postgresql` and `timescaledb` also work).
    ///
    /// ```
    /// use kpi_core::SqlDialect;
    /// assert_eq!(SqlDialect::parse("PostgreSQL").unwrap(), SqlDialect::Postgres);
    /// assert!(SqlDialect::parse("oracle").unwrap_err().to_string().contains("postgres"));
    /// ```
    pub fn parse(name: &str) -> Result<SqlDialect, EngineError> {
        let lower = name.trim().to_ascii_lowercase();
        let alias = match lower.as_str() {
            "postgresql" | "pg" => "postgres",
            "timescaledb" => "timescale",
            other => other,
        };
        SqlDialect::ALL.into_iter().find(|d| d.as_str() == alias).ok_or_else(|| {
            let names = SqlDialect::ALL.map(SqlDialect::as_str);
            let hint = did_you_mean(name, names).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
            EngineError::InvalidOption {
                option: "dialect",
                message: format!("unknown SQL dialect `{name}`{hint}; expected one of {}", names.join(", ")),
            }
        })
    }

    /// Whether the dialect has `agg(...) FILTER (WHERE ...)`.
    fn has_aggregate_filters(self) -> bool {
        !matches!(self, SqlDialect::MySql | SqlDialect::BigQuery)
    }

    fn unparser_dialect(self) -> Box<dyn Dialect> {
        match self {
            SqlDialect::Postgres => Box::new(PostgreSqlDialect {}),
            SqlDialect::Timescale => Box::new(TimescaleDialect),
            SqlDialect::MySql => Box::new(MySqlDialect {}),
            SqlDialect::Sqlite => Box::new(SqliteDialect {}),
            SqlDialect::DuckDb => Box::new(DuckDBDialect::new()),
            SqlDialect::BigQuery => Box::new(BigQueryDialect {}),
        }
    }

    fn parser_dialect(self) -> Box<dyn parse_dialect::Dialect> {
        match self {
            SqlDialect::Postgres | SqlDialect::Timescale => Box::new(parse_dialect::PostgreSqlDialect {}),
            SqlDialect::MySql => Box::new(parse_dialect::MySqlDialect {}),
            SqlDialect::Sqlite => Box::new(parse_dialect::SQLiteDialect {}),
            SqlDialect::DuckDb => Box::new(parse_dialect::DuckDbDialect {}),
            SqlDialect::BigQuery => Box::new(parse_dialect::BigQueryDialect {}),
        }
    }
}

impl fmt::Display for SqlDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// PostgreSQL, but periods are `time_bucket(interval, time)`: TimescaleDB's bucketing, which its
/// continuous aggregates and chunk exclusion understand.
struct TimescaleDialect;

impl Dialect for TimescaleDialect {
    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        PostgreSqlDialect {}.identifier_quote_style(identifier)
    }
    fn use_array_keyword_for_array_literals(&self) -> bool {
        true
    }
    fn supports_qualify(&self) -> bool {
        false
    }
    fn requires_derived_table_alias(&self) -> bool {
        true
    }
    fn supports_empty_select_list(&self) -> bool {
        true
    }
    fn interval_style(&self) -> IntervalStyle {
        IntervalStyle::PostgresVerbose
    }
    fn float64_ast_dtype(&self) -> ast::DataType {
        ast::DataType::DoublePrecision
    }
    fn int8_cast_dtype(&self) -> ast::DataType {
        ast::DataType::SmallInt(None)
    }
    fn scalar_function_to_sql_overrides(
        &self,
        unparser: &Unparser,
        func_name: &str,
        args: &[Expr],
    ) -> datafusion::error::Result<Option<ast::Expr>> {
        if func_name == "date_trunc"
            && let [Expr::Literal(ScalarValue::Utf8(Some(unit)), _), time] = args
            && let Some(width) = bucket_width(unit)
        {
            return unparser.scalar_function_to_sql("time_bucket", &[lit(width), time.clone()]).map(Some);
        }
        PostgreSqlDialect {}.scalar_function_to_sql_overrides(unparser, func_name, args)
    }
}

/// The first function in the plan that only the engine has: periods of a retail calendar or
/// calendar table (`calendar_period`), or an offset by a calendar span that is not whole
/// periods (`period_before`).
fn engine_only_function(plan: &LogicalPlan) -> Option<&'static str> {
    let mut found = None;
    let _ = plan.apply_with_subqueries(|node| {
        let _ = node.apply_expressions(|e| {
            let _ = e.apply(|x| {
                if let Expr::ScalarFunction(f) = x {
                    found = ["calendar_period", "period_before"].into_iter().find(|n| *n == f.func.name());
                }
                Ok(if found.is_some() { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
            });
            Ok(if found.is_some() { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
        });
        Ok(if found.is_some() { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
    });
    found
}

/// The `time_bucket` width of a `date_trunc` unit. TimescaleDB's default origin (Monday
/// 2000-01-03) makes weeks ISO weeks and month widths calendar months.
fn bucket_width(unit: &str) -> Option<ScalarValue> {
    let (months, days, minutes) = match unit.to_ascii_lowercase().as_str() {
        "minute" => (0, 0, 1),
        "hour" => (0, 0, 60),
        "day" => (0, 1, 0),
        "week" => (0, 7, 0),
        "month" => (1, 0, 0),
        "quarter" => (3, 0, 0),
        "year" => (12, 0, 0),
        _ => return None,
    };
    let nanos = minutes * 60 * 1_000_000_000i64;
    Some(ScalarValue::new_interval_mdn(months, days, nanos))
}

impl Engine {
    /// The logical, optimised and physical plans of `query` over the registered data.
    pub async fn explain(&self, query: &Query) -> Result<Explain, EngineError> {
        let planned = self.plan(query).await?;
        let state = self.inner.ctx.state();
        let optimized = state.optimize(&planned.plan).map_err(|e| self.execution_error(e, query))?;
        let physical = state.create_physical_plan(&planned.plan).await.map_err(|e| self.execution_error(e, query))?;
        Ok(Explain {
            logical: planned.plan.display_indent_schema().to_string(),
            optimized: optimized.display_indent().to_string(),
            physical: displayable(physical.as_ref()).indent(true).to_string(),
        })
    }

    /// `query` as one SQL statement for `dialect`, from the plan before optimisation (so it reads
    /// like the formula), over tables named by object model code. The statement is checked to
    /// parse in that dialect. No data needs to be registered; a query with a grain needs a
    /// time range unless data is registered to take the range from.
    pub async fn to_sql(&self, query: &Query, dialect: SqlDialect) -> Result<String, EngineError> {
        let query = self.with_default_range(query).await?;
        let catalog = self.inner.catalog.as_ref();
        let plan = kpi_formula::compile(&query, catalog)?.to_portable_logical_plan(&ModelSources(catalog))?;
        let unparse_error = |message: String| EngineError::Unparse { dialect: dialect.as_str(), message };
        match engine_only_function(&plan) {
            Some("calendar_period") => {
                let name = query.calendar.periods.as_ref().map_or("", |t| t.name());
                return Err(unparse_error(format!(
                    "the periods of calendar `{name}` exist only in the engine, so SQL for another database cannot bucket by them; \
                     calculate in the engine, or export at day or week grain and group by your own calendar table there"
                )));
            }
            Some(_) => {
                return Err(unparse_error(
                    "an offset by a calendar span that is not a whole number of query periods (such as prev(x, '1 month') by day) \
                     is calculated by the engine only; export at a grain the span divides (by month), or calculate in the engine"
                        .into(),
                ));
            }
            None => {}
        }
        let plan = values_as_selects(plan)
            .and_then(joins_of_derived_tables)
            .and_then(timestamp_relabels_as_casts)
            .and_then(|p| if dialect.has_aggregate_filters() { Ok(p) } else { filters_as_case(p) })
            .map_err(|e| unparse_error(e.to_string()))?;
        // The series of periods is a UNION ALL as long as the range has periods, and the
        // unparser, the SQL printer and the parser all recurse through it: give them room.
        let write = || -> Result<String, EngineError> {
            let dialect_impl = dialect.unparser_dialect();
            let statement = Unparser::new(dialect_impl.as_ref()).plan_to_sql(&plan).map_err(|e| unparse_error(e.to_string()))?;
            let sql = statement.to_string();
            let parse_dialect = dialect.parser_dialect();
            Parser::new(parse_dialect.as_ref())
                .with_recursion_limit(SQL_RECURSION_LIMIT)
                .try_with_sql(&sql)
                .and_then(|mut p| p.parse_statements())
                .map_err(|e| unparse_error(format!("the statement written does not parse ({e}): {sql}")))?;
            Ok(sql)
        };
        std::thread::scope(|scope| {
            let worker = std::thread::Builder::new().stack_size(SQL_STACK_BYTES).spawn_scoped(scope, write);
            match worker {
                Ok(handle) => handle.join().unwrap_or_else(|_| Err(unparse_error("the SQL writer panicked".into()))),
                Err(e) => Err(unparse_error(format!("cannot start the SQL writer thread: {e}"))),
            }
        })
    }
}

/// The unparser cannot write a `VALUES` plan (the series of periods), so each row becomes a
/// `SELECT` of literals and the rows a `UNION ALL`, which every dialect reads.
fn values_as_selects(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    plan.transform_up(|node| {
        let LogicalPlan::Values(values) = node else { return Ok(Transformed::no(node)) };
        if values.values.is_empty() {
            return Ok(Transformed::no(LogicalPlan::Values(values)));
        }
        let names: Vec<String> = values.schema.fields().iter().map(|f| f.name().clone()).collect();
        let rows = values.values.into_iter().map(|row| {
            let columns = row.into_iter().zip(&names).map(|(e, name)| e.alias(name));
            LogicalPlanBuilder::empty(true).project(columns)?.build()
        });
        let mut inputs = rows.map(|r| r.map(Arc::new)).collect::<datafusion::error::Result<Vec<_>>>()?;
        if inputs.len() == 1
            && let Some(only) = inputs.pop()
        {
            return Ok(Transformed::yes(Arc::unwrap_or_clone(only)));
        }
        // One n-ary union: nested pairs would be as deep as there are periods.
        let schema = inputs[0].schema().clone();
        Ok(Transformed::yes(LogicalPlan::Union(Union { inputs, schema })))
    })
    .map(|t| t.data)
}

/// The unparser inlines a join input that is an aggregate or projection with unqualified
/// columns (`__p0`, `__a0`) into the join, losing the aggregate; giving each such input a name
/// makes it a derived table in the SQL.
fn joins_of_derived_tables(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    let mut next = 0;
    let mut name = |input: Arc<LogicalPlan>| -> datafusion::error::Result<Arc<LogicalPlan>> {
        let unqualified = input.schema().iter().all(|(q, _)| q.is_none());
        if !unqualified || matches!(input.as_ref(), LogicalPlan::SubqueryAlias(_) | LogicalPlan::TableScan(_)) {
            return Ok(input);
        }
        next += 1;
        Ok(Arc::new(LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(input, format!("t{next}"))?)))
    };
    plan.transform_up(|node| {
        let LogicalPlan::Join(join) = node else { return Ok(Transformed::no(node)) };
        let (left, right) = (name(join.left.clone())?, name(join.right.clone())?);
        if Arc::ptr_eq(&left, &join.left) && Arc::ptr_eq(&right, &join.right) {
            return Ok(Transformed::no(LogicalPlan::Join(join)));
        }
        let joined = LogicalPlan::Join(join);
        let exprs = joined.expressions();
        Ok(Transformed::yes(joined.with_new_exprs(exprs, vec![Arc::unwrap_or_clone(left), Arc::unwrap_or_clone(right)])?))
    })
    .map(|t| t.data)
}

/// Plans relabel timestamps between zones through `Int64` (a cheap reinterpretation in Arrow);
/// in SQL an integer cast to a timestamp means seconds, so the relabel is written as the plain
/// cast it stands for.
fn timestamp_relabels_as_casts(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    use datafusion::arrow::datatypes::DataType;
    use datafusion::logical_expr::Cast;
    rewrite_expressions(plan, |e| {
        if let Expr::Cast(outer) = &e
            && matches!(outer.field.data_type(), DataType::Timestamp(..))
            && let Expr::Cast(inner) = outer.expr.as_ref()
            && *inner.field.data_type() == DataType::Int64
        {
            return Ok(Transformed::yes(Expr::Cast(Cast { expr: inner.expr.clone(), field: outer.field.clone() })));
        }
        Ok(Transformed::no(e))
    })
}

/// `agg(x) FILTER (WHERE f)` as `agg(CASE WHEN f THEN x END)`, for dialects without `FILTER`;
/// the same value, since every aggregate of the language ignores nulls.
fn filters_as_case(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    rewrite_expressions(plan, |e| {
        let Expr::AggregateFunction(mut agg) = e else { return Ok(Transformed::no(e)) };
        let Some(filter) = agg.params.filter.take() else { return Ok(Transformed::no(Expr::AggregateFunction(agg))) };
        let args = std::mem::take(&mut agg.params.args);
        agg.params.args = args.into_iter().map(|a| when(*filter.clone(), a).end()).collect::<datafusion::error::Result<_>>()?;
        Ok(Transformed::yes(Expr::AggregateFunction(agg)))
    })
}

/// Rewrites every expression of every node bottom-up with `f`, recomputing the schemas of the
/// nodes that changed.
fn rewrite_expressions(
    plan: LogicalPlan,
    mut f: impl FnMut(Expr) -> datafusion::error::Result<Transformed<Expr>>,
) -> datafusion::error::Result<LogicalPlan> {
    plan.transform_up(|node| {
        let rewritten = node.map_expressions(|e| e.transform_up(&mut f))?;
        if rewritten.transformed { rewritten.map_data(LogicalPlan::recompute_schema) } else { Ok(rewritten) }
    })
    .map(|t| t.data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grain_has_a_bucket_width() {
        for unit in ["minute", "hour", "day", "week", "month", "quarter", "year"] {
            assert!(bucket_width(unit).is_some(), "{unit}");
        }
        assert!(bucket_width("decade").is_none());
    }

    #[test]
    fn dialect_names_round_trip() {
        for d in SqlDialect::ALL {
            assert_eq!(SqlDialect::parse(d.as_str()).unwrap(), d);
        }
    }
}
