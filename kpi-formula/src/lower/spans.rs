//! Windowed distinct counts from spans: the exact `rolling`, `to_date` and `cumulative`
//! `count_distinct` without joining every period with every row of its window.
//!
//! Each distinct value (per dimension group) counts in the union of the windows of the periods
//! it occurs in. With its occurrences `d1 < d2 < ...` (period starts) that union is the disjoint
//! spans `[dj, min(end of dj's reach, d(j+1)))`, where a rolling window of `n` periods reaches
//! `n` periods on, a to-date window to the end of its unit, a cumulative one forever. So the
//! count of a period is the number of spans covering it: +1 at each span's start, −1 at its
//! end, summed over the series (a window in [`Lowering::windows`]). Cost: the distinct
//! (period, value) pairs plus the periods, instead of periods × rows per window.
//!
//! Period arithmetic adds intervals to period starts, which is exact in UTC only; other
//! calendars use the range join of [`Lowering::holistic`].

use datafusion::error::DataFusionError;
use datafusion::functions::expr_fn::{greatest, least};
use datafusion::functions_window::expr_fn::lead;
use datafusion::logical_expr::{ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, when};
use datafusion::prelude::{Expr, lit};
use datafusion::scalar::ScalarValue;

use crate::error::FormulaError;
use crate::ir::Window;
use crate::period::{Calendar, Grain};

use super::expr::aggregate;
use super::series::WindowRows;
use super::table_periods::table_period;
use super::time::{period_literal, period_type};
use super::{Lowering, ucol};
use crate::ir::AggFunc;

/// The period start `start` moved by `n` periods of `grain`: an interval added, or for the
/// periods of a calendar table a step through the table.
fn shift(start: Expr, grain: Grain, n: i32, cal: &Calendar) -> Expr {
    if cal.table_for(grain).is_some() {
        return table_period(start, &period_type(cal), grain, cal, i64::from(n));
    }
    start + periods(grain, n)
}

/// `n` periods of `grain` as an interval.
fn periods(grain: Grain, n: i32) -> Expr {
    let minute = 60_000_000_000i64;
    let (months, days, nanos) = match grain {
        Grain::Minute => (0, 0, i64::from(n) * minute),
        Grain::Hour => (0, 0, i64::from(n) * 60 * minute),
        Grain::Day => (0, n, 0),
        Grain::Week => (0, 7 * n, 0),
        Grain::Month => (n, 0, 0),
        Grain::Quarter => (3 * n, 0, 0),
        Grain::Year => (12 * n, 0, 0),
    };
    lit(ScalarValue::new_interval_mdn(months, days, nanos))
}

impl Lowering<'_> {
    /// Span events of slot `i` per period and dimension group: `__hp{i}`, `__hd{i}_{k}`, `__e{i}`.
    pub(super) fn spans(&self, i: usize) -> Result<LogicalPlan, FormulaError> {
        let s = &self.slots[i];
        let (Some(grain), Some(range), Some(start)) = (self.grain, self.range, self.spine_start) else {
            return Err(DataFusionError::Internal("windows need a grain and a range".into()).into());
        };
        let WindowRows { rows, cols, filter, .. } = self.window_rows(i)?;
        let dims: Vec<String> = (0..self.dims()).map(|k| format!("__d{k}")).collect();
        let rows = match filter {
            Some(f) => rows.filter(f)?,
            None => rows,
        };
        // Nulls are not counted; each value once per period.
        let rows = rows.project(cols)?.filter(ucol("__x").is_not_null())?.distinct()?;

        let mut partition: Vec<Expr> = dims.iter().map(|d| ucol(d)).collect();
        partition.push(ucol("__x"));
        let next =
            lead(ucol("__b"), Some(1), None).partition_by(partition).order_by(vec![ucol("__b").sort(true, false)]).build()?.alias("__next");
        let reach = match s.agg.window {
            Window::Rolling(span, _) => Some(shift(ucol("__b"), grain, span.periods_of(grain).unwrap_or(1) as i32, &self.cal)),
            Window::ToDate(unit) => {
                // The period after the last one that starts inside the unit: with weeks in
                // months, the week holding the 1st still belongs to the month before.
                let unit_end = shift(self.bucket(ucol("__b"), &period_type(&self.cal), unit), unit, 1, &self.cal);
                let last = self.bucket(unit_end - lit(ScalarValue::new_interval_mdn(0, 0, 1_000)), &period_type(&self.cal), grain);
                Some(shift(last, grain, 1, &self.cal))
            }
            _ => None,
        };
        let stop = match reach {
            Some(r) => least(vec![r, ucol("__next")]),
            None => ucol("__next"),
        };
        // One row per span start and one per span end inside the series: a two-row VALUES of
        // signs joined to every span, so the window above is evaluated once.
        let first = period_literal(start, &self.cal);
        let end = period_literal(range.end, &self.cal);
        let signs =
            LogicalPlanBuilder::values(vec![vec![lit(1i64)], vec![lit(-1i64)]])?.project([ucol("column1").alias("__sign")])?.build()?;
        let spans = rows
            .window(vec![next])?
            .project(dims.iter().map(|d| ucol(d)).chain([ucol("__b"), stop.alias("__stop")]).collect::<Vec<_>>())?;
        let events =
            spans.cross_join(signs)?.filter(ucol("__sign").eq(lit(1i64)).or(ucol("__stop").is_not_null().and(ucol("__stop").lt(end))))?;
        let at = when(ucol("__sign").eq(lit(1i64)), ucol("__b")).otherwise(ucol("__stop"))?;
        let mut group = vec![greatest(vec![at, first]).alias(format!("__hp{i}"))];
        group.extend(dims.iter().enumerate().map(|(k, d)| ucol(d).alias(format!("__hd{i}_{k}"))));
        let sum = aggregate(AggFunc::Sum, Some(ucol("__sign")), None)?.alias(format!("__e{i}"));
        Ok(events.aggregate(group, [sum])?.build()?)
    }
}
