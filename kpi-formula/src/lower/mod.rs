//! Lowering: a compiled query to a DataFusion logical plan.
//!
//! The plan, for a query with a grain and a time range:
//!
//! 1. per aggregated table: scan → many-to-one joins → filters (time range widened back as far
//!    as the time functions need, query filter, security filters on every scan) → aggregate
//!    grouped by period and dimensions, filtered aggregates as `FILTER (WHERE ...)`;
//! 2. the keys: every period of the widened range (a `VALUES` spine bucketed by the same
//!    expression as the data) × every dimension group seen;
//! 3. the keys left-joined with each table's aggregates (null-safe on dimensions); every plan
//!    names its columns uniquely, so no aliases are needed;
//! 4. windows: `rolling`/`to_date`/`cumulative` of sums, counts, averages, minima and maxima from
//!    per-period partials with window frames over the dense series (plus, for `cumulative`, the
//!    totals before the range); of medians, percentiles and distinct counts by a range join of
//!    periods with rows, since those cannot be merged from partials;
//! 5. `prev` as `lag` over the dense series, so periods without rows count;
//! 6. the formula as a projection to `Float64`, the lookback periods dropped, sorted.

mod conversion;
mod distinct;
mod expr;
mod incremental;
mod known;
mod offset;
mod per;
mod percentile_disc;
mod ragged;
mod rows;
mod series;
mod shared;
mod snapshot;
mod spans;
mod table_periods;
mod time;
pub mod wire;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Utc};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Column, JoinType, NullEquality};
use datafusion::error::DataFusionError;
use datafusion::functions::expr_fn::coalesce;
use datafusion::functions_window::expr_fn::{first_value, lag};
use datafusion::logical_expr::{ExprFunctionExt, LogicalPlan, LogicalPlanBuilder, TableSource};
use datafusion::prelude::{Expr, lit};

use crate::error::FormulaError;
use crate::ir::{AggFunc, Aggregate, MetricExpr, MetricLeaf, RowExpr, Scalar, Shift, Window};
use crate::model::SemanticModel;
use crate::period::{Calendar, CalendarSpan, Grain, TimeRange};
use crate::query::{CompiledQuery, EmptyPeriods};

pub use incremental::{IncrementalAggregate, IncrementalPlan};
pub use shared::{ScanShape, to_shared_logical_plan};

use expr::{aggregate, scalar_to_df};
use ragged::Ragged;
use time::{bucket, has_fixed_offset, period_literal, period_type, time_bounds};

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
        self.lower(sources, false)
    }

    /// The plan as [`CompiledQuery::to_logical_plan`] builds it, but bucketing civil periods
    /// only with standard functions (`date_trunc`), so that it can be written as SQL for another
    /// database; slower in zones with DST changes.
    pub fn to_portable_logical_plan(&self, sources: &dyn TableSources) -> Result<LogicalPlan, FormulaError> {
        self.lower(sources, true)
    }

    fn lower(&self, sources: &dyn TableSources, portable: bool) -> Result<LogicalPlan, FormulaError> {
        let (l, metrics) = self.lowering(&[&self.formula.expr], sources, portable);
        l.build(&metrics, Values::One)
    }

    /// The lowering of `exprs` (this query's formula, or the formulas of queries sharing its
    /// scans) over this query's tables, dimensions, filters and range: the series widened back
    /// as far as any of them looks.
    fn lowering<'a>(&'a self, exprs: &[&MetricExpr], sources: &'a dyn TableSources, portable: bool) -> (Lowering<'a>, Vec<Scalar<Leaf>>) {
        let mut l = Lowering {
            q: self,
            sources,
            cal: self.query.calendar.clone(),
            grain: self.query.grain,
            range: self.range,
            spine_start: None,
            slots: Vec::new(),
            pers: Vec::new(),
            fixed_offset: false,
            years: None,
        };
        let metrics: Vec<Scalar<Leaf>> = exprs.iter().map(|e| l.collect(e)).collect();
        l.pers = per::per_entities(l.slots.iter().map(|s| &s.agg));
        if let (Some(grain), Some(range)) = (l.grain, l.range) {
            let mut start = range.start;
            for metric in &metrics {
                l.widen(metric, range.start, grain, &mut start);
            }
            l.spine_start = Some(start);
        }
        let cumulative = l.slots.iter().any(|s| s.agg.window == Window::Cumulative);
        let years = l.range.map(|r| {
            let start = l.spine_start.unwrap_or(r.start);
            let reach = l.slots.iter().filter_map(|s| Ragged::of(s.agg.window, l.grain)).map(|w| l.ragged_reach(w, start)).min();
            let first = if cumulative { 1970 } else { reach.unwrap_or(start).min(start).year() - 1 };
            (first, r.end.year() + 1)
        });
        l.fixed_offset = has_fixed_offset(&l.cal, years);
        l.years = years.filter(|_| !portable);
        (l, metrics)
    }
}

