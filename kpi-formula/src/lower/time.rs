//! Time in plans: bucketing timestamps into periods in the calendar's zone, and time literals.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNano, TimeUnit};
use datafusion::functions::expr_fn::date_trunc;
use datafusion::prelude::{Expr, cast, lit};
use datafusion::scalar::ScalarValue;

use crate::period::{Calendar, Grain};

/// The type of period columns: microsecond instants labelled with the calendar's zone.
pub(crate) fn period_type(cal: &Calendar) -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(cal.time_zone.name())))
}

/// A time column as an instant in the calendar's zone. Zoned timestamps keep their instant;
/// naive timestamps and dates are read as wall-clock times in the zone (the Arrow convention).
pub(crate) fn zoned(expr: Expr, column_type: &DataType, cal: &Calendar) -> Expr {
    match column_type {
        DataType::Date32 | DataType::Date64 => cast(cast(expr, DataType::Timestamp(TimeUnit::Microsecond, None)), period_type(cal)),
        DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) if **tz == *cal.time_zone.name() => expr,
        _ => cast(expr, period_type(cal)),
    }
}

/// The start of the period of `grain` containing each value of a time column.
pub(crate) fn bucket(expr: Expr, column_type: &DataType, grain: Grain, cal: &Calendar) -> Expr {
    let z = zoned(expr, column_type, cal);
    // date_trunc weeks start on Monday: shift other week starts onto Monday and back.
    let shift = (7 - cal.week_start.num_days_from_monday()) % 7;
    if grain == Grain::Week && shift != 0 {
        let days = lit(ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(0, shift as i32, 0))));
        date_trunc(lit("week"), z + days.clone()) - days
    } else {
        date_trunc(lit(grain.as_str()), z)
    }
}

/// An instant as a literal of the period type.
pub(crate) fn period_literal(t: DateTime<Utc>, cal: &Calendar) -> Expr {
    lit(ScalarValue::TimestampMicrosecond(Some(t.timestamp_micros()), Some(Arc::from(cal.time_zone.name()))))
}

fn timestamp_scalar(unit: &TimeUnit, t: DateTime<Utc>, tz: Option<Arc<str>>) -> ScalarValue {
    match unit {
        TimeUnit::Second => ScalarValue::TimestampSecond(Some(t.timestamp()), tz),
        TimeUnit::Millisecond => ScalarValue::TimestampMillisecond(Some(t.timestamp_millis()), tz),
        TimeUnit::Microsecond => ScalarValue::TimestampMicrosecond(Some(t.timestamp_micros()), tz),
        // Beyond ~2262 nanoseconds overflow i64; clamp so the comparison still means "far future".
        TimeUnit::Nanosecond => ScalarValue::TimestampNanosecond(Some(t.timestamp_nanos_opt().unwrap_or(if t.timestamp() > 0 { i64::MAX } else { i64::MIN })), tz),
    }
}

/// A wall-clock time of the calendar as a literal comparable with a column of type `target`.
pub(crate) fn local_time_literal(local: NaiveDateTime, target: &DataType, cal: &Calendar) -> Expr {
    match target {
        DataType::Timestamp(unit, None) => lit(timestamp_scalar(unit, local.and_utc(), None)),
        DataType::Timestamp(unit, Some(tz)) => lit(timestamp_scalar(unit, cal.to_instant(local), Some(tz.clone()))),
        _ => period_literal(cal.to_instant(local), cal),
    }
}

/// `lo <= column < hi` on the raw column, so that scans can prune by it.
pub(crate) fn time_bounds(column: Expr, column_type: &DataType, lo: Option<DateTime<Utc>>, hi: Option<DateTime<Utc>>, cal: &Calendar) -> Option<Expr> {
    let bound = |t: DateTime<Utc>| -> (Expr, Expr) {
        match column_type {
            DataType::Timestamp(unit, Some(tz)) => (column.clone(), lit(timestamp_scalar(unit, t, Some(tz.clone())))),
            DataType::Timestamp(unit, None) => (column.clone(), lit(timestamp_scalar(unit, cal.to_local(t).and_utc(), None))),
            _ => (zoned(column.clone(), column_type, cal), period_literal(t, cal)),
        }
    };
    let lower = lo.map(|t| {
        let (c, v) = bound(t);
        c.gt_eq(v)
    });
    let upper = hi.map(|t| {
        let (c, v) = bound(t);
        c.lt(v)
    });
    match (lower, upper) {
        (Some(a), Some(b)) => Some(a.and(b)),
        (a, b) => a.or(b),
    }
}
