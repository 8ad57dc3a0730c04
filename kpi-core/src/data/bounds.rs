//! The first and last time of a table's rows: the default time range of a query that gives none.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::catalog::TableProvider;
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::expr_fn::{max, min};
use datafusion::prelude::{SessionContext, col};
use kpi_formula::Calendar;
use tokio::sync::OnceCell;

use super::Span;
use crate::error::EngineError;

/// A time as stored: wall-clock (dates, timestamps without zone) or an instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Stored {
    /// A wall-clock time, read in the query's calendar.
    Local(chrono::NaiveDateTime),
    /// An instant.
    Instant(DateTime<Utc>),
}

impl Stored {
    fn of(value: &ScalarValue) -> Option<Stored> {
        match value {
            ScalarValue::TimestampMicrosecond(Some(us), None) => DateTime::from_timestamp_micros(*us).map(|t| Stored::Local(t.naive_utc())),
            ScalarValue::TimestampMicrosecond(Some(us), Some(_)) => DateTime::from_timestamp_micros(*us).map(Stored::Instant),
            ScalarValue::Date32(Some(days)) => NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|d| d.checked_add_signed(chrono::Duration::days(i64::from(*days))))
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(Stored::Local),
            _ => None,
        }
    }

    /// The instant this time stands for in `calendar`.
    pub(crate) fn instant(self, calendar: &Calendar) -> DateTime<Utc> {
        match self {
            Stored::Local(t) => calendar.to_instant(t),
            Stored::Instant(t) => t,
        }
    }
}

/// The earlier (or with `later` the later) of two times of one column; `None` for times of
/// different kinds.
fn pick(x: Stored, y: Stored, later: bool) -> Option<Stored> {
    match (x, y) {
        (Stored::Local(p), Stored::Local(q)) => Some(Stored::Local(if later { p.max(q) } else { p.min(q) })),
        (Stored::Instant(p), Stored::Instant(q)) => Some(Stored::Instant(if later { p.max(q) } else { p.min(q) })),
        _ => None,
    }
}

/// A time of a column of `time_type` as spans and the append log have it (microseconds);
/// `None` for zones other than UTC, whose wall-clock times those microseconds are not.
fn stored(us: i64, time_type: &DataType) -> Option<Stored> {
    let t = DateTime::from_timestamp_micros(us)?;
    match time_type {
        DataType::Timestamp(TimeUnit::Microsecond, None) | DataType::Date32 => Some(Stored::Local(t.naive_utc())),
        DataType::Timestamp(TimeUnit::Microsecond, Some(zone)) if super::is_utc(zone) => Some(Stored::Instant(t)),
        _ => None,
    }
}

/// The bounds of a table's time column, computed once per data version.
#[derive(Debug, Default)]
pub(crate) struct TimeBounds(OnceCell<Option<(Stored, Stored)>>);

impl TimeBounds {
    /// The bounds after appending rows whose times span `span` (microseconds, as the append
    /// log has them) to a column of `time_type`: known at once when these bounds are, so a
    /// default range after an append costs no scan of the whole table; else computed on first
    /// use. Zoned times other than UTC are left to that computation.
    pub(crate) fn extended(&self, span: Option<Span>, time_type: &DataType) -> TimeBounds {
        let Some(known) = self.0.get() else { return TimeBounds::default() };
        let Some((first, last)) = span else { return TimeBounds(OnceCell::new_with(Some(*known))) };
        let (Some(lo), Some(hi)) = (stored(first, time_type), stored(last, time_type)) else { return TimeBounds::default() };
        let merged = match *known {
            None => Some((lo, hi)),
            Some((a, b)) => match (pick(a, lo, false), pick(b, hi, true)) {
                (Some(lo), Some(hi)) => Some((lo, hi)),
                _ => return TimeBounds::default(),
            },
        };
        TimeBounds(OnceCell::new_with(Some(merged)))
    }

    /// The bounds of in-memory rows from the spans of their pieces (`None` for a piece with no
    /// time), known without a scan: a query without a range over data just registered plans
    /// no bounds query first. Zoned times other than UTC are left to [`TimeBounds::get`].
    pub(crate) fn of_spans(spans: impl Iterator<Item = Option<Span>>, time_type: &DataType) -> TimeBounds {
        let span = spans.flatten().reduce(|(a, b), (c, d)| (a.min(c), b.max(d)));
        let Some((first, last)) = span else { return TimeBounds(OnceCell::new_with(Some(None))) };
        match (stored(first, time_type), stored(last, time_type)) {
            (Some(lo), Some(hi)) => TimeBounds(OnceCell::new_with(Some(Some((lo, hi))))),
            _ => TimeBounds::default(),
        }
    }

