//! KPI history (the policy's analytics data): calculated values kept with their period, KPI,
//! dimension group, revision and calculation time. Scheduled jobs and subscriptions record what
//! they calculate when [`EngineOptions::history`](crate::EngineOptions::history) is on; a value
//! is recorded again only when it changed, as the next revision. History lives in the reserved
//! table `kpi_history`: logged and checkpointed with a data directory, archived or deleted by
//! the policy's analytics rule, kept only at the granularity levels the policy names.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, AsArray, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{Float64Type, Int64Type, TimestampMicrosecondType};
use datafusion::prelude::{col, lit};
use kpi_catalog::{Catalog, ColumnDef, ColumnType, DataKind, Granularity, ObjectModel};
use kpi_formula::Grain;
use serde::Serialize;

use crate::engine::Engine;
use crate::error::EngineError;
use crate::result::KpiResult;

/// The reserved table KPI history is kept in.
pub const HISTORY_TABLE: &str = "kpi_history";

/// The history table's columns: `kpi`, `grain`, `period`, `dimensions` (a JSON object of the
/// group's dimension values), `value`, `revision` and `computed_at`.
pub(crate) fn history_model() -> ObjectModel {
    let column = |name: &str, data_type, nullable| ColumnDef { nullable, ..ColumnDef::new(name, data_type) };
    ObjectModel {
        code: HISTORY_TABLE.into(),
        name: "KPI history".into(),
        description: "Calculated KPI values by period and group, one row per revision.".into(),
        time_column: Some("period".into()),
        columns: vec![
            column("kpi", ColumnType::String, false),
            column("grain", ColumnType::String, false),
            column("period", ColumnType::TimestampTz, false),
            column("dimensions", ColumnType::String, false),
            column("value", ColumnType::Float64, true),
            column("revision", ColumnType::Int64, false),
            column("computed_at", ColumnType::TimestampTz, false),
        ],
        ..ObjectModel::default()
    }
}

/// The kind of data the table `code` holds, which says the policy rule it follows: KPI
/// history is analytics data, every object model's rows staged source data.
pub(crate) fn data_kind_of(code: &str) -> DataKind {
    if code == HISTORY_TABLE { DataKind::AnalyticsData } else { DataKind::StagedSourceData }
}

/// The object model `code`: the catalog's, or the history table's.
pub(crate) fn model_of(catalog: &Catalog, code: &str) -> Result<ObjectModel, EngineError> {
    if code == HISTORY_TABLE {
        return Ok(history_model());
    }
    Ok(catalog.object_model(code)?.clone())
}

/// A KPI value's identity in history: KPI, grain, period and group.
type Key = (String, String, i64, String);

/// The latest revision of a key and its value's bits.
type Latest = HashMap<Key, (i64, Option<u64>)>;

/// The latest revision and value of every key, built from the table on first use.
#[derive(Default)]
pub(crate) struct Revisions(std::sync::Mutex<Option<Latest>>);

/// Which recorded values a history query returns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryQuery {
    /// The KPI (or formula text).
    pub kpi: String,
    /// Only this grain (`month`, ...); all grains when `None`.
    pub grain: Option<Grain>,
    /// Only periods starting in `[from, to)`.
    pub range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Every revision, rather than the latest of each period and group.
    pub all_revisions: bool,
}

/// A history query as a document: `kpi`, and optionally `grain`, `start` and `end` (dates or
/// RFC 3339, read in the engine's calendar) and `all_revisions`: what Python keywords and Node
/// options map onto.
///
/// ```
/// use kpi_core::{Engine, HistoryQuery};
/// let engine = Engine::new(kpi_catalog::Catalog::standard().clone())?;
/// let query = HistoryQuery::from_document(serde_json::json!({"kpi": "revenue", "grain": "month", "start": "2024-01-01", "end": "2025-01-01"}), &engine.options().calendar)?;
/// assert_eq!(query.grain, Some(kpi_formula::Grain::Month));
/// assert!(HistoryQuery::from_document(serde_json::json!({"kpi": "revenue", "start": "2024-01-01"}), &engine.options().calendar).is_err());
/// # Ok::<(), kpi_core::EngineError>(())
/// ```
impl HistoryQuery {
    /// Reads a history query document.
    pub fn from_document(value: serde_json::Value, calendar: &kpi_formula::Calendar) -> Result<HistoryQuery, EngineError> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Document {
            kpi: String,
            #[serde(default)]
            grain: Option<String>,
            #[serde(default)]
            start: Option<String>,
            #[serde(default)]
            end: Option<String>,
            #[serde(default)]
            all_revisions: bool,
        }
        let invalid = |message: String| EngineError::InvalidDocument { document: "history query", message };
        let document: Document = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        let grain = document.grain.as_deref().map(Grain::parse).transpose().map_err(kpi_formula::FormulaError::from)?;
        let range = match (&document.start, &document.end) {
            (Some(start), Some(end)) => {
                let range = kpi_formula::TimeRange::parse(start, end, calendar).map_err(kpi_formula::FormulaError::from)?;
                Some((range.start, range.end))
            }
            (None, None) => None,
            _ => return Err(invalid("give both `start` and `end`, or neither".into())),
        };
        Ok(HistoryQuery { kpi: document.kpi, grain, range, all_revisions: document.all_revisions })
    }
}

