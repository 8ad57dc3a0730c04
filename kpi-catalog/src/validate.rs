//! Validation: every problem of a catalog at once, each located in its file.

use std::collections::{BTreeSet, HashMap, HashSet};

use kpi_formula::diagnostic::did_you_mean;
use kpi_formula::{Calendar, Diagnostic, FormulaError, Grain, Query, TimeRange, check_kpi, compile};
use serde::de::DeserializeOwned;

use crate::catalog::{Catalog, Entry};
use crate::demo::{Distribution, ModelDemo};
use crate::document::{CatalogDocument, SCHEMA_VERSION};
use crate::error::{Problem, ProblemKind, Problems};
use crate::kpi::{Direction, KpiDefinition, Thresholds};
use crate::object_model::{ColumnDef, ObjectModel, RelationshipDef};
use crate::source::{Location, Origin, field_names, push_path};
use crate::value_chain::{Module, ValueChain};

pub(crate) fn problems(catalog: &Catalog) -> Problems {
    let mut v = Validator { c: catalog, out: Vec::new() };
    v.documents();
    v.value_chains();
    v.modules();
    v.object_models();
    v.kpis();
    Problems(v.out)
}

/// Where an entry is: its origin when loaded from a document, a path naming it otherwise.
pub(crate) struct At<'a> {
    pub origin: Option<&'a Origin>,
    pub fallback: String,
}

impl At<'_> {
    pub fn of<'e, T>(entry: &'e Entry<T>, list: &str, code: &str) -> At<'e> {
        At { origin: entry.origin.as_ref(), fallback: format!("{list}[{code}]") }
    }

    pub fn locate(&self, fields: &[&str]) -> Location {
        match self.origin {
            Some(o) => o.locate(fields),
            None => {
                let mut path = self.fallback.clone();
                for f in fields {
                    push_path(&mut path, f);
                }
                Location { path, ..Location::default() }
            }
        }
    }
}

pub(crate) struct Validator<'c> {
    pub c: &'c Catalog,
    pub out: Vec<Problem>,
}

