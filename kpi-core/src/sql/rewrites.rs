//! Rewrites of a portable plan so that the unparser writes SQL other databases run as the
//! engine does: constructs the unparser cannot write, or writes in a way a dialect reads
//! differently.

use std::sync::Arc;

use datafusion::common::NullEquality;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::logical_expr::{
    BinaryExpr, Expr, ExprSchemable, Filter, Join, LogicalPlan, LogicalPlanBuilder, Operator, SortExpr, SubqueryAlias, Union,
};
use datafusion::prelude::{lit, when};

/// The unparser cannot write a `VALUES` plan (the series of periods), so each row becomes a
/// `SELECT` of literals and the rows a `UNION ALL`, which every dialect reads.
pub(super) fn values_as_selects(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    plan.transform_up(|node| {
        let LogicalPlan::Values(values) = node else { return Ok(Transformed::no(node)) };
        if values.values.is_empty() {
            return Ok(Transformed::no(LogicalPlan::Values(values)));
        }
        let names: Vec<String> = values.schema.fields().iter().map(|f| f.name().clone()).collect();
        let rows = values.values.into_iter().map(|row| {
            let columns = row.into_iter().zip(&names).map(|(e, name)| e.alias(name));
            LogicalPlanBuilder::empty(true).project(columns)?.build()
        });
        let mut inputs = rows.map(|r| r.map(Arc::new)).collect::<datafusion::error::Result<Vec<_>>>()?;
        if inputs.len() == 1
            && let Some(only) = inputs.pop()
        {
            return Ok(Transformed::yes(Arc::unwrap_or_clone(only)));
        }
        // One n-ary union: nested pairs would be as deep as there are periods.
        let schema = inputs[0].schema().clone();
        Ok(Transformed::yes(LogicalPlan::Union(Union { inputs, schema })))
    })
    .map(|t| t.data)
}

/// The unparser inlines a join input that is an aggregate or projection with unqualified
/// columns (`__p0`, `__a0`) into the join, losing the aggregate; giving each such input a name
/// makes it a derived table in the SQL.
pub(super) fn joins_of_derived_tables(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    let mut next = 0;
    let mut name = |input: Arc<LogicalPlan>| -> datafusion::error::Result<Arc<LogicalPlan>> {
        let unqualified = input.schema().iter().all(|(q, _)| q.is_none());
        if !unqualified || matches!(input.as_ref(), LogicalPlan::SubqueryAlias(_) | LogicalPlan::TableScan(_)) {
            return Ok(input);
        }
        next += 1;
        Ok(Arc::new(LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(input, format!("t{next}"))?)))
    };
    plan.transform_up(|node| {
        let LogicalPlan::Join(join) = node else { return Ok(Transformed::no(node)) };
        let (left, right) = (name(join.left.clone())?, name(join.right.clone())?);
        if Arc::ptr_eq(&left, &join.left) && Arc::ptr_eq(&right, &join.right) {
            return Ok(Transformed::no(LogicalPlan::Join(join)));
        }
        let joined = LogicalPlan::Join(join);
        let exprs = joined.expressions();
        Ok(Transformed::yes(joined.with_new_exprs(exprs, vec![Arc::unwrap_or_clone(left), Arc::unwrap_or_clone(right)])?))
    })
    .map(|t| t.data)
}

/// Plans relabel timestamps between zones through `Int64` (a cheap reinterpretation in Arrow);
/// in SQL an integer cast to a timestamp means seconds, so the relabel is written as the plain
/// cast it stands for.
pub(super) fn timestamp_relabels_as_casts(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    use datafusion::arrow::datatypes::DataType;
    use datafusion::logical_expr::Cast;
    rewrite_expressions(plan, |e| {
        if let Expr::Cast(outer) = &e
            && matches!(outer.field.data_type(), DataType::Timestamp(..))
            && let Expr::Cast(inner) = outer.expr.as_ref()
            && *inner.field.data_type() == DataType::Int64
        {
            return Ok(Transformed::yes(Expr::Cast(Cast { expr: inner.expr.clone(), field: outer.field.clone() })));
        }
        Ok(Transformed::no(e))
    })
}

/// `agg(x) FILTER (WHERE f)` as `agg(CASE WHEN f THEN x END)`, for dialects without `FILTER`;
/// the same value, since every aggregate of the language ignores nulls.
pub(super) fn filters_as_case(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    rewrite_expressions(plan, |e| {
        let Expr::AggregateFunction(mut agg) = e else { return Ok(Transformed::no(e)) };
        let Some(filter) = agg.params.filter.take() else { return Ok(Transformed::no(Expr::AggregateFunction(agg))) };
        let args = std::mem::take(&mut agg.params.args);
        agg.params.args = args.into_iter().map(|a| when(*filter.clone(), a).end()).collect::<datafusion::error::Result<_>>()?;
        Ok(Transformed::yes(Expr::AggregateFunction(agg)))
    })
}

