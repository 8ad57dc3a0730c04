//! Validation of demo hints (always built: a catalog's hints are checked whether or not this
//! build can generate data).

use super::pool;
use super::spec::{ColumnDemo, Distribution};
use crate::column_type::ColumnType;
use crate::error::ProblemKind;
use crate::object_model::{ColumnDef, ObjectModel};
use crate::validate::{At, Validator, distribution_fits};

/// Validation of one column's demo hint.
pub(crate) fn check_hint(v: &mut Validator, m: &ObjectModel, index: usize, c: &ColumnDef, d: &ColumnDemo, at: &At) {
    let catalog = v.c;
    let i = index.to_string();
    let location = at.locate(&["columns", &i, "demo"]);
    let mut messages: Vec<String> = Vec::new();
    let mut problem = |message: String| messages.push(message);
    if let Err(e) = distribution_fits(&d.values) {
        problem(e);
    }
    if !(0.0..=1.0).contains(&d.null_rate) {
        problem(format!("null_rate {} is not between 0 and 1", d.null_rate));
    } else if d.null_rate > 0.0 && !c.nullable {
        problem("the column is not nullable but has a null_rate".into());
    }
    let ty = c.data_type;
    match &d.values {
        Distribution::Uniform { .. } | Distribution::Normal { .. } | Distribution::Lognormal { .. } if !ty.is_numeric() => {
            problem(format!("a numeric distribution cannot fill a {ty} column"))
        }
        Distribution::Chance(_) if ty != ColumnType::Bool => problem(format!("chance fills bool columns, not {ty}")),
        Distribution::Choice { values, .. } => {
            if let Err(e) = pool::pool(values, ty) {
                problem(e);
            }
        }
        Distribution::After { column, .. } => {
            let earlier = m.columns[..index].iter().find(|e| &e.name == column);
            if !ty.is_temporal() {
                problem(format!("after fills date and time columns, not {ty}"));
            } else if !earlier.is_some_and(|e| e.data_type.is_temporal()) {
                problem(format!("after needs `{column}` to be a date or time column declared before this one"));
            }
        }
        Distribution::Copy { relationship, column } => {
            let target =
                m.relationship(relationship).filter(|r| r.cardinality.is_navigable()).and_then(|r| catalog.object_model(&r.to).ok());
            match target.map(|t| (t, t.column(column))) {
                None => problem(format!("copy needs `{relationship}` to be a many-to-one relationship of `{}`", m.code)),
                Some((t, None)) => problem(format!("copy: `{}` has no column `{column}`", t.code)),
                Some((t, Some(tc))) if tc.data_type != ty => {
                    problem(format!("copy: `{}.{column}` is {} but this column is {ty}", t.code, tc.data_type))
                }
                Some(_) => {}
            }
        }
        _ => {}
    }
    for message in messages {
        v.push(ProblemKind::Demo, location.clone(), format!("demo hint of `{}.{}`: {message}", m.code, c.name), None);
    }
}
