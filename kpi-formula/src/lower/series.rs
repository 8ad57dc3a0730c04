//! The series side of lowering: the period spine, the result's keys, and the windows of
//! `rolling`, `to_date` and `cumulative` (from partial states, or from rows by a range join).

use std::sync::Arc;

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::common::DFSchema;
use datafusion::error::DataFusionError;
use datafusion::functions::expr_fn::{coalesce, greatest, least};
use datafusion::functions_aggregate::min_max::{max_udaf, min_udaf};
use datafusion::functions_aggregate::sum::sum_udaf;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{
    ExprFunctionExt, JoinType, LogicalPlan, LogicalPlanBuilder, WindowFrame, WindowFrameBound, WindowFrameUnits, WindowFunctionDefinition,
    when,
};
use datafusion::prelude::{Expr, lit};
use datafusion::scalar::ScalarValue;

use crate::error::FormulaError;
use crate::ir::{AggFunc, Window};
use crate::period::Grain;

use super::expr::aggregate;
use super::ragged::Ragged;
use super::time::{period_literal, period_type};
use super::{Kind, Lowering, MAX_PERIODS, f64_of, ucol};

/// The partial states a windowed aggregate keeps: `s` sum, `c` count, `m` min or max.
fn partial_suffixes(func: AggFunc) -> &'static [&'static str] {
    match func {
        AggFunc::Sum => &["s"],
        AggFunc::Count => &["c"],
        AggFunc::Avg => &["s", "c"],
        _ => &["m"],
    }
}

/// The value of a windowed aggregate from its window columns `__w{i}_*` (and, for cumulative,
/// the totals before the series `__pre{i}_*`).
pub(super) fn partial_value(i: usize, func: AggFunc, cumulative: bool) -> Result<Expr, FormulaError> {
    let w = |sfx: &str| ucol(&format!("__w{i}_{sfx}"));
    let pre = |sfx: &str| ucol(&format!("__pre{i}_{sfx}"));
    let sum = || if cumulative { coalesce(vec![pre("s") + w("s"), pre("s"), w("s")]) } else { w("s") };
    let count = || {
        let c = coalesce(vec![w("c"), lit(0i64)]);
        if cumulative { c + coalesce(vec![pre("c"), lit(0i64)]) } else { c }
    };
    Ok(match func {
        AggFunc::Sum => f64_of(sum()),
        AggFunc::Count => f64_of(count()),
        AggFunc::Avg => {
            let count = f64_of(count());
            when(count.clone().eq(lit(0.0)), lit(ScalarValue::Float64(None))).otherwise(f64_of(sum()) / count)?
        }
        AggFunc::Min if cumulative => f64_of(least(vec![w("m"), pre("m")])),
        AggFunc::Max if cumulative => f64_of(greatest(vec![w("m"), pre("m")])),
        _ => f64_of(w("m")),
    })
}

/// What [`Lowering::window_rows`] gives.
pub(super) struct WindowRows {
    pub(super) rows: LogicalPlanBuilder,
    pub(super) cols: Vec<Expr>,
    pub(super) filter: Option<Expr>,
    /// Whether the window has a lower bound (all but `cumulative`).
    pub(super) lo: bool,
}

