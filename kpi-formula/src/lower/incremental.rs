//! The pieces a streaming view needs to maintain a query from per-period partial states instead
//! of re-running its plan: the row-level expressions (period, dimensions, filters, aggregate
//! arguments) and the formula over the aggregates' values, lowered exactly as the plan lowers
//! them, so maintained values agree with calculated ones.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::TableSource;
use datafusion::prelude::{Expr, cast};

use crate::error::FormulaError;
use crate::ir::{AggFunc, ColumnRef, MetricLeaf, RowExpr, Window};
use crate::period::{Calendar, Grain, TimeRange};
use crate::query::{CompiledQuery, EmptyPeriods};

use super::expr::scalar_to_df;
use super::time::{period_type, time_bounds};
use super::{Leaf, Lowering, TableSources, finish_value, ucol};

/// A query whose value for each period and dimension group depends only on that period's and
/// group's rows of one table, lowered to what an incremental evaluator needs.
///
/// Expressions over rows use columns qualified by [`IncrementalPlan::table`]; [`value`] uses
/// one unqualified column per aggregate, `__a0`, `__a1`, ... (see [`IncrementalPlan::input_type`]).
///
/// [`value`]: IncrementalPlan::value
#[derive(Clone, Debug)]
pub struct IncrementalPlan {
    /// The one table aggregated.
    pub table: String,
    /// The grain of the periods.
    pub grain: Grain,
    /// The calendar periods follow.
    pub calendar: Calendar,
    /// The start of each row's period, as microseconds since the epoch (`Int64`).
    pub period: Expr,
    /// The type of the result's `period` column.
    pub period_type: DataType,
    /// The dimension values of each row, in the result's order.
    pub dimensions: Vec<Expr>,
    /// The result's dimension column names.
    pub dimension_labels: Vec<String>,
    /// Which rows count at all: the time range, the query filter and security filters.
    pub rows: Option<Expr>,
    /// The aggregates, in the order of their `__a{i}` columns.
    pub aggregates: Vec<IncrementalAggregate>,
    /// The formula's value (`Float64`) over the aggregates' values.
    pub value: Expr,
    /// The periods covered: the query's range widened to whole periods, or `None` for the
    /// data's bounds.
    pub range: Option<TimeRange>,
    /// Whether periods without rows appear.
    pub empty_periods: EmptyPeriods,
}

/// One aggregate of an [`IncrementalPlan`].
#[derive(Clone, Debug)]
pub struct IncrementalAggregate {
    /// The function.
    pub func: AggFunc,
    /// Its argument over the table's rows; `None` counts rows.
    pub arg: Option<Expr>,
    /// Its `where` filter.
    pub filter: Option<Expr>,
}

impl IncrementalPlan {
    /// The type [`IncrementalPlan::value`] expects in the column of an aggregate: `Int64` for
    /// counts, `Float64` for the rest.
    pub fn input_type(func: AggFunc) -> DataType {
        if func.is_count() { DataType::Int64 } else { DataType::Float64 }
    }
}

/// Sources for lowering expressions alone: no plan is built, so no table is scanned.
struct NoSources;

impl TableSources for NoSources {
    fn source(&self, table: &str) -> Result<Arc<dyn TableSource>, DataFusionError> {
        Err(DataFusionError::Plan(format!("no scan of `{table}` while lowering expressions")))
    }
}

impl CompiledQuery {
    /// The query as an [`IncrementalPlan`], when each of its values depends only on its own
    /// period's and group's rows of one table: a grain, one time table, no `prev`, `growth` or
    /// window functions, and columns of that table alone (no relationship paths) in the
    /// formula, dimensions and filters. `None` otherwise: such a query must be recalculated.
    pub fn incremental(&self) -> Option<IncrementalPlan> {
        let grain = self.query.grain?;
        let mut tables = self.scopes.keys();
        let (table, None) = (tables.next()?, tables.next()) else { return None };
        let scope = &self.scopes[table];
        let model = self.tables.get(table)?;
        model.time_column.as_ref()?;
        let mut own = true;
        let mut check = |c: &ColumnRef| own &= c.path.is_empty() && c.table == *table;
        let mut check_row = |e: &RowExpr| e.for_each_leaf(&mut check);
        let mut windowed = false;
        self.formula.expr.for_each_leaf(&mut |leaf| match leaf {
            MetricLeaf::Prev(..) => windowed = true,
            MetricLeaf::Aggregate(a) => {
                windowed |= a.window != Window::Period || a.snapshot.is_some() || a.conversion.is_some() || a.reads_entities();
                a.arg.iter().chain(a.filter.iter()).for_each(&mut check_row);
            }
        });
        scope.filter.iter().chain(self.security.get(table)).for_each(&mut check_row);
        scope.dimensions.iter().for_each(&mut check);
        if windowed || !own {
            return None;
        }
        self.lower_incremental(table, grain).ok()
    }

    fn lower_incremental(&self, table: &str, grain: Grain) -> Result<IncrementalPlan, FormulaError> {
        let mut l = Lowering {
            q: self,
            sources: &NoSources,
            cal: self.query.calendar.clone(),
            grain: Some(grain),
            range: self.range,
            spine_start: None,
            slots: Vec::new(),
            pers: Vec::new(),
            // The general bucketing, right in every zone whatever the data's years.
            fixed_offset: false,
            years: None,
        };
        let metric = l.collect(&self.formula.expr);
        let (time, time_type) = l.time_column(table).ok_or_else(|| DataFusionError::Plan(format!("`{table}` has no time column")))?;
        let period = cast(l.bucket(time.clone(), &time_type, grain), DataType::Int64);
        let mut conditions = Vec::new();
        if let Some(range) = self.range
            && let Some(c) = time_bounds(time, &time_type, Some(range.start), Some(range.end), &l.cal)
        {
            conditions.push(c);
        }
        if let Some(security) = self.security.get(table) {
            conditions.push(l.row(security)?);
        }
        if let Some(filter) = &self.scopes[table].filter {
            conditions.push(l.row(filter)?);
        }
        let aggregates = l
            .slots
            .iter()
            .map(|s| {
                let arg = s.agg.arg.as_ref().map(|a| l.row(a)).transpose()?;
                let filter = s.agg.filter.as_ref().map(|f| l.row(f)).transpose()?;
                Ok(IncrementalAggregate { func: s.agg.func, arg, filter })
            })
            .collect::<Result<Vec<_>, FormulaError>>()?;
        let value = scalar_to_df(&metric, &l.cal, &mut |leaf| match leaf {
            Leaf::Slot(i) => Ok(finish_value(ucol(&format!("__a{i}")), l.slots[*i].agg.func)),
            Leaf::Prev(..) => Err(DataFusionError::Plan("`prev` cannot be maintained incrementally".into()).into()),
        })?;
        Ok(IncrementalPlan {
            table: table.to_string(),
            grain,
            calendar: self.query.calendar.clone(),
            period,
            period_type: period_type(&self.query.calendar),
            dimensions: self.scopes[table].dimensions.iter().map(|d| l.column(d)).collect(),
            dimension_labels: self.dimensions.iter().map(|d| d.label.clone()).collect(),
            rows: conditions.into_iter().reduce(Expr::and),
            aggregates,
            value: super::f64_of(value),
            range: self.range,
            empty_periods: self.query.empty_periods,
        })
    }
}
