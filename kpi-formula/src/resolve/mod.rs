//! Resolution: binds names to tables, columns, relationships and KPIs, checks types, and inlines
//! KPI references, turning the syntax tree into the IR of [`crate::ir`].
//!
//! All problems found are collected, so a caller sees every error of a formula at once.

mod conversion;
mod metric;
mod per;
mod row;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, TimeUnit};

use crate::ast::{BinaryOp, Expr, ExprKind, Ident, Literal, UnaryOp};
use crate::diagnostic::{Diagnostic, Diagnostics, ErrorKind};
use crate::ir::{ColumnRef, DatePart, MetricExpr, RowExpr, Scalar, ScalarFunc, Value, ValueType};
use crate::model::SemanticModel;
use crate::parser::parse;
use crate::period::parse_local;
use crate::span::{Source, Span};

pub(crate) use metric::MetricLevel;
pub(crate) use row::{RowScope, rebase};

/// Failure marker: the diagnostic has already been recorded.
pub(crate) struct Failed;

pub(crate) type Res<L> = Result<(Scalar<L>, ValueType), Failed>;

/// Two operands after checking they can be compared.
type Pair<L> = (Scalar<L>, Scalar<L>);

/// The deepest chain of KPI references allowed (`a` uses `b` uses `c` ...).
pub const MAX_KPI_DEPTH: usize = 32;

/// How many expression nodes the KPI references of one formula may expand to, all together: a
/// catalog where each KPI uses the one before twice would otherwise double at every level.
pub const MAX_EXPANDED_NODES: usize = 10_000;

/// Names of all functions, for suggestions.
pub(crate) const FUNCTION_NAMES: &[&str] = &[
    "sum",
    "count",
    "count_distinct",
    "avg",
    "min",
    "max",
    "median",
    "percentile",
    "percentile_disc",
    "approx_percentile",
    "conversions",
    "conversion_rate",
    "per",
    "at_start",
    "last",
    "first",
    "prev",
    "growth",
    "rolling",
    "to_date",
    "cumulative",
    "coalesce",
    "nullif",
    "abs",
    "round",
    "floor",
    "ceil",
    "sqrt",
    "power",
    "least",
    "greatest",
    "lower",
    "upper",
    "days_between",
    "hours_between",
    "minutes_between",
];

/// A formula after resolution, with what it reads.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedFormula {
    /// The resolved expression, with KPI references inlined.
    pub expr: MetricExpr,
    /// Its type (a number for every valid KPI).
    pub value_type: ValueType,
    /// Tables read, including those reached through relationships.
    pub tables: BTreeSet<String>,
    /// `(table, column)` pairs read, including join keys.
    pub columns: BTreeSet<(String, String)>,
    /// KPIs referenced, directly or through other KPIs.
    pub kpis: BTreeSet<String>,
}

impl ResolvedFormula {
    /// Whether the formula uses `prev`, `growth`, `at_start`, `rolling`, `to_date`, `cumulative`,
    /// `last`, `first`, a conversion or a per-entity value: whether a period's value depends on
    /// rows outside it.
    pub fn uses_time_intelligence(&self) -> bool {
        let mut found = false;
        self.expr.for_each_leaf(&mut |leaf| match leaf {
            crate::ir::MetricLeaf::Prev(..) => found = true,
            crate::ir::MetricLeaf::Aggregate(a) => {
                found |= a.window != crate::ir::Window::Period || a.snapshot.is_some() || a.conversion.is_some()
            }
        });
        found
    }
}

/// Parses and resolves a formula against a model, returning every problem found.
///
/// ```
/// # use std::sync::Arc;
/// # use datafusion::arrow::datatypes::{DataType, Field, Schema};
/// # use kpi_formula::{InMemoryModel, TableModel};
/// # let schema = Schema::new(vec![Field::new("order_value", DataType::Float64, true)]);
/// # let model = InMemoryModel::new().with_table(TableModel::new("orders", Arc::new(schema)));
/// let err = kpi_formula::check_formula("sum(orders.ordr_value)", &model).unwrap_err();
/// assert_eq!(err.first().help.as_deref(), Some("did you mean `order_value`?"));
/// ```
pub fn check_formula(formula: &str, model: &dyn SemanticModel) -> Result<ResolvedFormula, Diagnostics> {
    let mut r = Resolver::new(model, Source::new("formula", formula));
    let result = r.formula();
    r.finish(result)
}