/// Rewrites every expression of every node bottom-up with `f`, recomputing the schemas of the
/// nodes that changed.
pub(super) fn rewrite_expressions(
    plan: LogicalPlan,
    mut f: impl FnMut(Expr) -> datafusion::error::Result<Transformed<Expr>>,
) -> datafusion::error::Result<LogicalPlan> {
    plan.transform_up(|node| {
        let rewritten = node.map_expressions(|e| e.transform_up(&mut f))?;
        if rewritten.transformed { rewritten.map_data(LogicalPlan::recompute_schema) } else { Ok(rewritten) }
    })
    .map(|t| t.data)
}

/// The unparser writes a filter over a projection as the `WHERE` of that projection's
/// `SELECT`, where the projection's aliases (`user_id AS __x ... WHERE __x IS NOT NULL`) do
/// not exist yet; a filter over a projection reads it as a derived table instead.
pub(super) fn filters_over_derived_tables(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    let mut next = 0;
    plan.transform_up(|node| {
        let LogicalPlan::Filter(filter) = node else { return Ok(Transformed::no(node)) };
        if !matches!(filter.input.as_ref(), LogicalPlan::Projection(_)) {
            return Ok(Transformed::no(LogicalPlan::Filter(filter)));
        }
        next += 1;
        let derived = LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(filter.input.clone(), format!("f{next}"))?);
        Ok(Transformed::yes(LogicalPlan::Filter(Filter::try_new(filter.predicate, Arc::new(derived))?)))
    })
    .map(|t| t.data)
}

/// The first aggregate that needs percentiles (`median`, `percentile_cont`), if any.
pub(super) fn percentile_function(plan: &LogicalPlan) -> Option<&'static str> {
    first_call(plan, |e| match e {
        Expr::AggregateFunction(f) => ["median", "percentile_cont"].into_iter().find(|n| *n == f.func.name()),
        _ => None,
    })
}

/// The first expression of `plan` (subqueries included) that `pick` names.
pub(super) fn first_call(plan: &LogicalPlan, pick: impl Fn(&Expr) -> Option<&'static str>) -> Option<&'static str> {
    let mut found = None;
    let stop = |found: &Option<&str>| if found.is_some() { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue };
    let _ = plan.apply_with_subqueries(|node| {
        let _ = node.apply_expressions(|e| {
            let _ = e.apply(|x| {
                found = found.or_else(|| pick(x));
                Ok(stop(&found))
            });
            Ok(stop(&found))
        });
        Ok(stop(&found))
    });
    found
}

/// `median(x)` as `percentile_cont(0.5) WITHIN GROUP (ORDER BY x)`: the same value (the
/// middle one, or the mean of the two middle ones), in dialects without `median`.
pub(super) fn medians_as_percentiles(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    rewrite_expressions(plan, |e| {
        let Expr::AggregateFunction(agg) = &e else { return Ok(Transformed::no(e)) };
        if agg.func.name() != "median" {
            return Ok(Transformed::no(e));
        }
        let [arg] = agg.params.args.as_slice() else { return Ok(Transformed::no(e)) };
        let mut percentile = datafusion::functions_aggregate::expr_fn::percentile_cont(SortExpr::new(arg.clone(), true, false), lit(0.5));
        if let Expr::AggregateFunction(p) = &mut percentile {
            p.params.filter = agg.params.filter.clone();
            p.params.distinct = agg.params.distinct;
        }
        Ok(Transformed::yes(percentile))
    })
}

/// The engine joins the series of periods and groups to the aggregates with nulls equal to
/// nulls (a group whose dimension is null is a group), which the unparser writes as `=`, so
/// in SQL that group's values came out null. Keys that can be null are compared with
/// `IS NOT DISTINCT FROM` instead; keys that cannot keep `=` (hash joins in every database).
pub(super) fn null_safe_joins(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    plan.transform_up(|node| {
        let LogicalPlan::Join(join) = node else { return Ok(Transformed::no(node)) };
        if join.null_equality != NullEquality::NullEqualsNull {
            return Ok(Transformed::no(LogicalPlan::Join(join)));
        }
        let (mut kept, mut safe) = (Vec::new(), Vec::new());
        for (l, r) in &join.on {
            if l.nullable(join.left.schema())? || r.nullable(join.right.schema())? {
                safe.push(Expr::BinaryExpr(BinaryExpr::new(Box::new(l.clone()), Operator::IsNotDistinctFrom, Box::new(r.clone()))));
            } else {
                kept.push((l.clone(), r.clone()));
            }
        }
        if safe.is_empty() {
            return Ok(Transformed::no(LogicalPlan::Join(join)));
        }
        let filter = join.filter.iter().cloned().chain(safe).reduce(Expr::and);
        Ok(Transformed::yes(LogicalPlan::Join(Join { on: kept, filter, null_equality: NullEquality::NullEqualsNothing, ..join })))
    })
    .map(|t| t.data)
}

/// A function that exists only in the SQL written for another database (`datetime(...)` in
/// SQLite): the unparser writes it by name; it never runs in the engine.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ForeignFunction {
    name: &'static str,
    returns: datafusion::arrow::datatypes::DataType,
    signature: datafusion::logical_expr::Signature,
}

