//! PostgreSQL (and TimescaleDB, whose hypertables are PostgreSQL tables) as the data of object
//! models, through datafusion-table-providers' connector: the engine's plans scan the table,
//! and the projections, filters and limits of each scan run in the database as SQL.
//!
//! Connection pools are kept per database, so registering every model of a catalog from one
//! database opens one pool.

mod dsn;
mod feed;
mod pushdown;

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::prelude::col;
use datafusion_table_providers_postgres::pool::PostgresConnectionPool;
use datafusion_table_providers_postgres::{DynPostgresConnectionPool, PostgresTableFactory};

pub use dsn::{DEFAULT_CONNECT_TIMEOUT, PostgresDsn, TlsMode};
pub use feed::{Feed, FeedKey, FeedPosition, FeedStatus, FollowOptions, FollowSettings, KeyPart};
pub(crate) use pushdown::{Pushdown, Remote};

use crate::data::{TableData, conform_provider};
use crate::engine::Engine;
use crate::error::EngineError;

/// A table or view of a PostgreSQL database that holds the rows of one object model, and how
/// its columns are named there.
///
/// ```
/// use kpi_core::PostgresTable;
/// let t = PostgresTable::parse("sales.orders").unwrap().with_column("order_value", "total_amount");
/// assert_eq!((t.schema.as_deref(), t.name.as_str()), (Some("sales"), "orders"));
/// assert_eq!(t.to_string(), "sales.orders");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PostgresTable {
    /// The schema (the server's `search_path` decides when `None`).
    pub schema: Option<String>,
    /// The table or view.
    pub name: String,
    /// Object-model columns read from a column of another name: `(model column, table column)`.
    pub columns: Vec<(String, String)>,
}

impl PostgresTable {
    /// The table `name` (in the search path).
    pub fn new(name: impl Into<String>) -> PostgresTable {
        PostgresTable { schema: None, name: name.into(), columns: Vec::new() }
    }

    /// `schema.name` or `name`, as written in SQL: unquoted parts as they are (PostgreSQL folds
    /// them to lower case, and so does this), double-quoted ones exactly.
    pub fn parse(text: &str) -> Result<PostgresTable, EngineError> {
        let invalid = |why: &str| EngineError::InvalidOption {
            option: "table",
            message: format!("`{text}` is not a table name ({why}); write `name` or `schema.name`"),
        };
        let parts = split_identifiers(text.trim()).ok_or_else(|| invalid("unbalanced quotes"))?;
        match parts.as_slice() {
            [name] if !name.is_empty() => Ok(PostgresTable::new(name.clone())),
            [schema, name] if !schema.is_empty() && !name.is_empty() => {
                Ok(PostgresTable { schema: Some(schema.clone()), name: name.clone(), columns: Vec::new() })
            }
            [] | [_] | [_, _] => Err(invalid("an empty part")),
            _ => Err(invalid("more than two parts")),
        }
    }

    /// Reads the model's `column` from the table's `from`.
    pub fn with_column(mut self, column: impl Into<String>, from: impl Into<String>) -> PostgresTable {
        self.columns.push((column.into(), from.into()));
        self
    }

    fn reference(&self) -> TableReference {
        match &self.schema {
            Some(schema) => TableReference::partial(schema.as_str(), self.name.as_str()),
            None => TableReference::bare(self.name.as_str()),
        }
    }
}

impl std::fmt::Display for PostgresTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// Splits `a.b` into identifiers, folding unquoted ones to lower case; `None` when a quote is
/// left open.
fn split_identifiers(text: &str) -> Option<Vec<String>> {
    let mut parts = vec![String::new()];
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        let part = parts.last_mut()?;
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                part.push('"');
            }
            ('"', q) => quoted = !q,
            ('.', false) => parts.push(String::new()),
            (c, true) => part.push(c),
            (c, false) => part.extend(c.to_lowercase()),
        }
    }
    (!quoted).then_some(parts)
}

/// The connection pools of the databases data was registered from.
#[derive(Default)]
pub(crate) struct Pools(tokio::sync::Mutex<HashMap<PostgresDsn, Arc<PostgresConnectionPool>>>);

impl Pools {
    /// The pool of `dsn`, connecting (within its connect timeout) on first use.
    async fn get(&self, dsn: &PostgresDsn) -> Result<Arc<PostgresConnectionPool>, EngineError> {
        let mut pools = self.0.lock().await;
        if let Some(pool) = pools.get(dsn) {
            return Ok(pool.clone());
        }
        let connect = PostgresConnectionPool::new(dsn.pool_params());
        let pool = match tokio::time::timeout(dsn.connect_timeout, connect).await {
            Ok(Ok(pool)) => Arc::new(pool),
            Ok(Err(e)) => return Err(dsn.error(format!("cannot connect: {}", first_line(&e.to_string())))),
            Err(_) => {
                return Err(dsn.error(format!(
                    "no connection within {} s; check that the server runs and the host and port are right",
                    dsn.connect_timeout.as_secs_f64()
                )));
            }
        };
        pools.insert(dsn.clone(), pool.clone());
        Ok(pool)
    }
}

