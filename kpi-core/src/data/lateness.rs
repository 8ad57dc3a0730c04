//! Event time of appended rows against the data's watermark (the latest time seen): rows older
//! than the watermark arrived out of order, rows older than the watermark minus the allowed
//! lateness arrived too late. Either way they are kept; they are counted and reported.

use std::time::Duration;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use kpi_catalog::ObjectModel;
use serde::Serialize;

/// What an append brought, as [`crate::Engine::append_batches`] reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AppendReport {
    /// Rows appended.
    pub rows: usize,
    /// Rows older than the watermark before the append (out of order; they correct earlier
    /// periods).
    pub late_rows: usize,
    /// Of those, rows older than the watermark minus the allowed lateness
    /// ([`crate::EngineOptions::allowed_lateness`]). They are kept and calculated like any other
    /// row; the count says how far behind their source is.
    pub beyond_lateness: usize,
    /// Rows stamped further ahead of the engine's clock than [`crate::EngineOptions::clock_skew`]:
    /// kept and calculated, but they do not move the watermark (so one row stamped 2099 never
    /// makes the rest of the history look old and released).
    pub future_rows: usize,
    /// The latest event time after the append, for a model with a time column.
    #[serde(serialize_with = "crate::result::instant")]
    pub watermark: Option<DateTime<Utc>>,
}

/// The time column of `batch` as microseconds since the epoch (dates at midnight).
pub(crate) fn micros(model: &ObjectModel, batch: &RecordBatch) -> Option<Vec<Option<i64>>> {
    let column = batch.column_by_name(model.time_column.as_deref()?)?;
    let as_micros = cast(column, &DataType::Timestamp(TimeUnit::Microsecond, None)).ok()?;
    Some(as_micros.as_primitive::<TimestampMicrosecondType>().iter().collect())
}

/// The earliest and latest event time of `batch`.
pub(crate) fn span_of(model: &ObjectModel, batch: &RecordBatch) -> Option<Span> {
    let times = micros(model, batch)?;
    let mut values = times.into_iter().flatten();
    let first = values.next()?;
    Some(values.fold((first, first), |(a, b), t| (a.min(t), b.max(t))))
}

/// The latest event time of `batches` no later than `limit` (the clock plus the allowed skew).
pub(crate) fn latest(model: &ObjectModel, batches: &[RecordBatch], limit: i64) -> Option<i64> {
    batches.iter().filter_map(|b| micros(model, b)).flat_map(|v| v.into_iter().flatten()).filter(|t| *t <= limit).max()
}

/// The event times an append covered: its earliest and latest row.
pub(crate) type Span = (i64, i64);

/// Counts the late rows of `batches` against `watermark`, and those after `limit` (the clock
/// plus the allowed skew), which do not move the watermark; returns the report, the new
/// watermark and the span of event times the batches cover.
pub(crate) fn check(
    model: &ObjectModel,
    batches: &[RecordBatch],
    watermark: Option<i64>,
    allowed: Option<Duration>,
    limit: i64,
) -> (AppendReport, Option<i64>, Option<Span>) {
    let allowed = allowed.map_or(i64::MAX, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    let mut report = AppendReport { rows: batches.iter().map(RecordBatch::num_rows).sum(), ..AppendReport::default() };
    let mut latest = watermark;
    let mut span: Option<Span> = None;
    for times in batches.iter().filter_map(|b| micros(model, b)) {
        for t in times.into_iter().flatten() {
            span = Some(span.map_or((t, t), |(a, b)| (a.min(t), b.max(t))));
            if let Some(w) = watermark
                && t < w
            {
                report.late_rows += 1;
                if t < w.saturating_sub(allowed) {
                    report.beyond_lateness += 1;
                }
            }
            if t > limit {
                report.future_rows += 1;
            } else {
                latest = Some(latest.map_or(t, |l| l.max(t)));
            }
        }
    }
    report.watermark = latest.and_then(DateTime::from_timestamp_micros);
    (report, latest, span)
}
