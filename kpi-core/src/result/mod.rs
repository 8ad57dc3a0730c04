//! A calculated KPI: Arrow batches, typed rows, series per dimension group with status and
//! trend, and JSON.

mod compare;
mod status;
mod value;

use std::time::Duration;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, SchemaRef, TimestampMicrosecondType};
use kpi_catalog::{Direction, Thresholds, Unit};
use kpi_formula::{Query, Target, TimeRange};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::cache::CacheOutcome;

pub use compare::{Comparison, ComparisonRow};
pub use status::{STABLE_BAND_PCT, Status, Trend, TrendDirection};
pub use value::DimensionValue;

/// How long a calculation took, by stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Timing {
    /// Waiting for a slot of the value chain's lane.
    #[serde(serialize_with = "millis")]
    pub queued: Duration,
    /// Compiling the formula, lowering, optimising and physical planning.
    #[serde(serialize_with = "millis")]
    pub planning: Duration,
    /// Executing the physical plan.
    #[serde(serialize_with = "millis")]
    pub execution: Duration,
    /// Everything, from the call to the result.
    #[serde(serialize_with = "millis")]
    pub total: Duration,
}

/// An instant as JSON: RFC 3339 in UTC (`2024-01-01T00:00:00Z`), or null.
pub(crate) fn instant<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.collect_str(&rfc3339(*t)),
        None => s.serialize_none(),
    }
}

/// An instant as JSON: RFC 3339 in UTC.
pub(crate) fn instant_required<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&rfc3339(*t))
}

/// RFC 3339 in UTC with a `Z`, without fractional seconds when there are none.
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

/// What the catalog says about the KPI a result is of (defaults for ad-hoc formulas).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KpiInfo {
    /// The KPI code, `None` for an ad-hoc formula.
    pub code: Option<String>,
    /// The display name.
    pub name: Option<String>,
    /// The unit.
    pub unit: Unit,
    /// Which way is better.
    pub direction: Direction,
    /// Warning and critical levels.
    pub thresholds: Thresholds,
}

/// One row of a result.
#[derive(Clone, Debug, PartialEq)]
pub struct ResultRow {
    /// The period's start, when the query has a grain.
    pub period: Option<DateTime<Utc>>,
    /// The dimension values, in the query's order.
    pub dimensions: Vec<DimensionValue>,
    /// The value; `None` where it is undefined (no rows for an average, a division by zero).
    pub value: Option<f64>,
}

/// The values of one dimension group over the periods.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The group's dimension values (empty without dimensions).
    pub dimensions: Vec<DimensionValue>,
    /// `(period start, value)` in time order; one point without a grain.
    pub points: Vec<(Option<DateTime<Utc>>, Option<f64>)>,
}

/// The latest value of a series and what it means.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// The latest period's start.
    #[serde(serialize_with = "instant")]
    pub period: Option<DateTime<Utc>>,
    /// The latest value.
    pub value: Option<f64>,
    /// The value of the period before.
    pub previous: Option<f64>,
    /// The latest value against the thresholds.
    pub status: Status,
    /// The latest value against the previous one.
    pub trend: Trend,
}

/// The result of one calculation.
#[derive(Clone, Debug)]
pub struct KpiResult {
    pub(crate) info: KpiInfo,
    pub(crate) query: Query,
    pub(crate) range: Option<TimeRange>,
    pub(crate) schema: SchemaRef,
    pub(crate) batches: Vec<RecordBatch>,
    pub(crate) timing: Timing,
    pub(crate) cache: CacheOutcome,
}

impl KpiResult {
    /// The values a streaming view maintains, in a calculation's shape.
    pub(crate) fn maintained(
        info: KpiInfo,
        query: Query,
        range: Option<TimeRange>,
        schema: SchemaRef,
        batches: Vec<RecordBatch>,
    ) -> KpiResult {
        KpiResult { info, query, range, schema, batches, timing: Timing::default(), cache: CacheOutcome::Full }
    }

    /// The KPI's catalog information.
    pub fn info(&self) -> &KpiInfo {
        &self.info
    }

    /// The query as asked.
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// The time range covered (the query's, widened to whole periods, or the data's bounds when
    /// the query gave none).
    pub fn range(&self) -> Option<TimeRange> {
        self.range
    }

    /// The schema: `period` (with a grain), one column per dimension named by its path as
    /// written, `value` (`Float64`).
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The Arrow record batches.
    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    /// Bytes of Arrow memory the result's batches hold.
    pub fn memory_size(&self) -> usize {
        self.batches.iter().map(RecordBatch::get_array_memory_size).sum()
    }

    /// The Arrow record batches, owned.
    pub fn into_batches(self) -> Vec<RecordBatch> {
        self.batches
    }

    /// The number of rows.
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// How long it took.
    pub fn timing(&self) -> Timing {
        self.timing
    }