/// The table column a model column is read from, after `renames` `(model column, table column)`.
pub(crate) fn source_column(renames: &[(String, String)], column: &str) -> String {
    renames.iter().find(|(to, _)| to == column).map_or(column, |(_, from)| from.as_str()).to_string()
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

/// The tables, views and foreign tables of `schema` (or those the search path shows).
async fn relations(
    pool: &PostgresConnectionPool,
    dsn: &PostgresDsn,
    schema: Option<&str>,
) -> Result<std::collections::HashSet<String>, EngineError> {
    use datafusion::arrow::array::{Array, AsArray};
    let which = match schema {
        Some(s) => format!("n.nspname = '{}'", s.replace('\'', "''")),
        None => "pg_catalog.pg_table_is_visible(c.oid)".to_string(),
    };
    let sql = format!(
        "SELECT c.relname::text AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
         WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND {which}"
    );
    let mut names = std::collections::HashSet::new();
    for_each_batch(pool, dsn, &sql, "cannot list the tables", |batch| {
        let Some(column) = batch.columns().first() else { return Ok(()) };
        let text = datafusion::arrow::compute::cast(column, &datafusion::arrow::datatypes::DataType::Utf8)
            .map_err(|e| dsn.error(format!("cannot list the tables: {e}")))?;
        let text = text.as_string::<i32>();
        names.extend((0..text.len()).filter(|&i| text.is_valid(i)).map(|i| text.value(i).to_string()));
        Ok(())
    })
    .await?;
    Ok(names)
}

/// Runs `sql` on a connection of `pool` and hands each batch of its result to `each`; a
/// failure is a data-source error of `dsn` saying `what` failed.
pub(crate) async fn for_each_batch(
    pool: &DynPostgresConnectionPool,
    dsn: &PostgresDsn,
    sql: &str,
    what: &str,
    mut each: impl FnMut(RecordBatch) -> Result<(), EngineError>,
) -> Result<(), EngineError> {
    use futures::StreamExt;
    let failed = |e: &dyn std::error::Error| dsn.error(format!("{what}: {}", causes(e)));
    let connection = connect(pool, dsn, what).await?;
    let Some(connection) = connection.as_async() else {
        return Err(EngineError::Internal("the PostgreSQL connection is not asynchronous".into()));
    };
    let mut stream = connection.query_arrow(sql, &[], None).await.map_err(|e| failed(e.as_ref()))?;
    while let Some(batch) = stream.next().await {
        each(batch.map_err(|e| failed(&e))?)?;
    }
    Ok(())
}

/// A connection of `pool`. The pool waits 30 s for a connection to a server that went away;
/// the connection string's connect timeout bounds it instead.
pub(crate) async fn connect(
    pool: &DynPostgresConnectionPool,
    dsn: &PostgresDsn,
    what: &str,
) -> Result<Box<datafusion_table_providers_postgres::DynPostgresConnection>, EngineError> {
    match tokio::time::timeout(dsn.connect_timeout, pool.connect()).await {
        Ok(connection) => connection.map_err(|e| dsn.error(format!("{what}: {}", causes(e.as_ref())))),
        Err(_) => Err(dsn.error(format!("{what}: no connection within {} s", dsn.connect_timeout.as_secs_f64()))),
    }
}

/// An error and its causes on one line (the connector's outer messages say little: "Query
/// execution failed"; the server's reason is a cause).
fn causes(e: &dyn std::error::Error) -> String {
    let mut parts = vec![first_line(&e.to_string()).to_string()];
    let mut next = e.source();
    while let Some(cause) = next {
        let text = first_line(&cause.to_string()).to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = cause.source();
    }
    parts.join(": ")
}

impl Engine {
    /// Registers a PostgreSQL table or view as the data of `object_model`.
    ///
    /// The table's columns are found by the model's column names, after the renames of
    /// `table.columns` and of the client's field mappings ([`Engine::for_client`]); numeric,
    /// text, date and timestamp types are cast to the declared ones like registered batches'.
    /// Calculations scan the table on every run (so they see rows inserted since), each scan
    /// one `SELECT` of the columns it needs with the filters PostgreSQL can evaluate.
    ///
    /// An unreachable server, a refused login or a missing table is a
    /// [`EngineError::Source`] naming the host and database (never the password), within the
    /// connection string's `connect_timeout` (10 s when not given).
    pub async fn register_postgres(&self, object_model: &str, dsn: &PostgresDsn, table: &PostgresTable) -> Result<(), EngineError> {
        let model = &self.model(object_model)?;
        let (provider, pool, renames) = self.postgres_provider(object_model, dsn, table).await?;
        let source = |column: &str| source_column(&renames, column);
        let mut data = TableData::provider(provider, 0);
        data.remote = Remote::new(dsn, pool, model, table, source).map(Arc::new);
        self.install(object_model, data, 0, crate::lifecycle::Record::Provider { model: object_model.to_string() })
    }

    /// The table as a provider of the object model's columns and types, with the database's
    /// pool and the renames applied `(model column, table column)`.
    pub(crate) async fn postgres_provider(
        &self,
        object_model: &str,
        dsn: &PostgresDsn,
        table: &PostgresTable,
    ) -> Result<(Arc<dyn TableProvider>, Arc<PostgresConnectionPool>, Vec<(String, String)>), EngineError> {
        let model = &self.model(object_model)?;
        let pool = self.inner.postgres.get(dsn).await?;
        let factory = PostgresTableFactory::new(pool.clone());
        let lookup = tokio::time::timeout(dsn.connect_timeout, factory.table_provider(table.reference()));
        let found = match lookup.await {
            Ok(Ok(provider)) => provider,
            Ok(Err(e)) => {
                let why = first_line(&e.to_string()).to_string();
                return Err(dsn.error(format!("cannot read table `{table}`: {why}")));
            }
            Err(_) => return Err(dsn.error(format!("table `{table}` was not described within {} s", dsn.connect_timeout.as_secs_f64()))),
        };
        let renames = self.renames(object_model, table, &found.schema());
        let renamed = self.renamed(found, &renames)?;
        let provider = conform_provider(&self.inner.ctx, model, renamed)?;
        Ok((provider, pool, renames))
    }

    /// Registers every object model of the catalog that has a table or view of its own name
    /// in `schema` of the database (those the search path shows when `None`); returns the
    /// models registered, in the catalog's order.
    pub async fn register_postgres_models(&self, dsn: &PostgresDsn, schema: Option<&str>) -> Result<Vec<String>, EngineError> {
        let pool = self.inner.postgres.get(dsn).await?;
        let present = relations(&pool, dsn, schema).await?;
        let mut registered = Vec::new();
        let models: Vec<String> = self.catalog().object_models().map(|m| m.code.clone()).filter(|m| present.contains(m)).collect();
        for model in models {
            let table = PostgresTable { schema: schema.map(str::to_string), name: model.clone(), columns: Vec::new() };
            self.register_postgres(&model, dsn, &table).await?;
            registered.push(model);
        }
        Ok(registered)
    }

    /// Which table columns stand for model columns of other names, `(model column, table
    /// column)`: `table.columns`, then the client's field mappings (the same rule as for batches:
    /// a mapping's field, or its last dotted segment, names the table column). Only renames of a
    /// column the table has to one it lacks count.
    fn renames(&self, object_model: &str, table: &PostgresTable, schema: &SchemaRef) -> Vec<(String, String)> {
        let mut renames: Vec<(String, String)> = table.columns.clone();
        if let Some(client) = self.client() {
            for m in client.field_mappings.iter().filter(|m| m.object_model == object_model) {
                let short = m.field.rsplit('.').next().unwrap_or(&m.field);
                renames.push((m.column.clone(), short.to_string()));
            }
        }
        let has = |name: &str| schema.fields().iter().any(|f| f.name() == name);
        renames.retain(|(to, from)| !has(to) && has(from));
        renames
    }

    /// `provider` with its columns renamed by `renames`; unchanged when there are none.
    fn renamed(&self, provider: Arc<dyn TableProvider>, renames: &[(String, String)]) -> Result<Arc<dyn TableProvider>, EngineError> {
        if renames.is_empty() {
            return Ok(provider);
        }
        let schema = provider.schema();
        let exprs = schema.fields().iter().map(|f| {
            let column = col(datafusion::common::Column::new_unqualified(f.name()));
            match renames.iter().find(|(_, from)| from == f.name()) {
                Some((to, _)) => column.alias(to),
                None => column,
            }
        });
        let frame = self.inner.ctx.read_table(provider).and_then(|f| f.select(exprs)).map_err(EngineError::Execution)?;
        Ok(frame.into_view())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_fold_like_postgresql() {
        assert_eq!(PostgresTable::parse("Sales.Orders").unwrap().reference(), TableReference::partial("sales", "orders"));
        let quoted = PostgresTable::parse(r#""Sales"."Order ""Lines""""#).unwrap();
        assert_eq!((quoted.schema.as_deref(), quoted.name.as_str()), (Some("Sales"), r#"Order "Lines""#));
        for bad in ["", "a.", "a.b.c", "\"open"] {
            assert!(PostgresTable::parse(bad).is_err(), "{bad}");
        }
    }
}