/// Resolves the KPI `code` of the model (its formula and every KPI it references).
pub fn check_kpi(code: &str, model: &dyn SemanticModel) -> Result<ResolvedFormula, Diagnostics> {
    let Some(text) = model.kpi_formula(code) else {
        let src = Source::new("kpi", code);
        let d = Diagnostic::new(ErrorKind::UnknownKpi, format!("unknown KPI `{code}`"), &src, crate::span::Span::new(0, code.len()))
            .expected("the code of a KPI in the catalog")
            .suggest(code, model.kpi_codes());
        return Err(d.into());
    };
    let mut r = Resolver::new(model, Source::new(format!("kpi {code}"), text));
    r.stack.push(code.to_string());
    let result = r.formula();
    r.finish(result)
}

pub(crate) struct Resolver<'m> {
    pub(crate) model: &'m dyn SemanticModel,
    pub(crate) source: Arc<Source>,
    pub(crate) diags: Vec<Diagnostic>,
    pub(crate) tables: BTreeSet<String>,
    pub(crate) columns: BTreeSet<(String, String)>,
    pub(crate) kpis: BTreeSet<String>,
    /// Resolved KPI bodies by code; `None` when the KPI has errors (reported once).
    pub(crate) kpi_cache: HashMap<String, Option<(MetricExpr, ValueType, usize)>>,
    /// Expression nodes the KPI references expanded to so far (see [`MAX_EXPANDED_NODES`]).
    pub(crate) expanded: usize,
    /// KPIs being resolved, outermost first, for cycle detection.
    pub(crate) stack: Vec<String>,
    /// The query's grain and range, when resolving for a query: time functions are checked against it.
    pub(crate) query: Option<crate::query::QueryShape>,
}

impl<'m> Resolver<'m> {
    pub(crate) fn new(model: &'m dyn SemanticModel, source: Arc<Source>) -> Self {
        Resolver {
            model,
            source,
            diags: Vec::new(),
            tables: BTreeSet::new(),
            columns: BTreeSet::new(),
            kpis: BTreeSet::new(),
            kpi_cache: HashMap::new(),
            expanded: 0,
            stack: Vec::new(),
            query: None,
        }
    }

    pub(crate) fn formula(&mut self) -> Result<(MetricExpr, ValueType), Failed> {
        let ast = self.parse_current()?;
        let (expr, ty) = self.scalar(&MetricLevel::default(), &ast)?;
        if !ty.compatible(ValueType::Number) {
            self.error(
                Diagnostic::new(ErrorKind::Type, "a KPI formula must give a number", &self.source, ast.span)
                    .expected("a number")
                    .found(ty.name())
                    .help(match ty {
                        ValueType::Boolean => "turn the condition into a number: case when ... then 1 else 0 end",
                        _ => "aggregate it, e.g. count(...) or sum(...)",
                    }),
            );
            return Err(Failed);
        }
        Ok((expr, ty))
    }

    pub(crate) fn finish(self, result: Result<(MetricExpr, ValueType), Failed>) -> Result<ResolvedFormula, Diagnostics> {
        match result {
            Ok((expr, value_type)) if self.diags.is_empty() => {
                Ok(ResolvedFormula { expr, value_type, tables: self.tables, columns: self.columns, kpis: self.kpis })
            }
            _ => Err(Diagnostics(if self.diags.is_empty() {
                vec![Diagnostic::new(ErrorKind::Syntax, "invalid formula", &self.source, Default::default())]
            } else {
                self.diags
            })),
        }
    }

    pub(crate) fn parse_current(&mut self) -> Result<Expr, Failed> {
        parse(&self.source).map_err(|d| self.error(d))
    }

    /// Resolves a row-level expression (a query filter, a security filter) from its own source.
    pub(crate) fn row_expr(&mut self, scope: RowScope) -> Result<(RowExpr, ValueType, Span), Failed> {
        let ast = self.parse_current()?;
        let (expr, ty) = self.scalar(&row::RowLevel { scope }, &ast)?;
        self.expect_type(&ast, ty, ValueType::Boolean, "a filter")?;
        Ok((expr, ty, ast.span))
    }

