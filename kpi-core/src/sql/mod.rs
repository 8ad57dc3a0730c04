//! Plans shown (explain) and written as SQL for other databases (scale-out to a warehouse).

use std::fmt;

use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_plan::displayable;
use datafusion::sql::sqlparser::dialect as parse_dialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::unparser::Unparser;
use kpi_formula::diagnostic::did_you_mean;
use kpi_formula::{ModelSources, Query};
use serde::Serialize;

mod dialects;
mod rewrites;

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
    /// The physical plan that executes when the calculation runs in the engine.
    pub physical: String,
    /// When every table the query reads lives in one PostgreSQL database, the statement that
    /// runs there instead of the physical plan, and where (never with a password).
    pub pushed_down: Option<String>,
}

impl fmt::Display for Explain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(pushed) = &self.pushed_down {
            write!(f, "{pushed}\n\n")?;
        }
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

    /// Whether the dialect has `median(x)`.
    fn has_median(self) -> bool {
        matches!(self, SqlDialect::DuckDb)
    }

    /// Whether the dialect has `percentile_cont(p) WITHIN GROUP (ORDER BY x)` as an aggregate.
    fn has_percentiles(self) -> bool {
        matches!(self, SqlDialect::Postgres | SqlDialect::Timescale | SqlDialect::DuckDb)
    }

    /// Whether the dialect has `agg(...) FILTER (WHERE ...)`.
    fn has_aggregate_filters(self) -> bool {
        !matches!(self, SqlDialect::MySql | SqlDialect::BigQuery)
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

/// The first function in the plan that only the engine has: periods of a retail calendar or
/// calendar table (`calendar_period`), or an offset by a calendar span that is not whole
/// periods (`period_before`).
fn engine_only_function(plan: &LogicalPlan) -> Option<&'static str> {
    rewrites::first_call(plan, |e| match e {
        Expr::ScalarFunction(f) => ["calendar_period", "period_before"].into_iter().find(|n| *n == f.func.name()),
        _ => None,
    })
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
            #[cfg(feature = "postgres")]
            pushed_down: planned.pushdown.as_ref().map(crate::postgres::Pushdown::describe),
            #[cfg(not(feature = "postgres"))]
            pushed_down: None,
        })
    }

    /// `query` as one SQL statement for `dialect`, from the plan before optimisation (so it reads
    /// like the formula), over tables named by object model code. The statement is checked to
    /// parse in that dialect. No data needs to be registered; a query with a grain needs a
    /// time range unless data is registered to take the range from.
    pub async fn to_sql(&self, query: &Query, dialect: SqlDialect) -> Result<String, EngineError> {
        let query = self.with_default_range(query).await?;
        self.write_sql(&query, dialect)
    }

    /// [`Engine::to_sql`] of a query whose range is settled.
    pub(crate) fn write_sql(&self, query: &Query, dialect: SqlDialect) -> Result<String, EngineError> {
        let catalog = self.catalog();
        let catalog = catalog.as_ref();
        let plan = kpi_formula::compile(query, catalog)?.to_portable_logical_plan(&ModelSources(catalog))?;
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
        if !dialect.has_percentiles()
            && let Some(name) = rewrites::percentile_function(&plan)
        {
            return Err(unparse_error(format!(
                "`{name}` has no aggregate counterpart in {dialect} (no median or percentile_cont); calculate medians and percentiles in the engine, or export for PostgreSQL or DuckDB"
            )));
        }
        let plan = rewrites::values_as_selects(plan)
            .and_then(rewrites::joins_of_derived_tables)
            .and_then(rewrites::null_safe_joins)
            .and_then(rewrites::filters_over_derived_tables)
            .and_then(rewrites::timestamp_relabels_as_casts)
            .and_then(|p| if dialect.has_aggregate_filters() { Ok(p) } else { rewrites::filters_as_case(p) })
            .and_then(|p| if dialect.has_median() { Ok(p) } else { rewrites::medians_as_percentiles(p) })
            .and_then(|p| if dialect == SqlDialect::Sqlite { rewrites::sqlite_times(p) } else { Ok(p) })
            .and_then(|p| if dialect == SqlDialect::MySql { rewrites::window_defaults_dropped(p) } else { Ok(p) })
            .map_err(|e| unparse_error(e.to_string()))?;
        // The series of periods is a UNION ALL as long as the range has periods, and the
        // unparser, the SQL printer and the parser all recurse through it: give them room.
        let write = || -> Result<String, EngineError> {
            let dialect_impl = dialects::EngineDialect::new(dialect);
            let statement = Unparser::new(&dialect_impl).plan_to_sql(&plan).map_err(|e| unparse_error(e.to_string()))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialect_names_round_trip() {
        for d in SqlDialect::ALL {
            assert_eq!(SqlDialect::parse(d.as_str()).unwrap(), d);
        }
    }
}
