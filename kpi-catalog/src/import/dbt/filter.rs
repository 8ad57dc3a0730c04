//! dbt's filter templates in the formula language: `{{ Dimension('customer__region') }}` becomes
//! the column path from the measure's object model (`orders.customer.region`),
//! `{{ TimeDimension('order__ordered_at', 'month') }}` the time column, `{{ Entity('customer') }}`
//! the entity's key column, `{{ Metric('bookings', group_by=['listing']) }}` the per-entity
//! value `per(model.listing_id, bookings, listings_model.listing_id)`. The SQL around them is the
//! formula language's own comparison syntax.

use super::Model;
use super::expr::{is_identifier, qualify};

/// A filter template rewritten for `model`, or why it cannot be.
/// `metric_model` gives the model a simple metric's measure reads.
pub(super) fn translate<'m>(
    template: &str,
    model: &Model,
    models: &'m [Model],
    metric_model: &dyn Fn(&str) -> Option<&'m Model>,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| format!("an unclosed `{{{{` in `{template}`"))?;
        out.push_str(&reference(after[..close].trim(), model, models, metric_model)?);
        rest = &after[close + 2..];
    }
    out.push_str(rest);
    if out.contains("{%") || out.contains("}}") {
        return Err(format!("Jinja beyond Dimension, TimeDimension, Entity and Metric in `{template}`"));
    }
    Ok(out.trim().to_string())
}

/// One `Name('arg', ...)` call of a template.
fn reference<'m>(
    call: &str,
    model: &Model,
    models: &'m [Model],
    metric_model: &dyn Fn(&str) -> Option<&'m Model>,
) -> Result<String, String> {
    let unsupported = || {
        format!(
            "`{{{{ {call} }}}}`: only Dimension('entity__name'), TimeDimension('entity__name', 'grain'), Entity('name') and Metric('name', group_by=['entity']) are understood"
        )
    };
    let (name, args) = call.split_once('(').ok_or_else(unsupported)?;
    let args = args.strip_suffix(')').ok_or_else(unsupported)?;
    let args: Vec<String> = args.split(',').map(|a| a.trim().trim_matches(['\'', '"']).to_string()).collect();
    let first = args.first().filter(|a| !a.is_empty()).ok_or_else(unsupported)?;
    match name.trim() {
        "Dimension" | "TimeDimension" => dimension_path(first, model, models),
        "Entity" => entity_path(first, model),
        "Metric" => metric_value(call, first, model, metric_model),
        _ => Err(unsupported()),
    }
}

/// `Metric('name', group_by=['entity'])`: the metric's value for the entity of each row.
fn metric_value<'m>(call: &str, metric: &str, model: &Model, metric_model: &dyn Fn(&str) -> Option<&'m Model>) -> Result<String, String> {
    let group = call
        .split_once("group_by")
        .and_then(|(_, g)| g.split_once('[')?.1.split_once(']').map(|(list, _)| list))
        .ok_or_else(|| format!("`{{{{ {call} }}}}` without group_by=['entity']"))?;
    let entities: Vec<&str> = group.split(',').map(|e| e.trim().trim_matches(['\'', '"'])).filter(|e| !e.is_empty()).collect();
    let [entity] = entities.as_slice() else {
        return Err(format!("`{{{{ {call} }}}}` groups by {} entities; one is imported", entities.len()));
    };
    let target = metric_model(metric).ok_or_else(|| {
        format!("Metric('{metric}'): a metric over more than one semantic model (or not imported) has no one table to take per entity")
    })?;
    Ok(format!("per({}, {metric}, {})", entity_path(entity, model)?, entity_path(entity, target)?))
}

/// `entity__dimension`, `entity__entity__dimension` ... (or a dimension of the model itself, or
/// `metric_time`) as a path: each entity is the model's own (no join) or a foreign entity of
/// the model reached so far, followed along its many-to-one relationship.
fn dimension_path(name: &str, model: &Model, models: &[Model]) -> Result<String, String> {
    let parts: Vec<&str> = name.split("__").collect();
    let Some((dimension, entities)) = parts.split_last() else { return Err(format!("`{name}` names no dimension")) };
    if *dimension == "metric_time" {
        let time = model.time_column.as_deref().ok_or_else(|| format!("`{}` has no time dimension for `metric_time`", model.name))?;
        return Ok(format!("{}.{time}", model.name));
    }
    let (mut target, mut prefix) = (model, model.name.clone());
    for e in entities {
        if target.primary.as_deref() == Some(*e) {
            continue;
        }
        target = models
            .iter()
            .find(|m| m.primary.as_deref() == Some(*e) && target.foreign.iter().any(|(f, _)| f == e))
            .ok_or_else(|| format!("`{}` cannot reach entity `{e}`: it has no foreign entity of that name", target.name))?;
        prefix = format!("{prefix}.{e}");
    }
    let column = target
        .dimensions
        .iter()
        .find(|(d, _)| d == dimension)
        .map(|(_, c)| c.clone())
        .ok_or_else(|| format!("`{}` has no dimension `{dimension}`", target.name))?;
    if is_identifier(&column) {
        return Ok(format!("{prefix}.{column}"));
    }
    // A computed dimension, inlined over the path's columns.
    Ok(format!("({})", qualify(&prefix, &column, |_| {})?))
}

/// The key column of an entity of the model (its own or a foreign one).
fn entity_path(name: &str, model: &Model) -> Result<String, String> {
    if model.primary.as_deref() == Some(name) {
        return model
            .primary_column
            .as_ref()
            .map(|c| format!("{}.{c}", model.name))
            .ok_or_else(|| format!("entity `{name}` has no column"));
    }
    model
        .foreign
        .iter()
        .find(|(e, _)| e == name)
        .map(|(_, c)| format!("{}.{c}", model.name))
        .ok_or_else(|| format!("`{}` has no entity `{name}`", model.name))
}
