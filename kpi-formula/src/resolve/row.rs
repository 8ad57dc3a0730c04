//! Row-level resolution: column paths, navigation along relationships, and the search for the
//! one many-to-one path between two tables.

use std::collections::{HashMap, VecDeque};

use datafusion::arrow::datatypes::DataType;

use crate::ast::{Expr, ExprKind, Ident};
use crate::diagnostic::{Diagnostic, ErrorKind};
use crate::ir::{ColumnRef, DatePart, Scalar, ValueType};
use crate::model::{Relationship, SemanticModel, TableModel};
use crate::span::Span;

use super::{Failed, Level, Res, Resolver, metric::is_special_metric_call};

/// Where a row-level expression stands, which decides where its paths may start.
#[derive(Clone, Debug)]
pub(crate) enum RowScope {
    /// Inside an aggregate over `root`: every path is rebased to start at `root`.
    Aggregate { root: String },
    /// A query filter: paths keep their own tables and are rebased per aggregate when lowering.
    Filter,
    /// A security filter of `table`: only that table's own columns.
    Security { table: String },
}

pub(crate) struct RowLevel {
    pub(crate) scope: RowScope,
}

impl Level for RowLevel {
    type Leaf = ColumnRef;

    fn path(&self, r: &mut Resolver<'_>, e: &Expr, parts: &[Ident]) -> Res<ColumnRef> {
        if parts.len() == 1 {
            return Err(bare_name(r, self, e, &parts[0]));
        }
        let c = column_path(r, parts, e)?;
        let c = match &self.scope {
            RowScope::Aggregate { root } => rebase(r, c, root, e.span)?,
            RowScope::Filter => c,
            RowScope::Security { table } => {
                if &c.table != table || !c.path.is_empty() {
                    let d = r
                        .diag(ErrorKind::Query, format!("a security filter of `{table}` can only use columns of `{table}`"), e)
                        .expected(format!("a column such as `{table}.<column>`"))
                        .found(format!("`{}`", r.source.text[e.span.start..e.span.end].trim()));
                    return Err(r.error(d));
                }
                c
            }
        };
        let ty = ValueType::of(&c.data_type).unwrap_or(ValueType::Null);
        Ok((Scalar::Leaf(c), ty))
    }

    fn call(&self, r: &mut Resolver<'_>, e: &Expr, name: &str, args: &[Expr], _filter: Option<&Expr>) -> Option<Res<ColumnRef>> {
        if let Some(part) = DatePart::from_name(name) {
            return Some(date_part(r, e, part, args, |r, arg, parts| self.path(r, arg, parts)));
        }
        if name == "per" {
            return Some(super::per::per_entity(r, self, e, args));
        }
        if !is_special_metric_call(name) {
            return None;
        }
        let (message, help) = match &self.scope {
            RowScope::Aggregate { .. } => (
                format!("`{name}` cannot be used inside an aggregate"),
                "aggregates apply to row values; combine aggregates outside, e.g. sum(a.x) / count(a)",
            ),
            _ => (
                format!("`{name}` cannot be used in a filter"),
                "a filter selects rows, so it can only use row values; put KPI conditions in the formula",
            ),
        };
        let d =
            r.diag(ErrorKind::Aggregate, message, e).expected("a row value such as a column").found(format!("`{name}(...)`")).help(help);
        Some(Err(r.error(d)))
    }

    fn leaf_data_type(leaf: &ColumnRef) -> Option<DataType> {
        Some(leaf.value_type())
    }
}