impl Validator<'_> {
    pub fn push(&mut self, kind: ProblemKind, location: Location, message: String, help: Option<String>) {
        self.out.push(Problem { kind, message, help, location, diagnostic: None });
    }

    fn unknown(&mut self, at: &At, fields: &[&str], what: &str, code: &str, candidates: Vec<&str>) {
        let help = did_you_mean(code, candidates.iter().copied()).map(|s| format!("did you mean `{s}`?"));
        self.push(ProblemKind::UnknownReference, at.locate(fields), format!("unknown {what} `{code}`"), help);
    }

    fn documents(&mut self) {
        for (version, origin) in &self.c.documents {
            if *version == 0 || *version > SCHEMA_VERSION {
                self.push(
                    ProblemKind::SchemaVersion,
                    origin.locate(&["schema_version"]),
                    format!("schema version {version} is not supported; this library reads versions 1 to {SCHEMA_VERSION}"),
                    Some("upgrade kpi-catalog, or write the document with a supported schema version".into()),
                );
            }
            self.unknown_keys::<CatalogDocument>(origin, &[], "catalog document");
        }
    }

    /// Reports keys of the map at `fields` that no field of `T` reads.
    pub fn unknown_keys<T: DeserializeOwned>(&mut self, origin: &Origin, fields: &[&str], what: &str) {
        let allowed = field_names::<T>();
        let Some((_, node)) = origin.node_at(fields) else { return };
        for key in node.keys() {
            if allowed.contains(&key.name.as_str()) {
                continue;
            }
            let mut location = origin.locate(fields);
            push_path(&mut location.path, &key.name);
            location.line = Some(key.line);
            location.column = Some(key.column);
            let help = did_you_mean(&key.name, allowed.iter().copied())
                .map(|s| format!("did you mean `{s}`?"))
                .or_else(|| Some(format!("the fields of a {what} are: {}", allowed.join(", "))));
            self.push(ProblemKind::UnknownField, location, format!("unknown field `{}` in a {what}", key.name), help);
        }
    }

    fn duplicates<T>(&mut self, entries: &[Entry<T>], list: &str, what: &str, code_of: impl Fn(&T) -> &str) {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let code = code_of(&e.item);
            let at = At::of(e, list, code);
            if code.trim().is_empty() {
                self.push(ProblemKind::Missing, at.locate(&["code"]), format!("a {what} has an empty code"), None);
                continue;
            }
            if let Some(first) = seen.get(code) {
                let first_at = At::of(&entries[*first], list, code).locate(&[]);
                self.push(
                    ProblemKind::Duplicate,
                    at.locate(&["code"]),
                    format!("duplicate {what} code `{code}`"),
                    Some(format!("it is first defined at {first_at}")),
                );
            } else {
                seen.insert(code, i);
            }
        }
    }

    fn value_chains(&mut self) {
        self.duplicates(&self.c.value_chains, "value_chains", "value chain", |v| &v.code);
        for e in &self.c.value_chains {
            if let Some(o) = &e.origin {
                self.unknown_keys::<ValueChain>(o, &[], "value chain");
            }
        }
    }

    fn modules(&mut self) {
        self.duplicates(&self.c.modules, "modules", "module", |m| &m.code);
        let chains: Vec<&str> = self.c.value_chains().map(|v| v.code.as_str()).collect();
        for e in &self.c.modules {
            let at = At::of(e, "modules", &e.item.code);
            if let Some(o) = &e.origin {
                self.unknown_keys::<Module>(o, &[], "module");
            }
            if !chains.contains(&e.item.value_chain.as_str()) {
                self.unknown(&at, &["value_chain"], "value chain", &e.item.value_chain, chains.clone());
            }
        }
    }

    fn object_models(&mut self) {
        self.duplicates(&self.c.object_models, "object_models", "object model", |m| &m.code);
        for e in &self.c.object_models {
            let m = &e.item;
            let at = At::of(e, "object_models", &m.code);
            if let Some(o) = &e.origin {
                self.unknown_keys::<ObjectModel>(o, &[], "object model");
                self.unknown_keys::<ModelDemo>(o, &["demo"], "demo setting");
                for i in 0..m.columns.len() {
                    self.unknown_keys::<ColumnDef>(o, &["columns", &i.to_string()], "column");
                }
                for i in 0..m.relationships.len() {
                    self.unknown_keys::<RelationshipDef>(o, &["relationships", &i.to_string()], "relationship");
                }
            }
            self.object_model(m, &at);
        }
    }

    fn object_model(&mut self, m: &ObjectModel, at: &At) {
        let columns: Vec<&str> = m.columns.iter().map(|c| c.name.as_str()).collect();
        if m.columns.is_empty() {
            self.push(ProblemKind::Missing, at.locate(&["columns"]), format!("object model `{}` has no columns", m.code), None);
        }
        let mut seen = HashSet::new();
        for (i, c) in m.columns.iter().enumerate() {
            if !seen.insert(c.name.as_str()) {
                self.push(
                    ProblemKind::Duplicate,
                    at.locate(&["columns", &i.to_string()]),
                    format!("duplicate column `{}` in `{}`", c.name, m.code),
                    None,
                );
            }
        }
        for (i, k) in m.primary_key.iter().enumerate() {
            if m.column(k).is_none() {
                self.unknown(
                    at,
                    &["primary_key", &i.to_string()],
                    &format!("column of `{}` in the primary key:", m.code),
                    k,
                    columns.clone(),
                );
            }
        }
        if let Some(t) = &m.time_column {
            match m.column(t) {
                None => self.unknown(at, &["time_column"], &format!("time column of `{}`:", m.code), t, columns.clone()),
                Some(c) if !c.data_type.is_temporal() => self.push(
                    ProblemKind::TimeColumn,
                    at.locate(&["time_column"]),
                    format!("time column `{t}` of `{}` is {}, not a date or timestamp", m.code, c.data_type),
                    Some("choose a date, timestamp or timestamptz column, or omit time_column for a static table".into()),
                ),
                Some(_) => {}
            }
        }
        let mut names = HashSet::new();
        for (i, r) in m.relationships.iter().enumerate() {
            let idx = i.to_string();
            let fields = ["relationships", idx.as_str()];
            if !names.insert(r.name.as_str()) {
                self.push(ProblemKind::Duplicate, at.locate(&fields), format!("duplicate relationship `{}` in `{}`", r.name, m.code), None);
            }
            if m.column(&r.name).is_some() {
                self.push(
                    ProblemKind::Duplicate,
                    at.locate(&[fields[0], fields[1], "name"]),
                    format!("relationship `{}` of `{}` has the name of a column, so paths through it would be ambiguous", r.name, m.code),
                    Some("rename the relationship".into()),
                );
            }
            self.relationship(m, r, at, &fields);
        }
        for (i, c) in m.columns.iter().enumerate() {
            if let Some(d) = &c.demo {
                crate::demo::check_hint(self, m, i, c, d, at);
            }
        }
    }

    fn relationship(&mut self, m: &ObjectModel, r: &RelationshipDef, at: &At, fields: &[&str; 2]) {
        let Ok(target) = self.c.object_model(&r.to) else {
            let codes = self.c.object_models().map(|o| o.code.as_str()).collect();
            self.unknown(at, &[fields[0], fields[1], "to"], "object model", &r.to, codes);
            return;
        };
        if r.on.0.is_empty() {
            self.push(
                ProblemKind::Missing,
                at.locate(&[fields[0], fields[1], "on"]),
                format!("relationship `{}` of `{}` has no key columns", r.name, m.code),
                None,
            );
        }
        let here: Vec<&str> = m.columns.iter().map(|c| c.name.as_str()).collect();
        let there: Vec<&str> = target.columns.iter().map(|c| c.name.as_str()).collect();
        for k in &r.on {
            let on = [fields[0], fields[1], "on", k.from.as_str()];
            let (from, to) = (m.column(&k.from), target.column(&k.to));
            if from.is_none() {
                self.unknown(at, &on, &format!("key column of `{}`:", m.code), &k.from, here.clone());
            }
            if to.is_none() {
                self.unknown(at, &on, &format!("key column of `{}`:", target.code), &k.to, there.clone());
            }
            if let (Some(a), Some(b)) = (from, to)
                && !a.data_type.joinable_with(b.data_type)
            {
                self.push(
                    ProblemKind::KeyType,
                    at.locate(&on),
                    format!(
                        "relationship `{}` joins `{}.{}` ({}) with `{}.{}` ({}), types that cannot be equal",
                        r.name, m.code, k.from, a.data_type, target.code, k.to, b.data_type
                    ),
                    Some("key columns must have the same type".into()),
                );
            }
        }
        if r.cardinality.is_navigable() {
            let keys: BTreeSet<&str> = r.on.iter().map(|k| k.to.as_str()).collect();
            let pk: BTreeSet<&str> = target.primary_key.iter().map(String::as_str).collect();
            if keys != pk {
                let message = if pk.is_empty() {
                    format!(
                        "relationship `{}` is {} but `{}` has no primary key, so one row may match many",
                        r.name,
                        r.cardinality.as_str(),
                        target.code
                    )
                } else {
                    format!(
                        "relationship `{}` is {} but joins `{}` on [{}], not its primary key [{}], so navigation could repeat rows",
                        r.name,
                        r.cardinality.as_str(),
                        target.code,
                        keys.into_iter().collect::<Vec<_>>().join(", "),
                        target.primary_key.join(", ")
                    )
                };
                self.push(
                    ProblemKind::FanOut,
                    at.locate(&[fields[0], fields[1], "on"]),
                    message,
                    Some("join on the target's primary key, or declare the relationship one_to_many".into()),
                );
            }
        }
    }

    fn kpis(&mut self) {
        self.duplicates(&self.c.kpis, "kpis", "KPI", |k| &k.code);
        let modules: Vec<&str> = self.c.modules().map(|m| m.code.as_str()).collect();
        let chains: Vec<&str> = self.c.value_chains().map(|v| v.code.as_str()).collect();
        let mut first = HashSet::new();
        let mut diagnostics: Vec<Diagnostic> = Vec::new();
        let mut seen_diagnostics = HashSet::new();
        for e in &self.c.kpis {
            let k = &e.item;
            let at = At::of(e, "kpis", &k.code);
            if let Some(o) = &e.origin {
                self.unknown_keys::<KpiDefinition>(o, &[], "KPI");
                self.unknown_keys::<Thresholds>(o, &["thresholds"], "thresholds setting");
            }
            if k.name.trim().is_empty() {
                self.push(ProblemKind::Missing, at.locate(&["name"]), format!("KPI `{}` has no name", k.code), None);
            }
            let module_chain = match &k.module {
                Some(code) => match self.c.module(code) {
                    Ok(m) => Some(m.value_chain.as_str()),
                    Err(_) => {
                        self.unknown(&at, &["module"], "module", code, modules.clone());
                        None
                    }
                },
                None => None,
            };
            if let Some(vc) = &k.value_chain {
                if !chains.contains(&vc.as_str()) {
                    self.unknown(&at, &["value_chain"], "value chain", vc, chains.clone());
                } else if let Some(mc) = module_chain.filter(|mc| mc != vc) {
                    self.push(
                        ProblemKind::UnknownReference,
                        at.locate(&["value_chain"]),
                        format!(
                            "KPI `{}` says value chain `{vc}` but its module `{}` is in `{mc}`",
                            k.code,
                            k.module.as_deref().unwrap_or_default()
                        ),
                        Some("omit value_chain to take the module's".into()),
                    );
                }
            }
            self.thresholds(k, &at);
            self.schedule(k, &at);
            if !first.insert(k.code.as_str()) {
                continue;
            }
            match check_kpi(&k.code, self.c) {
                Ok(_) => self.dimensions(k, &at),
                Err(diags) => {
                    // "KPI `x` cannot be used because its formula is invalid" repeats a problem
                    // that x's own check reports.
                    for d in diags
                        .0
                        .into_iter()
                        .filter(|d| !(d.kind == kpi_formula::ErrorKind::UnknownKpi && d.message.contains("because its formula is invalid")))
                    {
                        if seen_diagnostics.insert((d.source.name.clone(), d.span, d.message.clone())) {
                            diagnostics.push(d);
                        }
                    }
                }
            }
        }
        for d in diagnostics {
            self.formula_problem(d);
        }
    }

    /// Attributes a formula diagnostic to the KPI whose formula it points into.
    pub(crate) fn formula_problem(&mut self, d: Diagnostic) {
        let code = d.source.name.strip_prefix("kpi ").unwrap_or(&d.source.name);
        let entry = self.c.kpis.iter().find(|e| e.item.code == code);
        let lc = d.line_col();
        let location = match entry {
            Some(e) => match &e.origin {
                Some(o) => o.locate_inside(&["formula"], lc.line as u32, lc.column as u32),
                None => Location {
                    path: format!("kpis[{code}].formula"),
                    line: Some(lc.line as u32),
                    column: Some(lc.column as u32),
                    file: None,
                },
            },
            None => Location { path: d.source.name.clone(), ..Location::default() },
        };
        let kind = if d.kind == kpi_formula::ErrorKind::Cycle { ProblemKind::Cycle } else { ProblemKind::Formula(d.kind) };
        let mut message = format!("KPI `{code}`: {}", d.message);
        if let Some(expected) = &d.expected {
            message.push_str(&format!(" (expected {expected}"));
            if let Some(found) = &d.found {
                message.push_str(&format!(", found {found}"));
            }
            message.push(')');
        }
        self.out.push(Problem { kind, message, help: d.help.clone(), location, diagnostic: Some(d) });
    }

    fn dimensions(&mut self, k: &KpiDefinition, at: &At) {
        let calendar = Calendar::default();
        let Ok(range) = TimeRange::parse("2024-01-01", "2024-02-01", &calendar) else { return };
        for (i, dim) in k.dimensions.iter().enumerate() {
            let query = Query::kpi(&k.code).by([dim.as_str()]).with_grain(k.default_grain.unwrap_or(Grain::Month)).with_range(range);
            if let Err(FormulaError::Invalid(diags)) = compile(&query, self.c) {
                for d in diags.iter().filter(|d| d.source.name.starts_with("dimension")) {
                    let lc = d.line_col();
                    let location = match at.origin {
                        Some(o) => o.locate_inside(&["dimensions", &i.to_string()], lc.line as u32, lc.column as u32),
                        None => at.locate(&["dimensions", &i.to_string()]),
                    };
                    self.out.push(Problem {
                        kind: ProblemKind::Dimension,
                        message: format!("KPI `{}` cannot be broken down by `{dim}`: {}", k.code, d.message),
                        help: d.help.clone(),
                        location,
                        diagnostic: Some(d.clone()),
                    });
                }
            }
        }
    }

    fn thresholds(&mut self, k: &KpiDefinition, at: &At) {
        let (Some(w), Some(c)) = (k.thresholds.warning, k.thresholds.critical) else { return };
        let wrong = match k.direction {
            Direction::HigherIsBetter => c > w,
            Direction::LowerIsBetter => c < w,
            Direction::Neutral => false,
        };
        if wrong {
            let (dir, rel) = match k.direction {
                Direction::HigherIsBetter => ("higher_is_better", "at or below"),
                _ => ("lower_is_better", "at or above"),
            };
            self.push(
                ProblemKind::Thresholds,
                at.locate(&["thresholds", "critical"]),
                format!("KPI `{}` is {dir} but its critical threshold {c} is not {rel} its warning threshold {w}", k.code),
                Some("swap the thresholds or change the direction".into()),
            );
        }
    }

    fn schedule(&mut self, k: &KpiDefinition, at: &At) {
        let Some(s) = &k.schedule else { return };
        if let Err(e) = s.parse::<crate::Cron>() {
            self.push(
                ProblemKind::Schedule,
                at.locate(&["schedule"]),
                format!("schedule `{s}` of KPI `{}` is not a cron expression: {}", k.code, e.reason),
                Some("write five fields: minute hour day-of-month month day-of-week, e.g. `0 0 * * *`, or @daily".into()),
            );
        }
    }
}

