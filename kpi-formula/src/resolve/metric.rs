//! KPI-level resolution: aggregates, KPI references (inlined, with cycle detection) and the
//! time-intelligence functions.

use crate::ast::{BinaryOp, Expr, ExprKind, Ident, Literal};
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::ir::{AggFunc, Aggregate, MetricExpr, MetricLeaf, Scalar, Shift, Snapshot, SnapshotAt, Summary, ValueType, Window};
use crate::period::{CalendarSpan, Grain};
use crate::span::Source;

use super::conversion::CONVERSION_FUNCTIONS;
use super::row::{RowLevel, RowScope, find_path, path_error};
use super::{Failed, Level, MAX_EXPANDED_NODES, MAX_KPI_DEPTH, Res, Resolver};

const AGGREGATES: &[&str] =
    &["sum", "count", "count_distinct", "avg", "mean", "min", "max", "median", "percentile", "percentile_disc", "approx_percentile"];
const TIME_FUNCTIONS: &[&str] = &["prev", "growth", "at_start", "rolling", "to_date", "cumulative", "last", "first"];

/// Whether `name` is an aggregate or time function (which only the KPI level allows).
pub(crate) fn is_special_metric_call(name: &str) -> bool {
    AGGREGATES.contains(&name) || TIME_FUNCTIONS.contains(&name) || CONVERSION_FUNCTIONS.contains(&name)
}

/// The KPI level, with the window that enclosing `rolling`/`to_date`/`cumulative` put on aggregates.
pub(crate) struct MetricLevel {
    window: Window,
}

impl Default for MetricLevel {
    fn default() -> Self {
        MetricLevel { window: Window::Period }
    }
}

impl Level for MetricLevel {
    type Leaf = MetricLeaf;

    fn path(&self, r: &mut Resolver<'_>, e: &Expr, parts: &[Ident]) -> Res<MetricLeaf> {
        let first = &parts[0];
        if parts.len() == 1 {
            if r.model.kpi_formula(&first.name).is_some() {
                return self.kpi_reference(r, first, e);
            }
            let d = if r.model.table(&first.name).is_some() {
                r.diag(ErrorKind::Aggregate, format!("table `{}` is not a value", first.name), e)
                    .expected("a KPI, an aggregate or a number")
                    .found(format!("table `{}`", first.name))
                    .help(format!("to count its rows write count({})", first.name))
            } else {
                let candidates: Vec<&str> = r.model.kpi_codes();
                r.diag(ErrorKind::UnknownKpi, format!("unknown KPI `{}`", first.name), e)
                    .expected("a KPI code, an aggregate such as sum(table.column), or a number")
                    .found(format!("`{}`", first.name))
                    .suggest(&first.name, candidates)
            };
            return Err(r.error(d));
        }
        let d = if r.model.table(&first.name).is_some() {
            let text = r.source.text[e.span.start..e.span.end].to_string();
            r.diag(ErrorKind::Aggregate, format!("column `{text}` must be aggregated"), e)
                .expected("an aggregate such as sum(...), avg(...) or count(...)")
                .found(format!("the row value `{text}`"))
                .help(format!("a KPI is computed per period; write e.g. sum({text}) or avg({text})"))
        } else {
            Diagnostic::new(ErrorKind::UnknownTable, format!("unknown table `{}`", first.name), &r.source, first.span)
                .expected("a table (object model) name")
                .found(format!("`{}`", first.name))
                .suggest(&first.name, r.model.table_names())
        };
        Err(r.error(d))
    }

    fn call(&self, r: &mut Resolver<'_>, e: &Expr, name: &str, args: &[Expr], filter: Option<&Expr>) -> Option<Res<MetricLeaf>> {
        if AGGREGATES.contains(&name) {
            return Some(self.aggregate(r, e, name, args, filter));
        }
        if !TIME_FUNCTIONS.contains(&name) && !CONVERSION_FUNCTIONS.contains(&name) {
            return None;
        }
        if let Some(f) = filter {
            let d = r
                .diag(ErrorKind::Syntax, format!("`where` only filters aggregates, not `{name}`"), f)
                .help("put the condition inside the aggregate: sum(t.x where ...)");
            return Some(Err(r.error(d)));
        }
        Some(match name {
            "prev" | "growth" => self.shift(r, e, name, args),
            "at_start" => self.at_start(r, e, args),
            "last" | "first" => self.snapshot(r, e, name, args),
            "conversions" | "conversion_rate" => self.conversion(r, e, name, args),
            _ => self.window_function(r, e, name, args),
        })
    }

