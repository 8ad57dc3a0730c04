//! Rolling windows that are not a whole number of query periods: `rolling(x, '30 days')` by
//! month, `rolling(x, '2 months')` by day, and windows summarised over sub-periods.
//!
//! The window frames of [`Lowering::windows`] step whole periods, so these windows are a range
//! join instead: each period (or each of its sub-periods, for `average`) gets the instants its
//! window ends and starts at, and the rows, bucketed by the sub-period grain, join the windows
//! that cover them. Every bound is a boundary of that grain, so comparing buckets is exact.
//! Rows join as many windows as cover them: about one per row for a 30-day window by month.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::DFSchema;
use datafusion::error::DataFusionError;
use datafusion::functions_aggregate::expr_fn::{avg, max, sum};
use datafusion::logical_expr::{JoinType, LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::{Expr, lit};

use crate::error::FormulaError;
use crate::error::QueryError;
use crate::ir::{Summary, Window};
use crate::period::{CalendarSpan, Grain};

use super::time::{period_literal, period_type};
use super::{Lowering, MAX_PERIODS, f64_of, ucol};

/// A rolling window that the query's periods do not step in whole numbers.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ragged {
    pub(super) span: CalendarSpan,
    summary: Summary,
    /// The grain rows are bucketed by and windows end at: the finer of the window's unit and
    /// the query grain, or days where weeks meet months (neither divides the other).
    pub(super) sub: Grain,
}

impl Ragged {
    /// The ragged form of `window` at `grain`, if it needs one: a rolling span that is not a
    /// whole number of periods, or one summarised other than by its last window at a grain
    /// coarser than its unit.
    pub(super) fn of(window: Window, grain: Option<Grain>) -> Option<Ragged> {
        let (Window::Rolling(span, summary), Some(grain)) = (window, grain) else { return None };
        let whole = span.periods_of(grain).is_some();
        if whole && (summary == Summary::Last || span.unit >= grain) {
            return None;
        }
        let weeks_in_months = |a: Grain, b: Grain| a == Grain::Week && b.months().is_some();
        let sub = if weeks_in_months(span.unit, grain) || weeks_in_months(grain, span.unit) { Grain::Day } else { span.unit.min(grain) };
        Some(Ragged { span, summary, sub })
    }
}

impl Lowering<'_> {
    /// Where the rows of a ragged window of the series starting at `start` begin: the window
    /// ending with the first sub-period starts earliest.
    pub(super) fn ragged_reach(&self, ragged: Ragged, start: DateTime<Utc>) -> DateTime<Utc> {
        self.cal.before(self.cal.add_periods(self.cal.period_start(start, ragged.sub), ragged.sub, 1), ragged.span)
    }

    /// The windows of each period: `__period`, `__wstart`, `__wend` (the instants the window
    /// starts and ends at) and `__nsub` (the period's windows, for `average`).
    fn ragged_windows(&self, ragged: Ragged) -> Result<LogicalPlanBuilder, FormulaError> {
        let (Some(grain), Some(range), Some(start)) = (self.grain, self.range, self.spine_start) else {
            return Err(DataFusionError::Internal("a ragged window needs a grain and a range".into()).into());
        };
        let periods = self.cal.periods(start, range.end, grain, MAX_PERIODS)?;
        let mut rows: Vec<Vec<Expr>> = Vec::new();
        for p in periods {
            let next = self.cal.add_periods(p, grain, 1);
            let ends: Vec<DateTime<Utc>> = match ragged.summary {
                Summary::Last => vec![next],
                Summary::First => vec![self.cal.add_periods(p, ragged.sub, 1).min(next)],
                Summary::Average => {
                    let room = MAX_PERIODS.saturating_sub(rows.len()).max(1);
                    let subs = self
                        .cal
                        .periods(p, next, ragged.sub, room)
                        .map_err(|_| QueryError::TooManyPeriods { grain: ragged.sub, limit: MAX_PERIODS })?;
                    subs.into_iter().map(|q| self.cal.add_periods(q, ragged.sub, 1).min(next)).collect()
                }
            };
            let n = ends.len() as i64;
            for end in ends {
                if rows.len() == MAX_PERIODS {
                    return Err(QueryError::TooManyPeriods { grain: ragged.sub, limit: MAX_PERIODS }.into());
                }
                let mid = p + (next - p) / 2;
                let from = self.cal.before(end, ragged.span);
                rows.push(vec![period_literal(mid, &self.cal), period_literal(from, &self.cal), period_literal(end, &self.cal), lit(n)]);
            }
        }
        let ty = period_type(&self.cal);
        let fields = vec![
            Field::new("column1", ty.clone(), false),
            Field::new("column2", ty.clone(), false),
            Field::new("column3", ty.clone(), false),
            Field::new("column4", DataType::Int64, false),
        ];
        let cols = vec![
            self.bucket(ucol("column1"), &ty, grain).alias("__period"),
            ucol("column2").alias("__wstart"),
            ucol("column3").alias("__wend"),
            ucol("column4").alias("__nsub"),
        ];
        let schema = Arc::new(DFSchema::try_from(Schema::new(fields))?);
        Ok(LogicalPlanBuilder::values_with_schema(rows, &schema)?.project(cols)?)
    }

    /// Slot `i` over a ragged window, from rows bucketed by the sub-period grain:
    /// `__hp{i}`, `__hd{i}_{k}`, `__a{i}`.
    pub(super) fn ragged_holistic(&self, i: usize, ragged: Ragged) -> Result<LogicalPlan, FormulaError> {
        let s = &self.slots[i];
        let (rows, value, _) = self.joined_rows(i)?;
        let on = ucol("__b").gt_eq(ucol("__wstart")).and(ucol("__b").lt(ucol("__wend")));
        let joined = self.ragged_windows(ragged)?.join_on(rows.build()?, JoinType::Inner, [on])?;
        let dims: Vec<Expr> = (0..self.dims()).map(|k| ucol(&format!("__d{k}"))).collect();
        let named = |dims: &[Expr]| -> Vec<Expr> {
            let mut group = vec![ucol("__period").alias(format!("__hp{i}"))];
            group.extend(dims.iter().enumerate().map(|(k, d)| d.clone().alias(format!("__hd{i}_{k}"))));
            group
        };
        if ragged.summary != Summary::Average {
            return Ok(joined.aggregate(named(&dims), [value.alias(format!("__a{i}"))])?.build()?);
        }
        // Each window's value, then their average over the period. A count over a window
        // without rows is 0, so counts average over every window of the period; other
        // aggregates are null there, and the average skips them.
        let mut by_window = vec![ucol("__period"), ucol("__wend")];
        by_window.extend(dims.iter().cloned());
        let windows = joined.aggregate(by_window, [value.alias("__v"), max(ucol("__nsub")).alias("__n")])?;
        let mean = if s.agg.func.is_count() { f64_of(sum(ucol("__v"))) / f64_of(max(ucol("__n"))) } else { avg(f64_of(ucol("__v"))) };
        Ok(windows.aggregate(named(&dims), [mean.alias(format!("__a{i}"))])?.build()?)
    }
}
