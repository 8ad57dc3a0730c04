//! A query around a formula, and its compilation: everything resolved and checked, ready to lower.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::custom_calendar::PeriodTable;
use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::error::{FormulaError, QueryError};
use crate::ir::{ColumnRef, MetricLeaf, RowExpr};
use crate::model::{SemanticModel, TableModel};
use crate::period::{Calendar, Grain, TimeRange};
use crate::resolve::{ResolvedFormula, Resolver, RowScope, rebase};
use crate::span::{Source, Span};

/// The most dimensions one query groups by.
pub const MAX_DIMENSIONS: usize = 32;

/// What a query calculates.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// A KPI of the semantic model, by code.
    Kpi(String),
    /// An ad-hoc formula.
    Formula(String),
}

/// Whether periods of the time range without any row appear in the result.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EmptyPeriods {
    /// Every period of the range appears (counts are 0 there, other aggregates null). Default.
    #[default]
    Include,
    /// Only periods where some table of the formula has rows appear.
    Omit,
}

/// Row filters that every scan of a table must carry, e.g. a tenant or region restriction.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SecurityContext {
    /// Filter formula text by table name; it may use only that table's columns.
    pub filters: BTreeMap<String, String>,
}

impl SecurityContext {
    /// No restrictions.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a row filter on `table`, e.g. `("orders", "orders.region = 'EU'")`.
    pub fn with_filter(mut self, table: impl Into<String>, filter: impl Into<String>) -> Self {
        self.filters.insert(table.into(), filter.into());
        self
    }
}

/// A query: a KPI or formula, at a grain, by dimensions, over a time range, filtered.
///
/// ```
/// use kpi_formula::{Grain, Query};
/// let q = Query::kpi("revenue").with_grain(Grain::Month).by(["orders.region"]).with_filter("orders.channel = 'web'");
/// assert_eq!(q.dimensions, vec!["orders.region".to_string()]);
/// ```
///
/// Queries are `Eq` and `Hash`: the engine keys its cache, calculations in flight and views by
/// the query itself.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Query {
    /// What to calculate.
    pub target: Target,
    /// The period size; `None` for one value over the whole range.
    pub grain: Option<Grain>,
    /// Column paths to group by, such as `orders.region` or `orders.customer.segment`.
    pub dimensions: Vec<String>,
    /// The half-open time range; with a grain it is widened to whole periods.
    pub range: Option<TimeRange>,
    /// A row filter in the formula language, applied to every table the formula aggregates.
    pub filter: Option<String>,
    /// Row filters per table that every scan carries.
    pub security: SecurityContext,
    /// Time zone and week start of the periods.
    pub calendar: Calendar,
    /// Whether empty periods of the range appear.
    pub empty_periods: EmptyPeriods,
}

impl Query {
    fn new(target: Target) -> Self {
        Query {
            target,
            grain: None,
            dimensions: Vec::new(),
            range: None,
            filter: None,
            security: SecurityContext::default(),
            calendar: Calendar::default(),
            empty_periods: EmptyPeriods::default(),
        }
    }

    /// A query of the KPI `code`.
    pub fn kpi(code: impl Into<String>) -> Self {
        Self::new(Target::Kpi(code.into()))
    }

    /// A query of an ad-hoc formula.
    pub fn formula(text: impl Into<String>) -> Self {
        Self::new(Target::Formula(text.into()))
    }

    /// Sets the grain.
    pub fn with_grain(mut self, grain: Grain) -> Self {
        self.grain = Some(grain);
        self
    }

    /// Sets the dimensions.
    pub fn by<S: Into<String>>(mut self, dimensions: impl IntoIterator<Item = S>) -> Self {
        self.dimensions = dimensions.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the time range.
    pub fn with_range(mut self, range: TimeRange) -> Self {
        self.range = Some(range);
        self
    }

    /// Sets the row filter.
    pub fn with_filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }

    /// Sets the security context.
    pub fn with_security(mut self, security: SecurityContext) -> Self {
        self.security = security;
        self
    }

    /// Sets the calendar.
    pub fn with_calendar(mut self, calendar: Calendar) -> Self {
        self.calendar = calendar;
        self
    }

    /// Sets whether empty periods appear.
    pub fn with_empty_periods(mut self, empty: EmptyPeriods) -> Self {
        self.empty_periods = empty;
        self
    }
}

/// What the resolver needs to know of the query to check time functions where they are written.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QueryShape {
    pub(crate) grain: Option<Grain>,
    pub(crate) has_range: bool,
}

/// A dimension of the result: its label (the path as written) and the column it reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Dimension {
    /// The path as written, used as the result column name.
    pub label: String,
    /// The column, from the table the path starts at.
    pub column: ColumnRef,
}

/// The dimensions and filter of a query rebased onto one aggregated table.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct TableScope {
    pub(crate) dimensions: Vec<ColumnRef>,
    pub(crate) filter: Option<RowExpr>,
}