    fn leaf_data_type(_: &MetricLeaf) -> Option<datafusion::arrow::datatypes::DataType> {
        None
    }
}

impl MetricLevel {
    /// The window enclosing `rolling`/`to_date`/`cumulative` put on aggregates here.
    pub(super) fn window(&self) -> Window {
        self.window
    }

    fn aggregate(&self, r: &mut Resolver<'_>, e: &Expr, name: &str, args: &[Expr], filter: Option<&Expr>) -> Res<MetricLeaf> {
        let func = match name {
            "sum" => AggFunc::Sum,
            "count" => AggFunc::Count,
            "count_distinct" => AggFunc::CountDistinct,
            "avg" | "mean" => AggFunc::Avg,
            "min" => AggFunc::Min,
            "max" => AggFunc::Max,
            "median" => AggFunc::Median,
            "percentile_disc" => AggFunc::PercentileDisc(0.0),
            "approx_percentile" => AggFunc::ApproxPercentile(0.0),
            _ => AggFunc::Percentile(0.0),
        };
        let fractional = matches!(func, AggFunc::Percentile(_) | AggFunc::PercentileDisc(_) | AggFunc::ApproxPercentile(_));
        let (min, max) = if fractional { (2, 2) } else { (1, 1) };
        r.arity(e, name, args.len(), min, max)?;
        let func = match func {
            AggFunc::Percentile(_) => AggFunc::Percentile(fraction(r, &args[1])?),
            AggFunc::PercentileDisc(_) => AggFunc::PercentileDisc(fraction(r, &args[1])?),
            AggFunc::ApproxPercentile(_) => AggFunc::ApproxPercentile(fraction(r, &args[1])?),
            f => f,
        };
        let first = &args[0];
        let bare_table = match &first.kind {
            ExprKind::Path(p) if p.len() == 1 && r.model.table(&p[0].name).is_some() => Some(p[0].name.clone()),
            _ => None,
        };
        if let ExprKind::Path(p) = &first.kind
            && p.len() == 1
            && bare_table.is_none()
        {
            let name = &p[0].name;
            let d = if r.model.kpi_formula(name).is_some() {
                r.diag(ErrorKind::Aggregate, format!("KPI `{name}` cannot be aggregated again"), first)
                    .expected("a table or a column")
                    .found(format!("KPI `{name}`"))
                    .help(format!("a KPI is already a value per period; use `{name}` outside the aggregate"))
            } else {
                let owners: Vec<String> = r
                    .model
                    .table_names()
                    .into_iter()
                    .filter(|t| r.model.table(t).is_some_and(|m| m.column_type(name).is_some()))
                    .map(|t| format!("`{t}.{name}`"))
                    .collect();
                let d = Diagnostic::new(ErrorKind::UnknownTable, format!("unknown table `{name}`"), &r.source, p[0].span)
                    .expected("a table (object model) name, or a column written as `table.column`")
                    .found(format!("`{name}`"));
                if owners.is_empty() {
                    d.suggest(name, r.model.table_names())
                } else {
                    d.help(format!("columns are written with their table: {}", owners.join(" or ")))
                }
            };
            return Err(r.error(d));
        }
        let root = match &bare_table {
            Some(t) if func == AggFunc::Count => t.clone(),
            Some(t) => {
                let d = r
                    .diag(ErrorKind::Arguments, format!("`{name}` needs a column, found table `{t}`"), first)
                    .expected(format!("a column such as `{t}.<column>`"))
                    .found(format!("table `{t}`"))
                    .help(format!("only count takes a table: count({t})"));
                return Err(r.error(d));
            }
            None => choose_root(r, e, first, filter)?,
        };
        r.tables.insert(root.clone());
        let row = RowLevel { scope: RowScope::Aggregate { root: root.clone() } };
        let arg = match bare_table {
            Some(_) => None,
            None => {
                let (arg, ty) = r.scalar(&row, first)?;
                if func != AggFunc::Count && func != AggFunc::CountDistinct {
                    r.expect_type(first, ty, ValueType::Number, &format!("`{name}`"))?;
                }
                Some(arg)
            }
        };
        let filter = match filter {
            Some(f) => {
                let (cond, ty) = r.scalar(&row, f)?;
                r.expect_type(f, ty, ValueType::Boolean, "`where`")?;
                Some(cond)
            }
            None => None,
        };
        let agg = Aggregate { func, table: root, arg, filter, window: self.window, snapshot: None, conversion: None, span: e.span };
        Ok((Scalar::Leaf(MetricLeaf::Aggregate(Box::new(agg))), ValueType::Number))
    }

