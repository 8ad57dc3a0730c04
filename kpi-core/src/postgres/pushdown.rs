//! Whole KPIs pushed down: when every table a calculation reads is registered from one
//! PostgreSQL database (with no rows appended in memory), the engine's own PostgreSQL SQL for
//! the query runs there as one statement and only the result comes back.
//!
//! The statement reads each object model through a common table expression that views the
//! table as the model (`SELECT CAST("total_amount" AS numeric(18,2)) AS "order_value", ...`),
//! so renames and the model's types hold in the database exactly as they do in the engine.
//! A query the SQL writer refuses (engine-only calendars, offsets) is scanned instead.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion_table_providers_postgres::DynPostgresConnectionPool;
use kpi_catalog::ObjectModel;
use kpi_formula::Query;

use super::{PostgresDsn, PostgresTable};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::sql::SqlDialect;

/// What the engine keeps of a table registered from PostgreSQL, to push calculations down.
pub(crate) struct Remote {
    pub(crate) dsn: PostgresDsn,
    pub(crate) pool: Arc<DynPostgresConnectionPool>,
    /// The object model's rows as a `SELECT` over the table.
    pub(crate) relation: String,
}

impl Remote {
    /// The remote side of `model` read from `table`, whose columns `source(column)` names; `None`
    /// when a column's type has no PostgreSQL counterpart the engine writes.
    pub(crate) fn new(
        dsn: &PostgresDsn,
        pool: Arc<DynPostgresConnectionPool>,
        model: &ObjectModel,
        table: &PostgresTable,
        source: impl Fn(&str) -> String,
    ) -> Option<Remote> {
        let schema = model.schema();
        let columns = schema
            .fields()
            .iter()
            .map(|f| Some(format!("CAST({} AS {}) AS {}", quoted(&source(f.name())), sql_type(f.data_type())?, quoted(f.name()))))
            .collect::<Option<Vec<_>>>()?;
        let from = match &table.schema {
            Some(s) => format!("{}.{}", quoted(s), quoted(&table.name)),
            None => quoted(&table.name),
        };
        Some(Remote { dsn: dsn.clone(), pool, relation: format!("SELECT {} FROM {from}", columns.join(", ")) })
    }
}

/// A calculation to run in PostgreSQL: where, and the statement.
pub(crate) struct Pushdown {
    remote: Arc<Remote>,
    /// The statement, reading every model through its common table expression.
    pub(crate) sql: String,
}

impl Pushdown {
    /// How `explain` names this path.
    pub(crate) fn describe(&self) -> String {
        format!("pushed down to PostgreSQL at {}:\n{}", self.remote.dsn, self.sql)
    }
}

impl Engine {
    /// The pushdown of `query` (its range settled) over `tables` (the models it reads, with the
    /// remote side of each), when they all live in one database and the SQL writer can express it.
    pub(crate) fn pushdown<'a>(&self, query: &Query, tables: impl Iterator<Item = (&'a str, Option<&'a Arc<Remote>>)>) -> Option<Pushdown> {
        if !self.inner.options.pushdown {
            return None;
        }
        let mut ctes = Vec::new();
        let mut first: Option<&Arc<Remote>> = None;
        for (name, remote) in tables {
            let remote = remote?;
            match first {
                Some(f) if f.dsn != remote.dsn => return None,
                Some(_) => {}
                None => first = Some(remote),
            }
            ctes.push(format!("{} AS NOT MATERIALIZED ({})", quoted(name), remote.relation));
        }
        let remote = first?.clone();
        let sql = match self.write_sql(query, SqlDialect::Postgres) {
            Ok(sql) => sql,
            Err(e) => {
                tracing::debug!(error = %e, "scanning PostgreSQL instead of pushing the query down");
                return None;
            }
        };
        // The writer's own common table expressions follow ours in one WITH.
        let sql = match sql.strip_prefix("WITH ") {
            Some(rest) => format!("WITH {}, {rest}", ctes.join(", ")),
            None => format!("WITH {} {sql}", ctes.join(", ")),
        };
        Some(Pushdown { remote, sql })
    }

    /// Runs `pushdown` and returns its rows in `schema` (the plan's), at most `limit` of them.
    pub(crate) async fn run_pushdown(
        &self,
        pushdown: &Pushdown,
        schema: &SchemaRef,
        query: &Query,
    ) -> Result<Vec<RecordBatch>, EngineError> {
        let dsn = &pushdown.remote.dsn;
        let limit = self.inner.options.max_result_rows.unwrap_or(usize::MAX);
        let (mut out, mut rows) = (Vec::new(), 0usize);
        super::for_each_batch(pushdown.remote.pool.as_ref(), dsn, &pushdown.sql, "the pushed-down query failed", |batch| {
            if batch.num_rows() == 0 {
                return Ok(());
            }
            rows = rows.saturating_add(batch.num_rows());
            if rows > limit {
                return Err(EngineError::TooManyRows { what: crate::calculate::describe(query), limit, at_least: None });
            }
            let fitted =
                in_schema(&batch, schema).map_err(|e| dsn.error(format!("the pushed-down query's result does not fit the plan: {e}")))?;
            out.push(fitted);
            Ok(())
        })
        .await?;
        Ok(out)
    }
}

/// `batch` (as PostgreSQL's types came back) in the plan's schema, column by column.
fn in_schema(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, String> {
    if batch.num_columns() != schema.fields().len() {
        return Err(format!("{} columns came back where the plan has {}", batch.num_columns(), schema.fields().len()));
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| cast(c, f.data_type()).map_err(|e| format!("column {}: {e}", f.name())))
        .collect::<Result<Vec<ArrayRef>, String>>()?;
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())
}

/// `name` as a PostgreSQL identifier.
pub(crate) fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The PostgreSQL type of a model column's Arrow type.
fn sql_type(t: &DataType) -> Option<String> {
    Some(match t {
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => "smallint".into(),
        DataType::Int32 | DataType::UInt16 => "integer".into(),
        DataType::Int64 | DataType::UInt32 => "bigint".into(),
        DataType::Float32 => "real".into(),
        DataType::Float64 => "double precision".into(),
        DataType::Decimal128(p, s) => format!("numeric({p},{s})"),
        DataType::Boolean => "boolean".into(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text".into(),
        DataType::Date32 => "date".into(),
        DataType::Timestamp(_, None) => "timestamp".into(),
        DataType::Timestamp(_, Some(_)) => "timestamptz".into(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_types_named() {
        assert_eq!(quoted(r#"a"b"#), r#""a""b""#);
        assert_eq!(sql_type(&DataType::Decimal128(18, 2)).as_deref(), Some("numeric(18,2)"));
        assert_eq!(sql_type(&DataType::Binary), None);
    }
}