/// The value columns a plan ends with.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Values {
    /// One formula: `value`.
    One,
    /// The formulas of queries sharing their scans: `value_0`, `value_1`, ...
    Shared,
}

/// The most years of civil periods a bucket searches; longer ranges truncate in the zone.
const MAX_CIVIL_SEARCH_YEARS: i32 = 12;

/// How an aggregate is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Per period (or over the whole range without a grain; or static tables).
    Plain,
    /// A window over per-period partial states (sum, count, avg, min, max).
    Partial,
    /// A window over rows (median, percentile; count_distinct outside UTC).
    Holistic,
    /// A distinct count over a window, from the spans each value counts in (UTC calendars).
    Spans,
    /// A semi-additive aggregate over the rows at each period's last or first time.
    Snapshot,
    /// Conversion events matched to the base events they follow.
    Conversion,
}

struct Slot {
    agg: Aggregate,
    kind: Kind,
}

/// A formula leaf after lowering's bookkeeping: a computed aggregate, or a shift of a subtree.
enum Leaf {
    Slot(usize),
    Prev(Box<Scalar<Leaf>>, Shift),
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
    /// The per-entity values the aggregates' rows use, joined as `__pv{n}`.
    pers: Vec<Arc<crate::ir::PerEntity>>,
    /// The zone has one UTC offset over the data's years, so wall-clock times convert directly.
    fixed_offset: bool,
    /// The years the query's periods and windows touch, when it has a range.
    years: Option<(i32, i32)>,
}

/// An unqualified column. Every plan here names its columns uniquely (`__p0`, `__a3`, ...), so
/// joins need no aliases: fewer plan nodes, and DataFusion spends most planning time per node.
fn ucol(name: &str) -> Expr {
    Expr::Column(Column::from_name(name))
}