    /// Resolves a dimension: a column path such as `orders.customer.segment`.
    pub(crate) fn dimension(&mut self) -> Result<ColumnRef, Failed> {
        let ast = self.parse_current()?;
        match &ast.kind {
            ExprKind::Path(parts) if parts.len() >= 2 => row::column_path(self, parts, &ast),
            ExprKind::Call { name, args, filter: None } if let Some(part) = DatePart::from_name(&name.name.to_ascii_lowercase()) => {
                let (leaf, _) = row::date_part(self, &ast, part, args, |r, arg, parts| {
                    if parts.len() < 2 {
                        let d =
                            r.diag(ErrorKind::Query, "a date part takes a column path", arg).expected("a path such as `orders.ordered_at`");
                        return Err(r.error(d));
                    }
                    let c = row::column_path(r, parts, arg)?;
                    let ty = ValueType::of(&c.data_type).unwrap_or(ValueType::Null);
                    Ok((Scalar::Leaf(c), ty))
                })?;
                match leaf {
                    Scalar::Leaf(c) => Ok(c),
                    _ => Err(Failed),
                }
            }
            _ => {
                let d =
                    Diagnostic::new(ErrorKind::Query, "a dimension must be a column path or a date part of one", &self.source, ast.span)
                        .expected("a path such as `orders.region` or `orders.customer.segment`, or `month(orders.ordered_at)`")
                        .found(format!("`{}`", self.source.text.trim()));
                Err(self.error(d))
            }
        }
    }

    pub(crate) fn error(&mut self, d: Diagnostic) -> Failed {
        self.diags.push(d);
        Failed
    }

    pub(crate) fn diag(&self, kind: ErrorKind, message: impl Into<String>, e: &Expr) -> Diagnostic {
        Diagnostic::new(kind, message, &self.source, e.span)
    }

    /// Resolves an expression at a level; paths and level-specific calls go to the level.
    pub(crate) fn scalar<V: Level>(&mut self, level: &V, e: &Expr) -> Res<V::Leaf> {
        match &e.kind {
            ExprKind::Literal(l) => Ok(literal(l)),
            ExprKind::Path(parts) => level.path(self, e, parts),
            ExprKind::Call { name, args, filter } => {
                let lower = name.name.to_ascii_lowercase();
                if let Some(result) = level.call(self, e, &lower, args, filter.as_deref()) {
                    return result;
                }
                self.scalar_call(level, e, name, &lower, args, filter.as_deref())
            }
            ExprKind::Unary { op, expr } => {
                let (inner, ty) = self.scalar(level, expr)?;
                let want = if *op == UnaryOp::Neg { ValueType::Number } else { ValueType::Boolean };
                self.expect_type(expr, ty, want, if *op == UnaryOp::Neg { "`-`" } else { "`not`" })?;
                Ok((Scalar::Unary(*op, Box::new(inner)), want))
            }
            ExprKind::Binary { op, left, right } => {
                let l = self.scalar(level, left);
                let r = self.scalar(level, right);
                let ((l, lt), (r, rt)) = (l?, r?);
                if op.is_arithmetic() {
                    let what = format!("`{}`", op.as_str());
                    let a = self.expect_type(left, lt, ValueType::Number, &what);
                    let b = self.expect_type(right, rt, ValueType::Number, &what);
                    a?;
                    b?;
                    Ok((Scalar::Binary(*op, Box::new(l), Box::new(r)), ValueType::Number))
                } else if op.is_comparison() {
                    let (l, r) = self.comparable::<V>(left, (l, lt), right, (r, rt))?;
                    Ok((Scalar::Binary(*op, Box::new(l), Box::new(r)), ValueType::Boolean))
                } else {
                    let what = format!("`{}`", op.as_str());
                    let a = self.expect_type(left, lt, ValueType::Boolean, &what);
                    let b = self.expect_type(right, rt, ValueType::Boolean, &what);
                    a?;
                    b?;
                    Ok((Scalar::Binary(*op, Box::new(l), Box::new(r)), ValueType::Boolean))
                }
            }
            ExprKind::IsNull { expr, negated } => {
                let (inner, _) = self.scalar(level, expr)?;
                Ok((Scalar::IsNull(Box::new(inner), *negated), ValueType::Boolean))
            }
            ExprKind::InList { expr, list, negated } => {
                let subject = self.scalar(level, expr)?;
                let mut items = Vec::with_capacity(list.len());
                let mut failed = false;
                for item in list {
                    match self.scalar(level, item) {
                        Ok(r) => match self.comparable::<V>(expr, subject.clone(), item, r) {
                            Ok((_, item)) => items.push(item),
                            Err(_) => failed = true,
                        },
                        Err(_) => failed = true,
                    }
                }
                if failed {
                    return Err(Failed);
                }
                Ok((Scalar::InList(Box::new(subject.0), items, *negated), ValueType::Boolean))
            }
            ExprKind::Between { expr, low, high, negated } => {
                let subject = self.scalar(level, expr)?;
                let lo = self.scalar(level, low)?;
                let hi = self.scalar(level, high)?;
                let (s, lo) = self.comparable::<V>(expr, subject, low, lo)?;
                let (_, hi) = self.comparable::<V>(expr, (s.clone(), ValueType::Null), high, hi)?;
                Ok((Scalar::Between(Box::new(s), Box::new(lo), Box::new(hi), *negated), ValueType::Boolean))
            }
            ExprKind::Like { expr, pattern, negated } => {
                let (s, st) = self.scalar(level, expr)?;
                let (p, pt) = self.scalar(level, pattern)?;
                self.expect_type(expr, st, ValueType::String, "`like`")?;
                self.expect_type(pattern, pt, ValueType::String, "`like`")?;
                Ok((Scalar::Like(Box::new(s), Box::new(p), *negated), ValueType::Boolean))
            }
            ExprKind::Case { operand, branches, otherwise } => self.case(level, operand.as_deref(), branches, otherwise.as_deref()),
        }
    }