/// `month(t.time)` and the other date parts: the column at `args[0]` (resolved by `column`),
/// which must be a timestamp or date, as a part of it.
pub(crate) fn date_part(
    r: &mut Resolver<'_>,
    e: &Expr,
    part: DatePart,
    args: &[Expr],
    column: impl FnOnce(&mut Resolver<'_>, &Expr, &[Ident]) -> Res<ColumnRef>,
) -> Res<ColumnRef> {
    let name = part.name();
    r.arity(e, name, args.len(), 1, 1)?;
    let ExprKind::Path(parts) = &args[0].kind else {
        let d =
            r.diag(ErrorKind::Arguments, format!("`{name}` takes a time column"), &args[0]).expected("a path such as `orders.ordered_at`");
        return Err(r.error(d));
    };
    let (leaf, ty) = column(r, &args[0], parts)?;
    let Scalar::Leaf(c) = leaf else {
        let d = r.diag(ErrorKind::Arguments, format!("`{name}` takes a time column"), &args[0]);
        return Err(r.error(d));
    };
    if !matches!(ty, ValueType::Timestamp | ValueType::Date) {
        let d = r
            .diag(ErrorKind::Type, format!("`{name}` takes a timestamp or date column, not {}", c.data_type), &args[0])
            .expected("a timestamp or date column");
        return Err(r.error(d));
    }
    Ok((Scalar::Leaf(ColumnRef { part: Some(part), ..c }), ValueType::Number))
}

fn bare_name(r: &mut Resolver<'_>, level: &RowLevel, e: &Expr, name: &Ident) -> Failed {
    let n = name.name.as_str();
    let mut d = if r.model.table(n).is_some() {
        r.diag(ErrorKind::Type, format!("table `{n}` is not a value"), e)
            .expected(format!("a column such as `{n}.<column>`"))
            .found(format!("table `{n}`"))
    } else if r.model.kpi_formula(n).is_some() {
        r.diag(ErrorKind::Aggregate, format!("KPI `{n}` cannot be used here"), e)
            .expected("a column")
            .found(format!("KPI `{n}`"))
            .help("KPIs are values per period; use them outside aggregates and filters")
    } else {
        r.diag(ErrorKind::UnknownColumn, format!("`{n}` needs its table"), e)
            .expected("a column written as `table.column`")
            .found(format!("`{n}`"))
    };
    if let RowScope::Aggregate { root } | RowScope::Security { table: root } = &level.scope
        && r.model.table(root).is_some_and(|t| t.column_type(n).is_some())
    {
        d = d.help(format!("write `{root}.{n}`"));
    }
    r.error(d)
}

/// Resolves `table.rel....column`, refusing steps that would multiply rows.
pub(crate) fn column_path(r: &mut Resolver<'_>, parts: &[Ident], e: &Expr) -> Result<ColumnRef, Failed> {
    let model = r.model;
    let first = &parts[0];
    let Some(mut table) = model.table(&first.name) else {
        let d = Diagnostic::new(ErrorKind::UnknownTable, format!("unknown table `{}`", first.name), &r.source, first.span)
            .expected("a table (object model) name")
            .found(format!("`{}`", first.name))
            .suggest(&first.name, model.table_names());
        return Err(r.error(d));
    };
    r.tables.insert(table.name.clone());
    let mut path = Vec::new();
    let last = parts.len() - 1;
    for (i, part) in parts.iter().enumerate().skip(1) {
        if i < last {
            if let Some(rel) = table.relationship(&part.name) {
                let target = check_relationship(r, table, rel, part)?;
                for (from, to) in &rel.on {
                    r.columns.insert((table.name.clone(), from.clone()));
                    r.columns.insert((target.name.clone(), to.clone()));
                }
                r.tables.insert(target.name.clone());
                path.push(rel.name.clone());
                table = target;
                continue;
            }
            let is_column = table.column_type(&part.name).is_some();
            let (message, found) = if is_column {
                (format!("`{}` is a column of `{}`, not a relationship", part.name, table.name), format!("column `{}`", part.name))
            } else {
                (format!("unknown relationship `{}` of table `{}`", part.name, table.name), format!("`{}`", part.name))
            };
            let mut d = Diagnostic::new(ErrorKind::UnknownRelationship, message, &r.source, part.span)
                .expected(format!("a relationship of `{}`", table.name))
                .found(found)
                .help(relationship_list(table));
            if !is_column {
                d = d.suggest(&part.name, table.relationships.iter().map(|r| r.name.as_str()));
            }
            return Err(r.error(d));
        }
        let Some(data_type) = table.column_type(&part.name) else {
            let d = if table.relationship(&part.name).is_some() {
                Diagnostic::new(
                    ErrorKind::UnknownColumn,
                    format!("`{}` is a relationship of `{}`, not a column", part.name, table.name),
                    &r.source,
                    part.span,
                )
                .expected("a column")
                .found(format!("relationship `{}`", part.name))
                .help(format!("name a column of the related table, e.g. `{}.<column>`", r.source.text[e.span.start..part.span.end].trim()))
            } else {
                Diagnostic::new(
                    ErrorKind::UnknownColumn,
                    format!("unknown column `{}` in table `{}`", part.name, table.name),
                    &r.source,
                    part.span,
                )
                .expected(format!("a column of `{}`", table.name))
                .found(format!("`{}`", part.name))
                .suggest(&part.name, table.column_names())
            };
            return Err(r.error(d));
        };
        if ValueType::of(data_type).is_none() {
            let d = Diagnostic::new(
                ErrorKind::Type,
                format!("column `{}.{}` has type {data_type}, which formulas cannot use", table.name, part.name),
                &r.source,
                part.span,
            )
            .expected("a number, string, boolean, timestamp or date column");
            return Err(r.error(d));
        }
        r.columns.insert((table.name.clone(), part.name.clone()));
        return Ok(ColumnRef {
            table: first.name.clone(),
            path,
            column: part.name.clone(),
            data_type: data_type.clone(),
            part: None,
            per: None,
        });
    }
    // invariant: callers pass a path of at least two parts, so the loop returns.
    unreachable!("column_path is called with at least two parts")
}

fn relationship_list(table: &TableModel) -> String {
    if table.relationships.is_empty() {
        format!("`{}` has no relationships", table.name)
    } else {
        let names: Vec<_> = table.relationships.iter().map(|r| format!("`{}`", r.name)).collect();
        format!("relationships of `{}`: {}", table.name, names.join(", "))
    }
}

/// Why a relationship cannot be followed without changing the number of rows.
fn fan_out_reason<'m>(model: &'m dyn SemanticModel, table: &TableModel, rel: &Relationship) -> Result<&'m TableModel, String> {
    let Some(target) = model.table(&rel.to) else {
        return Err(format!("relationship `{}` of `{}` points to unknown table `{}`", rel.name, table.name, rel.to));
    };
    if !rel.cardinality.is_navigable() {
        return Err(format!(
            "`{}.{}` is {}: following it would repeat each `{}` row once per `{}` row",
            table.name,
            rel.name,
            rel.cardinality.as_str(),
            table.name,
            target.name
        ));
    }
    if let Some((from, _)) = rel.on.iter().find(|(from, _)| table.column_type(from).is_none()) {
        return Err(format!("relationship `{}` joins on `{from}`, which `{}` does not have", rel.name, table.name));
    }
    let mut keys: Vec<&str> = rel.on.iter().map(|(_, to)| to.as_str()).collect();
    let mut pk: Vec<&str> = target.primary_key.iter().map(String::as_str).collect();
    keys.sort_unstable();
    pk.sort_unstable();
    if rel.on.is_empty() || keys != pk {
        return Err(if pk.is_empty() {
            format!("`{}` has no primary key, so joining it through `{}` could repeat rows; declare its primary key", target.name, rel.name)
        } else {
            format!(
                "relationship `{}` joins `{}` on ({}), not on its primary key ({}), so rows could repeat",
                rel.name,
                target.name,
                keys.join(", "),
                pk.join(", ")
            )
        });
    }
    Ok(target)
}

