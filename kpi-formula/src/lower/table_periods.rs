//! Periods of a calendar table (or retail calendar) in plans: a scalar function that finds the
//! period holding each time by binary search in the table's period starts.
//!
//! `date_trunc` knows only civil periods, and a `CASE` over every boundary of the supported
//! years would be thousands of branches per bucketed column; the function uses the same table
//! as [`Calendar::period_start`], so spines, offsets and data agree by construction.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::prelude::{Expr, cast};

use super::time::period_type;
use crate::period::{Calendar, Grain};

/// The start of the period of `grain` holding each value of a time column, moved by `shift`
/// periods, for a grain `calendar`'s table defines.
pub(crate) fn table_period(expr: Expr, column_type: &DataType, grain: Grain, calendar: &Calendar, shift: i64) -> Expr {
    let input = match column_type {
        // Zoned instants keep their instant; naive times and dates are wall-clock times.
        DataType::Timestamp(_, Some(_)) => cast(expr, period_type(calendar)),
        DataType::Timestamp(TimeUnit::Microsecond, None) => expr,
        _ => cast(expr, DataType::Timestamp(TimeUnit::Microsecond, None)),
    };
    let table = calendar.periods.as_deref();
    let micros_per_day = 86_400_000_000i64;
    let local = table
        .map(|t| t.days(grain).iter().map(|d| d.signed_duration_since(chrono::NaiveDate::default()).num_days() * micros_per_day).collect())
        .unwrap_or_default();
    let instants = table.map(|t| t.instants(calendar, grain)).unwrap_or_else(|| Arc::from(Vec::new()));
    let udf =
        TablePeriod { signature: Signature::any(1, Volatility::Immutable), grain, shift, calendar: calendar.clone(), local, instants };
    ScalarUDF::from(udf).call(vec![input])
}

#[derive(Debug)]
struct TablePeriod {
    signature: Signature,
    grain: Grain,
    shift: i64,
    calendar: Calendar,
    /// Period starts as wall-clock microseconds, the end of the table last.
    local: Arc<[i64]>,
    /// The same starts as instants in the calendar's zone.
    instants: Arc<[i64]>,
}

impl PartialEq for TablePeriod {
    fn eq(&self, other: &TablePeriod) -> bool {
        (self.grain, self.shift, &self.calendar) == (other.grain, other.shift, &other.calendar)
    }
}

impl Eq for TablePeriod {}

impl Hash for TablePeriod {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.grain, self.shift, &self.calendar).hash(state);
    }
}

impl TablePeriod {
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
        "calendar_period"
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
                return Err(self.outside(t, zoned));
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