    /// `prev(x[, n | 'span'])` and `growth(x[, n | 'span']) = (x - prev(x, n)) / prev(x, n)`.
    fn shift(&self, r: &mut Resolver<'_>, e: &Expr, name: &str, args: &[Expr]) -> Res<MetricLeaf> {
        r.arity(e, name, args.len(), 1, 2)?;
        check_query_allows(r, e, name, None)?;
        let (x, ty) = r.scalar(self, &args[0])?;
        r.expect_type(&args[0], ty, ValueType::Number, &format!("`{name}`"))?;
        let n = match args.get(1) {
            None => 1,
            Some(a) => match &a.kind {
                ExprKind::Literal(Literal::Integer(n)) if (1..=10_000).contains(n) => *n as u32,
                ExprKind::Literal(Literal::String(text)) => {
                    let span = CalendarSpan::parse(text).map_err(|expected| {
                        let d =
                            r.diag(ErrorKind::Arguments, format!("the offset of `{name}` is not a calendar span"), a).expected(expected);
                        r.error(d)
                    })?;
                    let prev = Scalar::Leaf(MetricLeaf::Prev(Box::new(x.clone()), Shift::Span(span), e.span));
                    return Ok((growth_of(name, x, prev), ValueType::Number));
                }
                _ => {
                    let d = r
                        .diag(ErrorKind::Arguments, format!("the offset of `{name}` must be a whole number of periods from 1 to 10000"), a)
                        .expected("an integer such as 1 or 12, or a calendar span such as '1 year'");
                    return Err(r.error(d));
                }
            },
        };
        if let Some(grain) = r.query.and_then(|q| q.grain)
            && i64::from(n) > grain.max_reach()
        {
            let reach = grain.max_reach();
            let d = r
                .diag(
                    ErrorKind::TimeIntelligence,
                    format!("an offset of {n} {grain} periods reaches back more than {} years", crate::period::MAX_REACH_YEARS),
                    &args[1],
                )
                .expected(format!("at most {reach} {grain} periods"));
            return Err(r.error(d));
        }
        let prev = Scalar::Leaf(MetricLeaf::Prev(Box::new(x.clone()), Shift::Periods(n), e.span));
        Ok((growth_of(name, x, prev), ValueType::Number))
    }