/// `e` as Float64, without stacking a cast on an expression that already is one.
fn f64_of(e: Expr) -> Expr {
    expr::float(e)
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
                MetricLeaf::Prev(inner, shift, _) => Leaf::Prev(Box::new(self.collect(inner)), *shift),
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
        // Without a grain, `cumulative` is everything up to the range's end: a plain aggregate
        // over rows read from the beginning (see `table_aggregate`).
        let grainless_cumulative = self.grain.is_none() && agg.window == Window::Cumulative && self.is_time_table(&a.table);
        if !timed && !grainless_cumulative {
            // A static table has one value for every period, so a window changes nothing.
            agg.window = Window::Period;
        }
        let kind = match agg.window {
            _ if agg.conversion.is_some() => Kind::Conversion,
            _ if agg.snapshot.is_some() => Kind::Snapshot,
            Window::Period => Kind::Plain,
            _ if grainless_cumulative => Kind::Plain,
            _ if Ragged::of(agg.window, self.grain).is_some() => Kind::Holistic,
            _ if agg.func.is_decomposable() => Kind::Partial,
            _ if agg.func == AggFunc::CountDistinct && self.cal.time_zone == chrono_tz::Tz::UTC => Kind::Spans,
            _ => Kind::Holistic,
        };
        if let Some(i) = self.slots.iter().position(|s| s.agg.same_as(&agg)) {
            return i;
        }
        self.slots.push(Slot { agg, kind });
        self.slots.len() - 1
    }

    /// Moves `start` back to the earliest period any aggregate needs.
    /// `first` is the earliest period `e` is asked for.
    fn widen(&self, e: &Scalar<Leaf>, first: DateTime<Utc>, grain: Grain, start: &mut DateTime<Utc>) {
        e.for_each_leaf(&mut |leaf| match leaf {
            Leaf::Prev(inner, Shift::Periods(n)) => self.widen(inner, self.cal.add_periods(first, grain, -i64::from(*n)), grain, start),
            Leaf::Prev(inner, Shift::ToStart(unit)) => {
                self.widen(inner, self.cal.period_start(self.cal.period_start(first, *unit), grain), grain, start)
            }
            Leaf::Prev(inner, Shift::Span(span)) => {
                self.widen(inner, self.cal.period_start(self.cal.before(first, *span), grain), grain, start)
            }
            Leaf::Slot(i) if self.is_time_table(&self.slots[*i].agg.table) => {
                let s = &self.slots[*i];
                let needed = match s.agg.window {
                    // A ragged window reads rows from its reach back; the series need not widen.
                    w if Ragged::of(w, Some(grain)).is_some() => first,
                    Window::Period | Window::Cumulative => first,
                    Window::Rolling(span, _) => self.cal.add_periods(first, grain, 1 - i64::from(span.periods_of(grain).unwrap_or(1))),
                    Window::ToDate(unit) => self.cal.period_start(self.cal.period_start(first, unit), grain),
                };
                *start = (*start).min(needed);
            }
            Leaf::Slot(_) => {}
        });
    }

    fn tables(&self) -> Vec<String> {
        self.q.scopes.keys().cloned().collect()
    }

    pub(crate) fn bucket(&self, column: Expr, column_type: &DataType, grain: Grain) -> Expr {
        if self.cal.table_for(grain).is_some() {
            return table_periods::table_period(column, column_type, grain, &self.cal, 0);
        }
        // In a zone with DST, civil days and longer are found among the starts of the years
        // the query touches (a few thousand at most).
        if let Some(years) = self.years.filter(|(from, to)| to - from <= MAX_CIVIL_SEARCH_YEARS)
            && !self.fixed_offset
            && grain >= Grain::Day
        {
            return table_periods::civil_period(column, column_type, grain, &self.cal, years);
        }
        bucket(column, column_type, grain, &self.cal, self.fixed_offset)
    }

    /// The period (if the table is bucketed) and dimension expressions of a table, named by `period` and `dim(k)`.
    fn period_and_dims(&self, table: &str, period: &str, dim: impl Fn(usize) -> String) -> Vec<Expr> {
        let mut group = Vec::new();
        if let (Some(g), Some((t, ty))) = (self.grain, self.time_column(table)) {
            group.push(self.bucket(t, &ty, g).alias(period));
        }
        for (k, d) in self.q.scopes[table].dimensions.iter().enumerate() {
            group.push(self.column(d).alias(dim(k)));
        }
        group
    }

    fn bounds(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        match self.range {
            Some(r) => (Some(self.spine_start.unwrap_or(r.start)), Some(r.end)),
            None => (None, None),
        }
    }

    fn slot_exprs(&self, table: &str) -> Vec<&RowExpr> {
        self.slots.iter().filter(|s| s.agg.table == table).flat_map(|s| s.agg.arg.iter().chain(s.agg.filter.iter())).collect()
    }

    /// Per-period aggregates of table `j`: `__p{j}`, `__g{j}_{k}`, `__n{j}` (rows) and `__a{i}`.
    fn table_aggregate(&self, j: usize, table: &str) -> Result<LogicalPlan, FormulaError> {
        let (mut lo, hi) = self.bounds();
        // A grainless `cumulative` reads from the beginning; the table's other aggregates keep
        // the range's start as a filter of their own.
        let mut since = None;
        if self.grain.is_none()
            && self.slots.iter().any(|s| s.agg.table == table && s.agg.window == Window::Cumulative)
            && let (Some(start), Some((t, ty))) = (lo.take(), self.time_column(table))
        {
            since = time_bounds(t, &ty, Some(start), None, &self.cal);
        }
        let rows = self.rows(table, &self.slot_exprs(table), lo, hi)?;
        let group = self.period_and_dims(table, &format!("__p{j}"), |k| format!("__g{j}_{k}"));
        if since.is_none()
            && let Some(plan) = self.distinct_in_two_phases(j, table, rows.clone(), &group)?
        {
            return Ok(plan);
        }
        let mut aggs = Vec::new();
        if self.q.query.empty_periods == EmptyPeriods::Omit {
            aggs.push(aggregate(AggFunc::Count, None, None)?.alias(format!("__n{j}")));
        }
        for (i, s) in self.slots.iter().enumerate().filter(|(_, s)| s.agg.table == table) {
            match s.kind {
                Kind::Plain => {
                    let since = since.clone().filter(|_| s.agg.window != Window::Cumulative);
                    aggs.push(self.slot_aggregate_where(s, s.agg.func, since)?.alias(format!("__a{i}")));
                }
                Kind::Partial => aggs.extend(self.partials(i, s, "__a")?),
                Kind::Holistic | Kind::Spans | Kind::Snapshot | Kind::Conversion => {}
            }
        }
        if group.is_empty() && aggs.is_empty() {
            // Every aggregate of the table is planned apart (a snapshot without a grain):
            // DataFusion refuses an aggregate of nothing.
            aggs.push(aggregate(AggFunc::Count, None, None)?.alias(format!("__n{j}")));
        }
        Ok(rows.aggregate(group, aggs)?.build()?)
    }

    fn slot_aggregate(&self, s: &Slot, func: AggFunc) -> Result<Expr, FormulaError> {
        self.slot_aggregate_where(s, func, None)
    }

    /// [`Lowering::slot_aggregate`] over the rows that also meet `also`.
    fn slot_aggregate_where(&self, s: &Slot, func: AggFunc, also: Option<Expr>) -> Result<Expr, FormulaError> {
        let arg = s.agg.arg.as_ref().map(|a| self.row(a)).transpose()?;
        let filter = s.agg.filter.as_ref().map(|f| self.row(f)).transpose()?;
        let filter = match (filter, also) {
            (Some(f), Some(a)) => Some(f.and(a)),
            (f, a) => f.or(a),
        };
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

    /// Totals before the series starts, per dimension group, for `cumulative` of table `j`:
    /// `__q{j}_{k}` and `__pre{i}_*`.
    fn before_series(&self, j: usize, table: &str) -> Result<Option<LogicalPlan>, FormulaError> {
        let cumulative: Vec<usize> = (0..self.slots.len())
            .filter(|&i| {
                let s = &self.slots[i];
                s.agg.table == table && s.kind == Kind::Partial && s.agg.window == Window::Cumulative
            })
            .collect();
        if cumulative.is_empty() {
            return Ok(None);
        }
        let rows = self.rows(table, &self.slot_exprs(table), None, self.spine_start)?;
        let group: Vec<Expr> =
            self.q.scopes[table].dimensions.iter().enumerate().map(|(k, d)| self.column(d).alias(format!("__q{j}_{k}"))).collect();
        let mut aggs = Vec::new();
        for i in cumulative {
            aggs.extend(self.partials(i, &self.slots[i], "__pre")?);
        }
        Ok(Some(rows.aggregate(group, aggs)?.build()?))
    }

    /// Left-joins `right` to the keys on the period (`period`, if given) and the dimensions `dim(k)`.
    fn join_to_keys(
        &self,
        keys: LogicalPlanBuilder,
        right: LogicalPlan,
        period: Option<String>,
        dim: impl Fn(usize) -> String,
    ) -> Result<LogicalPlanBuilder, FormulaError> {
        let mut left: Vec<Column> = Vec::new();
        let mut right_cols: Vec<Column> = Vec::new();
        if let Some(p) = period {
            left.push(Column::from_name("__period"));
            right_cols.push(Column::from_name(p));
        }
        for k in 0..self.dims() {
            left.push(Column::from_name(format!("__d{k}")));
            right_cols.push(Column::from_name(dim(k)));
        }
        if left.is_empty() {
            return Ok(keys.cross_join(right)?);
        }
        Ok(keys.join_detailed(right, JoinType::Left, (left, right_cols), None, NullEquality::NullEqualsNull)?)
    }

    fn build(&self, metrics: &[Scalar<Leaf>], values: Values) -> Result<LogicalPlan, FormulaError> {
        let tables = self.tables();
        let aggregates: Vec<(String, LogicalPlan)> =
            tables.iter().enumerate().map(|(j, t)| Ok((t.clone(), self.table_aggregate(j, t)?))).collect::<Result<_, FormulaError>>()?;
        let mut b = self.keys(&aggregates)?;
        for (j, (table, plan)) in aggregates.into_iter().enumerate() {
            let period = (self.grain.is_some() && self.is_time_table(&table)).then(|| format!("__p{j}"));
            b = self.join_to_keys(b, plan, period, |k| format!("__g{j}_{k}"))?;
            if let Some(pre) = self.before_series(j, &table)? {
                b = self.join_to_keys(b, pre, None, |k| format!("__q{j}_{k}"))?;
            }
        }
        for (i, s) in self.slots.iter().enumerate() {
            let (events, period) = match s.kind {
                Kind::Holistic => (self.holistic(i)?, true),
                Kind::Spans => (self.spans(i)?, true),
                Kind::Snapshot => (self.snapshot(i)?, self.grain.is_some()),
                Kind::Conversion => (self.conversion(i)?, self.grain.is_some()),
                _ => continue,
            };
            b = self.join_to_keys(b, events, period.then(|| format!("__hp{i}")), |k| format!("__hd{i}_{k}"))?;
        }
        b = self.windows(b)?;
        // One list of lags for all formulas: a `prev` they share is planned once.
        let mut lags = Vec::new();
        let values_of: Vec<Expr> = metrics.iter().map(|m| self.metric(&mut b, m, &mut lags)).collect::<Result<_, _>>()?;
        if let (Some(_), Some(range)) = (self.grain, self.range) {
            if self.spine_start.is_some_and(|s| s < range.start) {
                b = b.filter(ucol("__period").gt_eq(period_literal(range.start, &self.cal)))?;
            }
            if self.q.query.empty_periods == EmptyPeriods::Omit {
                let any_rows = (0..tables.len())
                    .map(|j| coalesce(vec![ucol(&format!("__n{j}")), lit(0i64)]).gt(lit(0i64)))
                    .reduce(Expr::or)
                    .unwrap_or(lit(true));
                b = b.filter(any_rows)?;
            }
        }
        let mut out = Vec::new();
        let mut order = Vec::new();
        let input_field = |name: &str| -> Result<Field, FormulaError> {
            Ok(b.schema().field_with_unqualified_name(name)?.as_ref().clone().with_name(name).with_nullable(true))
        };
        if self.grain.is_some() {
            out.push((ucol("__period").alias("period"), input_field("__period")?.with_name("period")));
            order.push(ucol("period").sort(true, false));
        }
        for (k, d) in self.q.dimensions.iter().enumerate() {
            out.push((ucol(&format!("__d{k}")).alias(d.label.clone()), input_field(&format!("__d{k}"))?.with_name(d.label.clone())));
            order.push(Expr::Column(Column::from_name(d.label.clone())).sort(true, false));
        }
        for (i, value) in values_of.into_iter().enumerate() {
            let name = match values {
                Values::One => "value".to_string(),
                Values::Shared => format!("value_{i}"),
            };
            out.push((f64_of(value).alias(&name), Field::new(name, DataType::Float64, true)));
        }
        let b = known::project(b, out)?;
        Ok(if order.is_empty() { b.build()? } else { b.sort(order)?.build()? })
    }

    /// The value of slot `i` over the joined (and windowed) plan.
    fn slot_value(&self, i: usize) -> Result<Expr, FormulaError> {
        let s = &self.slots[i];
        match s.kind {
            Kind::Plain | Kind::Holistic | Kind::Spans | Kind::Snapshot | Kind::Conversion => {
                Ok(finish_value(ucol(&format!("__a{i}")), s.agg.func))
            }
            Kind::Partial => series::partial_value(i, s.agg.func, s.agg.window == Window::Cumulative),
        }
    }

    /// The formula over the slots; each distinct `prev` adds a `lag` of its subexpression over
    /// the dense series, so every expression is planned once (DataFusion's planning time grows
    /// faster than linearly with expression size). `lags` remembers those built: `growth` uses
    /// its `prev` twice, and DataFusion mishandles a window expression repeated in a plan.
    fn metric(&self, b: &mut LogicalPlanBuilder, e: &Scalar<Leaf>, lags: &mut Vec<(Expr, Shift)>) -> Result<Expr, FormulaError> {
        scalar_to_df(e, &self.cal, &mut |leaf| match leaf {
            Leaf::Slot(i) => self.slot_value(*i),
            Leaf::Prev(inner, shift) => {
                let inner = self.metric(b, inner, lags)?;
                if let Some(k) = lags.iter().position(|(e, m)| *e == inner && m == shift) {
                    return Ok(ucol(&format!("__lag{k}")));
                }
                let name = format!("__lag{}", lags.len());
                lags.push((inner.clone(), *shift));
                let mut partition: Vec<Expr> = (0..self.dims()).map(|k| ucol(&format!("__d{k}"))).collect();
                let whole = |span: CalendarSpan| self.grain.and_then(|g| span.periods_of(g));
                let shifted = match *shift {
                    Shift::Span(span) if whole(span).is_none() => return self.value_before(b, inner, span, name),
                    Shift::Span(span) => lag(f64_of(inner), whole(span).map(i64::from), None),
                    Shift::Periods(n) => lag(f64_of(inner), Some(i64::from(n)), None),
                    // The dense series holds every period of the unit from its first (`widen`).
                    Shift::ToStart(unit) => {
                        partition.push(self.bucket(ucol("__period"), &period_type(&self.cal), unit));
                        first_value(f64_of(inner))
                    }
                };
                let shifted =
                    shifted.partition_by(partition).order_by(vec![ucol("__period").sort(true, false)]).build()?.alias(name.clone());
                let current = std::mem::replace(b, LogicalPlanBuilder::empty(false));
                *b = known::window(current, shifted, Field::new(&name, DataType::Float64, true))?;
                Ok(ucol(&name))
            }
        })
    }
}

