//! Per-entity values (`per(bookings.listing_id, count(bookings))`): the expression is lowered as
//! a query of its own, without a grain or range (every row of the entity counts) and grouped by
//! the entity column, under the same calendar and security filters; its result is left-joined
//! to the rows that use it, so an entity without rows has no value (null).

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::common::JoinType;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder};
use datafusion::prelude::{Expr, cast};

use crate::error::FormulaError;
use crate::ir::{Aggregate, ColumnRef, PerEntity, RowExpr, ValueType};
use crate::query::{CompiledQuery, Dimension, TableScope, collect_roots};
use crate::resolve::ResolvedFormula;

use super::{Lowering, ucol};

/// Every per-entity value the row expressions of `aggregates` use, once each, in order.
pub(super) fn per_entities<'a>(aggregates: impl Iterator<Item = &'a Aggregate>) -> Vec<Arc<PerEntity>> {
    let mut found: Vec<Arc<PerEntity>> = Vec::new();
    for a in aggregates {
        for e in a.row_exprs() {
            e.for_each_leaf(&mut |c| {
                if let Some(p) = &c.per
                    && !found.iter().any(|f| f == p)
                {
                    found.push(p.clone());
                }
            });
        }
    }
    found
}

impl Lowering<'_> {
    /// The column of per-entity value `p` once joined: `__pv{n}`.
    pub(super) fn per_value(&self, p: &PerEntity) -> Expr {
        let n = self.pers.iter().position(|x| **x == *p).unwrap_or(usize::MAX);
        ucol(&format!("__pv{n}"))
    }

    /// `rows` with every per-entity value `exprs` use left-joined on its key.
    pub(super) fn join_per_entities(&self, mut rows: LogicalPlanBuilder, exprs: &[&RowExpr]) -> Result<LogicalPlanBuilder, FormulaError> {
        let mut joined: Vec<(Arc<PerEntity>, ColumnRef)> = Vec::new();
        for e in exprs {
            e.for_each_leaf(&mut |c| {
                if let Some(p) = &c.per
                    && !joined.iter().any(|(q, _)| q == p)
                {
                    joined.push((p.clone(), ColumnRef { per: None, ..c.clone() }));
                }
            });
        }
        for (p, key) in joined {
            let n = self.pers.iter().position(|x| *x == p).unwrap_or(usize::MAX);
            let values = self.per_entity_plan(&p, &key, n)?;
            let on = self.column(&key).eq(ucol(&format!("__pk{n}")));
            rows = rows.join_on(values, JoinType::Left, [on])?;
        }
        Ok(rows)
    }

    /// `__pk{n}` (the entity, as the type of the outer `key`) and `__pv{n}` (its value).
    fn per_entity_plan(&self, p: &PerEntity, key: &ColumnRef, n: usize) -> Result<LogicalPlan, FormulaError> {
        let mut query = self.q.query.clone();
        query.grain = None;
        query.range = None;
        query.filter = None;
        query.dimensions = vec!["__key".into()];
        let mut tables = std::collections::BTreeSet::new();
        p.metric.for_each_leaf(&mut |leaf| collect_roots(leaf, &mut tables));
        let mut scopes = BTreeMap::new();
        for t in &tables {
            scopes.insert(t.clone(), TableScope { dimensions: vec![p.key.clone()], filter: None });
        }
        let formula = ResolvedFormula {
            expr: p.metric.clone(),
            value_type: ValueType::Number,
            tables: self.q.formula.tables.clone(),
            columns: self.q.formula.columns.clone(),
            kpis: self.q.formula.kpis.clone(),
        };
        let sub = CompiledQuery {
            query,
            formula,
            dimensions: vec![Dimension { label: "__key".into(), column: p.key.clone() }],
            tables: self.q.tables.clone(),
            scopes,
            security: self.q.security.clone(),
            range: None,
        };
        let plan = sub.to_logical_plan(self.sources)?;
        let cols = vec![cast(ucol("__key"), key.data_type.clone()).alias(format!("__pk{n}")), ucol("value").alias(format!("__pv{n}"))];
        Ok(LogicalPlanBuilder::from(plan).project(cols)?.build()?)
    }
}