    /// `last(x[, entity])` and `first(...)`: every aggregate in `x` over the rows at the
    /// period's last (first) time, or each entity's rows at its own last (first) time.
    fn snapshot(&self, r: &mut Resolver<'_>, e: &Expr, name: &str, args: &[Expr]) -> Res<MetricLeaf> {
        r.arity(e, name, args.len(), 1, 2)?;
        if self.window != Window::Period {
            let d = r
                .diag(ErrorKind::TimeIntelligence, format!("`{name}` cannot be used inside {}", window_name(self.window)), e)
                .help("a snapshot takes one time of each period; a window spans several");
            return Err(r.error(d));
        }
        let (x, ty) = r.scalar(self, &args[0])?;
        r.expect_type(&args[0], ty, ValueType::Number, &format!("`{name}`"))?;
        let at = if name == "last" { SnapshotAt::Last } else { SnapshotAt::First };
        enum Refused {
            Reported,
            Because(String),
        }
        let mapped = x.try_map_leaves(&mut |leaf| match leaf {
            MetricLeaf::Aggregate(a) if a.conversion.is_some() => {
                Err(Refused::Because(format!("`{name}` cannot take a snapshot of a conversion")))
            }
            MetricLeaf::Aggregate(a) if a.window == Window::Period && a.snapshot.is_none() => {
                if r.model.table(&a.table).is_none_or(|t| t.time_column.is_none()) {
                    return Err(Refused::Because(format!("`{}` has no time column to take the {name} time of", a.table)));
                }
                let per = match args.get(1) {
                    None => None,
                    Some(entity) => {
                        let row = RowLevel { scope: RowScope::Aggregate { root: a.table.clone() } };
                        Some(r.scalar(&row, entity).map_err(|_| Refused::Reported)?.0)
                    }
                };
                let snapshot = Some(Snapshot { at, per });
                Ok(Scalar::Leaf(MetricLeaf::Aggregate(Box::new(Aggregate { snapshot, ..(**a).clone() }))))
            }
            MetricLeaf::Aggregate(a) if a.snapshot.is_some() => {
                Err(Refused::Because(format!("`{name}` cannot take a snapshot of a snapshot")))
            }
            MetricLeaf::Aggregate(a) => Err(Refused::Because(format!("`{name}` cannot be used around {}", window_name(a.window)))),
            MetricLeaf::Prev(..) => Err(Refused::Because(format!("`{name}` takes aggregates, not prev, growth or at_start"))),
        });
        match mapped {
            Ok(x) => Ok((x, ValueType::Number)),
            Err(Refused::Reported) => Err(Failed),
            Err(Refused::Because(message)) => {
                let d = r
                    .diag(ErrorKind::TimeIntelligence, message, e)
                    .expected(format!("`{name}(sum(balances.amount))` over a table with a time column"));
                Err(r.error(d))
            }
        }
    }

    /// `at_start(x, 'unit')`: `x` at the first period of the enclosing unit.
    fn at_start(&self, r: &mut Resolver<'_>, e: &Expr, args: &[Expr]) -> Res<MetricLeaf> {
        r.arity(e, "at_start", args.len(), 2, 2)?;
        check_query_allows(r, e, "at_start", None)?;
        let unit = match &args[1].kind {
            ExprKind::Literal(Literal::String(text)) => Grain::parse(text).ok(),
            _ => None,
        };
        let Some(unit) = unit else {
            let d = r
                .diag(ErrorKind::Arguments, "the second argument of `at_start` is a calendar unit", &args[1])
                .expected("'hour', 'day', 'week', 'month', 'quarter' or 'year'");
            return Err(r.error(d));
        };
        if let Some(grain) = r.query.and_then(|q| q.grain)
            && unit < grain
        {
            let d = r
                .diag(ErrorKind::TimeIntelligence, format!("at_start of a {unit} is finer than the query grain {grain}"), &args[1])
                .expected(format!("a unit of {grain} or coarser"))
                .found(format!("'{unit}'"));
            return Err(r.error(d));
        }
        let (x, ty) = r.scalar(self, &args[0])?;
        r.expect_type(&args[0], ty, ValueType::Number, "`at_start`")?;
        Ok((Scalar::Leaf(MetricLeaf::Prev(Box::new(x), Shift::ToStart(unit), e.span)), ValueType::Number))
    }

