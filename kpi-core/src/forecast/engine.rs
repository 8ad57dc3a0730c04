//! Forecasts and trends of a calculated KPI, one per dimension group, as Arrow and JSON.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, TimestampMicrosecondArray, UInt32Array};
use datafusion::arrow::compute::{concat_batches, take};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::row::{OwnedRow, RowConverter, SortField};
use kpi_formula::{Grain, Query};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{
    ForecastError, ForecastMethod, ForecastOptions, SeriesForecast, TrendFit, TrendKind, forecast_series, season_of_grain, trend_of,
};
use crate::result::{DimensionValue, KpiInfo, rfc3339};
use crate::{Engine, EngineError, KpiResult};

/// The most periods a forecast or trend reads from one calculation.
const MAX_HISTORY: usize = 100_000;

/// The forecast options of a query or settings document, as written (`null` for the defaults):
/// `{"horizon": 6, "season_length": 12, "level": 0.95, "method": "auto" | "ets" |
/// "seasonal_naive", "trend": "none" | "additive" | "damped", "seasonal": true}`.
///
/// ```
/// use kpi_core::forecast::ForecastSettings;
/// use kpi_formula::Grain;
/// let s = ForecastSettings::from_json(r#"{"horizon": 3, "method": "seasonal_naive"}"#)?;
/// let options = s.to_options(Some(Grain::Month))?;
/// assert_eq!((options.horizon, options.season_length), (3, Some(12)));
/// assert_eq!(ForecastSettings::from_json(r#"{"horizon": 0}"#)?.to_options(None).unwrap_err().code(), "KPI_OPTION");
/// # Ok::<(), kpi_core::EngineError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForecastSettings {
    /// Periods ahead (6 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon: Option<usize>,
    /// Periods per season (by default from the grain; 1 for none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub season_length: Option<usize>,
    /// The intervals' coverage (0.95 by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<f64>,
    /// `auto` (by default), `ets` or `seasonal_naive`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// For `ets`: `none`, `additive` (by default) or `damped`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend: Option<String>,
    /// For `ets`: whether the model is seasonal (by default when there is a season).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seasonal: Option<bool>,
}

impl ForecastSettings {
    /// Reads settings from JSON text (`null` for the defaults).
    pub fn from_json(text: &str) -> Result<ForecastSettings, EngineError> {
        crate::spec::settings_text("forecast settings", text)
    }

    /// The options for a series of periods of `grain` (which suggests the season length when
    /// the settings give none), checked.
    pub fn to_options(&self, grain: Option<Grain>) -> Result<ForecastOptions, EngineError> {
        let option = |option: &'static str, message: String| EngineError::InvalidOption { option, message };
        let defaults = ForecastOptions::default();
        let season_length = self.season_length.or_else(|| grain.and_then(season_of_grain));
        let trend = match self.trend.as_deref() {
            None | Some("additive") => TrendKind::Additive,
            Some("none") => TrendKind::None,
            Some("damped") => TrendKind::Damped,
            Some(other) => return Err(option("trend", format!("`{other}` is not one of none, additive, damped"))),
        };
        let method = match self.method.as_deref() {
            None | Some("auto") => ForecastMethod::Auto,
            Some("ets") => ForecastMethod::Ets { trend, seasonal: self.seasonal.unwrap_or(season_length.is_some_and(|m| m > 1)) },
            Some("seasonal_naive") => ForecastMethod::SeasonalNaive,
            Some(other) => return Err(option("method", format!("`{other}` is not one of auto, ets, seasonal_naive"))),
        };
        if self.method.as_deref() != Some("ets") && (self.trend.is_some() || self.seasonal.is_some()) {
            return Err(option("trend", "`trend` and `seasonal` choose the model of method `ets`; set \"method\": \"ets\"".into()));
        }
        let options = ForecastOptions {
            horizon: self.horizon.unwrap_or(defaults.horizon),
            season_length,
            level: self.level.unwrap_or(defaults.level),
            method,
        };
        options.check().map_err(|e| e.into_engine("the series"))?;
        Ok(options)
    }
}

/// One dimension group's forecast.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupForecast {
    /// The group's dimension values.
    pub dimensions: Vec<DimensionValue>,
    /// The periods the model was fitted to and their values (`None` where a period has none).
    pub history: Vec<(DateTime<Utc>, Option<f64>)>,
    /// The start of each forecast period.
    pub periods: Vec<DateTime<Utc>>,
    /// The model, its fit and the forecast values.
    pub forecast: SeriesForecast,
}

