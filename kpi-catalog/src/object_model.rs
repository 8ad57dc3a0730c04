//! Object models: the tables KPIs are calculated over, their columns, keys and relationships.

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema, SchemaRef};
use kpi_formula::{Cardinality, Relationship, TableModel};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::column_type::ColumnType;
use crate::demo::{ColumnDemo, ModelDemo};

/// An object model (a table), e.g. `orders`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectModel {
    /// Stable code, the table name in formulas, e.g. `orders`.
    pub code: String,
    /// Display name, e.g. `Order`.
    pub name: String,
    /// What a row is.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The column periods are bucketed by; absent for static tables (e.g. products).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_column: Option<String>,
    /// The columns that identify a row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub primary_key: Vec<String>,
    /// The columns, in order.
    pub columns: Vec<ColumnDef>,
    /// Links to other object models.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relationships: Vec<RelationshipDef>,
    /// Free-form tags (e.g. the domain), searched and shown in the catalog browser.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// How demo data sizes this table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demo: Option<ModelDemo>,
}

impl ObjectModel {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&ColumnDef> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The relationship named `name`.
    pub fn relationship(&self, name: &str) -> Option<&RelationshipDef> {
        self.relationships.iter().find(|r| r.name == name)
    }

    /// The Arrow schema data registered for this object model must have.
    pub fn schema(&self) -> SchemaRef {
        let fields: Vec<Field> = self.columns.iter().map(|c| Field::new(&c.name, c.data_type.to_arrow(), c.nullable)).collect();
        Arc::new(Schema::new(fields))
    }

    /// The table as the formula language sees it.
    pub fn table_model(&self) -> TableModel {
        let mut table = TableModel::new(&self.code, self.schema()).with_primary_key(self.primary_key.iter().cloned());
        if let Some(t) = &self.time_column {
            table = table.with_time_column(t);
        }
        for r in &self.relationships {
            table = table.with_relationship(
                Relationship::many_to_one(&r.name, &r.to, r.on.iter().map(|k| (k.from.clone(), k.to.clone())))
                    .with_cardinality(r.cardinality),
            );
        }
        table
    }
}

/// One column of an object model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnDef {
    /// Column name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub data_type: ColumnType,
    /// Whether it may hold nulls (default true).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub nullable: bool,
    /// What it holds.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// How demo data fills it; by default from its type and relationships.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demo: Option<ColumnDemo>,
}

impl ColumnDef {
    /// A nullable column without description or demo hint.
    pub fn new(name: impl Into<String>, data_type: ColumnType) -> Self {
        ColumnDef { name: name.into(), data_type, nullable: true, description: String::new(), demo: None }
    }
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

/// A named link from one object model to another, e.g. `orders.customer` → `customers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RelationshipDef {
    /// The name used in paths (`orders.customer.segment`).
    pub name: String,
    /// The target object model's code.
    pub to: String,
    /// Key pairs, written `{ customer_id: customer_id }` (column here: column there).
    pub on: KeyPairs,
    /// Rows matched on each side (default many-to-one).
    #[serde(default = "many_to_one", with = "cardinality_name")]
    pub cardinality: Cardinality,
}

fn many_to_one() -> Cardinality {
    Cardinality::ManyToOne
}

/// One equality of a relationship: `from` (a column of the source) equals `to` (of the target).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPair {
    /// Column of the source object model.
    pub from: String,
    /// Column of the target object model.
    pub to: String,
}

/// The key pairs of a relationship, written as a map in catalogs (order kept).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyPairs(pub Vec<KeyPair>);

impl KeyPairs {
    /// Iterates over the pairs.
    pub fn iter(&self) -> std::slice::Iter<'_, KeyPair> {
        self.0.iter()
    }
}

impl<'a> IntoIterator for &'a KeyPairs {
    type Item = &'a KeyPair;
    type IntoIter = std::slice::Iter<'a, KeyPair>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl Serialize for KeyPairs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for k in &self.0 {
            map.serialize_entry(&k.from, &k.to)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for KeyPairs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> serde::de::Visitor<'de> for Pairs {
            type Value = KeyPairs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of key columns, e.g. { customer_id: customer_id }")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<KeyPairs, A::Error> {
                let mut pairs = Vec::new();
                while let Some((from, to)) = map.next_entry::<String, String>()? {
                    pairs.push(KeyPair { from, to });
                }
                Ok(KeyPairs(pairs))
            }
        }
        d.deserialize_map(Pairs)
    }
}

/// Serde for a cardinality written by name (`many_to_one`).
mod cardinality_name {
    use kpi_formula::Cardinality;
    use serde::{Deserialize, Deserializer, Serializer};

    const ALL: [Cardinality; 4] = [Cardinality::ManyToOne, Cardinality::OneToOne, Cardinality::OneToMany, Cardinality::ManyToMany];

    pub fn serialize<S: Serializer>(c: &Cardinality, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(c.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Cardinality, D::Error> {
        let name = String::deserialize(d)?;
        ALL.into_iter().find(|c| c.as_str() == name).ok_or_else(|| {
            serde::de::Error::custom(format!("unknown cardinality `{name}`; expected many_to_one, one_to_one, one_to_many or many_to_many"))
        })
    }
}