/// A query with everything resolved and checked; lower it with
/// [`CompiledQuery::to_logical_plan`].
#[derive(Clone, Debug)]
pub struct CompiledQuery {
    pub(crate) query: Query,
    pub(crate) formula: ResolvedFormula,
    pub(crate) dimensions: Vec<Dimension>,
    pub(crate) tables: BTreeMap<String, TableModel>,
    pub(crate) scopes: BTreeMap<String, TableScope>,
    pub(crate) security: BTreeMap<String, RowExpr>,
    pub(crate) range: Option<TimeRange>,
}

impl CompiledQuery {
    /// The query as given.
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// The resolved formula, with the tables, columns and KPIs it reads.
    pub fn formula(&self) -> &ResolvedFormula {
        &self.formula
    }

    /// The result's dimensions, in order.
    pub fn dimensions(&self) -> &[Dimension] {
        &self.dimensions
    }

    /// The time range actually covered: the query's range widened to whole periods.
    pub fn range(&self) -> Option<TimeRange> {
        self.range
    }

    /// Every table the query reads: aggregated, reached through relationships, or named by
    /// its dimensions, filter and security filters.
    pub fn tables(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }

    /// The tables whose aggregates the formula computes.
    pub fn aggregated_tables(&self) -> impl Iterator<Item = &str> {
        self.scopes.keys().map(String::as_str)
    }
}