    /// Whether the result came from the cache or from an identical calculation in flight that
    /// this one joined (its timing is then the original calculation's, except `total`).
    pub fn from_cache(&self) -> bool {
        matches!(self.cache, CacheOutcome::Hit | CacheOutcome::Shared)
    }

    /// The path the result took through the cache: calculated in full, a hit, shared with an
    /// identical calculation in flight, or a cached result patched after appends.
    pub fn cache_outcome(&self) -> CacheOutcome {
        self.cache
    }

    /// The dimension labels, in order.
    pub fn dimension_labels(&self) -> &[String] {
        &self.query.dimensions
    }

    /// Every row, in the result's order (by period, then dimensions).
    pub fn rows(&self) -> Vec<ResultRow> {
        let has_period = self.query.grain.is_some();
        let dims = self.query.dimensions.len();
        let first_dim = usize::from(has_period);
        let mut out = Vec::with_capacity(self.num_rows());
        for batch in &self.batches {
            let values = batch.column(batch.num_columns() - 1).as_primitive::<datafusion::arrow::datatypes::Float64Type>();
            let periods = has_period.then(|| batch.column(0));
            for row in 0..batch.num_rows() {
                let period = periods.and_then(|p| period_at(p.as_ref(), row));
                let dimensions = (first_dim..first_dim + dims).map(|c| DimensionValue::of(batch.column(c).as_ref(), row)).collect();
                let value = values.is_valid(row).then(|| values.value(row));
                out.push(ResultRow { period, dimensions, value });
            }
        }
        out
    }

    /// The rows grouped by dimension values, each group's points in time order.
    pub fn series(&self) -> Vec<Series> {
        let mut series: Vec<Series> = Vec::new();
        for row in self.rows() {
            match series.iter_mut().find(|s| s.dimensions == row.dimensions) {
                Some(s) => s.points.push((row.period, row.value)),
                None => series.push(Series { dimensions: row.dimensions, points: vec![(row.period, row.value)] }),
            }
        }
        for s in &mut series {
            s.points.sort_by_key(|(p, _)| *p);
        }
        series
    }

    /// The latest value of each series with its status and trend.
    pub fn summaries(&self) -> Vec<(Vec<DimensionValue>, Summary)> {
        self.series().into_iter().filter_map(|s| self.summarize(&s).map(|sum| (s.dimensions, sum))).collect()
    }

    /// The latest value with status and trend, for a result without dimensions.
    pub fn summary(&self) -> Option<Summary> {
        if !self.query.dimensions.is_empty() {
            return None;
        }
        self.series().first().and_then(|s| self.summarize(s))
    }

    fn summarize(&self, series: &Series) -> Option<Summary> {
        let (period, value) = *series.points.last()?;
        let previous = series.points.len().checked_sub(2).and_then(|i| series.points[i].1);
        Some(Summary {
            period,
            value,
            previous,
            status: Status::of(value, self.info.direction, &self.info.thresholds),
            trend: Trend::between(value, previous, self.info.direction),
        })
    }

    /// The result as JSON: the KPI, query, range, rows (period, dimensions by label, value),
    /// summaries and timing.
    pub fn to_json(&self) -> Value {
        let labels = &self.query.dimensions;
        let rows: Vec<Value> = self
            .rows()
            .into_iter()
            .map(|r| {
                let mut m = Map::new();
                if self.query.grain.is_some() {
                    m.insert("period".into(), json!(r.period.map(rfc3339)));
                }
                for (label, v) in labels.iter().zip(r.dimensions) {
                    m.insert(label.clone(), json!(v));
                }
                m.insert("value".into(), json!(r.value.filter(|v| v.is_finite())));
                Value::Object(m)
            })
            .collect();
        let summaries: Vec<Value> = self
            .summaries()
            .into_iter()
            .map(|(dims, s)| {
                let dims: Map<String, Value> = labels.iter().cloned().zip(dims.iter().map(|d| json!(d))).collect();
                json!({ "dimensions": dims, "summary": s })
            })
            .collect();
        let (kpi, formula) = match &self.query.target {
            Target::Kpi(code) => (Some(code.clone()), None),
            Target::Formula(text) => (None, Some(text.clone())),
        };
        json!({
            "kpi": kpi,
            "formula": formula,
            "name": self.info.name,
            "unit": self.info.unit.as_str(),
            "grain": self.query.grain.map(|g| g.as_str()),
            "dimensions": labels,
            "range": self.range.map(|r| json!({ "start": rfc3339(r.start), "end": rfc3339(r.end) })),
            "rows": rows,
            "summaries": summaries,
            "timing": self.timing,
            "from_cache": self.from_cache(),
            "cache": self.cache,
        })
    }
}

impl Serialize for KpiResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

fn period_at(array: &dyn Array, row: usize) -> Option<DateTime<Utc>> {
    if array.is_null(row) {
        return None;
    }
    match array.data_type() {
        DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Microsecond, _) => {
            DateTime::from_timestamp_micros(array.as_primitive::<TimestampMicrosecondType>().value(row))
        }
        _ => None,
    }
}