impl Lowering<'_> {
    /// The periods of the series as a `VALUES` list of instants inside each period, bucketed by
    /// the same expression as the data so keys match exactly; with each period's window start.
    fn spine(&self, window: Option<Window>) -> Result<LogicalPlanBuilder, FormulaError> {
        let (Some(grain), Some(range), Some(start)) = (self.grain, self.range, self.spine_start) else {
            return Err(DataFusionError::Internal("a period series needs a grain and a range".into()).into());
        };
        let periods = self.cal.periods(start, range.end, grain, MAX_PERIODS)?;
        let rows: Vec<Vec<Expr>> = periods
            .iter()
            .map(|&p| {
                let next = self.cal.add_periods(p, grain, 1);
                let mut row = vec![period_literal(p + (next - p) / 2, &self.cal)];
                match window {
                    Some(Window::Rolling(span, _)) => {
                        let back = 1 - i64::from(span.periods_of(grain).unwrap_or(1));
                        row.push(period_literal(self.cal.add_periods(p, grain, back), &self.cal));
                    }
                    Some(Window::ToDate(unit)) => row.push(period_literal(self.cal.period_start(p, unit), &self.cal)),
                    _ => {}
                }
                row
            })
            .collect();
        let mut cols = vec![self.bucket(ucol("column1"), &period_type(&self.cal), grain).alias("__period")];
        let mut fields = vec![Field::new("column1", period_type(&self.cal), false)];
        if matches!(window, Some(Window::Rolling(..) | Window::ToDate(_))) {
            cols.push(ucol("column2").alias("__wstart"));
            fields.push(Field::new("column2", period_type(&self.cal), false));
        }
        // Typed VALUES: DataFusion need not infer a type from every row.
        let schema = Arc::new(DFSchema::try_from(Schema::new(fields))?);
        Ok(LogicalPlanBuilder::values_with_schema(rows, &schema)?.project(cols)?)
    }

    /// Every (`__period`, `__d*`) key of the result, from the aggregates of each table.
    pub(super) fn keys(&self, aggregates: &[(String, LogicalPlan)]) -> Result<LogicalPlanBuilder, FormulaError> {
        let dims = |j: usize| -> Vec<Expr> { (0..self.dims()).map(|k| ucol(&format!("__g{j}_{k}")).alias(format!("__d{k}"))).collect() };
        let union_of = |parts: Vec<(usize, bool)>| -> Result<Option<LogicalPlanBuilder>, FormulaError> {
            let mut out: Option<LogicalPlanBuilder> = None;
            for (j, with_period) in parts {
                let mut cols = Vec::new();
                if with_period {
                    cols.push(ucol(&format!("__p{j}")).alias("__period"));
                }
                cols.extend(dims(j));
                let projected = LogicalPlanBuilder::from(aggregates[j].1.clone()).project(cols)?.build()?;
                out = Some(match out {
                    None => LogicalPlanBuilder::from(projected),
                    Some(b) => b.union(projected)?,
                });
            }
            Ok(out.map(LogicalPlanBuilder::distinct).transpose()?)
        };
        let no_tables = || DataFusionError::Plan("dimensions need a formula that reads a table".into());
        Ok(match (self.grain, self.range) {
            (Some(_), Some(_)) => {
                let periods = self.spine(None)?;
                if self.dims() == 0 {
                    periods
                } else {
                    periods.cross_join(self.dimension_groups(aggregates)?.ok_or_else(no_tables)?.build()?)?
                }
            }
            (Some(_), None) => {
                let timed = aggregates.iter().enumerate().filter(|(_, (t, _))| self.is_time_table(t)).map(|(j, _)| (j, true)).collect();
                union_of(timed)?.ok_or_else(no_tables)?
            }
            (None, _) if self.dims() > 0 => self.dimension_groups(aggregates)?.ok_or_else(no_tables)?,
            (None, _) => LogicalPlanBuilder::values(vec![vec![lit(1)]])?,
        })
    }

    /// The dimension groups (`__d*`) with rows in the scanned range of any aggregated table.
    /// Grouping the rows by the dimensions alone costs far less than projecting them out of the
    /// table's aggregate: DataFusion would compute that aggregate a second time, periods and all.
    fn dimension_groups(&self, aggregates: &[(String, LogicalPlan)]) -> Result<Option<LogicalPlanBuilder>, FormulaError> {
        let (lo, hi) = self.bounds();
        let mut out: Option<LogicalPlanBuilder> = None;
        for (table, _) in aggregates {
            let dims: Vec<Expr> =
                self.q.scopes[table.as_str()].dimensions.iter().enumerate().map(|(k, d)| self.column(d).alias(format!("__d{k}"))).collect();
            let groups = self.rows(table, &[], lo, hi)?.aggregate(dims, Vec::<Expr>::new())?.build()?;
            out = Some(match out {
                None => LogicalPlanBuilder::from(groups),
                Some(b) => b.union(groups)?,
            });
        }
        Ok(match out {
            Some(b) if aggregates.len() > 1 => Some(b.distinct()?),
            other => other,
        })
    }

    /// The rows a window of slot `i` reads (from as far back as its first period's window
    /// starts), the columns `__b` (period), `__d{k}` (dimensions) and `__x` (argument), and the
    /// aggregate's filter; with the window's lower bound.
    pub(super) fn window_rows(&self, i: usize) -> Result<WindowRows, FormulaError> {
        let s = &self.slots[i];
        let table = s.agg.table.as_str();
        let (Some(grain), Some(range)) = (self.grain, self.range) else {
            return Err(DataFusionError::Internal("windows need a grain and a range".into()).into());
        };
        let start = self.spine_start.unwrap_or(range.start);
        let ragged = Ragged::of(s.agg.window, Some(grain));
        let lo = match (s.agg.window, ragged) {
            (_, Some(ragged)) => Some(self.ragged_reach(ragged, start)),
            (Window::Rolling(span, _), None) => {
                Some(self.cal.add_periods(start, grain, 1 - i64::from(span.periods_of(grain).unwrap_or(1))))
            }
            (Window::ToDate(unit), None) => Some(self.cal.period_start(start, unit)),
            _ => None,
        };
        let rows = self.rows(table, &self.slot_exprs(table), lo, Some(range.end))?;
        let (t, ty) = self.time_column(table).ok_or_else(|| DataFusionError::Internal(format!("`{table}` has no time column")))?;
        // Ragged windows bucket rows by their sub-periods, whose boundaries all windows keep.
        let mut cols = vec![self.bucket(t, &ty, ragged.map_or(grain, |r| r.sub)).alias("__b")];
        for (k, dim) in self.q.scopes[table].dimensions.iter().enumerate() {
            cols.push(self.column(dim).alias(format!("__d{k}")));
        }
        cols.push(s.agg.arg.as_ref().map(|a| self.row(a)).transpose()?.unwrap_or_else(|| lit(1)).alias("__x"));
        let filter = s.agg.filter.as_ref().map(|f| self.row(f)).transpose()?;
        Ok(WindowRows { rows, cols, filter, lo: lo.is_some() })
    }

    /// A median, percentile or distinct count over a window: periods joined with the rows of
    /// their window, then aggregated: `__hp{i}`, `__hd{i}_{k}`, `__a{i}`.
    pub(super) fn holistic(&self, i: usize) -> Result<LogicalPlan, FormulaError> {
        let s = &self.slots[i];
        if let Some(ragged) = Ragged::of(s.agg.window, self.grain) {
            return self.ragged_holistic(i, ragged);
        }
        let (rows, value, lo) = self.joined_rows(i)?;
        let mut on = ucol("__b").lt_eq(ucol("__period"));
        if lo {
            on = on.and(ucol("__b").gt_eq(ucol("__wstart")));
        }
        let joined = self.spine(Some(s.agg.window))?.join_on(rows.build()?, JoinType::Inner, [on])?;
        let mut group = vec![ucol("__period").alias(format!("__hp{i}"))];
        group.extend((0..self.dims()).map(|k| ucol(&format!("__d{k}")).alias(format!("__hd{i}_{k}"))));
        Ok(joined.aggregate(group, [value.alias(format!("__a{i}"))])?.build()?)
    }

    /// The rows slot `i`'s windows join (bucket `__b`, `__d{k}`, `__x`, and its filter as
    /// `__f`; distinct values only, filtered first, for a distinct count), the aggregate over
    /// the joined rows, and whether the window has a lower bound.
    pub(super) fn joined_rows(&self, i: usize) -> Result<(LogicalPlanBuilder, Expr, bool), FormulaError> {
        let func = self.slots[i].agg.func;
        let WindowRows { rows, mut cols, filter, lo } = self.window_rows(i)?;
        if func == AggFunc::CountDistinct {
            // Distinct values per period first: far fewer rows to join with the periods.
            let rows = match filter {
                Some(f) => rows.filter(f)?,
                None => rows,
            };
            return Ok((rows.project(cols)?.distinct()?, aggregate(func, Some(ucol("__x")), None)?, lo));
        }
        cols.push(filter.unwrap_or_else(|| lit(true)).alias("__f"));
        Ok((rows.project(cols)?, aggregate(func, Some(ucol("__x")), Some(ucol("__f")))?, lo))
    }

    /// Window frames over the dense series turning per-period partials `__a{i}_*` into
    /// rolling, to-date and cumulative states `__w{i}_*`.
    pub(super) fn windows(&self, b: LogicalPlanBuilder) -> Result<LogicalPlanBuilder, FormulaError> {
        let Some(grain) = self.grain else { return Ok(b) };
        let mut windows = Vec::new();
        let dims: Vec<Expr> = (0..self.dims()).map(|k| ucol(&format!("__d{k}"))).collect();
        for (i, _) in self.slots.iter().enumerate().filter(|(_, s)| s.kind == Kind::Spans) {
            // A period's distinct count: the span events up to and including it.
            let frame = WindowFrame::new_bounds(
                WindowFrameUnits::Rows,
                WindowFrameBound::Preceding(ScalarValue::UInt64(None)),
                WindowFrameBound::CurrentRow,
            );
            let events = coalesce(vec![ucol(&format!("__e{i}")), lit(0i64)]);
            let w = Expr::from(WindowFunction::new(WindowFunctionDefinition::AggregateUDF(sum_udaf()), vec![events]))
                .partition_by(dims.clone())
                .order_by(vec![ucol("__period").sort(true, false)])
                .window_frame(frame)
                .build()?
                .alias(format!("__a{i}"));
            windows.push((None, w));
        }
        for (i, s) in self.slots.iter().enumerate().filter(|(_, s)| s.kind == Kind::Partial) {
            let mut partition: Vec<Expr> = (0..self.dims()).map(|k| ucol(&format!("__d{k}"))).collect();
            let start = match s.agg.window {
                Window::Rolling(span, _) => {
                    WindowFrameBound::Preceding(ScalarValue::UInt64(Some(u64::from(span.periods_of(grain).unwrap_or(1) - 1))))
                }
                _ => WindowFrameBound::Preceding(ScalarValue::UInt64(None)),
            };
            let unit = match s.agg.window {
                Window::ToDate(unit) => Some(unit),
                _ => None,
            };
            if let Some(unit) = unit {
                partition.push(self.bucket(ucol("__period"), &period_type(&self.cal), unit));
            }
            let frame = WindowFrame::new_bounds(WindowFrameUnits::Rows, start, WindowFrameBound::CurrentRow);
            for suffix in partial_suffixes(s.agg.func) {
                let udaf = match (*suffix, s.agg.func) {
                    ("m", AggFunc::Min) => min_udaf(),
                    ("m", _) => max_udaf(),
                    _ => sum_udaf(),
                };
                let w =
                    Expr::from(WindowFunction::new(WindowFunctionDefinition::AggregateUDF(udaf), vec![ucol(&format!("__a{i}_{suffix}"))]))
                        .partition_by(partition.clone())
                        .order_by(vec![ucol("__period").sort(true, false)])
                        .window_frame(frame.clone())
                        .build()?
                        .alias(format!("__w{i}_{suffix}"));
                windows.push((unit, w));
            }
        }
        // One window node per partition (DataFusion plans a node's windows with one sort):
        // `to_date` partitions by its unit as well, and formulas lowered together may mix it
        // with other windows.
        let mut b = b;
        let mut keys: Vec<Option<Grain>> = windows.iter().map(|(k, _)| *k).collect();
        keys.sort();
        keys.dedup();
        for key in keys {
            let group: Vec<Expr> = windows.iter().filter(|(k, _)| *k == key).map(|(_, w)| w.clone()).collect();
            b = b.window(group)?;
        }
        Ok(b)
    }
}