/// Resolves and checks a query against a model, reporting every problem of the formula,
/// dimensions, filter and security filters together.
pub fn compile(query: &Query, model: &dyn SemanticModel) -> Result<CompiledQuery, FormulaError> {
    let shape = QueryShape { grain: query.grain, has_range: query.range.is_some() };
    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut tables_read: BTreeSet<String> = BTreeSet::new();

    let formula = {
        let (name, text, code) = match &query.target {
            Target::Formula(text) => ("formula".to_string(), text.clone(), None),
            Target::Kpi(code) => match model.kpi_formula(code) {
                Some(text) => (format!("kpi {code}"), text.to_string(), Some(code.clone())),
                None => {
                    let src = Source::new("kpi", code.clone());
                    let d = Diagnostic::new(ErrorKind::UnknownKpi, format!("unknown KPI `{code}`"), &src, Span::new(0, code.len()))
                        .expected("the code of a KPI in the catalog")
                        .suggest(code, model.kpi_codes());
                    return Err(FormulaError::Invalid(d.into()));
                }
            },
        };
        let mut r = Resolver::new(model, Source::new(name, text));
        r.query = Some(shape);
        if let Some(code) = code {
            r.stack.push(code);
        }
        let result = r.formula();
        match r.finish(result) {
            Ok(f) => Some(f),
            Err(d) => {
                diags.extend(d.0);
                None
            }
        }
    };

    let mut dimensions = Vec::new();
    let mut labels = HashSet::new();
    // Each dimension multiplies the groups: past a few dozen a query is a mistake, and
    // resolving a hundred thousand of them would take long before saying so.
    let listed = if query.dimensions.len() > MAX_DIMENSIONS {
        let text = format!("{} dimensions", query.dimensions.len());
        let source = Source::new("dimensions", text.clone());
        diags.push(
            Diagnostic::new(
                ErrorKind::Query,
                format!("a query groups by at most {MAX_DIMENSIONS} dimensions"),
                &source,
                Span::new(0, text.len()),
            )
            .found(text.clone()),
        );
        &query.dimensions[..0]
    } else {
        &query.dimensions[..]
    };
    for (i, text) in listed.iter().enumerate() {
        let mut r = Resolver::new(model, Source::new(format!("dimension {}", i + 1), text.clone()));
        match r.dimension() {
            Ok(column) => {
                let label = text.trim().to_string();
                if !labels.insert(label.clone()) {
                    let source = Source::new(format!("dimension {}", i + 1), text.clone());
                    diags.push(
                        Diagnostic::new(
                            ErrorKind::Query,
                            format!("dimension `{label}` is listed twice"),
                            &source,
                            Span::new(0, text.len()),
                        )
                        .expected("each dimension once"),
                    );
                }
                dimensions.push((i, Dimension { label, column }));
            }
            Err(_) => diags.append(&mut r.diags),
        }
        tables_read.extend(r.tables);
    }

    let filter = query.filter.as_ref().and_then(|text| {
        let mut r = Resolver::new(model, Source::new("filter", text.clone()));
        let out = r.row_expr(RowScope::Filter).ok();
        diags.append(&mut r.diags);
        tables_read.extend(r.tables);
        out.map(|(expr, _, span)| (expr, text.clone(), span))
    });

    let mut security = BTreeMap::new();
    for (table, text) in &query.security.filters {
        let source = Source::new(format!("security filter of {table}"), text.clone());
        if model.table(table).is_none() {
            diags.push(
                Diagnostic::new(
                    ErrorKind::UnknownTable,
                    format!("security filter for unknown table `{table}`"),
                    &source,
                    Span::new(0, text.len()),
                )
                .expected("a table of the model")
                .found(format!("`{table}`"))
                .suggest(table, model.table_names()),
            );
            continue;
        }
        let mut r = Resolver::new(model, source);
        if let Ok((expr, _, _)) = r.row_expr(RowScope::Security { table: table.clone() }) {
            security.insert(table.clone(), expr);
        }
        diags.append(&mut r.diags);
    }

    let Some(formula) = formula else {
        return Err(FormulaError::Invalid(Diagnostics(diags)));
    };

    // Rebase dimensions and the filter onto every aggregated table.
    let mut roots = BTreeSet::new();
    formula.expr.for_each_leaf(&mut |leaf| collect_roots(leaf, &mut roots));
    let mut scopes = BTreeMap::new();
    for root in &roots {
        let mut dims = Vec::new();
        for (i, d) in &dimensions {
            let text = &query.dimensions[*i];
            let mut r = Resolver::new(model, Source::new(format!("dimension {}", i + 1), text.clone()));
            match rebase(&mut r, d.column.clone(), root, Span::new(0, text.len())) {
                Ok(c) => dims.push(c),
                Err(_) => diags.append(&mut r.diags),
            }
            tables_read.extend(r.tables);
        }
        let filter = match &filter {
            Some((expr, text, span)) => {
                let mut r = Resolver::new(model, Source::new("filter", text.clone()));
                let rebased = expr.try_map_leaves(&mut |c| rebase(&mut r, c.clone(), root, *span).map(crate::ir::Scalar::Leaf));
                diags.append(&mut r.diags);
                tables_read.extend(r.tables);
                rebased.ok()
            }
            None => None,
        };
        scopes.insert(root.clone(), TableScope { dimensions: dims, filter });
    }
    if !diags.is_empty() {
        dedup_diagnostics(&mut diags);
        return Err(FormulaError::Invalid(Diagnostics(diags)));
    }

    tables_read.extend(formula.tables.iter().cloned());
    tables_read.extend(security.keys().cloned());
    let tables: BTreeMap<String, TableModel> = tables_read.iter().filter_map(|t| model.table(t).map(|m| (t.clone(), m.clone()))).collect();

    if let Some(grain) = query.grain
        && !roots.iter().any(|t| tables.get(t).is_some_and(|m| m.time_column.is_some()))
    {
        return Err(
            QueryError::NoTimeColumn { grain, tables: roots.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ") }.into()
        );
    }
    for t in &roots {
        if let Some(m) = tables.get(t)
            && let Some(col) = &m.time_column
            && !matches!(m.column_type(col), Some(dt) if matches!(crate::ir::ValueType::of(dt), Some(crate::ir::ValueType::Timestamp | crate::ir::ValueType::Date)))
        {
            let src = Source::new(format!("table {t}"), col.clone());
            let d = Diagnostic::new(
                ErrorKind::Type,
                format!("time column `{t}.{col}` is missing or is not a timestamp or date"),
                &src,
                Span::new(0, col.len()),
            )
            .expected("a timestamp or date column");
            return Err(FormulaError::Invalid(d.into()));
        }
    }

    let range = match (query.range, query.grain) {
        (Some(r), Some(g)) => Some(r.align(&query.calendar, g)),
        (r, _) => r,
    };
    if let (Some(r), Some(table)) = (query.range, &query.calendar.periods) {
        inside_calendar_table(&query.calendar, table, r)?;
    }
    let dimensions = dimensions.into_iter().map(|(_, d)| d).collect();
    Ok(CompiledQuery { query: query.clone(), formula, dimensions, tables, scopes, security, range })
}

/// A range must lie in the days a calendar table covers: its periods are unknown outside them.
fn inside_calendar_table(calendar: &Calendar, table: &PeriodTable, range: TimeRange) -> Result<(), QueryError> {
    let (first, end) = table.coverage();
    let at = |d: chrono::NaiveDate| calendar.to_instant(d.and_time(chrono::NaiveTime::MIN));
    let outside = |what: &str, t: chrono::DateTime<chrono::Utc>| {
        QueryError::OutsideCalendar(Box::new(crate::error::OutsideCalendar {
            what: what.to_string(),
            time: calendar.to_local(t).to_string(),
            calendar: table.name().to_string(),
            first: first.to_string(),
            last: end.pred_opt().unwrap_or(end).to_string(),
        }))
    };
    if range.start < at(first) {
        return Err(outside("the range's start", range.start));
    }
    if range.end > at(end) {
        return Err(outside("the range's end", range.end));
    }
    Ok(())
}

/// The tables the aggregates under `leaf` are taken over.
pub(crate) fn collect_roots(leaf: &MetricLeaf, roots: &mut BTreeSet<String>) {
    match leaf {
        MetricLeaf::Aggregate(a) => {
            roots.insert(a.table.clone());
        }
        MetricLeaf::Prev(inner, ..) => inner.for_each_leaf(&mut |l| collect_roots(l, roots)),
    }
}

/// The same problem found once per aggregated table is reported once.
fn dedup_diagnostics(diags: &mut Vec<Diagnostic>) {
    let mut seen = Vec::new();
    diags.retain(|d| {
        let key = (d.source.name.clone(), d.span, d.message.clone());
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
}
