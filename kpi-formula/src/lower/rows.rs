//! The rows of one aggregated table: its scan, the many-to-one joins its paths need, security
//! filters on every scan, the time range and the query filter.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use datafusion::common::{Column, JoinType, TableReference};
use datafusion::logical_expr::LogicalPlanBuilder;
use datafusion::prelude::Expr;

use crate::error::FormulaError;
use crate::ir::{ColumnRef, RowExpr};
use crate::query::TableScope;

use super::Lowering;
use super::expr::scalar_to_df;
use super::time::{date_part_value, time_bounds};

/// The alias of the table reached from `root` along `path` (the root itself for an empty path).
pub(crate) fn alias(root: &str, path: &[String]) -> String {
    if path.is_empty() { root.to_string() } else { format!("{root}__{}", path.join("__")) }
}

/// The column a reference reads, qualified by the alias of its table.
fn qualified(c: &ColumnRef) -> Expr {
    Expr::Column(Column::new(Some(TableReference::bare(alias(&c.table, &c.path))), &c.column))
}

impl Lowering<'_> {
    /// A column reference's values: the qualified column, or its date part in the calendar.
    pub(crate) fn column(&self, c: &ColumnRef) -> Expr {
        match (&c.per, c.part) {
            (Some(p), _) => self.per_value(p),
            (None, None) => qualified(c),
            (None, Some(part)) => date_part_value(qualified(c), &c.data_type, part, &self.cal),
        }
    }

    /// A row-level expression over the rows of its table.
    pub(crate) fn row(&self, e: &RowExpr) -> Result<Expr, FormulaError> {
        scalar_to_df(e, &self.cal, &mut |c: &ColumnRef| Ok(self.column(c)))
    }

    /// Scans `table` under `alias`, with its security filter.
    fn scan(&self, table: &str, alias_name: &str) -> Result<LogicalPlanBuilder, FormulaError> {
        let source = self.sources.source(table)?;
        let mut b = LogicalPlanBuilder::scan(table, source, None)?;
        if alias_name != table {
            b = b.alias(alias_name)?;
        }
        if let Some(security) = self.q.security.get(table) {
            let qualifier = alias_name.to_string();
            let cond = scalar_to_df(security, &self.cal, &mut |c: &ColumnRef| {
                let column = Expr::Column(Column::new(Some(TableReference::bare(qualifier.clone())), &c.column));
                Ok(match c.part {
                    None => column,
                    Some(part) => date_part_value(column, &c.data_type, part, &self.cal),
                })
            })?;
            b = b.filter(cond)?;
        }
        Ok(b)
    }

    /// The rows of `table` joined along every path `exprs` use, filtered by time and the query filter.
    pub(crate) fn rows(
        &self,
        table: &str,
        exprs: &[&RowExpr],
        lo: Option<DateTime<Utc>>,
        hi: Option<DateTime<Utc>>,
    ) -> Result<LogicalPlanBuilder, FormulaError> {
        self.rows_in(table, Some(&self.q.scopes[table]), exprs, lo, hi)
    }

    /// [`Lowering::rows`] of a table read for another's aggregate (the conversion events of a
    /// funnel): without the query's dimensions and filter, which belong to the aggregated table.
    pub(crate) fn unscoped_rows(
        &self,
        table: &str,
        exprs: &[&RowExpr],
        lo: Option<DateTime<Utc>>,
        hi: Option<DateTime<Utc>>,
    ) -> Result<LogicalPlanBuilder, FormulaError> {
        self.rows_in(table, None, exprs, lo, hi)
    }

    fn rows_in(
        &self,
        table: &str,
        scope: Option<&TableScope>,
        exprs: &[&RowExpr],
        lo: Option<DateTime<Utc>>,
        hi: Option<DateTime<Utc>>,
    ) -> Result<LogicalPlanBuilder, FormulaError> {
        let filter = scope.and_then(|s| s.filter.as_ref());
        let mut paths: BTreeSet<Vec<String>> = BTreeSet::new();
        let mut add = |c: &ColumnRef| {
            for n in 1..=c.path.len() {
                paths.insert(c.path[..n].to_vec());
            }
        };
        for e in exprs.iter().copied().chain(filter) {
            e.for_each_leaf(&mut add);
        }
        scope.iter().flat_map(|s| &s.dimensions).for_each(&mut add);

        let mut b = self.scan(table, table)?;
        // BTreeSet order puts every path after its prefixes, so parents are joined first.
        for path in &paths {
            let (parent, last) = path.split_at(path.len() - 1);
            let parent_table = self.table_at(table, parent)?;
            let rel = parent_table.relationship(&last[0]).ok_or_else(|| {
                datafusion::error::DataFusionError::Plan(format!("relationship `{}` vanished from `{}`", last[0], parent_table.name))
            })?;
            let (left_alias, right_alias) = (alias(table, parent), alias(table, path));
            let right = self.scan(&rel.to, &right_alias)?.build()?;
            let left_keys: Vec<Column> =
                rel.on.iter().map(|(from, _)| Column::new(Some(TableReference::bare(left_alias.clone())), from)).collect();
            let right_keys: Vec<Column> =
                rel.on.iter().map(|(_, to)| Column::new(Some(TableReference::bare(right_alias.clone())), to)).collect();
            b = b.join(right, JoinType::Left, (left_keys, right_keys), None)?;
        }
        b = self.join_per_entities(b, exprs)?;
        // One filter node for the time range and the query filter: DataFusion's planning cost
        // grows with the number of nodes.
        let mut conditions = Vec::new();
        if let Some((col, col_type)) = self.time_column(table)
            && let Some(cond) = time_bounds(col, &col_type, lo, hi, &self.cal)
        {
            conditions.push(cond);
        }
        if let Some(filter) = filter {
            conditions.push(self.row(filter)?);
        }
        if let Some(cond) = conditions.into_iter().reduce(Expr::and) {
            b = b.filter(cond)?;
        }
        Ok(b)
    }

    fn table_at(&self, root: &str, path: &[String]) -> Result<&crate::model::TableModel, FormulaError> {
        let mut t = &self.q.tables[root];
        for step in path {
            let rel = t
                .relationship(step)
                .ok_or_else(|| datafusion::error::DataFusionError::Plan(format!("no relationship `{step}` on `{}`", t.name)))?;
            t = self
                .q
                .tables
                .get(&rel.to)
                .ok_or_else(|| datafusion::error::DataFusionError::Plan(format!("unknown table `{}`", rel.to)))?;
        }
        Ok(t)
    }

    /// The time column of `table` as a qualified expression, with its type.
    pub(crate) fn time_column(&self, table: &str) -> Option<(Expr, datafusion::arrow::datatypes::DataType)> {
        let model = &self.q.tables[table];
        let time = model.time_column.as_ref()?;
        let ty = model.column_type(time)?.clone();
        Some((Expr::Column(Column::new(Some(TableReference::bare(table)), time)), ty))
    }
}
