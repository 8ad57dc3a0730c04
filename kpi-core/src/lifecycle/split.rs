//! Rows split by event time: those before a cutoff (to archive or delete) from those after,
//! and the former by month, the unit archives are partitioned in.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, TimeZone, Utc};
use datafusion::arrow::array::{BooleanArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{filter_record_batch, take_record_batch};
use kpi_catalog::ObjectModel;

use crate::data::event_micros;
use crate::error::EngineError;

/// A month of UTC, the partition of archives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Month {
    pub(crate) year: i32,
    pub(crate) month: u32,
}

impl Month {
    /// The month `micros` (since the epoch) falls in.
    pub(crate) fn of(micros: i64) -> Month {
        let t = DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MIN_UTC);
        Month { year: t.year(), month: t.month() }
    }

    /// Its first instant.
    pub(crate) fn start(self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(self.year, self.month, 1, 0, 0, 0).single().unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The first instant of the next month.
    pub(crate) fn end(self) -> DateTime<Utc> {
        let (year, month) = if self.month == 12 { (self.year + 1, 1) } else { (self.year, self.month + 1) };
        Month { year, month }.start()
    }

    /// `YYYY-MM`.
    pub(crate) fn label(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// `batch` split into its rows with event times before `before` and the others (rows without
/// an event time stay).
pub(crate) fn split_before(
    model: &ObjectModel,
    batch: &RecordBatch,
    before: i64,
) -> Result<(Option<RecordBatch>, Option<RecordBatch>), EngineError> {
    let Some(times) = event_micros(model, batch) else { return Ok((None, Some(batch.clone()))) };
    let old: BooleanArray = times.iter().map(|t| Some(t.is_some_and(|t| t < before))).collect();
    let count = old.true_count();
    if count == 0 {
        return Ok((None, Some(batch.clone())));
    }
    if count == batch.num_rows() {
        return Ok((Some(batch.clone()), None));
    }
    let kept = datafusion::arrow::compute::not(&old).map_err(|e| EngineError::Execution(e.into()))?;
    let filter = |mask: &BooleanArray| filter_record_batch(batch, mask).map_err(|e| EngineError::Execution(e.into()));
    Ok((Some(filter(&old)?), Some(filter(&kept)?)))
}

/// The rows of `batches` with event times before `before`.
pub(crate) fn rows_before(model: &ObjectModel, batches: &[RecordBatch], before: i64) -> Result<Vec<RecordBatch>, EngineError> {
    let mut old = Vec::new();
    for batch in batches {
        if let (Some(part), _) = split_before(model, batch, before)? {
            old.push(part);
        }
    }
    Ok(old)
}

/// The rows of `batches` by the month of their event time.
pub(crate) fn by_month(model: &ObjectModel, batches: &[RecordBatch]) -> Result<BTreeMap<Month, Vec<RecordBatch>>, EngineError> {
    let mut out: BTreeMap<Month, Vec<RecordBatch>> = BTreeMap::new();
    for batch in batches {
        let Some(times) = event_micros(model, batch) else { continue };
        let mut rows: BTreeMap<Month, Vec<u32>> = BTreeMap::new();
        for (i, t) in times.iter().enumerate() {
            if let Some(t) = t {
                rows.entry(Month::of(*t)).or_default().push(i as u32);
            }
        }
        for (month, indices) in rows {
            let part = if indices.len() == batch.num_rows() {
                batch.clone()
            } else {
                take_record_batch(batch, &UInt32Array::from(indices)).map_err(|e| EngineError::Execution(e.into()))?
            };
            out.entry(month).or_default().push(part);
        }
    }
    Ok(out)
}
