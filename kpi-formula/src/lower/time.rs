//! Time in plans: bucketing time columns into periods in the calendar's zone, and time literals.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNano, TimeUnit};
use datafusion::functions::expr_fn::{coalesce, date_part, date_trunc, make_date};
use datafusion::logical_expr::TryCast;
use datafusion::prelude::{Expr, cast, lit};
use datafusion::scalar::ScalarValue;

use crate::ir::DatePart;
use crate::period::{Calendar, Grain};

/// The type of period columns: microsecond instants labelled with the calendar's zone.
pub(crate) fn period_type(cal: &Calendar) -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(Arc::from(cal.time_zone.name())))
}

fn hours(n: i64) -> Expr {
    lit(ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(0, 0, n * 3_600_000_000_000))))
}

fn days(n: i32) -> Expr {
    lit(ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(0, n, 0))))
}

/// Days to add so that the calendar's week start falls on a Monday (`date_trunc` weeks).
fn week_shift(cal: &Calendar) -> i64 {
    i64::from((7 - cal.week_start.num_days_from_monday()) % 7)
}

/// The start of the period of `grain` containing each value of a time column, as an instant of
/// the period type.
///
/// Zoned timestamps are truncated in the calendar's zone. Naive timestamps and dates are
/// wall-clock times (the Arrow convention): they are truncated as they are and only the period
/// start becomes an instant, so a wall-clock value that does not exist in the zone, or exists
/// twice, never fails the query. Only intervals of fixed length are added to zoned values:
/// adding calendar days fails on such times. In a zone with one fixed offset every wall-clock
/// time exists exactly once, so `fixed_offset` allows the plain (and much smaller) cast.
pub(crate) fn bucket(expr: Expr, column_type: &DataType, grain: Grain, cal: &Calendar, fixed_offset: bool) -> Expr {
    if matches!(grain, Grain::Quarter | Grain::Year) && cal.fiscal_year_start != chrono::Month::January {
        return fiscal_bucket(expr, column_type, grain, cal);
    }
    let shift = week_shift(cal);
    let naive = |expr: Expr| match column_type {
        DataType::Timestamp(_, None) => expr,
        _ => cast(expr, DataType::Timestamp(TimeUnit::Microsecond, None)),
    };
    if cal.time_zone == chrono_tz::Tz::UTC && (grain != Grain::Week || shift == 0) {
        // In UTC wall-clock time and instants coincide: truncate the naive value (DataFusion's
        // fast path; zoned truncation converts every value through the zone) and only label
        // the period start as an instant.
        // Relabelling goes through Int64: Arrow's cast between zoned and naive timestamps
        // converts every value through the zone, which doubles the cost of an aggregation.
        let naive_type = DataType::Timestamp(TimeUnit::Microsecond, None);
        let naive = match column_type {
            DataType::Timestamp(TimeUnit::Microsecond, None) => expr,
            DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => cast(cast(expr, DataType::Int64), naive_type),
            _ => cast(expr, naive_type),
        };
        return cast(cast(date_trunc(lit(grain.as_str()), naive), DataType::Int64), period_type(cal));
    }
    match column_type {
        DataType::Timestamp(_, Some(_)) | DataType::Timestamp(_, None) | DataType::Date32 | DataType::Date64
            if fixed_offset || matches!(column_type, DataType::Timestamp(_, Some(_))) =>
        {
            let z = match column_type {
                DataType::Timestamp(TimeUnit::Microsecond, Some(tz)) if **tz == *cal.time_zone.name() => expr,
                DataType::Timestamp(_, Some(_)) => cast(expr, period_type(cal)),
                _ => cast(naive(expr), period_type(cal)),
            };
            if grain == Grain::Week && shift != 0 {
                // From local midnight, +shift days and a half lands near noon of the shifted day
                // whatever the DST changes; back from its Monday the same way, then to midnight.
                let day = date_trunc(lit("day"), z);
                let monday = date_trunc(lit("week"), day + hours(24 * shift + 12));
                date_trunc(lit("day"), monday - hours(24 * shift - 12))
            } else {
                date_trunc(lit(grain.as_str()), z)
            }
        }
        _ => {
            let naive = naive(expr);
            let local = if grain == Grain::Week && shift != 0 {
                date_trunc(lit("week"), naive + days(shift as i32)) - days(shift as i32)
            } else {
                date_trunc(lit(grain.as_str()), naive)
            };
            local_to_instant(local, cal)
        }
    }
}