/// A KPI's forecast per dimension group: `period`, the dimensions, `value`, `lower`, `upper`.
#[derive(Clone, Debug)]
pub struct Forecast {
    /// The KPI.
    pub info: KpiInfo,
    /// The dimension labels.
    pub dimensions: Vec<String>,
    /// The grain.
    pub grain: Grain,
    /// The options used.
    pub options: ForecastOptions,
    /// The groups forecast.
    pub groups: Vec<GroupForecast>,
    /// The groups that could not be forecast, and why.
    pub skipped: Vec<(Vec<DimensionValue>, ForecastError)>,
    batch: RecordBatch,
}

impl Forecast {
    /// The forecast rows as one Arrow batch.
    pub fn batch(&self) -> &RecordBatch {
        &self.batch
    }

    /// The schema of [`Forecast::batch`].
    pub fn schema(&self) -> SchemaRef {
        self.batch.schema()
    }

    /// As JSON: the KPI, the options, and per group its model, history, and forecast rows.
    pub fn to_json(&self) -> Value {
        let groups: Vec<Value> = self
            .groups
            .iter()
            .map(|g| {
                let f = &g.forecast;
                json!({
                    "dimensions": g.dimensions,
                    "model": f.model,
                    "parameters": f.parameters,
                    "aicc": f.aicc.filter(|a| a.is_finite()),
                    "sigma": f.sigma,
                    "observed": f.observed,
                    "missing": f.missing,
                    "history": g.history.iter().zip(&f.fitted).map(|((p, v), fit)| json!({"period": rfc3339(*p), "value": v, "fitted": fit})).collect::<Vec<_>>(),
                    "forecast": g.periods.iter().zip(&f.points).map(|(p, x)| json!({"period": rfc3339(*p), "value": x.value, "lower": x.lower, "upper": x.upper})).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "kpi": self.info.code,
            "grain": self.grain.as_str(),
            "dimensions": self.dimensions,
            "horizon": self.options.horizon,
            "level": self.options.level,
            "season_length": self.options.season_length,
            "groups": groups,
            "skipped": self.skipped.iter().map(|(d, e)| json!({"dimensions": d, "message": e.to_string()})).collect::<Vec<_>>(),
        })
    }
}

/// One dimension group's trend.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct GroupTrend {
    /// The group's dimension values.
    pub dimensions: Vec<DimensionValue>,
    /// The first period of the window.
    #[serde(serialize_with = "crate::result::instant_required")]
    pub start: DateTime<Utc>,
    /// The line, its significance, and whether it improves.
    #[serde(flatten)]
    pub fit: TrendFit,
    /// Whether the slope goes the KPI's better way (`None` for a neutral KPI or no significant slope).
    pub improving: Option<bool>,
}

/// A KPI's trend per dimension group over the last periods of a calculation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrendReport {
    /// The KPI code.
    pub kpi: Option<String>,
    /// The grain.
    #[serde(serialize_with = "grain_name")]
    pub grain: Grain,
    /// The dimension labels.
    pub dimensions: Vec<String>,
    /// The groups with a trend.
    pub groups: Vec<GroupTrend>,
    /// The groups with too few values, and why.
    pub skipped: Vec<SkippedGroup>,
}

/// A dimension group left out of a trend or forecast.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SkippedGroup {
    /// The group's dimension values.
    pub dimensions: Vec<DimensionValue>,
    /// Why it was left out.
    pub message: String,
}

fn grain_name<S: serde::Serializer>(grain: &Grain, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(grain.as_str())
}

/// A calculated series per dimension group, every period of the range in place.
struct Histories {
    periods: Vec<DateTime<Utc>>,
    /// Per group: its dimension values, a row of the result holding them, and a value per period.
    groups: Vec<(Vec<DimensionValue>, usize, Vec<Option<f64>>)>,
    rows: RecordBatch,
}

