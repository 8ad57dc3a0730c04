//! Plan nodes built with the output schema we already know, instead of letting DataFusion infer
//! it: inference formats and type-checks every expression (super-linearly in its depth), which
//! is most of the planning time of a KPI. Only used where every output type is certain: the
//! final projection (period, dimensions, `Float64` value) and `lag` windows over `Float64`.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::Field;
use datafusion::common::DFSchema;
use datafusion::logical_expr::{LogicalPlan, LogicalPlanBuilder, Projection, Window};
use datafusion::prelude::Expr;

use crate::error::FormulaError;

/// A projection of `exprs`, each with the field it produces.
pub(super) fn project(input: LogicalPlanBuilder, exprs: Vec<(Expr, Field)>) -> Result<LogicalPlanBuilder, FormulaError> {
    let (exprs, fields): (Vec<Expr>, Vec<Field>) = exprs.into_iter().unzip();
    let schema = DFSchema::from_unqualified_fields(fields.into(), HashMap::new())?;
    let node = Projection::try_new_with_schema(exprs, Arc::new(input.build()?), Arc::new(schema))?;
    Ok(LogicalPlanBuilder::from(LogicalPlan::Projection(node)))
}

/// A window node adding one window expression producing `field` to the input's columns.
pub(super) fn window(input: LogicalPlanBuilder, expr: Expr, field: Field) -> Result<LogicalPlanBuilder, FormulaError> {
    let input = input.build()?;
    let schema = input.schema().join(&DFSchema::from_unqualified_fields(vec![field].into(), HashMap::new())?)?;
    let node = Window::try_new_with_schema(vec![expr], Arc::new(input), Arc::new(schema))?;
    Ok(LogicalPlanBuilder::from(LogicalPlan::Window(node)))
}