/// One recorded value, as history queries return them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HistoryRow {
    /// The KPI (or formula text).
    pub kpi: String,
    /// The grain, or `none` for one value over the range.
    pub grain: String,
    /// The period's start (the range's start without a grain).
    pub period: DateTime<Utc>,
    /// The group's dimension values by dimension, as JSON.
    pub dimensions: serde_json::Value,
    /// The value.
    pub value: Option<f64>,
    /// 1 for the first value recorded, then one more for each change.
    pub revision: i64,
    /// When it was calculated.
    pub computed_at: DateTime<Utc>,
}

/// Whether the policy's granularity keeps values of `grain`: minutes, hours, days and months by
/// their own level; weeks with days, quarters and years with months; one value over a range
/// always.
fn kept(granularity: &Granularity, grain: Option<Grain>) -> bool {
    match grain {
        None => true,
        Some(Grain::Minute) => granularity.minute_aggregates,
        Some(Grain::Hour) => granularity.hourly_aggregates,
        Some(Grain::Day | Grain::Week) => granularity.daily_aggregates,
        Some(Grain::Month | Grain::Quarter | Grain::Year) => granularity.monthly_aggregates,
    }
}

impl Engine {
    /// Records the values of `result` as KPI history: each value new for its KPI, grain, period
    /// and group, or changed since last recorded, as the next revision. Grains the retention
    /// policy's granularity does not keep are left out. Returns the rows recorded.
    pub fn record_history(&self, result: &KpiResult) -> Result<usize, EngineError> {
        let grain = result.query.grain;
        if let Some(policy) = self.retention_policy()
            && !kept(&policy.granularity, grain)
        {
            return Ok(0);
        }
        let kpi = match (&result.info.code, &result.query.target) {
            (Some(code), _) => code.clone(),
            (None, kpi_formula::Target::Formula(text)) | (None, kpi_formula::Target::Kpi(text)) => text.clone(),
        };
        let grain_name = grain.map_or("none", |g| g.as_str()).to_string();
        let names = &result.query.dimensions;
        let start = result.query.range.map(|r| r.start.timestamp_micros()).unwrap_or(0);
        let now = self.inner.options.clock.now().timestamp_micros();
        let mut revisions = self.history_revisions()?;
        let latest = revisions.get_or_insert_with(HashMap::new);
        let (mut periods, mut groups, mut values, mut numbers) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for row in result.rows() {
            let period = row.period.map_or(start, |p| p.timestamp_micros());
            let group: serde_json::Map<String, serde_json::Value> =
                names.iter().zip(&row.dimensions).map(|(n, v)| (n.clone(), serde_json::to_value(v).unwrap_or_default())).collect();
            let group = serde_json::Value::Object(group).to_string();
            let key = (kpi.clone(), grain_name.clone(), period, group.clone());
            let bits = row.value.map(f64::to_bits);
            let revision = match latest.get(&key) {
                Some((_, previous)) if *previous == bits => continue,
                Some((revision, _)) => revision + 1,
                None => 1,
            };
            latest.insert(key, (revision, bits));
            periods.push(period);
            groups.push(group);
            values.push(row.value);
            numbers.push(revision);
        }
        drop(revisions);
        if periods.is_empty() {
            return Ok(0);
        }
        let n = periods.len();
        let schema = history_model().schema();
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![kpi.as_str(); n])),
                Arc::new(StringArray::from(vec![grain_name.as_str(); n])),
                Arc::new(TimestampMicrosecondArray::from(periods).with_timezone("UTC")),
                Arc::new(StringArray::from(groups)),
                Arc::new(Float64Array::from(values)),
                Arc::new(Int64Array::from(numbers)),
                Arc::new(TimestampMicrosecondArray::from(vec![now; n]).with_timezone("UTC")),
            ],
        )
        .map_err(|e| EngineError::Internal(e.to_string()))?;
        self.append_batches(HISTORY_TABLE, vec![batch])?;
        Ok(n)
    }

    /// Records `result` when the engine keeps history; a failure is logged, never the
    /// calculation's.
    pub(crate) fn keep_history(&self, result: &KpiResult) {
        if self.inner.options.history
            && let Err(e) = self.record_history(result)
        {
            tracing::warn!(error = %e, code = e.code(), "cannot record KPI history");
        }
    }

    /// The recorded values of a KPI, archived ones included, by grain, period and group.
    pub async fn history(&self, query: &HistoryQuery) -> Result<Vec<HistoryRow>, EngineError> {
        let Some(data) = self.inner.tables.read().unwrap_or_else(|p| p.into_inner()).get(HISTORY_TABLE).cloned() else {
            return Ok(Vec::new());
        };
        let mut filter = col("kpi").eq(lit(query.kpi.clone()));
        if let Some(grain) = query.grain {
            filter = filter.and(col("grain").eq(lit(grain.as_str())));
        }
        if let Some((from, to)) = query.range {
            let at = |t: DateTime<Utc>| {
                lit(datafusion::scalar::ScalarValue::TimestampMicrosecond(Some(t.timestamp_micros()), Some("UTC".into())))
            };
            filter = filter.and(col("period").gt_eq(at(from))).and(col("period").lt(at(to)));
        }
        let frame = self.inner.ctx.read_table(data.provider.clone()).and_then(|f| f.filter(filter)).map_err(EngineError::Execution)?;
        let batches = frame.collect().await.map_err(EngineError::Execution)?;
        // Each row with its group as text, written once, to order by.
        let mut rows: Vec<(String, HistoryRow)> = history_rows(&batches)?.into_iter().map(|r| (r.dimensions.to_string(), r)).collect();
        rows.sort_by(|(x, a), (y, b)| (&a.grain, a.period, x, a.revision).cmp(&(&b.grain, b.period, y, b.revision)));
        if !query.all_revisions {
            // Backwards, each period and group starts with its latest revision: keep that one.
            rows.reverse();
            rows.dedup_by(|(x, a), (y, b)| a.grain == b.grain && a.period == b.period && x == y);
            rows.reverse();
        }
        Ok(rows.into_iter().map(|(_, row)| row).collect())
    }

    /// The latest revisions, read from the history table the first time.
    fn history_revisions(&self) -> Result<std::sync::MutexGuard<'_, Option<Latest>>, EngineError> {
        let mut revisions = self.inner.lifecycle.revisions.0.lock().unwrap_or_else(|p| p.into_inner());
        if revisions.is_none() {
            let mut latest = HashMap::new();
            let batches = self
                .inner
                .tables
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .get(HISTORY_TABLE)
                .and_then(|d| d.active_batches())
                .unwrap_or_default();
            // Archived history holds older periods; values recorded for them again start new keys.
            for row in history_rows(&batches)? {
                let key = (row.kpi, row.grain, row.period.timestamp_micros(), row.dimensions.to_string());
                let entry = latest.entry(key).or_insert((0, None));
                if row.revision >= entry.0 {
                    *entry = (row.revision, row.value.map(f64::to_bits));
                }
            }
            *revisions = Some(latest);
        }
        Ok(revisions)
    }
}

