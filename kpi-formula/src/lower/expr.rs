//! Resolved expressions to DataFusion expressions.

use datafusion::arrow::datatypes::DataType;
use datafusion::functions::expr_fn as f;
use datafusion::functions_aggregate::expr_fn as agg;
use datafusion::logical_expr::expr::Sort;
use datafusion::logical_expr::{Between, ExprFunctionExt, Like, when};
use datafusion::prelude::{Expr, cast, in_list, lit};
use datafusion::scalar::ScalarValue;

use crate::ast::{BinaryOp, UnaryOp};
use crate::error::FormulaError;
use crate::ir::{AggFunc, Scalar, ScalarFunc, Value};
use crate::period::Calendar;

use super::percentile_disc::percentile_disc;
use super::time::local_time_literal;

/// Lowers an expression tree, with `leaf` lowering its leaves.
pub(crate) fn scalar_to_df<L>(
    e: &Scalar<L>,
    cal: &Calendar,
    leaf: &mut dyn FnMut(&L) -> Result<Expr, FormulaError>,
) -> Result<Expr, FormulaError> {
    let go = |x: &Scalar<L>, leaf: &mut dyn FnMut(&L) -> Result<Expr, FormulaError>| scalar_to_df(x, cal, leaf);
    Ok(match e {
        Scalar::Leaf(l) => leaf(l)?,
        Scalar::Literal(v) => value(v, cal),
        Scalar::Binary(op, a, b) => {
            let (a, b) = (go(a, leaf)?, go(b, leaf)?);
            match op {
                BinaryOp::Add => a + b,
                BinaryOp::Sub => a - b,
                BinaryOp::Mul => a * b,
                // Real division; dividing by zero gives null instead of an error or infinity.
                // (CASE rather than nullif: DataFusion plans it in half the time.)
                BinaryOp::Div => {
                    let b = float(b);
                    when(b.clone().eq(lit(0.0)), lit(ScalarValue::Float64(None))).otherwise(float(a) / b)?
                }
                BinaryOp::Mod => a % f::nullif(b, lit(0)),
                BinaryOp::Eq => a.eq(b),
                BinaryOp::NotEq => a.not_eq(b),
                BinaryOp::Lt => a.lt(b),
                BinaryOp::LtEq => a.lt_eq(b),
                BinaryOp::Gt => a.gt(b),
                BinaryOp::GtEq => a.gt_eq(b),
                BinaryOp::And => a.and(b),
                BinaryOp::Or => a.or(b),
            }
        }
        Scalar::Unary(UnaryOp::Neg, a) => Expr::Negative(Box::new(go(a, leaf)?)),
        Scalar::Unary(UnaryOp::Not, a) => Expr::Not(Box::new(go(a, leaf)?)),
        Scalar::IsNull(a, negated) => {
            let a = go(a, leaf)?;
            if *negated { a.is_not_null() } else { a.is_null() }
        }
        Scalar::InList(a, list, negated) => {
            let a = go(a, leaf)?;
            let list = list.iter().map(|x| go(x, leaf)).collect::<Result<Vec<_>, _>>()?;
            in_list(a, list, *negated)
        }
        Scalar::Between(a, lo, hi, negated) => {
            Expr::Between(Between::new(Box::new(go(a, leaf)?), *negated, Box::new(go(lo, leaf)?), Box::new(go(hi, leaf)?)))
        }
        Scalar::Like(a, p, negated) => Expr::Like(Like::new(*negated, Box::new(go(a, leaf)?), Box::new(go(p, leaf)?), None, false)),
        Scalar::Case(branches, otherwise) => {
            let mut it = branches.iter();
            let (w, t) = it.next().ok_or_else(|| internal("a case without branches"))?;
            let mut builder = when(go(w, leaf)?, go(t, leaf)?);
            for (w, t) in it {
                builder = builder.when(go(w, leaf)?, go(t, leaf)?);
            }
            match otherwise {
                Some(e) => builder.otherwise(go(e, leaf)?)?,
                None => builder.end()?,
            }
        }
        Scalar::Func(func, args) => {
            let mut args = args.iter().map(|x| go(x, leaf)).collect::<Result<Vec<_>, _>>()?;
            match func {
                ScalarFunc::Coalesce => f::coalesce(args),
                ScalarFunc::NullIf => {
                    let (a, b) = two(args)?;
                    f::nullif(a, b)
                }
                ScalarFunc::Abs => f::abs(args.remove(0)),
                ScalarFunc::Round => {
                    args[0] = float(args[0].clone());
                    f::round(args)
                }
                ScalarFunc::Floor => f::floor(float(args.remove(0))),
                ScalarFunc::Ceil => f::ceil(float(args.remove(0))),
                // Null rather than NaN for negative input, as in the SQL engines we export to.
                ScalarFunc::Sqrt => {
                    let x = float(args.remove(0));
                    when(x.clone().lt(lit(0.0)), lit(ScalarValue::Float64(None))).otherwise(f::sqrt(x))?
                }
                ScalarFunc::Power => {
                    let (base, exponent) = two(args)?;
                    f::power(float(base), float(exponent))
                }
                ScalarFunc::Least => f::least(args),
                ScalarFunc::Greatest => f::greatest(args),
                ScalarFunc::Lower => f::lower(args.remove(0)),
                ScalarFunc::Upper => f::upper(args.remove(0)),
                ScalarFunc::DaysBetween | ScalarFunc::HoursBetween | ScalarFunc::MinutesBetween => {
                    let seconds = match func {
                        ScalarFunc::DaysBetween => 86_400.0,
                        ScalarFunc::HoursBetween => 3_600.0,
                        _ => 60.0,
                    };
                    let (a, b) = two(args)?;
                    (epoch(b) - epoch(a)) / lit(seconds)
                }
            }
        }
    })
}