    fn case<V: Level>(&mut self, level: &V, operand: Option<&Expr>, branches: &[(Expr, Expr)], otherwise: Option<&Expr>) -> Res<V::Leaf> {
        let operand = match operand {
            Some(o) => Some((o, self.scalar(level, o)?)),
            None => None,
        };
        let mut out = Vec::with_capacity(branches.len());
        let mut result_type = ValueType::Null;
        let mut failed = false;
        for (when, then) in branches {
            let cond = match (&operand, self.scalar(level, when)) {
                (Some((o_expr, o)), Ok(w)) => {
                    self.comparable::<V>(o_expr, o.clone(), when, w).map(|(o, w)| Scalar::Binary(BinaryOp::Eq, Box::new(o), Box::new(w)))
                }
                (None, Ok((w, wt))) => self.expect_type(when, wt, ValueType::Boolean, "`when`").map(|_| w),
                (_, Err(f)) => Err(f),
            };
            let value = self.scalar(level, then).and_then(|(t, tt)| self.unify(then, &mut result_type, tt).map(|_| t));
            match (cond, value) {
                (Ok(c), Ok(v)) => out.push((c, v)),
                _ => failed = true,
            }
        }
        let otherwise = match otherwise {
            Some(e) => match self.scalar(level, e).and_then(|(v, vt)| self.unify(e, &mut result_type, vt).map(|_| v)) {
                Ok(v) => Some(Box::new(v)),
                Err(_) => {
                    failed = true;
                    None
                }
            },
            None => None,
        };
        if failed {
            return Err(Failed);
        }
        Ok((Scalar::Case(out, otherwise), result_type))
    }

    fn unify(&mut self, e: &Expr, acc: &mut ValueType, ty: ValueType) -> Result<(), Failed> {
        if acc.compatible(ty) {
            *acc = acc.unify(ty);
            Ok(())
        } else {
            let d = self.diag(ErrorKind::Type, "all branches must give the same type", e).expected(acc.name()).found(ty.name());
            Err(self.error(d))
        }
    }

    pub(crate) fn expect_type(&mut self, e: &Expr, found: ValueType, want: ValueType, what: &str) -> Result<(), Failed> {
        if found.compatible(want) {
            return Ok(());
        }
        let d = self
            .diag(ErrorKind::Type, format!("{what} needs {}, found {}", want.name(), found.name()), e)
            .expected(want.name())
            .found(found.name());
        Err(self.error(d))
    }

