//! Per-entity values in aggregate filters: `count(bookings where per(bookings.listing_id,
//! count(bookings)) > 2)` counts the bookings of listings with more than two bookings.
//!
//! `per(key, x[, inner_key])` is `x` (aggregates of one table, without windows) over all the
//! rows of its table whose `inner_key` equals this row's `key`; `inner_key` defaults to `key`
//! when `x` reads the aggregated table itself.

use std::sync::Arc;

use crate::ast::{Expr, ExprKind};
use crate::diagnostic::ErrorKind;
use crate::ir::{ColumnRef, MetricLeaf, PerEntity, Scalar, ValueType};

use super::metric::MetricLevel;
use super::row::{RowLevel, RowScope};
use super::{Failed, Level, Res, Resolver};

const EXAMPLE: &str = "count(bookings where per(bookings.listing_id, count(bookings)) > 2)";

/// `per(key, x[, inner_key])` at the row level `level`.
pub(super) fn per_entity(r: &mut Resolver<'_>, level: &RowLevel, e: &Expr, args: &[Expr]) -> Res<ColumnRef> {
    let RowScope::Aggregate { root } = &level.scope else {
        let d = r
            .diag(ErrorKind::Aggregate, "`per` can only be used in the `where` of an aggregate", e)
            .expected(EXAMPLE)
            .help("a query filter or security filter selects rows by their own values");
        return Err(r.error(d));
    };
    r.arity(e, "per", args.len(), 2, 3)?;
    let key = column(r, level, &args[0], "the first argument of `per` is the entity column of the aggregated rows")?;
    let (metric, _) = r.scalar(&MetricLevel::default(), &args[1])?;
    let table = metric_table(r, &metric, &args[1])?;
    let inner = match args.get(2) {
        Some(a) => {
            let own = RowLevel { scope: RowScope::Aggregate { root: table.clone() } };
            column(r, &own, a, "the third argument of `per` is the entity column of the table its expression reads")?
        }
        None if table == *root => key.clone(),
        None => {
            let d = r
                .diag(ErrorKind::Arguments, format!("`per` needs the entity column of `{table}` that matches the key"), e)
                .expected(format!("per(key, x, {table}.<column>)"));
            return Err(r.error(d));
        }
    };
    let (kt, it) = (ValueType::of(&key.data_type), ValueType::of(&inner.data_type));
    if kt.zip(it).is_none_or(|(a, b)| !a.compatible(b)) {
        let d = r
            .diag(ErrorKind::Type, format!("cannot match the key {} with {}", key.data_type, inner.data_type), e)
            .expected("entity columns of the same type");
        return Err(r.error(d));
    }
    let per = Some(Arc::new(PerEntity { metric, key: inner }));
    Ok((Scalar::Leaf(ColumnRef { per, ..key }), ValueType::Number))
}

/// A plain column (no date part, no per-entity value) at `level`.
fn column(r: &mut Resolver<'_>, level: &RowLevel, e: &Expr, what: &str) -> Result<ColumnRef, Failed> {
    if let ExprKind::Path(parts) = &e.kind
        && parts.len() > 1
        && let (Scalar::Leaf(c), _) = level.path(r, e, parts)?
        && c.part.is_none()
        && c.per.is_none()
    {
        return Ok(c);
    }
    let d = r.diag(ErrorKind::Arguments, what, e).expected("a column such as `bookings.listing_id`");
    Err(r.error(d))
}

/// The one table the aggregates of `x` read, which must have no windows of their own.
fn metric_table(r: &mut Resolver<'_>, x: &Scalar<MetricLeaf>, e: &Expr) -> Result<String, Failed> {
    let mut tables: Vec<String> = Vec::new();
    let mut plain = true;
    x.for_each_leaf(&mut |leaf| match leaf {
        MetricLeaf::Aggregate(a) => {
            plain &= a.is_plain();
            if !tables.contains(&a.table) {
                tables.push(a.table.clone());
            }
        }
        MetricLeaf::Prev(..) => plain = false,
    });
    let refused = match tables.as_slice() {
        _ if !plain => {
            "a per-entity value is calculated over all of the entity's rows: no time functions, windows or conversions".to_string()
        }
        [one] => return Ok(one.clone()),
        [] => "the second argument of `per` needs an aggregate, such as count(bookings)".to_string(),
        many => format!("the expression of `per` reads one table, not {}", many.join(" and ")),
    };
    let d = r.diag(ErrorKind::Arguments, refused, e).expected(EXAMPLE);
    Err(r.error(d))
}