    /// `rolling(x, 'n unit')`, `to_date(x, 'unit')`, `cumulative(x)`: change which rows the
    /// aggregates inside `x` cover.
    fn window_function(&self, r: &mut Resolver<'_>, e: &Expr, name: &str, args: &[Expr]) -> Res<MetricLeaf> {
        let (min, max) = match name {
            "cumulative" => (1, 1),
            "rolling" => (2, 3),
            _ => (2, 2),
        };
        r.arity(e, name, args.len(), min, max)?;
        if self.window != Window::Period {
            let d = r
                .diag(ErrorKind::TimeIntelligence, format!("`{name}` cannot be used inside {}", window_name(self.window)), e)
                .expected("one of rolling, to_date or cumulative around an aggregate")
                .help("each aggregate takes one window; combine windowed KPIs with arithmetic instead of nesting");
            return Err(r.error(d));
        }
        let window = match name {
            "cumulative" => Window::Cumulative,
            _ => {
                let text = match &args[1].kind {
                    ExprKind::Literal(Literal::String(s)) => s.clone(),
                    _ => {
                        let want = if name == "rolling" { "a quoted span such as '30 days'" } else { "a quoted unit such as 'month'" };
                        let d = r
                            .diag(ErrorKind::Arguments, format!("the second argument of `{name}` must be a string literal"), &args[1])
                            .expected(want);
                        return Err(r.error(d));
                    }
                };
                if name == "rolling" {
                    let summary = match args.get(2) {
                        None => Summary::Last,
                        Some(arg) => {
                            let named = match &arg.kind {
                                ExprKind::Literal(Literal::String(s)) => Summary::parse(s),
                                _ => None,
                            };
                            let Some(summary) = named else {
                                let d = r
                                    .diag(ErrorKind::Arguments, "the third argument of `rolling` says how windows are summarised", arg)
                                    .expected("'last', 'first' or 'average'")
                                    .help("at a grain coarser than the window's unit: the window ending with the period ('last'), with its first day ('first'), or the average of the windows ending each day ('average')");
                                return Err(r.error(d));
                            };
                            summary
                        }
                    };
                    match CalendarSpan::parse(&text) {
                        Ok(span) => Window::Rolling(span, summary),
                        Err(expected) => {
                            let d = r
                                .diag(ErrorKind::Arguments, format!("cannot read '{text}' as a span"), &args[1])
                                .expected(expected)
                                .found(format!("'{text}'"));
                            return Err(r.error(d));
                        }
                    }
                } else {
                    match Grain::parse(&text) {
                        Ok(g) if g >= Grain::Day => Window::ToDate(g),
                        _ => {
                            let d = r
                                .diag(ErrorKind::Arguments, format!("cannot use '{text}' as a to-date unit"), &args[1])
                                .expected("'day', 'week', 'month', 'quarter' or 'year'")
                                .found(format!("'{text}'"));
                            return Err(r.error(d));
                        }
                    }
                }
            }
        };
        check_query_allows(r, e, name, Some(window))?;
        let inner = MetricLevel { window };
        let (x, ty) = r.scalar(&inner, &args[0])?;
        r.expect_type(&args[0], ty, ValueType::Number, &format!("`{name}`"))?;
        Ok((x, ValueType::Number))
    }