    /// Checks two operands can be compared; a string literal facing a time becomes a time literal.
    fn comparable<V: Level>(
        &mut self,
        le: &Expr,
        l: (Scalar<V::Leaf>, ValueType),
        re: &Expr,
        r: (Scalar<V::Leaf>, ValueType),
    ) -> Result<Pair<V::Leaf>, Failed> {
        let time_target = |s: &Scalar<V::Leaf>, ty: ValueType| -> Option<DataType> {
            matches!(ty, ValueType::Timestamp | ValueType::Date).then(|| match ty {
                ValueType::Date => DataType::Date32,
                _ => time_column_type::<V>(s).unwrap_or(DataType::Timestamp(TimeUnit::Microsecond, None)),
            })
        };
        let (mut l, lt) = l;
        let (mut r, rt) = r;
        if let (Some(target), ValueType::String) = (time_target(&l, lt), rt) {
            r = self.time_literal(re, r, target)?;
        } else if let (ValueType::String, Some(target)) = (lt, time_target(&r, rt)) {
            l = self.time_literal(le, l, target)?;
        } else if !(lt.compatible(rt) || is_time(lt) && is_time(rt)) {
            let d = self
                .diag(ErrorKind::Type, format!("cannot compare {} with {}", lt.name(), rt.name()), re)
                .expected(lt.name())
                .found(rt.name());
            return Err(self.error(d));
        }
        Ok((l, r))
    }

    fn time_literal<L>(&mut self, e: &Expr, s: Scalar<L>, target: DataType) -> Result<Scalar<L>, Failed> {
        let Scalar::Literal(Value::String(text)) = &s else {
            let d = self
                .diag(ErrorKind::Type, "cannot compare a time with a string expression", e)
                .expected("a time literal such as '2024-01-31'");
            return Err(self.error(d));
        };
        match parse_local(text) {
            Some(t) if target == DataType::Date32 && t.time() == chrono::NaiveTime::MIN => Ok(Scalar::Literal(Value::Date(t.date()))),
            Some(t) => Ok(Scalar::Literal(Value::LocalTimestamp(t, target))),
            None => {
                let d = self
                    .diag(ErrorKind::Type, format!("cannot read '{text}' as a date or time"), e)
                    .expected("a date like '2024-01-31' or a time like '2024-01-31 13:00:00'")
                    .found(format!("'{text}'"));
                Err(self.error(d))
            }
        }
    }

    fn scalar_call<V: Level>(
        &mut self,
        level: &V,
        e: &Expr,
        name: &Ident,
        lower: &str,
        args: &[Expr],
        filter: Option<&Expr>,
    ) -> Res<V::Leaf> {
        let func = match lower {
            "coalesce" => ScalarFunc::Coalesce,
            "nullif" => ScalarFunc::NullIf,
            "abs" => ScalarFunc::Abs,
            "round" => ScalarFunc::Round,
            "floor" => ScalarFunc::Floor,
            "ceil" | "ceiling" => ScalarFunc::Ceil,
            "sqrt" => ScalarFunc::Sqrt,
            "power" | "pow" => ScalarFunc::Power,
            "least" => ScalarFunc::Least,
            "greatest" => ScalarFunc::Greatest,
            "lower" => ScalarFunc::Lower,
            "upper" => ScalarFunc::Upper,
            "days_between" => ScalarFunc::DaysBetween,
            "hours_between" => ScalarFunc::HoursBetween,
            "minutes_between" => ScalarFunc::MinutesBetween,
            _ => {
                let d = Diagnostic::new(ErrorKind::UnknownFunction, format!("unknown function `{}`", name.name), &self.source, name.span)
                    .expected("a function of the language")
                    .found(format!("`{}`", name.name))
                    .suggest(&name.name, FUNCTION_NAMES.iter().copied());
                return Err(self.error(d));
            }
        };
        if let Some(f) = filter {
            let d = self
                .diag(ErrorKind::Syntax, format!("`where` only filters aggregates, not `{lower}`"), f)
                .help("move the condition into the aggregate, or use case when ... end");
            return Err(self.error(d));
        }
        let (min, max) = match func {
            ScalarFunc::Coalesce | ScalarFunc::Least | ScalarFunc::Greatest => (1, usize::MAX),
            ScalarFunc::Round => (1, 2),
            ScalarFunc::NullIf | ScalarFunc::Power | ScalarFunc::DaysBetween | ScalarFunc::HoursBetween | ScalarFunc::MinutesBetween => {
                (2, 2)
            }
            _ => (1, 1),
        };
        self.arity(e, lower, args.len(), min, max)?;
        let mut resolved = Vec::with_capacity(args.len());
        let mut failed = false;
        for a in args {
            match self.scalar(level, a) {
                Ok(r) => resolved.push(r),
                Err(_) => failed = true,
            }
        }
        if failed {
            return Err(Failed);
        }
        let what = format!("`{lower}`");
        let result_type = match func {
            ScalarFunc::Coalesce | ScalarFunc::Least | ScalarFunc::Greatest | ScalarFunc::NullIf => {
                let mut ty = ValueType::Null;
                for (a, (_, t)) in args.iter().zip(&resolved) {
                    self.unify(a, &mut ty, *t)?;
                }
                if func == ScalarFunc::NullIf { resolved[0].1 } else { ty }
            }
            ScalarFunc::Lower | ScalarFunc::Upper => {
                self.expect_type(&args[0], resolved[0].1, ValueType::String, &what)?;
                ValueType::String
            }
            ScalarFunc::DaysBetween | ScalarFunc::HoursBetween | ScalarFunc::MinutesBetween => {
                for (a, (_, t)) in args.iter().zip(&resolved) {
                    if !is_time(*t) && *t != ValueType::Null {
                        let d = self
                            .diag(ErrorKind::Type, format!("{what} needs timestamps or dates"), a)
                            .expected("a timestamp or a date")
                            .found(t.name());
                        return Err(self.error(d));
                    }
                }
                ValueType::Number
            }
            _ => {
                for (a, (_, t)) in args.iter().zip(&resolved) {
                    self.expect_type(a, *t, ValueType::Number, &what)?;
                }
                if func == ScalarFunc::Round && args.len() == 2 && !matches!(args[1].kind, ExprKind::Literal(Literal::Integer(_))) {
                    let d = self
                        .diag(ErrorKind::Arguments, "`round` takes a whole number of digits", &args[1])
                        .expected("an integer literal such as 2");
                    return Err(self.error(d));
                }
                ValueType::Number
            }
        };
        Ok((Scalar::Func(func, resolved.into_iter().map(|(s, _)| s).collect()), result_type))
    }

