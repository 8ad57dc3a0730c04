//! How a query's values are kept up to date as data is appended: one rule, used by cache
//! patching, views and cubes.
//!
//! Best first: from partial states per period and group (a cube), so an append costs in
//! proportion to its rows; by recalculating only the periods appends touched (spans), when each
//! period depends only on its own rows of one table; or by recalculating the whole query.

use kpi_catalog::Catalog;
use kpi_formula::{Diagnostics, IncrementalPlan, Query, ResolvedFormula, Target};
use serde::Serialize;

use crate::data::is_utc;

/// How a view (or a cached result) follows appends to the data it reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Maintenance {
    /// From partial states per period and group, updated by each append's rows.
    Cube,
    /// By recalculating only the periods the appends touched.
    Spans,
    /// By recalculating the whole query.
    Recalculation,
}

impl Maintenance {
    /// The method's name: `cube`, `spans` or `recalculation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Maintenance::Cube => "cube",
            Maintenance::Spans => "spans",
            Maintenance::Recalculation => "recalculation",
        }
    }
}

/// What of a query can be maintained, and how.
pub(crate) struct Maintainable {
    /// The tables the formula reads (none when it does not resolve: the calculation reports why).
    pub(crate) tables: Vec<String>,
    /// The query over partial states, when each of its values depends only on its own period's
    /// and group's rows of one table ([`kpi_formula::CompiledQuery::incremental`]).
    pub(crate) cube: Option<IncrementalPlan>,
    /// The one table whose appends change only the periods their event times fall in.
    pub(crate) span_table: Option<String>,
}

impl Maintainable {
    /// How `query` can be maintained over `catalog`.
    pub(crate) fn of(query: &Query, catalog: &Catalog) -> Maintainable {
        let Ok(formula) = resolve(query, catalog) else { return Maintainable { tables: Vec::new(), cube: None, span_table: None } };
        let span_table = span_table(query, &formula, catalog);
        let cube = kpi_formula::compile(query, catalog).ok().and_then(|c| c.incremental());
        Maintainable { tables: formula.tables.into_iter().collect(), cube, span_table }
    }

    /// Only the span table of `query` (see [`Maintainable::span_table`]): what patching a
    /// cached result needs, without compiling the query for a cube it would not use.
    pub(crate) fn span_table_of(query: &Query, catalog: &Catalog) -> Option<String> {
        span_table(query, &resolve(query, catalog).ok()?, catalog)
    }

    /// The best method available, given whether a cube was actually started for it (it may
    /// fail to start, e.g. over a provider that cannot be scanned).
    pub(crate) fn method(&self, cube_started: bool) -> Maintenance {
        match (cube_started && self.cube.is_some(), &self.span_table) {
            (true, _) => Maintenance::Cube,
            (false, Some(_)) => Maintenance::Spans,
            (false, None) => Maintenance::Recalculation,
        }
    }
}

/// `query`'s KPI or formula, resolved against `catalog`.
pub(crate) fn resolve(query: &Query, catalog: &Catalog) -> Result<ResolvedFormula, Diagnostics> {
    match &query.target {
        Target::Kpi(code) => kpi_formula::check_kpi(code, catalog),
        Target::Formula(text) => kpi_formula::check_formula(text, catalog),
    }
}

/// The one table whose appends a cached result or a view of `query` can follow by recalculating
/// only the periods they touch: the formula reads one table, which has a time column in UTC, and
/// uses no time intelligence (each period depends on its own rows only); the dimensions are that
/// table's own columns and there is no filter (either could reach other tables, whose changes
/// touch any period); the calendar is UTC, the zone of event times.
fn span_table(query: &Query, formula: &ResolvedFormula, catalog: &Catalog) -> Option<String> {
    if formula.tables.len() != 1
        || formula.uses_time_intelligence()
        || query.grain.is_none()
        || query.filter.is_some()
        || !query.security.filters.is_empty()
        || query.calendar.time_zone.to_string() != "UTC"
    {
        return None;
    }
    let table = formula.tables.first()?;
    let model = catalog.object_model(table).ok()?;
    let time = model.column(model.time_column.as_deref()?)?.data_type.to_arrow();
    let utc = match time {
        datafusion::arrow::datatypes::DataType::Timestamp(_, Some(zone)) => is_utc(&zone),
        _ => true,
    };
    let own_column = |d: &String| d.strip_prefix(table.as_str()).and_then(|c| c.strip_prefix('.')).is_some_and(|c| !c.contains('.'));
    (utc && query.dimensions.iter().all(own_column)).then(|| table.clone())
}
