//! The shapes of dbt's semantic layer files: `semantic_models` and `metrics` as written in a
//! project's YAML, and as dbt writes them to `semantic_manifest.json` (where inputs are objects,
//! filters are `{where_filters: [...]}` and windows `{count, granularity}`). Other keys of the
//! files (models, sources, saved queries) are ignored.

use std::collections::BTreeMap;

use serde::Deserialize;

/// One file: its semantic models and metrics.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct DbtFile {
    #[serde(default)]
    pub semantic_models: Vec<SemanticModel>,
    #[serde(default)]
    pub metrics: Vec<Metric>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SemanticModel {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub defaults: Option<Defaults>,
    #[serde(default)]
    pub entities: Vec<Element>,
    #[serde(default)]
    pub dimensions: Vec<Element>,
    #[serde(default)]
    pub measures: Vec<Measure>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Defaults {
    #[serde(default)]
    pub agg_time_dimension: Option<String>,
}

/// The type override an element may carry: `meta: {type: string}` (directly or under `config`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Config {
    #[serde(default)]
    pub meta: BTreeMap<String, serde_json::Value>,
}

/// An entity or a dimension: a named column (or expression) of a kind.
#[derive(Debug, Deserialize)]
pub(crate) struct Element {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub expr: Option<String>,
    #[serde(default)]
    pub meta: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub config: Option<Config>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Measure {
    pub name: String,
    pub agg: String,
    #[serde(default)]
    pub expr: Option<Scalar>,
    #[serde(default)]
    pub agg_params: Option<AggParams>,
    #[serde(default)]
    pub agg_time_dimension: Option<String>,
    #[serde(default)]
    pub non_additive_dimension: Option<NonAdditive>,
    #[serde(default)]
    pub meta: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub config: Option<Config>,
}

/// A YAML scalar that may be written as a number (`expr: 1`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Scalar {
    Text(String),
    Number(f64),
    Flag(bool),
}

impl Scalar {
    pub fn text(&self) -> String {
        match self {
            Scalar::Text(s) => s.trim().to_string(),
            Scalar::Number(n) if n.fract() == 0.0 => format!("{}", *n as i64),
            Scalar::Number(n) => n.to_string(),
            Scalar::Flag(b) => b.to_string(),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct AggParams {
    #[serde(default)]
    pub percentile: Option<f64>,
    #[serde(default)]
    pub use_discrete_percentile: bool,
    #[serde(default)]
    pub use_approximate_percentile: bool,
}

#[derive(Debug, Deserialize)]
pub(crate) struct NonAdditive {
    pub name: String,
    #[serde(default)]
    pub window_choice: Option<String>,
    #[serde(default)]
    pub window_groupings: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Metric {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub filter: Option<Filter>,
    #[serde(default)]
    pub type_params: TypeParams,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TypeParams {
    #[serde(default)]
    pub measure: Option<Input>,
    #[serde(default)]
    pub numerator: Option<Input>,
    #[serde(default)]
    pub denominator: Option<Input>,
    #[serde(default)]
    pub expr: Option<Scalar>,
    #[serde(default)]
    pub metrics: Vec<Input>,
    #[serde(default)]
    pub window: Option<Span>,
    #[serde(default)]
    pub grain_to_date: Option<String>,
    #[serde(default)]
    pub cumulative_type_params: Option<Cumulative>,
    #[serde(default)]
    pub conversion_type_params: Option<ConversionParams>,
}

/// A conversion metric's parameters.
#[derive(Debug, Deserialize)]
pub(crate) struct ConversionParams {
    pub base_measure: Input,
    pub conversion_measure: Input,
    pub entity: String,
    /// `conversion_rate` (dbt's default) or `conversions`.
    #[serde(default)]
    pub calculation: Option<String>,
    #[serde(default)]
    pub window: Option<Span>,
    /// Null in manifests without any.
    #[serde(default)]
    pub constant_properties: Option<Vec<ConstantProperty>>,
}

/// A property (dimension or entity) that must be equal on the base and conversion events.
#[derive(Debug, Deserialize)]
pub(crate) struct ConstantProperty {
    pub base_property: String,
    pub conversion_property: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Cumulative {
    #[serde(default)]
    pub window: Option<Span>,
    #[serde(default)]
    pub grain_to_date: Option<String>,
    #[serde(default)]
    pub period_agg: Option<String>,
}

/// A measure or metric input: a name, or `{name, filter, alias, offset_window, ...}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Input {
    Name(String),
    Full(InputFields),
}

#[derive(Debug, Deserialize)]
pub(crate) struct InputFields {
    pub name: String,
    #[serde(default)]
    pub filter: Option<Filter>,
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default)]
    pub offset_window: Option<Span>,
    #[serde(default)]
    pub offset_to_grain: Option<String>,
    #[serde(default)]
    pub fill_nulls_with: Option<f64>,
    #[serde(default)]
    pub join_to_timespine: bool,
}

impl Input {
    pub fn fields(&self) -> InputFields {
        match self {
            Input::Name(name) => InputFields {
                name: name.clone(),
                filter: None,
                alias: None,
                offset_window: None,
                offset_to_grain: None,
                fill_nulls_with: None,
                join_to_timespine: false,
            },
            Input::Full(f) => InputFields {
                name: f.name.clone(),
                filter: f.filter.clone(),
                alias: f.alias.clone(),
                offset_window: f.offset_window.clone(),
                offset_to_grain: f.offset_to_grain.clone(),
                fill_nulls_with: f.fill_nulls_with,
                join_to_timespine: f.join_to_timespine,
            },
        }
    }
}

/// A filter: one SQL template, a list of them (all must hold), or the manifest's form.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Filter {
    One(String),
    All(Vec<String>),
    Manifest { where_filters: Vec<WhereFilter> },
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct WhereFilter {
    pub where_sql_template: String,
}

impl Filter {
    pub fn templates(&self) -> Vec<String> {
        match self {
            Filter::One(s) => vec![s.clone()],
            Filter::All(v) => v.clone(),
            Filter::Manifest { where_filters } => where_filters.iter().map(|w| w.where_sql_template.clone()).collect(),
        }
    }
}

/// A window: `"7 days"`, or the manifest's `{count, granularity}`.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Span {
    Text(String),
    Parts { count: u32, granularity: String },
}

impl Span {
    /// The window in the formula language's `'<count> <unit>s'`.
    pub fn text(&self) -> String {
        match self {
            Span::Text(s) => s.trim().to_string(),
            Span::Parts { count, granularity } => format!("{count} {}{}", granularity.to_lowercase(), if *count == 1 { "" } else { "s" }),
        }
    }
}

/// The `type` an element's `meta` (or `config.meta`) names.
pub(crate) fn meta_type<'a>(meta: &'a BTreeMap<String, serde_json::Value>, config: &'a Option<Config>) -> Option<&'a str> {
    meta.get("type").or_else(|| config.as_ref().and_then(|c| c.meta.get("type"))).and_then(|v| v.as_str())
}