impl datafusion::logical_expr::ScalarUDFImpl for ForeignFunction {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &datafusion::logical_expr::Signature {
        &self.signature
    }

    fn return_type(
        &self,
        _: &[datafusion::arrow::datatypes::DataType],
    ) -> datafusion::error::Result<datafusion::arrow::datatypes::DataType> {
        Ok(self.returns.clone())
    }

    fn invoke_with_args(
        &self,
        _: datafusion::logical_expr::ScalarFunctionArgs,
    ) -> datafusion::error::Result<datafusion::logical_expr::ColumnarValue> {
        datafusion::common::exec_err!("`{}` is written into exported SQL only", self.name)
    }
}

/// `name(args)` as a call the unparser writes verbatim, of type `returns`.
fn foreign_call(name: &'static str, returns: datafusion::arrow::datatypes::DataType, args: Vec<Expr>) -> Expr {
    use datafusion::logical_expr::{ScalarUDF, Signature, Volatility};
    ScalarUDF::from(ForeignFunction { name, returns, signature: Signature::variadic_any(Volatility::Immutable) }).call(args)
}

/// SQLite keeps timestamps as `YYYY-MM-DD HH:MM:SS` text and has no intervals: a date read as
/// a timestamp becomes `datetime(date)` (a bare `YYYY-MM-DD` sorts before midnight of its own
/// day), and a timestamp plus or minus a constant interval `datetime(t, '+30 days', ...)`.
pub(super) fn sqlite_times(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    use datafusion::common::DFSchema;
    plan.transform_up(|node| {
        // The schema the node's expressions read: its inputs', joined.
        let mut schema = DFSchema::empty();
        for input in node.inputs() {
            schema.merge(input.schema());
        }
        let rewritten = node.map_expressions(|e| e.transform_up(|e| sqlite_time(e, &schema)))?;
        if rewritten.transformed { rewritten.map_data(LogicalPlan::recompute_schema) } else { Ok(rewritten) }
    })
    .map(|t| t.data)
}

fn sqlite_time(e: Expr, schema: &datafusion::common::DFSchema) -> datafusion::error::Result<Transformed<Expr>> {
    use datafusion::arrow::datatypes::DataType;
    use datafusion::common::ScalarValue;
    // The call keeps the type of what it replaces, so the plan around it is unchanged.
    let same_type = || e.get_type(schema);
    match &e {
        Expr::Cast(cast) if matches!(cast.field.data_type(), DataType::Timestamp(..)) => {
            let (DataType::Date32 | DataType::Date64) = cast.expr.get_type(schema).unwrap_or(DataType::Null) else {
                return Ok(Transformed::no(e));
            };
            Ok(Transformed::yes(foreign_call("datetime", same_type()?, vec![(*cast.expr).clone()])))
        }
        Expr::BinaryExpr(BinaryExpr { left, op: op @ (Operator::Plus | Operator::Minus), right }) => {
            let Expr::Literal(ScalarValue::IntervalMonthDayNano(Some(span)), _) = right.as_ref() else { return Ok(Transformed::no(e)) };
            let sign: i64 = if *op == Operator::Minus { -1 } else { 1 };
            let mut args = vec![(**left).clone()];
            if span.months != 0 {
                args.push(lit(format!("{:+} months", sign * i64::from(span.months))));
            }
            if span.days != 0 {
                args.push(lit(format!("{:+} days", sign * i64::from(span.days))));
            }
            if span.nanoseconds != 0 {
                args.push(lit(format!("{:+} seconds", sign as f64 * span.nanoseconds as f64 / 1e9)));
            }
            Ok(Transformed::yes(foreign_call("datetime", same_type()?, args)))
        }
        _ => Ok(Transformed::no(e)),
    }
}

/// `lag(x, n, NULL)` and `lead(x, n, NULL)` as `lag(x, n)`: the same (null is the default), in
/// MySQL and MariaDB, which take no default argument.
pub(super) fn window_defaults_dropped(plan: LogicalPlan) -> datafusion::error::Result<LogicalPlan> {
    rewrite_expressions(plan, |e| {
        let Expr::WindowFunction(mut window) = e else { return Ok(Transformed::no(e)) };
        let name = window.fun.name().to_ascii_lowercase();
        let args = &mut window.params.args;
        if (name == "lag" || name == "lead") && args.len() == 3 && matches!(&args[2], Expr::Literal(v, _) if v.is_null()) {
            args.truncate(2);
            return Ok(Transformed::yes(Expr::WindowFunction(window)));
        }
        Ok(Transformed::no(Expr::WindowFunction(window)))
    })
}