    fn kpi_reference(&self, r: &mut Resolver<'_>, ident: &Ident, e: &Expr) -> Res<MetricLeaf> {
        let code = ident.name.clone();
        if let Some(pos) = r.stack.iter().position(|c| *c == code) {
            let mut chain = r.stack[pos..].to_vec();
            chain.push(code.clone());
            let d = r
                .diag(ErrorKind::Cycle, format!("KPI `{code}` depends on itself: {}", chain.join(" → ")), e)
                .expected("a KPI that does not lead back to itself")
                .found(format!("`{code}`"));
            return Err(r.error(d));
        }
        if r.stack.len() >= MAX_KPI_DEPTH {
            let d = r
                .diag(ErrorKind::TooDeep, format!("KPI references nest more than {MAX_KPI_DEPTH} deep"), e)
                .expected(format!("at most {MAX_KPI_DEPTH} levels of KPIs using KPIs"));
            return Err(r.error(d));
        }
        r.kpis.insert(code.clone());
        let body = match r.kpi_cache.get(&code) {
            Some(cached) => cached.clone(),
            None => {
                let text = r.model.kpi_formula(&code).unwrap_or_default().to_string();
                let outer = std::mem::replace(&mut r.source, Source::new(format!("kpi {code}"), text));
                r.stack.push(code.clone());
                let before = r.diags.len();
                let result = r.formula().ok();
                r.stack.pop();
                r.source = outer;
                if result.is_none() && r.diags.len() > before {
                    let first = r.diags[before].message.clone();
                    let d = r
                        .diag(ErrorKind::UnknownKpi, format!("KPI `{code}` cannot be used because its formula is invalid: {first}"), e)
                        .expected(format!("a valid formula for `{code}`"));
                    r.diags.insert(before, d);
                }
                let result = result.map(|(expr, ty)| {
                    let size = expr.size(&MetricLeaf::size);
                    (expr, ty, size)
                });
                r.kpi_cache.insert(code.clone(), result.clone());
                result
            }
        };
        let Some((expr, ty, size)) = body else { return Err(Failed) };
        r.expanded = r.expanded.saturating_add(size);
        if r.expanded > MAX_EXPANDED_NODES {
            let mut chain = r.stack.clone();
            chain.push(code.clone());
            let d = r
                .diag(
                    ErrorKind::TooDeep,
                    format!("KPI references expand to more than {MAX_EXPANDED_NODES} expression nodes: {}", chain.join(" → ")),
                    e,
                )
                .expected("KPIs that use each other fewer times")
                .help("a KPI used twice by each next KPI doubles at every level; refer to it once, or calculate it on its own");
            return Err(r.error(d));
        }
        match apply_window(&expr, self.window) {
            Ok(expr) => Ok((expr, ty)),
            Err(inner) => {
                let d = r
                    .diag(
                        ErrorKind::TimeIntelligence,
                        format!("KPI `{code}` already uses {}, so it cannot be put inside {}", inner, window_name(self.window)),
                        e,
                    )
                    .expected("a KPI whose aggregates have no window of their own");
                Err(r.error(d))
            }
        }
    }
}

/// Checks a time function against the query's grain and range, where it is written.
fn check_query_allows(r: &mut Resolver<'_>, e: &Expr, name: &str, window: Option<Window>) -> Result<(), Failed> {
    let Some(q) = r.query else { return Ok(()) };
    // Without a grain, everything up to the range's end (or all rows) is still an answer.
    if window == Some(Window::Cumulative) && q.grain.is_none() {
        return Ok(());
    }
    let Some(grain) = q.grain else {
        let d = r
            .diag(ErrorKind::TimeIntelligence, format!("`{name}` needs a query with a grain"), e)
            .expected("a grain such as day or month")
            .found("a query for a single value")
            .help("time functions compare or accumulate periods; ask for grain=day, week, month ...");
        return Err(r.error(d));
    };
    if !q.has_range {
        let d = r
            .diag(ErrorKind::TimeIntelligence, format!("`{name}` needs a query with a time range"), e)
            .expected("a start and end for the query")
            .help("the range tells which periods exist, including those without rows");
        return Err(r.error(d));
    }
    match window {
        Some(Window::ToDate(unit)) if unit < grain => {
            let d = r
                .diag(ErrorKind::TimeIntelligence, format!("to_date by {unit} is finer than the query grain {grain}"), e)
                .expected(format!("a unit of {grain} or coarser"))
                .found(format!("'{unit}'"));
            Err(r.error(d))
        }
        _ => Ok(()),
    }
}

fn window_name(w: Window) -> String {
    match w {
        Window::Period => "no window".to_string(),
        Window::Rolling(s, Summary::Last) => format!("rolling(..., '{s}')"),
        Window::Rolling(s, summary) => format!("rolling(..., '{s}', '{}')", summary.as_str()),
        Window::ToDate(g) => format!("to_date(..., '{g}')"),
        Window::Cumulative => "cumulative(...)".to_string(),
    }
}

