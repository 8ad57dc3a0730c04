//! Lowering: a compiled query to a DataFusion logical plan.
//!
//! The plan, for a query with a grain and a time range:
//!
//! 1. per aggregated table: scan → many-to-one joins → filters (time range widened back as far
//!    as the time functions need, query filter, security filters on every scan) → aggregate
//!    grouped by period and dimensions, filtered aggregates as `FILTER (WHERE ...)`;
//! 2. the keys: every period of the widened range (a `VALUES` spine bucketed by the same
//!    expression as the data) × every dimension group seen;
//! 3. the keys left-joined with each table's aggregates (null-safe on dimensions);
//! 4. windows: `rolling`/`to_date`/`cumulative` of sums, counts, averages, minima and maxima from
//!    per-period partials with window frames over the dense series (plus, for `cumulative`, the
//!    totals before the range); of medians, percentiles and distinct counts by a range join of
//!    periods with rows, since those cannot be merged from partials;
//! 5. `prev` as `lag` over the dense series, so periods without rows count;
//! 6. the formula as a projection to `Float64`, the lookback periods dropped, sorted.

mod expr;
mod rows;
mod time;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Column, JoinType, NullEquality, TableReference};
use datafusion::error::DataFusionError;
use datafusion::functions::expr_fn::{coalesce, greatest, least, nullif};
use datafusion::functions_aggregate::min_max::{max_udaf, min_udaf};
use datafusion::functions_aggregate::sum::sum_udaf;
use datafusion::functions_window::expr_fn::lag;
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{
    ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, TableSource, WindowFrame, WindowFrameBound, WindowFrameUnits,
    WindowFunctionDefinition,
};
use datafusion::prelude::{Expr, cast, lit};
use datafusion::scalar::ScalarValue;

use crate::error::FormulaError;
use crate::ir::{AggFunc, Aggregate, MetricExpr, MetricLeaf, Scalar, Window};
use crate::model::SemanticModel;
use crate::period::{Calendar, Grain, TimeRange};
use crate::query::{CompiledQuery, EmptyPeriods};

use expr::{aggregate, scalar_to_df};
use time::{bucket, period_literal, period_type};

/// The most periods one query may span (the spine is a `VALUES` list).
pub const MAX_PERIODS: usize = 200_000;

/// Gives the DataFusion table source for each table name.
pub trait TableSources {
    /// The source of `table`.
    fn source(&self, table: &str) -> Result<Arc<dyn TableSource>, DataFusionError>;
}

impl TableSources for HashMap<String, Arc<dyn TableSource>> {
    fn source(&self, table: &str) -> Result<Arc<dyn TableSource>, DataFusionError> {
        self.get(table).cloned().ok_or_else(|| DataFusionError::Plan(format!("no data registered for table `{table}`")))
    }
}

/// Sources made from the model's schemas alone: enough to explain a plan or unparse it to SQL,
/// not to execute it.
pub struct ModelSources<'a>(pub &'a dyn SemanticModel);

impl TableSources for ModelSources<'_> {
    fn source(&self, table: &str) -> Result<Arc<dyn TableSource>, DataFusionError> {
        let t = self.0.table(table).ok_or_else(|| DataFusionError::Plan(format!("unknown table `{table}`")))?;
        Ok(Arc::new(datafusion::logical_expr::builder::LogicalTableSource::new(t.schema.clone())))
    }
}

impl CompiledQuery {
    /// Builds the DataFusion logical plan (unoptimised) of this query.
    ///
    /// The result has a `period` column (with a grain), one column per dimension named by its
    /// path as written, and `value` (`Float64`).
    pub fn to_logical_plan(&self, sources: &dyn TableSources) -> Result<LogicalPlan, FormulaError> {
        let mut l = Lowering {
            q: self,
            sources,
            cal: self.query.calendar,
            grain: self.query.grain,
            range: self.range,
            spine_start: None,
            slots: Vec::new(),
        };
        let metric = l.collect(&self.formula.expr);
        if let (Some(grain), Some(range)) = (l.grain, l.range) {
            let mut start = range.start;
            l.widen(&metric, 0, grain, range, &mut start);
            l.spine_start = Some(start);
        }
        l.build(&metric)
    }
}