/// Checks that a distribution can fill a column.
pub(crate) fn distribution_fits(d: &Distribution) -> Result<(), String> {
    match d {
        Distribution::Uniform { min, max } if min > max => Err(format!("uniform min {min} is above max {max}")),
        Distribution::Normal { sd, .. } if *sd < 0.0 => Err("normal sd must not be negative".into()),
        Distribution::Lognormal { median, sigma } if *median <= 0.0 || *sigma < 0.0 => {
            Err("lognormal needs a positive median and a non-negative sigma".into())
        }
        Distribution::Choice { values, .. } if values.is_empty() => Err("choice needs at least one value".into()),
        Distribution::Choice { values, weights: Some(w) }
            if w.len() != values.len() || w.iter().any(|x| *x < 0.0) || w.iter().sum::<f64>() <= 0.0 =>
        {
            Err(format!("choice has {} values but {} weights (weights must be non-negative and not all zero)", values.len(), w.len()))
        }
        Distribution::Chance(p) if !(0.0..=1.0).contains(p) => Err(format!("chance {p} is not between 0 and 1")),
        Distribution::After { min_hours, max_hours, .. } if min_hours > max_hours => {
            Err(format!("after: min_hours {min_hours} is above max_hours {max_hours}"))
        }
        _ => Ok(()),
    }
}