/// Puts `window` on every aggregate of an inlined KPI; fails with the aggregate's own window if it has one.
/// `expr` with `window` on its aggregates; `Err` names what an aggregate already uses.
fn apply_window(expr: &MetricExpr, window: Window) -> Result<MetricExpr, String> {
    if window == Window::Period {
        return Ok(expr.clone());
    }
    expr.try_map_leaves(&mut |leaf| match leaf {
        MetricLeaf::Aggregate(a) if a.conversion.is_some() => Err("a conversion".to_string()),
        MetricLeaf::Aggregate(a) if a.window == Window::Period => {
            Ok(Scalar::Leaf(MetricLeaf::Aggregate(Box::new(Aggregate { window, ..(**a).clone() }))))
        }
        MetricLeaf::Aggregate(a) => Err(window_name(a.window)),
        MetricLeaf::Prev(inner, n, span) => Ok(Scalar::Leaf(MetricLeaf::Prev(Box::new(apply_window(inner, window)?), *n, *span))),
    })
}

fn fraction(r: &mut Resolver<'_>, e: &Expr) -> Result<f64, Failed> {
    let value = match e.kind {
        ExprKind::Literal(Literal::Float(v)) => Some(v),
        ExprKind::Literal(Literal::Integer(v)) => Some(v as f64),
        _ => None,
    };
    match value {
        Some(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => {
            let d = r
                .diag(ErrorKind::Arguments, "the percentile must be a number from 0 to 1", e)
                .expected("a literal such as 0.95")
                .found(format!("`{}`", r.source.text[e.span.start..e.span.end].trim()));
            Err(r.error(d))
        }
    }
}

/// The table an aggregate runs over: the one from which every other table it mentions is reachable.
fn choose_root(r: &mut Resolver<'_>, e: &Expr, arg: &Expr, filter: Option<&Expr>) -> Result<String, Failed> {
    let mut tables: Vec<String> = Vec::new();
    let mut first_unknown: Option<String> = None;
    let mut visit = |x: &Expr| {
        collect_tables(x, &mut |name| {
            if r.model.table(name).is_some() {
                if !tables.iter().any(|t| t == name) {
                    tables.push(name.to_string());
                }
            } else if first_unknown.is_none() {
                first_unknown = Some(name.to_string());
            }
        })
    };
    visit(arg);
    if let Some(f) = filter {
        visit(f);
    }
    if tables.is_empty() {
        // Let row resolution report the unknown table with its suggestions.
        if let Some(name) = first_unknown {
            return Ok(name);
        }
        let d = r
            .diag(ErrorKind::Aggregate, "an aggregate must read a table", e)
            .expected("a column such as `orders.order_value`, or a table in count(orders)")
            .found("no table");
        return Err(r.error(d));
    }
    for candidate in &tables {
        if tables.iter().all(|t| find_path(r.model, candidate, t).is_ok()) {
            return Ok(candidate.clone());
        }
    }
    let (a, b) = (&tables[0], &tables[1]);
    let err = find_path(r.model, a, b).err().unwrap_or(super::row::PathError::Unreachable);
    let d = path_error(r, &err, a, b, e.span).help(format!(
        "one aggregate reads rows of one table; `{b}` must be reachable from `{a}` (or the reverse) through many-to-one relationships. Aggregate them separately: sum({a}.…) / sum({b}.…)"
    ));
    Err(r.error(d))
}

pub(super) fn collect_tables(e: &Expr, f: &mut impl FnMut(&str)) {
    if let ExprKind::Path(parts) = &e.kind
        && parts.len() >= 2
    {
        f(&parts[0].name);
    }
    // A per-entity value reads its own table; only its key is a column of these rows.
    if let ExprKind::Call { name, args, .. } = &e.kind
        && name.name.eq_ignore_ascii_case("per")
    {
        args.iter().take(1).for_each(|a| collect_tables(a, f));
        return;
    }
    for child in e.children() {
        collect_tables(child, f);
    }
}

/// `prev` itself, or for `growth` the change from it: `(x - prev) / prev`.
fn growth_of(name: &str, x: Scalar<MetricLeaf>, prev: Scalar<MetricLeaf>) -> Scalar<MetricLeaf> {
    if name == "prev" {
        prev
    } else {
        Scalar::Binary(BinaryOp::Div, Box::new(Scalar::Binary(BinaryOp::Sub, Box::new(x), Box::new(prev.clone()))), Box::new(prev))
    }
}
