//! Semi-additive aggregates: `last(sum(balances.amount))` sums the rows at each period's last
//! time, `last(sum(...), balances.account_id)` each account's rows at its own last time.
//!
//! The rows of the range get the edge time of their partition (the period, and the entity when
//! there is one) by a window `max` (`min` for `first`), keep only the rows at it, and then
//! aggregate by period and dimensions. As in MetricFlow's `non_additive_dimension`, the
//! dimensions asked for do not partition the edge: a region without rows at the period's last
//! time has no balance then. The aggregate's own filter selects rows before the edge is taken.

use datafusion::error::DataFusionError;
use datafusion::functions_aggregate::min_max::{max_udaf, min_udaf};
use datafusion::logical_expr::expr::WindowFunction;
use datafusion::logical_expr::{ExprFunctionExt, LogicalPlan, WindowFunctionDefinition};
use datafusion::prelude::{Expr, lit};

use crate::error::FormulaError;
use crate::ir::SnapshotAt;

use super::expr::aggregate;
use super::{Lowering, ucol};

impl Lowering<'_> {
    /// Slot `i`, a snapshot aggregate: `__hp{i}` (with a grain), `__hd{i}_{k}`, `__a{i}`.
    pub(super) fn snapshot(&self, i: usize) -> Result<LogicalPlan, FormulaError> {
        let s = &self.slots[i];
        let (table, Some(snapshot)) = (s.agg.table.as_str(), &s.agg.snapshot) else {
            return Err(DataFusionError::Internal("a snapshot slot without a snapshot".into()).into());
        };
        let (t, ty) = self.time_column(table).ok_or_else(|| DataFusionError::Internal(format!("`{table}` has no time column")))?;
        let (lo, hi) = self.bounds();
        let mut exprs = self.slot_exprs(table);
        exprs.extend(snapshot.per.iter());
        let rows = self.rows(table, &exprs, lo, hi)?;

        let mut cols = vec![t.clone().alias("__t")];
        let mut edge_of = Vec::new();
        if let Some(grain) = self.grain {
            cols.push(self.bucket(t, &ty, grain).alias("__b"));
            edge_of.push(ucol("__b"));
        }
        for (k, d) in self.q.scopes[table].dimensions.iter().enumerate() {
            cols.push(self.column(d).alias(format!("__d{k}")));
        }
        if let Some(entity) = &snapshot.per {
            cols.push(self.row(entity)?.alias("__e"));
            edge_of.push(ucol("__e"));
        }
        cols.push(s.agg.arg.as_ref().map(|a| self.row(a)).transpose()?.unwrap_or_else(|| lit(1)).alias("__x"));
        let rows = match &s.agg.filter {
            Some(f) => rows.filter(self.row(f)?)?,
            None => rows,
        };
        let udaf = match snapshot.at {
            SnapshotAt::Last => max_udaf(),
            SnapshotAt::First => min_udaf(),
        };
        let edge = Expr::from(WindowFunction::new(WindowFunctionDefinition::AggregateUDF(udaf), vec![ucol("__t")]))
            .partition_by(edge_of)
            .build()?
            .alias("__edge");
        let at_edge = rows.project(cols)?.window(vec![edge])?.filter(ucol("__t").eq(ucol("__edge")))?;

        let mut group = Vec::new();
        if self.grain.is_some() {
            group.push(ucol("__b").alias(format!("__hp{i}")));
        }
        group.extend((0..self.dims()).map(|k| ucol(&format!("__d{k}")).alias(format!("__hd{i}_{k}"))));
        let value = aggregate(s.agg.func, Some(ucol("__x")), None)?.alias(format!("__a{i}"));
        Ok(at_edge.aggregate(group, [value])?.build()?)
    }
}