impl Lowering<'_> {
    /// `inner` at the period holding each period's start moved back by `span`, joined from the
    /// series to itself (the offset is not a fixed number of rows: a month back by day is 28 to
    /// 31 days). The series holds those periods: `widen` reached back to them.
    fn value_before(&self, b: &mut LogicalPlanBuilder, inner: Expr, span: CalendarSpan, name: String) -> Result<Expr, FormulaError> {
        let Some(grain) = self.grain else {
            return Err(DataFusionError::Internal("an offset by a calendar span needs a grain".into()).into());
        };
        let current = std::mem::replace(b, LogicalPlanBuilder::empty(false)).build()?;
        let columns: Vec<Expr> = current.schema().columns().into_iter().map(Expr::Column).collect();
        let dims: Vec<String> = (0..self.dims()).map(|k| format!("__d{k}")).collect();
        let (at, their) = (format!("{name}_at"), |d: &str| format!("{name}_{d}"));
        let right = LogicalPlanBuilder::from(current.clone())
            .project(
                std::iter::once(ucol("__period").alias(format!("{name}_p")))
                    .chain(dims.iter().map(|d| ucol(d).alias(their(d))))
                    .chain([f64_of(inner).alias(&name)]),
            )?
            .build()?;
        let left_keys: Vec<Column> = std::iter::once(Column::from_name(&at)).chain(dims.iter().map(Column::from_name)).collect();
        let right_keys: Vec<Column> =
            std::iter::once(Column::from_name(format!("{name}_p"))).chain(dims.iter().map(|d| Column::from_name(their(d)))).collect();
        let shifted = offset::period_before(ucol("__period"), span, grain, &self.cal).alias(&at);
        *b = LogicalPlanBuilder::from(current)
            .project(columns.iter().cloned().chain([shifted]))?
            .join_detailed(right, JoinType::Left, (left_keys, right_keys), None, NullEquality::NullEqualsNull)?
            .project(columns.into_iter().chain([ucol(&name)]))?;
        Ok(ucol(&name))
    }
}

/// An aggregate's value as Float64; counts over no rows are 0, not null.
fn finish_value(e: Expr, func: AggFunc) -> Expr {
    if func.is_count() { coalesce(vec![f64_of(e), lit(0.0)]) } else { f64_of(e) }
}
