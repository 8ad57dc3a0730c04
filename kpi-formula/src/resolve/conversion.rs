//! Conversion (funnel) metrics: `conversions(count(visits), count(buys), visits.user_id =
//! buys.user_id, '7 days')` counts the buys that follow a visit by the same user within seven
//! days, by the visit's period; `conversion_rate(...)` divides that by the visits.
//!
//! The third argument pairs a base expression (left) with a conversion expression (right):
//! the entity first, then any properties held constant, joined with `and`.

use crate::ast::{BinaryOp, Expr, ExprKind, Literal};
use crate::diagnostic::ErrorKind;
use crate::ir::{Aggregate, Conversion, MetricLeaf, RowExpr, Scalar, ValueType, Window};
use crate::period::CalendarSpan;

use super::metric::MetricLevel;
use super::row::{RowLevel, RowScope};
use super::{Failed, Res, Resolver};

/// The function names.
pub(crate) const CONVERSION_FUNCTIONS: &[&str] = &["conversions", "conversion_rate"];

const EXAMPLE: &str = "conversion_rate(count(visits), count(buys), visits.user_id = buys.user_id, '7 days')";

impl MetricLevel {
    /// `conversions(base, conversion, on[, 'window'])` and `conversion_rate(...)`.
    pub(super) fn conversion(&self, r: &mut Resolver<'_>, e: &Expr, name: &str, args: &[Expr]) -> Res<MetricLeaf> {
        if args.len() < 3 {
            let d = r
                .diag(ErrorKind::Arguments, format!("`{name}` needs a base aggregate, a conversion aggregate and the entity they share"), e)
                .expected(EXAMPLE)
                .help("the third argument says who converts: `base_table.entity = conversion_table.entity`");
            return Err(r.error(d));
        }
        r.arity(e, name, args.len(), 3, 4)?;
        if self.window() != Window::Period {
            let d = r
                .diag(ErrorKind::TimeIntelligence, format!("`{name}` cannot be used inside a window function"), e)
                .help("a conversion window is the fourth argument: conversions(..., '7 days')");
            return Err(r.error(d));
        }
        let base = plain_aggregate(r, &args[0], name, "base")?;
        let conv = plain_aggregate(r, &args[1], name, "conversion")?;
        let on = pairs(r, &args[2], &base.table, &conv.table)?;
        let within = match args.get(3) {
            None => None,
            Some(a) => Some(window(r, a)?),
        };
        let conversion = Conversion { table: conv.table.clone(), arg: conv.arg.clone(), filter: conv.filter.clone(), on, within };
        let converted = Aggregate {
            func: conv.func,
            table: base.table.clone(),
            arg: None,
            filter: base.filter.clone(),
            window: Window::Period,
            snapshot: None,
            conversion: Some(Box::new(conversion)),
            span: e.span,
        };
        let conversions = Scalar::Leaf(MetricLeaf::Aggregate(Box::new(converted)));
        let value = if name == "conversion_rate" {
            Scalar::Binary(BinaryOp::Div, Box::new(conversions), Box::new(Scalar::Leaf(MetricLeaf::Aggregate(Box::new(base)))))
        } else {
            conversions
        };
        Ok((value, ValueType::Number))
    }
}

/// One aggregate over a table with a time column, without a window of its own.
fn plain_aggregate(r: &mut Resolver<'_>, e: &Expr, name: &str, role: &str) -> Result<Aggregate, Failed> {
    let (x, _) = r.scalar(&MetricLevel::default(), e)?;
    let refused = match &x {
        Scalar::Leaf(MetricLeaf::Aggregate(a)) if a.is_plain() => {
            if r.model.table(&a.table).is_some_and(|t| t.time_column.is_some()) {
                return Ok((**a).clone());
            }
            format!("the {role} events of `{name}` need a time; `{}` has no time column", a.table)
        }
        _ => format!("the {role} of `{name}` must be one aggregate such as count(visits) or sum(buys.amount)"),
    };
    let d = r.diag(ErrorKind::Arguments, refused, e).expected(EXAMPLE);
    Err(r.error(d))
}

/// `base.entity = conversion.entity [and base.p = conversion.p ...]` as pairs.
fn pairs(r: &mut Resolver<'_>, e: &Expr, base: &str, conv: &str) -> Result<Vec<(RowExpr, RowExpr)>, Failed> {
    let mut equalities = Vec::new();
    let mut stack = vec![e];
    while let Some(x) = stack.pop() {
        match &x.kind {
            ExprKind::Binary { op: BinaryOp::And, left, right } => {
                stack.push(right);
                stack.push(left);
            }
            ExprKind::Binary { op: BinaryOp::Eq, left, right } => equalities.push((&**left, &**right)),
            _ => {
                let d = r.diag(ErrorKind::Arguments, "a conversion is matched on equal entities (and properties)", x).expected(format!(
                    "`{base}.<entity> = {conv}.<entity>`, optionally followed by `and {base}.<property> = {conv}.<property>`"
                ));
                return Err(r.error(d));
            }
        }
    }
    let mut out = Vec::new();
    for (left, right) in equalities {
        let (b, bt) = side(r, left, base, "left", "base")?;
        let (c, ct) = side(r, right, conv, "right", "conversion")?;
        if !bt.compatible(ct) {
            let d = r
                .diag(ErrorKind::Type, format!("cannot match {} with {}", bt.name(), ct.name()), left)
                .expected("two values of the same type");
            return Err(r.error(d));
        }
        out.push((b, c));
    }
    Ok(out)
}

/// One side of an equality, over the rows of `table`.
fn side(r: &mut Resolver<'_>, e: &Expr, table: &str, position: &str, role: &str) -> Result<(RowExpr, ValueType), Failed> {
    let mut reads = Vec::new();
    super::metric::collect_tables(e, &mut |t| reads.push(t.to_string()));
    if reads.first().map(String::as_str) != Some(table) {
        let d = r
            .diag(ErrorKind::Arguments, format!("the {position} side of a conversion match reads the {role} table `{table}`"), e)
            .expected(format!("an expression such as `{table}.user_id`"));
        return Err(r.error(d));
    }
    let level = RowLevel { scope: RowScope::Aggregate { root: table.to_string() } };
    r.scalar(&level, e)
}

/// The fourth argument: how long after a base event a conversion counts.
fn window(r: &mut Resolver<'_>, e: &Expr) -> Result<CalendarSpan, Failed> {
    let parsed = match &e.kind {
        ExprKind::Literal(Literal::String(text)) => CalendarSpan::parse(text).map_err(|expected| (expected, Some(text.clone()))),
        _ => Err(("a quoted span such as '7 days'".to_string(), None)),
    };
    parsed.map_err(|(expected, found)| {
        let mut d = r.diag(ErrorKind::Arguments, "the fourth argument of a conversion is its window", e).expected(expected);
        if let Some(text) = found {
            d = d.found(format!("'{text}'"));
        }
        r.error(d)
    })
}
