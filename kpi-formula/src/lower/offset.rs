//! Offsets by a calendar span that is not a whole number of query periods (`prev(x, '1 month')`
//! by day): the period each period's value is taken from, found by the engine's own calendar:
//! the one starting where the period's start moved back by the span lands, or none.
//!
//! A month back from 31 March is 29 February, and `interval` arithmetic on zoned timestamps
//! fails on times a DST change skips; [`Calendar::before`] clamps and resolves both the same way
//! as windows do, so the function computes it per distinct period (a series has few).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::DateTime;
use datafusion::arrow::array::{ArrayRef, AsArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, TimestampMicrosecondType};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::prelude::Expr;

use super::time::period_type;
use crate::period::{Calendar, CalendarSpan, Grain};

/// `period` (a period start) moved back by `span`, or null where that is no period's start.
pub(crate) fn period_before(period: Expr, span: CalendarSpan, grain: Grain, calendar: &Calendar) -> Expr {
    let udf = PeriodBefore { signature: Signature::any(1, Volatility::Immutable), span, grain, calendar: calendar.clone() };
    ScalarUDF::from(udf).call(vec![period])
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct PeriodBefore {
    pub(super) signature: Signature,
    pub(super) span: CalendarSpan,
    pub(super) grain: Grain,
    pub(super) calendar: Calendar,
}

impl PeriodBefore {
    /// The start moved back, when it is the start of a period (as MetricFlow joins
    /// `DATEADD(span, period) = DATE_TRUNC(grain, time)`: a week less a month starts no week).
    fn back(&self, micros: i64) -> Option<i64> {
        let moved = self.calendar.before(DateTime::from_timestamp_micros(micros)?, self.span);
        (self.calendar.period_start(moved, self.grain) == moved).then(|| moved.timestamp_micros())
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
                Ok(ColumnarValue::Scalar(ScalarValue::TimestampMicrosecond(t.and_then(|t| self.back(t)), tz)))
            }
            [ColumnarValue::Array(array)] if matches!(array.data_type(), DataType::Timestamp(..)) => {
                let periods = array.as_primitive::<TimestampMicrosecondType>();
                let mut seen: HashMap<i64, Option<i64>> = HashMap::new();
                let out: TimestampMicrosecondArray =
                    periods.iter().map(|t| t.and_then(|t| *seen.entry(t).or_insert_with(|| self.back(t)))).collect();
                let out = out.with_timezone_opt(tz);
                Ok(ColumnarValue::Array(Arc::new(out) as ArrayRef))
            }
            _ => exec_err!("period_before takes one period column"),
        }
    }
}