/// The rows of history batches.
fn history_rows(batches: &[RecordBatch]) -> Result<Vec<HistoryRow>, EngineError> {
    let mut out = Vec::new();
    for batch in batches {
        let text =
            |i: usize| batch.column(i).as_string_opt::<i32>().ok_or_else(|| EngineError::Internal("history column is not text".into()));
        let (kpi, grain, dimensions) = (text(0)?, text(1)?, text(3)?);
        let period = batch.column(2).as_primitive::<TimestampMicrosecondType>();
        let value = batch.column(4).as_primitive::<Float64Type>();
        let revision = batch.column(5).as_primitive::<Int64Type>();
        let computed = batch.column(6).as_primitive::<TimestampMicrosecondType>();
        for i in 0..batch.num_rows() {
            out.push(HistoryRow {
                kpi: kpi.value(i).to_string(),
                grain: grain.value(i).to_string(),
                period: DateTime::from_timestamp_micros(period.value(i)).unwrap_or_default(),
                dimensions: serde_json::from_str(dimensions.value(i)).unwrap_or_default(),
                value: value.is_valid(i).then(|| value.value(i)),
                revision: revision.value(i),
                computed_at: DateTime::from_timestamp_micros(computed.value(i)).unwrap_or_default(),
            });
        }
    }
    Ok(out)
}
