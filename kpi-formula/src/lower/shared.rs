//! Queries lowered together: those that read the same rows and group them the same way, differing
//! only in their formulas, become one plan with a value column per query, so each table is
//! scanned once for all of them and an aggregate they have in common is computed once.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use datafusion::logical_expr::LogicalPlan;

use super::{TableSources, Values};
use datafusion::error::DataFusionError;

use crate::error::FormulaError;
use crate::ir::MetricExpr;
use crate::period::{Calendar, Grain, TimeRange};
use crate::query::{CompiledQuery, EmptyPeriods, SecurityContext, Target};

/// What queries lowered together must have in common: the rows they read (aggregated tables,
/// range, filter, security), how they group them (grain, calendar, dimensions), whether empty
/// periods appear, and with dimensions the first period of their series (time functions widen
/// it back, and the dimension groups of a result are those with rows in it; without
/// dimensions the lookback periods are only dropped). Queries of equal shapes give, lowered
/// together, exactly the rows each gives alone.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ScanShape {
    tables: BTreeSet<String>,
    grain: Option<Grain>,
    calendar: Calendar,
    range: Option<TimeRange>,
    series_start: Option<DateTime<Utc>>,
    dimensions: Vec<String>,
    filter: Option<String>,
    security: SecurityContext,
    empty_periods: EmptyPeriods,
}

/// Table sources for a lowering that only collects aggregates and widens the series.
struct NoSources;

impl TableSources for NoSources {
    fn source(&self, table: &str) -> Result<std::sync::Arc<dyn datafusion::logical_expr::TableSource>, DataFusionError> {
        Err(DataFusionError::Plan(format!("no source for `{table}` while finding a scan shape")))
    }
}

impl CompiledQuery {
    /// The shape this query's scans have: queries of equal shapes can be lowered together
    /// with [`to_shared_logical_plan`].
    pub fn scan_shape(&self) -> ScanShape {
        let (lowering, _) = self.lowering(&[&self.formula.expr], &NoSources, false);
        let q = &self.query;
        ScanShape {
            tables: self.scopes.keys().cloned().collect(),
            grain: q.grain,
            calendar: q.calendar.clone(),
            range: self.range,
            series_start: lowering.spine_start.filter(|_| !self.dimensions.is_empty()),
            dimensions: self.dimensions.iter().map(|d| d.label.clone()).collect(),
            filter: q.filter.clone(),
            security: q.security.clone(),
            empty_periods: q.empty_periods,
        }
    }
}

/// One plan for `queries`, which must all have the same [`ScanShape`]: the `period` column (with
/// a grain), one column per dimension, and `value_0`, `value_1`, ... (`Float64`), the value of
/// each query in order. Its rows are those each query's own plan gives.
pub fn to_shared_logical_plan(queries: &[&CompiledQuery], sources: &dyn TableSources) -> Result<LogicalPlan, FormulaError> {
    let Some((first, rest)) = queries.split_first() else {
        return Err(DataFusionError::Plan("no queries to lower together".into()).into());
    };
    let shape = first.scan_shape();
    let mut merged = (*first).clone();
    for q in rest {
        if q.scan_shape() != shape {
            let what = |q: &CompiledQuery| match &q.query.target {
                Target::Kpi(code) => format!("KPI `{code}`"),
                Target::Formula(text) => format!("formula `{text}`"),
            };
            let message = format!("{} does not read or group its rows as {} does", what(q), what(first));
            return Err(DataFusionError::Plan(message).into());
        }
        // Tables reached through relationships may differ; the scopes (aggregated tables,
        // dimensions, filter) are equal with the shapes.
        merged.tables.extend(q.tables.iter().map(|(k, v)| (k.clone(), v.clone())));
        merged.formula.tables.extend(q.formula.tables.iter().cloned());
        merged.formula.columns.extend(q.formula.columns.iter().cloned());
        merged.formula.kpis.extend(q.formula.kpis.iter().cloned());
    }
    let exprs: Vec<&MetricExpr> = queries.iter().map(|q| &q.formula.expr).collect();
    let (lowering, metrics) = merged.lowering(&exprs, sources, false);
    lowering.build(&metrics, Values::Shared)
}
