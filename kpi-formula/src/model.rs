//! The semantic model a formula is resolved against: tables (object models) with Arrow schemas,
//! time columns, keys and relationships, and other KPIs by code.
//!
//! The catalog crate implements [`SemanticModel`] for its object models; [`InMemoryModel`] is a
//! small ready-made implementation for tests, examples and embedding.

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::{DataType, Schema, SchemaRef};

/// How many rows on each side of a relationship match one row on the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cardinality {
    /// Many rows here match at most one row there (e.g. order → customer). Navigable.
    ManyToOne,
    /// One row here matches at most one row there. Navigable.
    OneToOne,
    /// One row here matches many rows there. Navigating it would multiply rows.
    OneToMany,
    /// Many match many. Navigating it would multiply rows.
    ManyToMany,
}

impl Cardinality {
    /// Whether following the relationship keeps one row per source row.
    pub fn is_navigable(self) -> bool {
        matches!(self, Cardinality::ManyToOne | Cardinality::OneToOne)
    }

    /// The name used in catalogs, e.g. `many_to_one`.
    pub fn as_str(self) -> &'static str {
        match self {
            Cardinality::ManyToOne => "many_to_one",
            Cardinality::OneToOne => "one_to_one",
            Cardinality::OneToMany => "one_to_many",
            Cardinality::ManyToMany => "many_to_many",
        }
    }
}

/// A named link from one table to another on equal key columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relationship {
    /// The name used in paths, e.g. `customer` in `orders.customer.segment`.
    pub name: String,
    /// The target table.
    pub to: String,
    /// Pairs of (column here, column there) that must be equal.
    pub on: Vec<(String, String)>,
    /// Rows matched on each side.
    pub cardinality: Cardinality,
}

impl Relationship {
    /// A many-to-one relationship `name` to table `to` joined on `on` column pairs.
    pub fn many_to_one<S: Into<String>>(name: impl Into<String>, to: impl Into<String>, on: impl IntoIterator<Item = (S, S)>) -> Self {
        Relationship {
            name: name.into(),
            to: to.into(),
            on: on.into_iter().map(|(a, b)| (a.into(), b.into())).collect(),
            cardinality: Cardinality::ManyToOne,
        }
    }

    /// The same relationship with another cardinality.
    pub fn with_cardinality(mut self, cardinality: Cardinality) -> Self {
        self.cardinality = cardinality;
        self
    }
}

/// One table (object model) as the formula language sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct TableModel {
    /// The table's name, used as the first part of paths.
    pub name: String,
    /// Arrow schema of the data.
    pub schema: SchemaRef,
    /// The column that places rows in time; tables without one are "static" (see the crate docs).
    pub time_column: Option<String>,
    /// Columns that identify a row; relationships must target them.
    pub primary_key: Vec<String>,
    /// Relationships starting at this table.
    pub relationships: Vec<Relationship>,
}

impl TableModel {
    /// A table with a schema, no time column, key or relationships yet.
    pub fn new(name: impl Into<String>, schema: impl Into<SchemaRef>) -> Self {
        TableModel { name: name.into(), schema: schema.into(), time_column: None, primary_key: Vec::new(), relationships: Vec::new() }
    }

    /// Sets the time column.
    pub fn with_time_column(mut self, column: impl Into<String>) -> Self {
        self.time_column = Some(column.into());
        self
    }

    /// Sets the primary key.
    pub fn with_primary_key<S: Into<String>>(mut self, columns: impl IntoIterator<Item = S>) -> Self {
        self.primary_key = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Adds a relationship.
    pub fn with_relationship(mut self, relationship: Relationship) -> Self {
        self.relationships.push(relationship);
        self
    }

    /// The type of a column, if it exists.
    pub fn column_type(&self, column: &str) -> Option<&DataType> {
        self.schema.field_with_name(column).ok().map(|f| f.data_type())
    }

    /// A relationship by name.
    pub fn relationship(&self, name: &str) -> Option<&Relationship> {
        self.relationships.iter().find(|r| r.name == name)
    }

    /// Column names in schema order.
    pub fn column_names(&self) -> impl Iterator<Item = &str> {
        self.schema.fields().iter().map(|f| f.name().as_str())
    }
}

/// What a formula can refer to.
pub trait SemanticModel: Send + Sync {
    /// A table by name.
    fn table(&self, name: &str) -> Option<&TableModel>;
    /// All table names (for suggestions and relationship search).
    fn table_names(&self) -> Vec<&str>;
    /// The formula text of a KPI by code.
    fn kpi_formula(&self, code: &str) -> Option<&str>;
    /// All KPI codes (for suggestions).
    fn kpi_codes(&self) -> Vec<&str>;
}

/// A [`SemanticModel`] held in memory.
///
/// ```
/// use std::sync::Arc;
/// use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
/// use kpi_formula::{InMemoryModel, TableModel};
///
/// let orders = Schema::new(vec![
///     Field::new("order_id", DataType::Int64, false),
///     Field::new("ordered_at", DataType::Timestamp(TimeUnit::Microsecond, None), false),
///     Field::new("order_value", DataType::Float64, true),
/// ]);
/// let model = InMemoryModel::new()
///     .with_table(TableModel::new("orders", Arc::new(orders)).with_time_column("ordered_at").with_primary_key(["order_id"]))
///     .with_kpi("revenue", "sum(orders.order_value)");
/// assert!(kpi_formula::check_formula("revenue / count(orders)", &model).is_ok());
/// ```
#[derive(Clone, Debug, Default)]
pub struct InMemoryModel {
    tables: BTreeMap<String, TableModel>,
    kpis: BTreeMap<String, String>,
}

impl InMemoryModel {
    /// An empty model.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a table.
    pub fn with_table(mut self, table: TableModel) -> Self {
        self.add_table(table);
        self
    }

    /// Adds (or replaces) a KPI formula.
    pub fn with_kpi(mut self, code: impl Into<String>, formula: impl Into<String>) -> Self {
        self.add_kpi(code, formula);
        self
    }

    /// Adds (or replaces) a table in place.
    pub fn add_table(&mut self, table: TableModel) {
        self.tables.insert(table.name.clone(), table);
    }

    /// Adds (or replaces) a KPI formula in place.
    pub fn add_kpi(&mut self, code: impl Into<String>, formula: impl Into<String>) {
        self.kpis.insert(code.into(), formula.into());
    }

    /// A table's schema, if the table exists.
    pub fn schema(&self, table: &str) -> Option<&Schema> {
        self.tables.get(table).map(|t| t.schema.as_ref())
    }
}

impl SemanticModel for InMemoryModel {
    fn table(&self, name: &str) -> Option<&TableModel> {
        self.tables.get(name)
    }
    fn table_names(&self) -> Vec<&str> {
        self.tables.keys().map(String::as_str).collect()
    }
    fn kpi_formula(&self, code: &str) -> Option<&str> {
        self.kpis.get(code).map(String::as_str)
    }
    fn kpi_codes(&self) -> Vec<&str> {
        self.kpis.keys().map(String::as_str).collect()
    }
}
