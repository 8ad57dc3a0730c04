//! Distinct counts per period as two grouped aggregations: first by period and the counted
//! value, then by period counting the values. DataFusion's own rewrite
//! (`SingleDistinctToGroupBy`) does the same but never sees our aggregates, which are aliased.
//! Measured over 10M demo orders (release, 2 cores, medians of 3): `active_customers` by month
//! 700 → 509 ms, `orders_per_customer` 689 → 617 ms, DAU over 20M activity rows unchanged; with
//! dimensions the per-group hash sets of one phase were faster (by region 828 vs 996 ms), so
//! queries with dimensions keep one phase.

use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::Expr;

use super::expr::aggregate;
use super::{Kind, Lowering, ucol};
use crate::error::FormulaError;
use crate::ir::AggFunc;
use crate::query::EmptyPeriods;

impl Lowering<'_> {
    /// Table `j`'s per-period aggregates (as [`Lowering::table_aggregate`] names them) in two
    /// phases, when the query has no dimensions and every aggregate of the table is a distinct
    /// count of one value without a condition, or a count, min or max (whose partial results
    /// merge exactly); `None` otherwise.
    pub(super) fn distinct_in_two_phases(
        &self,
        j: usize,
        table: &str,
        rows: LogicalPlanBuilder,
        group: &[Expr],
    ) -> Result<Option<LogicalPlan>, FormulaError> {
        if !self.q.scopes[table].dimensions.is_empty() {
            return Ok(None);
        }
        let mut counted: Option<Expr> = None;
        for s in self.slots.iter().filter(|s| s.agg.table == table) {
            match (s.kind, s.agg.func) {
                (Kind::Plain, AggFunc::CountDistinct) => {
                    let (Some(arg), None) = (&s.agg.arg, &s.agg.filter) else { return Ok(None) };
                    let arg = self.row(arg)?;
                    if counted.get_or_insert_with(|| arg.clone()) != &arg {
                        return Ok(None);
                    }
                }
                (Kind::Plain, AggFunc::Count | AggFunc::Min | AggFunc::Max) => {}
                (Kind::Plain | Kind::Partial, _) => return Ok(None),
                // Planned apart from the table's per-period aggregate.
                (Kind::Holistic | Kind::Spans | Kind::Snapshot | Kind::Conversion, _) => {}
            }
        }
        let Some(counted) = counted else { return Ok(None) };
        let names = group.iter().map(|g| g.schema_name().to_string()).collect::<Vec<_>>();
        let mut first_group = group.to_vec();
        first_group.push(counted.alias("__dv"));
        let mut first = Vec::new();
        let mut second: Vec<Expr> = Vec::new();
        if self.q.query.empty_periods == EmptyPeriods::Omit {
            first.push(aggregate(AggFunc::Count, None, None)?.alias("__dn"));
            second.push(agg::sum(ucol("__dn")).alias(format!("__n{j}")));
        }
        for (i, s) in self.slots.iter().enumerate().filter(|(_, s)| s.agg.table == table && s.kind == Kind::Plain) {
            let part = format!("__dp{i}");
            match s.agg.func {
                AggFunc::CountDistinct => second.push(agg::count(ucol("__dv")).alias(format!("__a{i}"))),
                AggFunc::Count => {
                    first.push(self.slot_aggregate(s, AggFunc::Count)?.alias(&part));
                    second.push(agg::sum(ucol(&part)).alias(format!("__a{i}")));
                }
                AggFunc::Min | AggFunc::Max => {
                    first.push(self.slot_aggregate(s, s.agg.func)?.alias(&part));
                    let merged = if s.agg.func == AggFunc::Min { agg::min(ucol(&part)) } else { agg::max(ucol(&part)) };
                    second.push(merged.alias(format!("__a{i}")));
                }
                // Refused by the check above.
                _ => return Ok(None),
            }
        }
        // A subquery between the two and a projection over the second, so SQL written from the
        // plan (to_sql, pushdown) nests them as two SELECTs (DataFusion's unparser drops an
        // aggregate over a subquery that feeds a join directly).
        // Unqualified, as the one-phase aggregate's columns are.
        let outputs: Vec<Expr> =
            names.iter().map(|n| ucol(n).alias(n)).chain(second.iter().map(|a| ucol(&a.schema_name().to_string()))).collect();
        let plan = rows
            .aggregate(first_group, first)?
            .alias(format!("__distinct{j}"))?
            .aggregate(names.iter().map(|n| ucol(n)), second)?
            .project(outputs)?
            .build()?;
        Ok(Some(plan))
    }
}