fn histories(result: &KpiResult, grain: Grain) -> Result<Histories, EngineError> {
    let internal = |e: datafusion::arrow::error::ArrowError| EngineError::Internal(format!("reading the result for a forecast: {e}"));
    let rows = concat_batches(&result.schema(), result.batches()).map_err(internal)?;
    let calendar = &result.query().calendar;
    let starts = rows.column(0).as_primitive_opt::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
    let starts = starts.ok_or_else(|| EngineError::Internal("a result's period column is not a timestamp".into()))?;
    let instants: Vec<Option<DateTime<Utc>>> =
        (0..rows.num_rows()).map(|i| starts.is_valid(i).then(|| DateTime::from_timestamp_micros(starts.value(i))).flatten()).collect();
    let (first, last) = match result.range() {
        Some(range) => (range.start, range.end),
        None => match (instants.iter().flatten().min(), instants.iter().flatten().max()) {
            (Some(a), Some(b)) => (*a, calendar.add_periods(*b, grain, 1)),
            _ => return Ok(Histories { periods: Vec::new(), groups: Vec::new(), rows }),
        },
    };
    let periods = calendar.periods(first, last, grain, MAX_HISTORY).map_err(kpi_formula::FormulaError::from)?;
    let slot: HashMap<DateTime<Utc>, usize> = periods.iter().enumerate().map(|(i, p)| (*p, i)).collect();
    let dims = result.query().dimensions.len();
    // Groups are keyed by Arrow's row format of their dimension values (none: one group).
    let keys = match dims {
        0 => None,
        _ => {
            let fields: Vec<SortField> = (1..=dims).map(|c| SortField::new(rows.column(c).data_type().clone())).collect();
            let converter = RowConverter::new(fields).map_err(internal)?;
            Some(converter.convert_columns(&rows.columns()[1..=dims]).map_err(internal)?)
        }
    };
    let values = rows.column(rows.num_columns() - 1).as_primitive::<Float64Type>();
    let mut index: HashMap<Option<OwnedRow>, usize> = HashMap::new();
    let mut groups: Vec<(Vec<DimensionValue>, usize, Vec<Option<f64>>)> = Vec::new();
    for (row, period) in instants.iter().enumerate() {
        let key = keys.as_ref().map(|k| k.row(row).owned());
        let group = *index.entry(key).or_insert_with(|| {
            let labels = (1..=dims).map(|c| DimensionValue::of(rows.column(c).as_ref(), row)).collect();
            groups.push((labels, row, vec![None; periods.len()]));
            groups.len() - 1
        });
        if let Some(i) = period.and_then(|p| slot.get(&p)) {
            groups[group].2[*i] = values.is_valid(row).then(|| values.value(row));
        }
    }
    Ok(Histories { periods, groups, rows })
}

fn grain_of(query: &Query, what: &str) -> Result<Grain, EngineError> {
    query
        .grain
        .ok_or_else(|| EngineError::InvalidOption { option: "grain", message: format!("a {what} needs a grain: the size of its periods") })
}

impl Engine {
    /// Forecasts the query's KPI per dimension group, `options.horizon` periods past its range.
    /// Groups too short for the model are listed in [`Forecast::skipped`]; when every group is,
    /// the first one's reason is the error.
    pub async fn forecast(&self, query: &Query, options: &ForecastOptions) -> Result<Forecast, EngineError> {
        let grain = grain_of(query, "forecast")?;
        options.check().map_err(|e| e.into_engine("the series"))?;
        let options = &ForecastOptions { season_length: options.season_length.or_else(|| season_of_grain(grain)), ..options.clone() };
        let result = self.calculate(query).await?;
        let history = histories(&result, grain)?;
        let calendar = &query.calendar;
        let next = history.periods.last().map(|p| calendar.add_periods(*p, grain, 1));
        let ahead: Vec<DateTime<Utc>> =
            std::iter::successors(next, |p| Some(calendar.add_periods(*p, grain, 1))).take(options.horizon).collect();
        let (mut groups, mut skipped, mut rows_of) = (Vec::new(), Vec::new(), Vec::new());
        for (dimensions, row, values) in history.groups {
            match forecast_series(&values, options) {
                Ok(forecast) => {
                    rows_of.push(row);
                    let history = history.periods.iter().copied().zip(values).collect();
                    groups.push(GroupForecast { dimensions, history, periods: ahead.clone(), forecast });
                }
                Err(e) => skipped.push((dimensions, e)),
            }
        }
        if groups.is_empty() {
            let error = skipped.first().map(|(_, e)| e.clone()).unwrap_or(ForecastError::NoValues);
            return Err(error.into_engine(result.info().code.as_deref().unwrap_or("the formula")));
        }
        let batch = forecast_batch(&history.rows, &groups, &rows_of, query.dimensions.len())?;
        Ok(Forecast {
            info: result.info().clone(),
            dimensions: query.dimensions.clone(),
            grain,
            options: options.clone(),
            groups,
            skipped,
            batch,
        })
    }

