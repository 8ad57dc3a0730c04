//! Periods in plans found by binary search in a list of period starts: those of a calendar
//! table or retail calendar, and civil days, weeks, months, quarters and years in a zone with
//! DST changes.
//!
//! `date_trunc` knows only civil periods, and a `CASE` over every boundary of the supported
//! years would be thousands of branches per bucketed column; the function uses the same table
//! as [`Calendar::period_start`], so spines, offsets and data agree by construction. In a zone
//! with DST, `date_trunc` converts every value through the zone; a search in the starts of the
//! years a query touches, with the last period found remembered, is about twice as fast, and a
//! time outside those years is bucketed by the calendar itself.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, NaiveDate, NaiveTime};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::prelude::{Expr, cast};

use super::time::period_type;
use crate::period::{Calendar, Grain};

const MICROS_PER_DAY: i64 = 86_400_000_000;

fn day_micros(d: NaiveDate) -> i64 {
    d.signed_duration_since(NaiveDate::default()).num_days() * MICROS_PER_DAY
}

/// The input of the function: zoned instants keep their instant; naive times and dates are
/// wall-clock times.
fn input(expr: Expr, column_type: &DataType, calendar: &Calendar) -> Expr {
    match column_type {
        DataType::Timestamp(_, Some(_)) => cast(expr, period_type(calendar)),
        DataType::Timestamp(TimeUnit::Microsecond, None) => expr,
        _ => cast(expr, DataType::Timestamp(TimeUnit::Microsecond, None)),
    }
}

/// The start of the period of `grain` holding each value of a time column, moved by `shift`
/// periods, for a grain `calendar`'s table defines.
pub(crate) fn table_period(expr: Expr, column_type: &DataType, grain: Grain, calendar: &Calendar, shift: i64) -> Expr {
    let (local, instants) = match calendar.periods.as_deref() {
        Some(table) => cached(StartsKey::Table(table.fingerprint(), grain, calendar.time_zone), || {
            let days = table.days(grain);
            let instants = days.iter().map(|d| calendar.to_instant(d.and_time(NaiveTime::MIN)).timestamp_micros()).collect();
            (days.into_iter().map(day_micros).collect(), instants)
        }),
        None => (Arc::from(Vec::new()), Arc::from(Vec::new())),
    };
    let udf = TablePeriod {
        signature: Signature::any(1, Volatility::Immutable),
        grain,
        shift,
        calendar: calendar.clone(),
        civil: false,
        local,
        instants,
    };
    ScalarUDF::from(udf).call(vec![input(expr, column_type, calendar)])
}

/// The start of the civil period of `grain` (a day or longer) holding each value of a time
/// column, searched among the periods of the years `from..=to` (cached per calendar).
pub(crate) fn civil_period(expr: Expr, column_type: &DataType, grain: Grain, calendar: &Calendar, years: (i32, i32)) -> Expr {
    let (local, instants) = civil_starts(calendar, grain, years);
    let udf = TablePeriod {
        signature: Signature::any(1, Volatility::Immutable),
        grain,
        shift: 0,
        calendar: calendar.clone(),
        civil: true,
        local,
        instants,
    };
    ScalarUDF::from(udf).call(vec![input(expr, column_type, calendar)])
}

/// Period starts as wall-clock microseconds and as instants, the end appended.
type Starts = (Arc<[i64]>, Arc<[i64]>);

/// What a list of starts is of: a table's grain in a zone, or a civil calendar's grain over years.
#[derive(PartialEq, Eq, Hash)]
enum StartsKey {
    Table(u64, Grain, chrono_tz::Tz),
    Civil(chrono_tz::Tz, chrono::Weekday, chrono::Month, Grain, i32, i32),
}

/// The starts of `key`, computed once per process (a few hundred lists at most are kept).
fn cached(key: StartsKey, compute: impl FnOnce() -> Starts) -> Starts {
    static CACHE: OnceLock<Mutex<HashMap<StartsKey, Starts>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Mutex::default).lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = cache.get(&key) {
        return found.clone();
    }
    let starts = compute();
    if cache.len() >= 256 {
        cache.clear();
    }
    cache.insert(key, starts.clone());
    starts
}

/// The civil period starts of `years` as wall-clock days and instants, the end appended.
fn civil_starts(calendar: &Calendar, grain: Grain, (from, to): (i32, i32)) -> Starts {
    let key = StartsKey::Civil(calendar.time_zone, calendar.week_start, calendar.fiscal_year_start, grain, from, to);
    cached(key, || {
        let day = |year: i32| NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
        let at = |d: NaiveDate| calendar.to_instant(d.and_time(NaiveTime::MIN));
        let mut p = calendar.period_start(at(day(from)), grain);
        let end = at(day(to + 1));
        let (mut local, mut instants) = (Vec::new(), Vec::new());
        loop {
            // Periods of a day or longer start at local midnight (or the first time after a gap).
            local.push(day_micros(calendar.to_local(p).date()));
            instants.push(p.timestamp_micros());
            let next = calendar.add_periods(p, grain, 1);
            if p >= end || next <= p {
                break;
            }
            p = next;
        }
        (local.into(), instants.into())
    })
}

