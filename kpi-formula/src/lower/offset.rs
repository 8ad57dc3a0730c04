//! Offsets by a calendar span that is not a whole number of query periods (`prev(x, '1 month')`
//! by day): the period each period's value is taken from, found by the engine's own calendar.
//!
//! A month back from 31 March is 29 February, and `interval` arithmetic on zoned timestamps
//! fails on times a DST change skips; [`Calendar::before`] clamps and resolves both the same way
//! as windows do, so the function computes it per distinct period (a series has few).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::DateTime;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, TimestampMicrosecondType};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::prelude::Expr;

use super::time::period_type;
use crate::period::{Calendar, CalendarSpan, Grain};

/// The start of the period of `grain` holding `period` (a period start) moved back by `span`.
pub(crate) fn period_before(period: Expr, span: CalendarSpan, grain: Grain, calendar: &Calendar) -> Expr {
    let udf = PeriodBefore { signature: Signature::any(1, Volatility::Immutable), span, grain, calendar: calendar.clone() };
    ScalarUDF::from(udf).call(vec![period])
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct PeriodBefore {
    signature: Signature,
    span: CalendarSpan,
    grain: Grain,
    calendar: Calendar,
}

impl PeriodBefore {
    fn back(&self, micros: i64) -> i64 {
        DateTime::from_timestamp_micros(micros)
            .map(|t| self.calendar.period_start(self.calendar.before(t, self.span), self.grain).timestamp_micros())
            .unwrap_or(micros)
    }
}

impl ScalarUDFImpl for PeriodBefore {
    fn name(&self) -> &str {
        "period_before"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(period_type(&self.calendar))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let tz = Some(Arc::from(self.calendar.time_zone.name()));
        match args.args.as_slice() {
            [ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(t, _))] => {
                Ok(ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(t.map(|t| self.back(t)), tz)))
            }
            [ColumnarValue::Array(array)] if matches!(array.data_type(), DataType::Timestamp(..)) => {
                let periods = array.as_primitive::<TimestampMicrosecondType>();
                let mut seen: HashMap<i64, i64> = HashMap::new();
                let values: Vec<i64> = periods.values().iter().map(|t| *seen.entry(*t).or_insert_with(|| self.back(*t))).collect();
                let out = TimestampMicrosecondArray::new(values.into(), periods.nulls().cloned()).with_timezone_opt(tz);
                Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
            }
            _ => exec_err!("period_before takes one period column"),
        }
    }
}