    /// Forecasts a query document with forecast settings (see [`ForecastSettings`]).
    pub async fn forecast_spec(&self, spec: &crate::QuerySpec, settings: &ForecastSettings) -> Result<Forecast, EngineError> {
        let query = self.query(spec)?;
        let options = settings.to_options(Some(grain_of(&query, "forecast")?))?;
        self.forecast(&query, &options).await
    }

    /// The trend of a query document over its last `window` periods.
    pub async fn trend_spec(&self, spec: &crate::QuerySpec, window: Option<usize>) -> Result<TrendReport, EngineError> {
        self.trend(&self.query(spec)?, window).await
    }

    /// The trend of the query's KPI per dimension group: the least-squares slope over the last
    /// `window` periods of its range (all of them when `None`), with its significance.
    pub async fn trend(&self, query: &Query, window: Option<usize>) -> Result<TrendReport, EngineError> {
        let grain = grain_of(query, "trend")?;
        if window.is_some_and(|w| w < 3) {
            return Err(EngineError::InvalidOption { option: "window", message: "a trend needs a window of at least 3 periods".into() });
        }
        let result = self.calculate(query).await?;
        let history = histories(&result, grain)?;
        let from = window.map_or(0, |w| history.periods.len().saturating_sub(w));
        let (mut groups, mut skipped) = (Vec::new(), Vec::new());
        for (dimensions, _, values) in history.groups {
            match history.periods.get(from).ok_or(ForecastError::NoValues).and_then(|start| Ok((*start, trend_of(&values[from..])?))) {
                Ok((start, fit)) => {
                    let improving = match result.info().direction {
                        _ if !fit.significant => None,
                        kpi_catalog::Direction::HigherIsBetter => Some(fit.slope > 0.0),
                        kpi_catalog::Direction::LowerIsBetter => Some(fit.slope < 0.0),
                        kpi_catalog::Direction::Neutral => None,
                    };
                    groups.push(GroupTrend { dimensions, start, fit, improving });
                }
                Err(e) => skipped.push(SkippedGroup { dimensions, message: e.to_string() }),
            }
        }
        Ok(TrendReport { kpi: result.info().code.clone(), grain, dimensions: query.dimensions.clone(), groups, skipped })
    }
}

/// `period`, the dimensions (taken from the result, so they keep their types), `value`,
/// `lower`, `upper`: one row per group and forecast period.
fn forecast_batch(rows: &RecordBatch, groups: &[GroupForecast], rows_of: &[usize], dims: usize) -> Result<RecordBatch, EngineError> {
    let internal = |e: datafusion::arrow::error::ArrowError| EngineError::Internal(format!("writing a forecast: {e}"));
    let schema = rows.schema();
    let mut take_rows = Vec::new();
    let (mut periods, mut value, mut lower, mut upper) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (group, row) in groups.iter().zip(rows_of) {
        for (period, point) in group.periods.iter().zip(&group.forecast.points) {
            take_rows.push(*row as u32);
            periods.push(period.timestamp_micros());
            value.push(point.value);
            lower.push(point.lower);
            upper.push(point.upper);
        }
    }
    let period_type = schema.field(0).data_type().clone();
    let zone = match &period_type {
        DataType::Timestamp(TimeUnit::Microsecond, zone) => zone.clone(),
        _ => None,
    };
    let indices = UInt32Array::from(take_rows);
    let mut fields: Vec<Field> = vec![schema.field(0).as_ref().clone().with_nullable(false)];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(TimestampMicrosecondArray::from(periods).with_timezone_opt(zone))];
    for c in 1..=dims {
        fields.push(schema.field(c).as_ref().clone());
        columns.push(take(rows.column(c).as_ref(), &indices, None).map_err(internal)?);
    }
    for (name, values) in [("value", value), ("lower", lower), ("upper", upper)] {
        fields.push(Field::new(name, DataType::Float64, false));
        columns.push(Arc::new(Float64Array::from(values)));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(internal)
}