/// `e` as Float64, without stacking a cast on an expression that already is one: the plan
/// stays small, and DataFusion's planning time grows with expression size.
pub(crate) fn float(e: Expr) -> Expr {
    match &e {
        Expr::Cast(c) if *c.field.data_type() == DataType::Float64 => e,
        Expr::Literal(ScalarValue::Float64(_), _) => e,
        Expr::Case(c) if c.else_expr.as_deref().is_some_and(|x| matches!(x, Expr::BinaryExpr(b) if is_float(&b.left))) => e,
        Expr::ScalarFunction(f) if matches!(f.name(), "coalesce" | "nullif") && f.args.first().is_some_and(is_float) => e,
        _ => cast(e, DataType::Float64),
    }
}

fn is_float(e: &Expr) -> bool {
    matches!(e, Expr::Cast(c) if *c.field.data_type() == DataType::Float64) || matches!(e, Expr::Literal(ScalarValue::Float64(_), _))
}

fn internal(what: &str) -> FormulaError {
    datafusion::error::DataFusionError::Internal(format!("kpi-formula lowering: {what}")).into()
}

/// The two arguments of a binary function (the resolver checked the count).
fn two(mut args: Vec<Expr>) -> Result<(Expr, Expr), FormulaError> {
    match (args.pop(), args.pop()) {
        (Some(b), Some(a)) => Ok((a, b)),
        _ => Err(internal("a binary function without two arguments")),
    }
}

/// Seconds since the epoch of a timestamp or date, as Float64.
fn epoch(e: Expr) -> Expr {
    cast(f::date_part(lit("epoch"), e), DataType::Float64)
}

fn value(v: &Value, cal: &Calendar) -> Expr {
    match v {
        Value::Integer(i) => lit(*i),
        Value::Float(x) => lit(*x),
        Value::String(s) => lit(s.clone()),
        Value::Boolean(b) => lit(*b),
        Value::Null => lit(ScalarValue::Null),
        Value::LocalTimestamp(t, target) => local_time_literal(*t, target, cal),
        Value::Date(d) => lit(ScalarValue::Date32(Some((*d - chrono::NaiveDate::default()).num_days() as i32))),
    }
}

/// The DataFusion aggregate for a function over `arg` (rows when `None`), with an optional filter.
pub(crate) fn aggregate(func: AggFunc, arg: Option<Expr>, filter: Option<Expr>) -> Result<Expr, FormulaError> {
    let arg = arg.unwrap_or_else(|| lit(1));
    let e = match func {
        AggFunc::Sum => agg::sum(arg),
        AggFunc::Count => agg::count(arg),
        AggFunc::CountDistinct => agg::count_distinct(arg),
        AggFunc::Avg => agg::avg(float(arg)),
        AggFunc::Min => agg::min(arg),
        AggFunc::Max => agg::max(arg),
        AggFunc::Median => agg::median(float(arg)),
        AggFunc::Percentile(p) => agg::percentile_cont(Sort::new(float(arg), true, false), lit(p)),
        AggFunc::ApproxPercentile(p) => agg::approx_percentile_cont(Sort::new(float(arg), true, false), lit(p), None),
        AggFunc::PercentileDisc(p) => percentile_disc(p).call(vec![float(arg)]),
    };
    Ok(match filter {
        Some(cond) => e.filter(cond).build()?,
        None => e,
    })
}