    pub(crate) fn arity(&mut self, e: &Expr, name: &str, found: usize, min: usize, max: usize) -> Result<(), Failed> {
        if (min..=max).contains(&found) {
            return Ok(());
        }
        let expected = match (min, max) {
            (a, b) if a == b => format!("{a} argument{}", if a == 1 { "" } else { "s" }),
            (a, usize::MAX) => format!("at least {a} argument{}", if a == 1 { "" } else { "s" }),
            (a, b) => format!("{a} to {b} arguments"),
        };
        let d = self
            .diag(ErrorKind::Arguments, format!("`{name}` takes {expected}, found {found}"), e)
            .expected(expected)
            .found(format!("{found}"));
        Err(self.error(d))
    }
}

/// What differs between the KPI level (aggregates, KPI references, time functions) and the row
/// level (columns): how paths and special calls resolve.
pub(crate) trait Level {
    type Leaf: Clone;
    fn path(&self, r: &mut Resolver<'_>, e: &Expr, parts: &[Ident]) -> Res<Self::Leaf>;
    /// `None` when `name` is not special at this level.
    fn call(&self, r: &mut Resolver<'_>, e: &Expr, name: &str, args: &[Expr], filter: Option<&Expr>) -> Option<Res<Self::Leaf>>;
    /// The Arrow type of a leaf, where the leaf is a column.
    fn leaf_data_type(leaf: &Self::Leaf) -> Option<DataType>;
}

fn literal<L>(l: &Literal) -> (Scalar<L>, ValueType) {
    match l {
        Literal::Integer(v) => (Scalar::Literal(Value::Integer(*v)), ValueType::Number),
        Literal::Float(v) => (Scalar::Literal(Value::Float(*v)), ValueType::Number),
        Literal::String(s) => (Scalar::Literal(Value::String(s.clone())), ValueType::String),
        Literal::Boolean(b) => (Scalar::Literal(Value::Boolean(*b)), ValueType::Boolean),
        Literal::Null => (Scalar::Literal(Value::Null), ValueType::Null),
    }
}

fn is_time(t: ValueType) -> bool {
    matches!(t, ValueType::Timestamp | ValueType::Date)
}

/// The Arrow type of a time expression when it is a plain column (the common case), so that a
/// literal compared with it can take exactly its type.
fn time_column_type<V: Level>(s: &Scalar<V::Leaf>) -> Option<DataType> {
    let mut found = None;
    s.for_each_leaf(&mut |leaf| {
        if found.is_none() {
            found = V::leaf_data_type(leaf);
        }
    });
    found
}