    /// The earliest and latest time in `column`, or `None` when the table has no rows with a time.
    pub(crate) async fn get(
        &self,
        ctx: &SessionContext,
        provider: &Arc<dyn TableProvider>,
        column: &str,
    ) -> Result<Option<(Stored, Stored)>, EngineError> {
        self.0
            .get_or_try_init(|| async {
                let time = col(datafusion::common::Column::new_unqualified(column));
                let frame = ctx.read_table(provider.clone())?.aggregate(vec![], vec![min(time.clone()), max(time)])?;
                let batches = frame.collect().await?;
                let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else { return Ok(None) };
                let lo = ScalarValue::try_from_array(batch.column(0), 0)?;
                let hi = ScalarValue::try_from_array(batch.column(1), 0)?;
                Ok(Stored::of(&lo).zip(Stored::of(&hi)))
            })
            .await
            .copied()
            .map_err(EngineError::Execution)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(s: &str) -> Stored {
        Stored::Local(s.parse().unwrap())
    }

    fn micros(s: &str) -> i64 {
        s.parse::<chrono::NaiveDateTime>().unwrap().and_utc().timestamp_micros()
    }

    #[test]
    fn appended_times_extend_known_bounds_without_a_scan() {
        let naive = DataType::Timestamp(TimeUnit::Microsecond, None);
        let known = TimeBounds(OnceCell::new_with(Some(Some((local("2024-01-02T00:00:00"), local("2024-01-05T00:00:00"))))));
        let later = known.extended(Some((micros("2024-01-03T00:00:00"), micros("2024-01-09T12:00:00"))), &naive);
        assert_eq!(*later.0.get().unwrap(), Some((local("2024-01-02T00:00:00"), local("2024-01-09T12:00:00"))));
        let earlier = later.extended(Some((micros("2023-12-31T00:00:00"), micros("2024-01-01T00:00:00"))), &naive);
        assert_eq!(*earlier.0.get().unwrap(), Some((local("2023-12-31T00:00:00"), local("2024-01-09T12:00:00"))));
        // Rows without a time leave the bounds as they were.
        assert_eq!(known.extended(None, &naive).0.get(), known.0.get());
        // Unknown bounds, and zones other than UTC, are computed on first use.
        assert!(TimeBounds::default().extended(Some((0, 1)), &naive).0.get().is_none());
        let berlin = DataType::Timestamp(TimeUnit::Microsecond, Some("Europe/Berlin".into()));
        assert!(known.extended(Some((0, 1)), &berlin).0.get().is_none());
    }

    #[test]
    fn the_spans_of_pieces_in_memory_are_the_bounds() {
        let naive = DataType::Timestamp(TimeUnit::Microsecond, None);
        let spans = [
            Some((micros("2024-01-03T00:00:00"), micros("2024-01-04T00:00:00"))),
            None,
            Some((micros("2024-01-01T06:00:00"), micros("2024-01-02T00:00:00"))),
        ];
        let bounds = TimeBounds::of_spans(spans.into_iter(), &naive);
        assert_eq!(*bounds.0.get().unwrap(), Some((local("2024-01-01T06:00:00"), local("2024-01-04T00:00:00"))));
        let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let instant = |s: &str| Stored::Instant(s.parse::<chrono::NaiveDateTime>().unwrap().and_utc());
        let bounds = TimeBounds::of_spans(spans.into_iter(), &utc);
        assert_eq!(*bounds.0.get().unwrap(), Some((instant("2024-01-01T06:00:00"), instant("2024-01-04T00:00:00"))));
        // No piece with a time: no rows with a time. Other zones: computed on first use.
        assert_eq!(*TimeBounds::of_spans([None, None].into_iter(), &naive).0.get().unwrap(), None);
        let berlin = DataType::Timestamp(TimeUnit::Microsecond, Some("Europe/Berlin".into()));
        assert!(TimeBounds::of_spans(spans.into_iter(), &berlin).0.get().is_none());
    }
}