/// The start of a fiscal quarter or year: the local month, moved back by its place in the
/// quarter or year, as a date (`date_trunc` knows only calendar quarters and years, and months
/// cannot be subtracted from zoned times without failing on some of them).
fn fiscal_bucket(expr: Expr, column_type: &DataType, grain: Grain, cal: &Calendar) -> Expr {
    let local = match column_type {
        DataType::Timestamp(_, Some(_)) => cast(expr, period_type(cal)),
        _ => expr,
    };
    let part = |name: &str| cast(date_part(lit(name), local.clone()), DataType::Int64);
    let month0 = part("month") - lit(1i64);
    let first0 = i64::from(cal.fiscal_year_start.number_from_month()) - 1;
    let from_start = (month0.clone() + lit(12 - first0)) % lit(12i64);
    let into = if grain == Grain::Quarter { from_start % lit(3i64) } else { from_start };
    let total = part("year") * lit(12i64) + month0 - into;
    let start = make_date(total.clone() / lit(12i64), total % lit(12i64) + lit(1i64), lit(1i64));
    local_to_instant(cast(start, DataType::Timestamp(TimeUnit::Microsecond, None)), cal)
}

/// A wall-clock period start as an instant: the earlier one when it occurs twice, the first
/// valid time after a gap (as [`Calendar::to_instant`]).
fn local_to_instant(local: Expr, cal: &Calendar) -> Expr {
    let ty = period_type(cal);
    let try_cast = |e: Expr| Expr::TryCast(TryCast::new(Box::new(e), ty.clone()));
    coalesce(vec![try_cast(local.clone()), try_cast(local.clone() - hours(1)) + hours(1), try_cast(local - hours(2)) + hours(2)])
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
        TimeUnit::Nanosecond => ScalarValue::TimestampNanosecond(
            Some(t.timestamp_nanos_opt().unwrap_or(if t.timestamp() > 0 { i64::MAX } else { i64::MIN })),
            tz,
        ),
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
pub(crate) fn time_bounds(
    column: Expr,
    column_type: &DataType,
    lo: Option<DateTime<Utc>>,
    hi: Option<DateTime<Utc>>,
    cal: &Calendar,
) -> Option<Expr> {
    let bound = |t: DateTime<Utc>| -> (Expr, Expr) {
        match column_type {
            DataType::Timestamp(unit, Some(tz)) => (column.clone(), lit(timestamp_scalar(unit, t, Some(tz.clone())))),
            DataType::Timestamp(unit, None) => (column.clone(), lit(timestamp_scalar(unit, cal.to_local(t).and_utc(), None))),
            _ => (
                cast(column.clone(), DataType::Timestamp(TimeUnit::Microsecond, None)),
                lit(timestamp_scalar(&TimeUnit::Microsecond, cal.to_local(t).and_utc(), None)),
            ),
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

/// Whether the calendar's zone keeps one UTC offset over the years a query touches (no DST).
pub(crate) fn has_fixed_offset(cal: &Calendar, years: Option<(i32, i32)>) -> bool {
    use chrono::{NaiveDate, Offset, TimeZone};
    if cal.time_zone == chrono_tz::Tz::UTC {
        return true;
    }
    let Some((from, to)) = years else { return false };
    let offset = |year: i32, month: u32| NaiveDate::from_ymd_opt(year, month, 1).map(|d| cal.time_zone.offset_from_utc_date(&d).fix());
    let first = offset(from, 1);
    first.is_some() && (from..=to).all(|y| offset(y, 1) == first && offset(y, 7) == first)
}

/// A date part of a time column in the calendar: zoned instants are read in the calendar's
/// zone, naive timestamps and dates are wall-clock times already.
pub(crate) fn date_part_value(column: Expr, column_type: &DataType, part: DatePart, cal: &Calendar) -> Expr {
    let local = match column_type {
        DataType::Timestamp(_, Some(_)) => cast(column, period_type(cal)),
        _ => column,
    };
    let field = |name: &str| cast(date_part(lit(name), local.clone()), DataType::Int64);
    match part {
        // DataFusion's `dow` counts from Sunday = 0; ISO from Monday = 1.
        DatePart::DayOfWeek => (field("dow") + lit(6i64)) % lit(7i64) + lit(1i64),
        DatePart::Year => field("year"),
        DatePart::Quarter => field("quarter"),
        DatePart::Month => field("month"),
        DatePart::Week => field("week"),
        DatePart::Day => field("day"),
        DatePart::DayOfYear => field("doy"),
        DatePart::Hour => field("hour"),
        DatePart::Minute => field("minute"),
    }
}