fn check_relationship<'m>(r: &mut Resolver<'m>, table: &TableModel, rel: &Relationship, at: &Ident) -> Result<&'m TableModel, Failed> {
    fan_out_reason(r.model, table, rel).map_err(|reason| {
        let d = Diagnostic::new(ErrorKind::FanOut, reason, &r.source, at.span)
            .expected("a many-to-one relationship to a primary key")
            .found(format!("`{}`", rel.name))
            .help("aggregate from the table on the many side instead, e.g. sum(order_lines.amount) rather than navigating orders → lines");
        r.error(d)
    })
}

/// Rebases a column path to start at `root`, through the one shortest many-to-one path.
pub(crate) fn rebase(r: &mut Resolver<'_>, c: ColumnRef, root: &str, span: Span) -> Result<ColumnRef, Failed> {
    if c.table == root {
        return Ok(c);
    }
    match find_path(r.model, root, &c.table) {
        Ok(prefix) => {
            record_path(r, root, &prefix);
            let mut path = prefix;
            path.extend(c.path);
            Ok(ColumnRef { table: root.to_string(), path, ..c })
        }
        Err(err) => {
            let d = path_error(r, &err, root, &c.table, span);
            Err(r.error(d))
        }
    }
}

fn record_path(r: &mut Resolver<'_>, root: &str, path: &[String]) {
    let mut table = r.model.table(root);
    for step in path {
        let Some(t) = table else { return };
        let Some(rel) = t.relationship(step) else { return };
        for (from, to) in &rel.on {
            r.columns.insert((t.name.clone(), from.clone()));
            r.columns.insert((rel.to.clone(), to.clone()));
        }
        r.tables.insert(rel.to.clone());
        table = r.model.table(&rel.to);
    }
}