#[derive(Debug)]
pub(super) struct TablePeriod {
    pub(super) signature: Signature,
    pub(super) grain: Grain,
    pub(super) shift: i64,
    pub(super) calendar: Calendar,
    /// Civil periods: a time outside the starts is bucketed by the calendar, not refused.
    pub(super) civil: bool,
    /// Period starts as wall-clock microseconds, the end of the table last.
    pub(super) local: Arc<[i64]>,
    /// The same starts as instants in the calendar's zone.
    pub(super) instants: Arc<[i64]>,
}

impl PartialEq for TablePeriod {
    fn eq(&self, other: &TablePeriod) -> bool {
        (self.grain, self.shift, &self.calendar, self.civil) == (other.grain, other.shift, &other.calendar, other.civil)
    }
}

impl Eq for TablePeriod {}

impl Hash for TablePeriod {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.grain, self.shift, &self.calendar, self.civil).hash(state);
    }
}

impl TablePeriod {
    /// The civil period start of a time outside the starts, by the calendar's own arithmetic.
    fn by_calendar(&self, micros: i64, zoned: bool) -> Option<i64> {
        let t = DateTime::from_timestamp_micros(micros)?;
        let start = if zoned {
            self.calendar.period_start(t, self.grain)
        } else {
            self.calendar.to_instant(self.calendar.floor_naive(t.naive_utc().date(), self.grain))
        };
        Some(start.timestamp_micros())
    }

    fn outside(&self, micros: i64, zoned: bool) -> DataFusionError {
        let (name, first, end) = match self.calendar.periods.as_deref() {
            Some(t) => (t.name().to_string(), t.coverage().0, t.coverage().1),
            None => (String::new(), chrono::NaiveDate::MIN, chrono::NaiveDate::MIN),
        };
        let time = chrono::DateTime::from_timestamp_micros(micros)
            .map(|t| if zoned { self.calendar.to_local(t).to_string() } else { t.naive_utc().to_string() });
        let last = end.pred_opt().unwrap_or(end);
        DataFusionError::Execution(format!(
            "the time {} lies outside the calendar table `{name}`, which covers {first} to {last}; filter the rows to its days or extend the table",
            time.unwrap_or_else(|| micros.to_string())
        ))
    }
}

impl ScalarUDFImpl for TablePeriod {
    fn name(&self) -> &str {
        if self.civil { "civil_period" } else { "calendar_period" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(period_type(&self.calendar))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [arg] = args.args.as_slice() else { return exec_err!("calendar_period takes one argument") };
        let zoned = matches!(arg.data_type(), DataType::Timestamp(_, Some(_)));
        let starts = if zoned { &self.instants } else { &self.local };
        let last = self.instants.len().saturating_sub(1);
        // Rows mostly arrive in time order: remember the last period found.
        let mut hit: Option<(i64, i64, i64)> = None;
        let mut find = |t: i64| -> Result<i64> {
            if let Some((lo, hi, out)) = hit
                && lo <= t
                && t < hi
            {
                return Ok(out);
            }
            let at = starts.partition_point(|s| *s <= t);
            if at == 0 || at > last {
                return match self.civil.then(|| self.by_calendar(t, zoned)).flatten() {
                    Some(start) => Ok(start),
                    None => Err(self.outside(t, zoned)),
                };
            }
            let i = at - 1;
            let shifted = (i as i64).saturating_add(self.shift).clamp(0, last as i64) as usize;
            let out = self.instants[shifted];
            hit = Some((starts[i], starts[i + 1], out));
            Ok(out)
        };
        let tz = Some(Arc::from(self.calendar.time_zone.name()));
        match arg {
            ColumnarValue::Scalar(s) => {
                let value = match s {
                    ScalarValue::TimestampMicrosecond(Some(t), _) => Some(find(*t)?),
                    _ => None,
                };
                Ok(ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(value, tz)))
            }
            ColumnarValue::Array(array) => {
                let times = array.as_primitive::<TimestampMicrosecondType>();
                let mut out = Vec::with_capacity(times.len());
                for (i, t) in times.values().iter().enumerate() {
                    out.push(if times.is_valid(i) { find(*t)? } else { 0 });
                }
                let result = TimestampMicrosecondArray::new(out.into(), times.nulls().cloned()).with_timezone_opt(tz);
                Ok(ColumnarValue::Array(Arc::new(result) as ArrayRef))
            }
        }
    }
}
