//! KPI definitions: what a KPI measures, how it is calculated, and how its values are judged.

use std::fmt;

use kpi_formula::Grain;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A KPI: a named formula with presentation and judgement metadata.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KpiDefinition {
    /// Stable code, also the name other formulas use to reference it, e.g. `perfect_order_rate`.
    pub code: String,
    /// Display name.
    pub name: String,
    /// What the KPI means and how to read it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The formula, in the language of [`kpi_formula`].
    pub formula: String,
    /// The unit of its values.
    #[serde(default, skip_serializing_if = "Unit::is_number")]
    pub unit: Unit,
    /// Whether higher or lower values are better; decides the status from thresholds.
    #[serde(default)]
    pub direction: Direction,
    /// Values at which the status becomes warning or critical.
    #[serde(default, skip_serializing_if = "Thresholds::is_empty")]
    pub thresholds: Thresholds,
    /// The grain the KPI is usually shown at.
    #[serde(default, with = "grain_name", skip_serializing_if = "Option::is_none")]
    pub default_grain: Option<Grain>,
    /// Dimension paths the KPI can be broken down by, e.g. `orders.customer.segment`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dimensions: Vec<String>,
    /// The code of the module it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// The code of its value chain; when absent it is the module's value chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_chain: Option<String>,
    /// Free-form tags, searched by [`crate::Catalog::search`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Implementation complexity, which pricing uses.
    #[serde(default)]
    pub complexity: Complexity,
    /// For KPIs imported from SQL: the original statement the formula was translated from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// A cron expression (five fields) for scheduled calculation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
}

impl KpiDefinition {
    /// A KPI with a code, a name and a formula; everything else at its default.
    pub fn new(code: impl Into<String>, name: impl Into<String>, formula: impl Into<String>) -> Self {
        KpiDefinition { code: code.into(), name: name.into(), formula: formula.into(), ..Default::default() }
    }
}

/// Whether higher or lower values of a KPI are better.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// More is better (revenue, on-time rate).
    #[default]
    HigherIsBetter,
    /// Less is better (cycle time, churn, cost).
    LowerIsBetter,
    /// Neither; thresholds are not judged.
    Neutral,
}

/// Values at which a KPI's status becomes warning or critical.
///
/// For [`Direction::HigherIsBetter`] a value at or below `warning` is a warning and at or below
/// `critical` is critical (so `critical <= warning`); for [`Direction::LowerIsBetter`] it is the
/// other way round.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// The warning level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<f64>,
    /// The critical level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<f64>,
    /// The value aimed at, for display.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
}

impl Thresholds {
    /// Whether no level is set.
    pub fn is_empty(&self) -> bool {
        self.warning.is_none() && self.critical.is_none() && self.target.is_none()
    }
}

/// How much work implementing a KPI for a client takes (priced by `kpi-pricing`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Complexity {
    /// Out of the box: the standard definition as is.
    #[default]
    Otb,
    /// A custom formula or mapping.
    CustomBasic,
    /// With role-based access control on its data.
    Rbac,
    /// With row-level access that depends on the user at query time.
    DynamicRbac,
}

impl Complexity {
    /// The name used in catalogs, e.g. `custom_basic`.
    pub fn as_str(self) -> &'static str {
        match self {
            Complexity::Otb => "otb",
            Complexity::CustomBasic => "custom_basic",
            Complexity::Rbac => "rbac",
            Complexity::DynamicRbac => "dynamic_rbac",
        }
    }
}

/// The unit of a KPI's values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Unit {
    /// A plain number.
    #[default]
    Number,
    /// A count of things.
    Count,
    /// A fraction where 1.0 is 100 %.
    Ratio,
    /// A percentage where 100.0 is 100 %.
    Percent,
    /// Money, in the client's currency.
    Currency,
    /// Days.
    Days,
    /// Hours.
    Hours,
    /// Minutes.
    Minutes,
    /// A score on a scale (e.g. CSAT 1–5).
    Score,
    /// Any other unit, by name (e.g. `GB`).
    Other(String),
}

impl Unit {
    /// The name used in catalogs, e.g. `ratio`.
    pub fn as_str(&self) -> &str {
        match self {
            Unit::Number => "number",
            Unit::Count => "count",
            Unit::Ratio => "ratio",
            Unit::Percent => "percent",
            Unit::Currency => "currency",
            Unit::Days => "days",
            Unit::Hours => "hours",
            Unit::Minutes => "minutes",
            Unit::Score => "score",
            Unit::Other(name) => name,
        }
    }

    /// The unit for a name; names that are not built in become [`Unit::Other`].
    pub fn from_name(name: &str) -> Unit {
        match name {
            "number" => Unit::Number,
            "count" => Unit::Count,
            "ratio" => Unit::Ratio,
            "percent" | "%" => Unit::Percent,
            "currency" => Unit::Currency,
            "days" => Unit::Days,
            "hours" => Unit::Hours,
            "minutes" => Unit::Minutes,
            "score" => Unit::Score,
            other => Unit::Other(other.to_string()),
        }
    }

    fn is_number(&self) -> bool {
        *self == Unit::Number
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Unit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Unit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Unit::from_name(&String::deserialize(d)?))
    }
}

/// Serde for an optional grain written by name (`month`).
pub(crate) mod grain_name {
    use kpi_formula::Grain;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(grain: &Option<Grain>, s: S) -> Result<S::Ok, S::Error> {
        match grain {
            Some(g) => s.serialize_str(g.as_str()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Grain>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(name) => Grain::parse(&name).map(Some).map_err(serde::de::Error::custom),
        }
    }
}