pub(crate) fn path_error(r: &Resolver<'_>, err: &PathError, from: &str, to: &str, span: Span) -> Diagnostic {
    match err {
        PathError::Unreachable => {
            Diagnostic::new(ErrorKind::FanOut, format!("`{to}` cannot be reached from `{from}` without multiplying rows"), &r.source, span)
                .expected(format!("a column reachable from `{from}` through many-to-one relationships"))
                .found(format!("a column of `{to}`"))
                .help(format!("there is no chain of many-to-one relationships from `{from}` to `{to}`"))
        }
        PathError::Ambiguous(a, b) => {
            Diagnostic::new(ErrorKind::Ambiguous, format!("`{to}` can be reached from `{from}` in more than one way"), &r.source, span)
                .expected("a path with one meaning")
                .found(format!("`{from}.{}.…` and `{from}.{}.…`", a.join("."), b.join(".")))
                .help(format!("write the path explicitly, e.g. `{from}.{}.<column>`", a.join(".")))
        }
    }
}

/// Why no single path joins two tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PathError {
    Unreachable,
    Ambiguous(Vec<String>, Vec<String>),
}

/// The relationship names of the one shortest many-to-one path from `from` to `to`.
pub(crate) fn find_path(model: &dyn SemanticModel, from: &str, to: &str) -> Result<Vec<String>, PathError> {
    const MAX_STEPS: usize = 8;
    if from == to {
        return Ok(Vec::new());
    }
    let mut best: HashMap<String, (usize, Vec<String>, usize)> = HashMap::new();
    best.insert(from.to_string(), (0, Vec::new(), 1));
    let mut queue = VecDeque::from([from.to_string()]);
    while let Some(name) = queue.pop_front() {
        let (depth, path, count) = best[&name].clone();
        if depth >= MAX_STEPS || name == to {
            continue;
        }
        let Some(table) = model.table(&name) else { continue };
        for rel in &table.relationships {
            if fan_out_reason(model, table, rel).is_err() {
                continue;
            }
            let mut next = path.clone();
            next.push(rel.name.clone());
            match best.get_mut(&rel.to) {
                None => {
                    best.insert(rel.to.clone(), (depth + 1, next, count));
                    queue.push_back(rel.to.clone());
                }
                Some(entry) if entry.0 == depth + 1 => {
                    if entry.2 == 1 && entry.1 != next {
                        let first = entry.1.clone();
                        entry.2 = 2;
                        if rel.to == to {
                            return Err(PathError::Ambiguous(first, next));
                        }
                    }
                }
                Some(_) => {}
            }
        }
    }
    match best.get(to) {
        Some((_, path, 1)) => Ok(path.clone()),
        Some((_, path, _)) => Err(PathError::Ambiguous(path.clone(), Vec::new())),
        None => Err(PathError::Unreachable),
    }
}