/// How an aggregate is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Per period (or over the whole range without a grain; or static tables).
    Plain,
    /// A window over per-period partial states (sum, count, avg, min, max).
    Partial,
    /// A window over rows (median, percentile, count_distinct).
    Holistic,
}

struct Slot {
    agg: Aggregate,
    kind: Kind,
}

/// A formula leaf after lowering's bookkeeping: a computed aggregate, or a shift of a subtree.
enum Leaf {
    Slot(usize),
    Prev(Box<Scalar<Leaf>>, u32),
}

pub(crate) struct Lowering<'a> {
    pub(crate) q: &'a CompiledQuery,
    pub(crate) sources: &'a dyn TableSources,
    pub(crate) cal: Calendar,
    grain: Option<Grain>,
    range: Option<TimeRange>,
    /// First period of the dense series, before the range when time functions look back.
    spine_start: Option<DateTime<Utc>>,
    slots: Vec<Slot>,
}

fn ucol(name: &str) -> Expr {
    Expr::Column(Column::from_name(name))
}

fn qcol(qualifier: &str, name: &str) -> Expr {
    Expr::Column(Column::new(Some(TableReference::bare(qualifier)), name))
}

fn f64_of(e: Expr) -> Expr {
    cast(e, DataType::Float64)
}

impl Lowering<'_> {
    fn is_time_table(&self, table: &str) -> bool {
        self.q.tables.get(table).is_some_and(|t| t.time_column.is_some())
    }

    fn dims(&self) -> usize {
        self.q.dimensions.len()
    }

    fn collect(&mut self, e: &MetricExpr) -> Scalar<Leaf> {
        let mapped: Result<_, std::convert::Infallible> = e.try_map_leaves(&mut |leaf| {
            Ok(Scalar::Leaf(match leaf {
                MetricLeaf::Aggregate(a) => Leaf::Slot(self.slot(a)),
                MetricLeaf::Prev(inner, n, _) => Leaf::Prev(Box::new(self.collect(inner)), *n),
            }))
        });
        match mapped {
            Ok(m) => m,
            Err(never) => match never {},
        }
    }

    fn slot(&mut self, a: &Aggregate) -> usize {
        let timed = self.grain.is_some() && self.is_time_table(&a.table);
        let mut agg = a.clone();
        if !timed {
            // A static table has one value for every period, so a window changes nothing.
            agg.window = Window::Period;
        }
        let kind = match agg.window {
            Window::Period => Kind::Plain,
            _ if agg.func.is_decomposable() => Kind::Partial,
            _ => Kind::Holistic,
        };
        if let Some(i) = self.slots.iter().position(|s| s.agg.same_as(&agg)) {
            return i;
        }
        self.slots.push(Slot { agg, kind });
        self.slots.len() - 1
    }

    /// Moves `start` back to the earliest period any aggregate needs.
    fn widen(&self, e: &Scalar<Leaf>, offset: i64, grain: Grain, range: TimeRange, start: &mut DateTime<Utc>) {
        e.for_each_leaf(&mut |leaf| match leaf {
            Leaf::Slot(i) => {
                let s = &self.slots[*i];
                if !self.is_time_table(&s.agg.table) {
                    return;
                }
                let first = self.cal.add_periods(range.start, grain, -offset);
                let needed = match s.agg.window {
                    Window::Period | Window::Cumulative => first,
                    Window::Rolling(span) => self.cal.add_periods(first, grain, 1 - i64::from(span.periods_of(grain).unwrap_or(1))),
                    Window::ToDate(unit) => self.cal.period_start(self.cal.period_start(first, unit), grain),
                };
                *start = (*start).min(needed);
            }
            Leaf::Prev(inner, n) => self.widen(inner, offset + i64::from(*n), grain, range, start),
        });
    }

    fn tables(&self) -> Vec<String> {
        self.q.scopes.keys().cloned().collect()
    }

    fn dim_names(&self) -> Vec<String> {
        (0..self.dims()).map(|i| format!("__d{i}")).collect()
    }

    fn period_and_dims(&self, table: &str) -> (bool, Vec<Expr>) {
        let on_period = self.grain.is_some() && self.is_time_table(table);
        let mut group = Vec::new();
        if on_period && let (Some((t, ty)), Some(g)) = (self.time_column(table), self.grain) {
            group.push(bucket(t, &ty, g, &self.cal).alias("__period"));
        }
        for (i, d) in self.q.scopes[table].dimensions.iter().enumerate() {
            group.push(rows::column(d).alias(format!("__d{i}")));
        }
        (on_period, group)
    }

    fn bounds(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        match self.range {
            Some(r) => (Some(self.spine_start.unwrap_or(r.start)), Some(r.end)),
            None => (None, None),
        }
    }

    fn slot_exprs(&self, table: &str) -> Vec<&crate::ir::RowExpr> {
        self.slots.iter().filter(|s| s.agg.table == table).flat_map(|s| s.agg.arg.iter().chain(s.agg.filter.iter())).collect()
    }

    /// Per-period aggregates of one table: `__period`, `__d*`, `__rows`, `__a*`.
    fn table_aggregate(&self, table: &str) -> Result<LogicalPlan, FormulaError> {
        let (lo, hi) = self.bounds();
        let rows = self.rows(table, &self.slot_exprs(table), lo, hi)?;
        let (_, group) = self.period_and_dims(table);
        let mut aggs = vec![aggregate(AggFunc::Count, None, None)?.alias("__rows")];
        for (i, s) in self.slots.iter().enumerate().filter(|(_, s)| s.agg.table == table) {
            match s.kind {
                Kind::Plain => aggs.push(self.slot_aggregate(s, s.agg.func)?.alias(format!("__a{i}"))),
                Kind::Partial => aggs.extend(self.partials(i, s, "__a")?),
                Kind::Holistic => {}
            }
        }
        Ok(rows.aggregate(group, aggs)?.build()?)
    }

    fn slot_aggregate(&self, s: &Slot, func: AggFunc) -> Result<Expr, FormulaError> {
        let arg = s.agg.arg.as_ref().map(|a| self.row(a)).transpose()?;
        let filter = s.agg.filter.as_ref().map(|f| self.row(f)).transpose()?;
        let arg = match (func, s.agg.func) {
            (AggFunc::Sum, AggFunc::Avg) => arg.map(f64_of),
            _ => arg,
        };
        aggregate(func, arg, filter)
    }

    /// The mergeable partial states of a windowed aggregate: `_s` sum, `_c` count, `_m` min/max.
    fn partials(&self, i: usize, s: &Slot, prefix: &str) -> Result<Vec<Expr>, FormulaError> {
        let name = |suffix: &str| format!("{prefix}{i}_{suffix}");
        Ok(match s.agg.func {
            AggFunc::Sum => vec![self.slot_aggregate(s, AggFunc::Sum)?.alias(name("s"))],
            AggFunc::Count => vec![self.slot_aggregate(s, AggFunc::Count)?.alias(name("c"))],
            AggFunc::Avg => {
                let count = match &s.agg.arg {
                    Some(_) => self.slot_aggregate(s, AggFunc::Count)?,
                    None => aggregate(AggFunc::Count, None, None)?,
                };
                vec![self.slot_aggregate(s, AggFunc::Sum)?.alias(name("s")), count.alias(name("c"))]
            }
            AggFunc::Min | AggFunc::Max => vec![self.slot_aggregate(s, s.agg.func)?.alias(name("m"))],
            _ => Vec::new(),
        })
    }

    fn partial_suffixes(func: AggFunc) -> &'static [&'static str] {
        match func {
            AggFunc::Sum => &["s"],
            AggFunc::Count => &["c"],
            AggFunc::Avg => &["s", "c"],
            _ => &["m"],
        }
    }

    /// Totals before the series starts, per dimension group, for `cumulative` of one table.
    fn before_series(&self, table: &str) -> Result<Option<LogicalPlan>, FormulaError> {
        let cumulative: Vec<usize> = (0..self.slots.len())
            .filter(|&i| {
                self.slots[i].agg.table == table && self.slots[i].kind == Kind::Partial && self.slots[i].agg.window == Window::Cumulative
            })
            .collect();
        if cumulative.is_empty() {
            return Ok(None);
        }
        let rows = self.rows(table, &self.slot_exprs(table), None, self.spine_start)?;
        let group: Vec<Expr> =
            self.q.scopes[table].dimensions.iter().enumerate().map(|(i, d)| rows::column(d).alias(format!("__d{i}"))).collect();
        let mut aggs = Vec::new();
        for i in cumulative {
            aggs.extend(self.partials(i, &self.slots[i], "__pre")?);
        }
        Ok(Some(rows.aggregate(group, aggs)?.build()?))
    }

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
                let inside = p + (next - p) / 2;
                let mut row = vec![period_literal(inside, &self.cal)];
                match window {
                    Some(Window::Rolling(span)) => {
                        let back = 1 - i64::from(span.periods_of(grain).unwrap_or(1));
                        row.push(period_literal(self.cal.add_periods(p, grain, back), &self.cal));
                    }
                    Some(Window::ToDate(unit)) => row.push(period_literal(self.cal.period_start(p, unit), &self.cal)),
                    _ => {}
                }
                row
            })
            .collect();
        let mut cols = vec![bucket(ucol("column1"), &period_type(&self.cal), grain, &self.cal).alias("__period")];
        if matches!(window, Some(Window::Rolling(_) | Window::ToDate(_))) {
            cols.push(ucol("column2").alias("__wstart"));
        }
        Ok(LogicalPlanBuilder::values(rows)?.project(cols)?)
    }

    /// A median, percentile or distinct count over a window: periods joined with the rows of
    /// their window, then aggregated.
    fn holistic(&self, i: usize) -> Result<LogicalPlan, FormulaError> {
        let s = &self.slots[i];
        let table = s.agg.table.as_str();
        let (grain, range) = (self.grain.expect("windows need a grain"), self.range.expect("windows need a range"));
        let start = self.spine_start.unwrap_or(range.start);
        let lo = match s.agg.window {
            Window::Rolling(span) => Some(self.cal.add_periods(start, grain, 1 - i64::from(span.periods_of(grain).unwrap_or(1)))),
            Window::ToDate(unit) => Some(self.cal.period_start(start, unit)),
            _ => None,
        };
        let rows = self.rows(table, &self.slot_exprs(table), lo, Some(range.end))?;
        let (t, ty) = self.time_column(table).expect("windows apply to tables with a time column");
        let mut cols = vec![bucket(t, &ty, grain, &self.cal).alias("__b")];
        for (d, dim) in self.q.scopes[table].dimensions.iter().enumerate() {
            cols.push(rows::column(dim).alias(format!("__d{d}")));
        }
        cols.push(s.agg.arg.as_ref().map(|a| self.row(a)).transpose()?.unwrap_or_else(|| lit(1)).alias("__x"));
        let filter = s.agg.filter.as_ref().map(|f| self.row(f)).transpose()?;
        let mut rows = rows;
        if s.agg.func == AggFunc::CountDistinct {
            // Distinct values per period first: far fewer rows to join with the periods.
            if let Some(f) = filter.clone() {
                rows = rows.filter(f)?;
            }
            rows = rows.project(cols)?.distinct()?;
        } else {
            cols.push(filter.clone().unwrap_or_else(|| lit(true)).alias("__f"));
            rows = rows.project(cols)?;
        }
        let mut on = ucol("__b").lt_eq(ucol("__period"));
        if lo.is_some() {
            on = on.and(ucol("__b").gt_eq(ucol("__wstart")));
        }
        let joined = self.spine(Some(s.agg.window))?.join_on(rows.build()?, JoinType::Inner, [on])?;
        let mut group = vec![ucol("__period")];
        group.extend(self.dim_names().iter().map(|d| ucol(d)));
        let f = if s.agg.func == AggFunc::CountDistinct { None } else { Some(ucol("__f")) };
        let agg = aggregate(s.agg.func, Some(ucol("__x")), f)?.alias(format!("__a{i}"));
        Ok(joined.aggregate(group, [agg])?.build()?)
    }

    /// Every (period, dimensions) key of the result.
    fn keys(&self, aggregates: &[(String, LogicalPlan)]) -> Result<LogicalPlanBuilder, FormulaError> {
        let dims: Vec<Expr> = self.dim_names().iter().map(|d| ucol(d)).collect();
        let union_of = |plans: Vec<&LogicalPlan>, cols: &[Expr]| -> Result<Option<LogicalPlanBuilder>, FormulaError> {
            let mut out: Option<LogicalPlanBuilder> = None;
            for p in plans {
                let projected = LogicalPlanBuilder::from(p.clone()).project(cols.to_vec())?.build()?;
                out = Some(match out {
                    None => LogicalPlanBuilder::from(projected),
                    Some(b) => b.union(projected)?,
                });
            }
            Ok(match out {
                Some(b) => Some(b.distinct()?),
                None => None,
            })
        };
        let no_tables = || DataFusionError::Plan("dimensions need a formula that reads a table".into());
        let keys = match (self.grain, self.range) {
            (Some(_), Some(_)) => {
                let periods = self.spine(None)?;
                if dims.is_empty() {
                    periods
                } else {
                    let groups = union_of(aggregates.iter().map(|(_, p)| p).collect(), &dims)?.ok_or_else(no_tables)?;
                    periods.cross_join(groups.build()?)?
                }
            }
            (Some(_), None) => {
                let mut cols = vec![ucol("__period")];
                cols.extend(dims);
                let timed = aggregates.iter().filter(|(t, _)| self.is_time_table(t)).map(|(_, p)| p).collect();
                union_of(timed, &cols)?.ok_or_else(no_tables)?
            }
            (None, _) if !dims.is_empty() => union_of(aggregates.iter().map(|(_, p)| p).collect(), &dims)?.ok_or_else(no_tables)?,
            (None, _) => LogicalPlanBuilder::values(vec![vec![lit(1)]])?,
        };
        Ok(keys.alias("__k")?)
    }

    fn join_to_keys(
        &self,
        keys: LogicalPlanBuilder,
        right: LogicalPlan,
        alias: &str,
        on_period: bool,
    ) -> Result<LogicalPlanBuilder, FormulaError> {
        let right = LogicalPlanBuilder::from(right).alias(alias)?.build()?;
        let mut names = self.dim_names();
        if on_period {
            names.insert(0, "__period".to_string());
        }
        if names.is_empty() {
            return Ok(keys.cross_join(right)?);
        }
        let left: Vec<Column> = names.iter().map(|n| Column::new(Some(TableReference::bare("__k")), n)).collect();
        let right_cols: Vec<Column> = names.iter().map(|n| Column::new(Some(TableReference::bare(alias)), n)).collect();
        Ok(keys.join_detailed(right, JoinType::Left, (left, right_cols), None, NullEquality::NullEqualsNull)?)
    }

    fn build(&self, metric: &Scalar<Leaf>) -> Result<LogicalPlan, FormulaError> {
        let tables = self.tables();
        let aggregates: Vec<(String, LogicalPlan)> =
            tables.iter().map(|t| Ok((t.clone(), self.table_aggregate(t)?))).collect::<Result<_, FormulaError>>()?;
        let mut b = self.keys(&aggregates)?;
        let mut flat: Vec<Expr> = Vec::new();
        if self.grain.is_some() {
            flat.push(qcol("__k", "__period").alias("__period"));
        }
        for d in self.dim_names() {
            flat.push(qcol("__k", &d).alias(d.clone()));
        }
        let table_index: HashMap<&str, usize> = tables.iter().enumerate().map(|(j, t)| (t.as_str(), j)).collect();
        for (j, (table, plan)) in aggregates.into_iter().enumerate() {
            let alias = format!("__t{j}");
            let on_period = self.grain.is_some() && self.is_time_table(&table);
            b = self.join_to_keys(b, plan, &alias, on_period)?;
            flat.push(qcol(&alias, "__rows").alias(format!("__rows{j}")));
            if let Some(pre) = self.before_series(&table)? {
                b = self.join_to_keys(b, pre, &format!("__p{j}"), false)?;
            }
        }
        for (i, s) in self.slots.iter().enumerate() {
            let j = table_index[s.agg.table.as_str()];
            match s.kind {
                Kind::Plain => flat.push(finish_value(qcol(&format!("__t{j}"), &format!("__a{i}")), s.agg.func).alias(format!("__v{i}"))),
                Kind::Partial => {
                    for suffix in Self::partial_suffixes(s.agg.func) {
                        let name = format!("__a{i}_{suffix}");
                        flat.push(qcol(&format!("__t{j}"), &name).alias(name.clone()));
                        if s.agg.window == Window::Cumulative {
                            let pre = format!("__pre{i}_{suffix}");
                            flat.push(qcol(&format!("__p{j}"), &pre).alias(pre.clone()));
                        }
                    }
                }
                Kind::Holistic => {
                    let alias = format!("__h{i}");
                    b = self.join_to_keys(b, self.holistic(i)?, &alias, true)?;
                    flat.push(finish_value(qcol(&alias, &format!("__a{i}")), s.agg.func).alias(format!("__v{i}")));
                }
            }
        }
        b = b.project(flat)?;
        b = self.windows(b)?;
        let mut lags = Vec::new();
        let value = self.metric(&mut b, metric, &mut lags)?;
        if let (Some(_), Some(range)) = (self.grain, self.range) {
            b = b.filter(ucol("__period").gt_eq(period_literal(range.start, &self.cal)))?;
            if self.q.query.empty_periods == EmptyPeriods::Omit {
                let any_rows = (0..tables.len())
                    .map(|j| coalesce(vec![ucol(&format!("__rows{j}")), lit(0i64)]).gt(lit(0i64)))
                    .reduce(Expr::or)
                    .unwrap_or(lit(true));
                b = b.filter(any_rows)?;
            }
        }
        let mut out = Vec::new();
        let mut order = Vec::new();
        if self.grain.is_some() {
            out.push(ucol("__period").alias("period"));
            order.push(ucol("period").sort(true, false));
        }
        for (i, d) in self.q.dimensions.iter().enumerate() {
            out.push(ucol(&format!("__d{i}")).alias(d.label.clone()));
            order.push(Expr::Column(Column::from_name(d.label.clone())).sort(true, false));
        }
        out.push(f64_of(value).alias("value"));
        let b = b.project(out)?;
        Ok(if order.is_empty() { b.build()? } else { b.sort(order)?.build()? })
    }

    /// Window frames turning per-period partials into rolling, to-date and cumulative values.
    fn windows(&self, b: LogicalPlanBuilder) -> Result<LogicalPlanBuilder, FormulaError> {
        let partial: Vec<usize> = (0..self.slots.len()).filter(|&i| self.slots[i].kind == Kind::Partial).collect();
        if partial.is_empty() {
            return Ok(b);
        }
        let grain = self.grain.expect("windows need a grain");
        let existing: Vec<Expr> = b.schema().fields().iter().map(|f| ucol(f.name())).collect();
        let mut windows = Vec::new();
        let mut values = Vec::new();
        for &i in &partial {
            let s = &self.slots[i];
            let mut partition: Vec<Expr> = self.dim_names().iter().map(|d| ucol(d)).collect();
            let start = match s.agg.window {
                Window::Rolling(span) => {
                    WindowFrameBound::Preceding(ScalarValue::UInt64(Some(u64::from(span.periods_of(grain).unwrap_or(1) - 1))))
                }
                _ => WindowFrameBound::Preceding(ScalarValue::UInt64(None)),
            };
            if let Window::ToDate(unit) = s.agg.window {
                partition.push(bucket(ucol("__period"), &period_type(&self.cal), unit, &self.cal));
            }
            let frame = WindowFrame::new_bounds(WindowFrameUnits::Rows, start, WindowFrameBound::CurrentRow);
            for suffix in Self::partial_suffixes(s.agg.func) {
                let udaf = match (suffix, s.agg.func) {
                    (&"m", AggFunc::Min) => min_udaf(),
                    (&"m", _) => max_udaf(),
                    _ => sum_udaf(),
                };
                let w =
                    Expr::from(WindowFunction::new(WindowFunctionDefinition::AggregateUDF(udaf), vec![ucol(&format!("__a{i}_{suffix}"))]))
                        .partition_by(partition.clone())
                        .order_by(vec![ucol("__period").sort(true, false)])
                        .window_frame(frame.clone())
                        .build()?
                        .alias(format!("__w{i}_{suffix}"));
                windows.push(w);
            }
            let cumulative = s.agg.window == Window::Cumulative;
            let w = |sfx: &str| ucol(&format!("__w{i}_{sfx}"));
            let pre = |sfx: &str| ucol(&format!("__pre{i}_{sfx}"));
            let sum = || if cumulative { coalesce(vec![pre("s") + w("s"), pre("s"), w("s")]) } else { w("s") };
            let count = || {
                let c = coalesce(vec![w("c"), lit(0i64)]);
                if cumulative { c + coalesce(vec![pre("c"), lit(0i64)]) } else { c }
            };
            let value = match s.agg.func {
                AggFunc::Sum => f64_of(sum()),
                AggFunc::Count => f64_of(count()),
                AggFunc::Avg => f64_of(sum()) / nullif(f64_of(count()), lit(0.0)),
                AggFunc::Min if cumulative => f64_of(least(vec![w("m"), pre("m")])),
                AggFunc::Max if cumulative => f64_of(greatest(vec![w("m"), pre("m")])),
                _ => f64_of(w("m")),
            };
            values.push(value.alias(format!("__v{i}")));
        }
        let mut cols = existing;
        cols.extend(values);
        Ok(b.window(windows)?.project(cols)?)
    }

    /// The formula over the `__v*` columns; each distinct `prev` adds a `lag` window over the
    /// dense series. `lags` remembers those built: `growth` uses its `prev` twice, and DataFusion
    /// mishandles a window expression repeated in a plan, besides the wasted work.
    fn metric(&self, b: &mut LogicalPlanBuilder, e: &Scalar<Leaf>, lags: &mut Vec<(Expr, u32)>) -> Result<Expr, FormulaError> {
        scalar_to_df(e, &self.cal, &mut |leaf| match leaf {
            Leaf::Slot(i) => Ok(ucol(&format!("__v{i}"))),
            Leaf::Prev(inner, n) => {
                let inner = self.metric(b, inner, lags)?;
                if let Some(k) = lags.iter().position(|(e, m)| *e == inner && m == n) {
                    return Ok(ucol(&format!("__lag{k}")));
                }
                let name = format!("__lag{}", lags.len());
                lags.push((inner.clone(), *n));
                let partition: Vec<Expr> = self.dim_names().iter().map(|d| ucol(d)).collect();
                let shifted = lag(inner, Some(i64::from(*n)), None)
                    .partition_by(partition)
                    .order_by(vec![ucol("__period").sort(true, false)])
                    .build()?
                    .alias(name.clone());
                let current = std::mem::replace(b, LogicalPlanBuilder::empty(false));
                *b = current.window(vec![shifted])?;
                Ok(ucol(&name))
            }
        })
    }
}

/// An aggregate's value as Float64; counts over no rows are 0, not null.
fn finish_value(e: Expr, func: AggFunc) -> Expr {
    if func.is_count() { coalesce(vec![f64_of(e), lit(0.0)]) } else { f64_of(e) }
}
