//! Generating demo rows for a catalog (the `demo` feature).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::SchemaRef;
use rayon::prelude::*;

use super::columns::{self, Chunk, Fill, TargetKeys, Values};
use super::pool;
use super::rng::{Activity, Rng};
use super::spec::{Distribution, ModelDemo};
use crate::catalog::Catalog;
use crate::column_type::ColumnType;
use crate::error::CatalogError;
use crate::object_model::{ColumnDef, ObjectModel};

/// Rows per generated record batch (and per parallel task).
const CHUNK_ROWS: usize = 65_536;

/// The most rows one call generates over all tables, so a typo cannot exhaust memory.
pub const MAX_DEMO_ROWS: usize = 500_000_000;

/// What demo data to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct DemoOptions {
    /// Rows of an object model with scale 1.0 (fact tables such as orders).
    pub rows: usize,
    /// Random seed: the same seed gives the same data.
    pub seed: u64,
    /// First instant of the time range (wall clock; inclusive).
    pub start: NaiveDateTime,
    /// End of the time range (exclusive).
    pub end: NaiveDateTime,
    /// The object models to generate (and those they copy values from); empty for all.
    pub object_models: Vec<String>,
}

impl Default for DemoOptions {
    fn default() -> Self {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
        DemoOptions { rows: 100_000, seed: 42, start: day(2024, 1, 1), end: day(2025, 1, 1), object_models: Vec::new() }
    }
}

impl DemoOptions {
    /// `rows` rows per scale-1.0 object model over 2024, seed 42.
    pub fn new(rows: usize) -> Self {
        DemoOptions { rows, ..Default::default() }
    }

    /// The same options with another seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The same options over `[start, end)`, written `YYYY-MM-DD` or `YYYY-MM-DD HH:MM[:SS]`.
    pub fn with_range(mut self, start: &str, end: &str) -> Result<Self, CatalogError> {
        let parse = |s: &str| {
            pool::parse_time(s)
                .and_then(chrono::DateTime::from_timestamp_micros)
                .map(|t| t.naive_utc())
                .ok_or_else(|| CatalogError::Demo(format!("`{s}` is not a date; write YYYY-MM-DD or YYYY-MM-DD HH:MM:SS")))
        };
        self.start = parse(start)?;
        self.end = parse(end)?;
        Ok(self)
    }

    /// [`DemoOptions::with_range`] when both bounds are given, the options unchanged when neither
    /// is; one bound alone is an error.
    pub fn with_optional_range(self, start: Option<&str>, end: Option<&str>) -> Result<Self, CatalogError> {
        match (start, end) {
            (Some(start), Some(end)) => self.with_range(start, end),
            (None, None) => Ok(self),
            _ => Err(CatalogError::Demo("give both start and end, or neither".into())),
        }
    }

    /// The same options generating only these object models (and what they copy from).
    pub fn only<S: Into<String>>(mut self, object_models: impl IntoIterator<Item = S>) -> Self {
        self.object_models = object_models.into_iter().map(Into::into).collect();
        self
    }
}

/// Generated tables, each as record batches with the object model's schema.
#[derive(Clone, Debug, Default)]
pub struct DemoData {
    tables: BTreeMap<String, (SchemaRef, Vec<RecordBatch>)>,
}

impl DemoData {
    /// The codes of the generated object models.
    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }

    /// The batches of one object model.
    pub fn batches(&self, code: &str) -> Option<&[RecordBatch]> {
        self.tables.get(code).map(|(_, b)| b.as_slice())
    }

    /// The schema of one object model's batches.
    pub fn schema(&self, code: &str) -> Option<SchemaRef> {
        self.tables.get(code).map(|(s, _)| s.clone())
    }

    /// Rows of one object model (0 when it was not generated).
    pub fn rows(&self, code: &str) -> usize {
        self.batches(code).map_or(0, |b| b.iter().map(RecordBatch::num_rows).sum())
    }

    /// Rows over all object models.
    pub fn total_rows(&self) -> usize {
        self.tables.keys().map(|t| self.rows(t)).sum()
    }

    /// The tables, by object-model code, with their schemas.
    pub fn into_tables(self) -> BTreeMap<String, (SchemaRef, Vec<RecordBatch>)> {
        self.tables
    }
}

impl Catalog {
    /// Generates demo data for the catalog's object models.
    ///
    /// ```
    /// use kpi_catalog::{Catalog, DemoOptions};
    /// let data = Catalog::standard().demo_data(&DemoOptions::new(10_000).with_seed(7))?;
    /// assert_eq!(data.rows("orders"), 10_000);
    /// # Ok::<(), kpi_catalog::CatalogError>(())
    /// ```
    pub fn demo_data(&self, options: &DemoOptions) -> Result<DemoData, CatalogError> {
        generate(self, options)
    }
}

fn row_count(m: &ObjectModel, rows: usize) -> usize {
    let demo = m.demo.clone().unwrap_or(ModelDemo { scale: 1.0, rows: None });
    if let Some(keys) = text_keys(m) {
        return keys.len();
    }
    demo.rows.unwrap_or_else(|| (rows as f64 * demo.scale).round() as usize).max(1)
}

/// The enumerated keys of a table whose single primary key is text with `choice` values.
fn text_keys(m: &ObjectModel) -> Option<Arc<[String]>> {
    let [pk] = m.primary_key.as_slice() else { return None };
    let col = m.column(pk)?;
    match (&col.data_type, col.demo.as_ref().map(|d| &d.values)) {
        (ColumnType::String, Some(Distribution::Choice { values, .. })) => Some(values.clone().into()),
        _ => None,
    }
}

fn target_keys(m: &ObjectModel) -> TargetKeys {
    match (text_keys(m), m.primary_key.first().and_then(|k| m.column(k)).map(|c| c.data_type)) {
        (Some(keys), _) => TargetKeys::Keys(keys),
        (None, Some(ColumnType::String)) => TargetKeys::Labels(m.code.clone()),
        _ => TargetKeys::Sequence,
    }
}

/// How each column of `m` is filled.
fn plan(catalog: &Catalog, m: &ObjectModel) -> Vec<Fill> {
    let single_pk = (m.primary_key.len() == 1).then(|| m.primary_key[0].as_str());
    m.columns
        .iter()
        .map(|c| {
            if let Some(d) = &c.demo {
                return match &d.values {
                    Distribution::Copy { relationship, column } => {
                        Fill::Copy { relationship: relationship.clone(), column: column.clone() }
                    }
                    other => match text_keys(m).filter(|_| Some(c.name.as_str()) == single_pk) {
                        Some(keys) => Fill::Keys(keys),
                        None => Fill::Draw(other.clone()),
                    },
                };
            }
            if Some(c.name.as_str()) == single_pk {
                return if c.data_type == ColumnType::String { Fill::Labels(m.code.clone()) } else { Fill::Sequence };
            }
            let fk = m.relationships.iter().find(|r| r.cardinality.is_navigable() && r.on.0.len() == 1 && r.on.0[0].from == c.name);
            if let Some(target) = fk.and_then(|r| catalog.object_model(&r.to).ok().map(|t| (r, t))) {
                return Fill::Foreign { relationship: target.0.name.clone(), target_keys: target_keys(target.1) };
            }
            if m.time_column.as_deref() == Some(c.name.as_str()) {
                return Fill::Time;
            }
            match (c.data_type.is_temporal(), &m.time_column) {
                (true, Some(t)) => Fill::Draw(Distribution::After { column: t.clone(), min_hours: 0.0, max_hours: 72.0 }),
                _ => Fill::Default,
            }
        })
        .collect()
}

/// Object models in an order where every model comes after those it copies values from.
fn order<'c>(catalog: &'c Catalog, wanted: &[String]) -> Result<Vec<&'c ObjectModel>, CatalogError> {
    let mut out: Vec<&'c ObjectModel> = Vec::new();
    let mut done: HashSet<&'c str> = HashSet::new();
    fn visit<'c>(catalog: &'c Catalog, m: &'c ObjectModel, done: &mut HashSet<&'c str>, out: &mut Vec<&'c ObjectModel>, depth: usize) {
        if !done.insert(m.code.as_str()) || depth > 64 {
            return;
        }
        for c in &m.columns {
            if let Some(Distribution::Copy { relationship, .. }) = c.demo.as_ref().map(|d| &d.values)
                && let Some(target) = m.relationship(relationship).and_then(|r| catalog.object_model(&r.to).ok())
            {
                visit(catalog, target, done, out, depth + 1);
            }
        }
        out.push(m);
    }
    if wanted.is_empty() {
        for m in catalog.object_models() {
            visit(catalog, m, &mut done, &mut out, 0);
        }
    } else {
        for code in wanted {
            visit(catalog, catalog.object_model(code)?, &mut done, &mut out, 0);
        }
    }
    Ok(out)
}

/// Generates demo data (see the module docs).
pub fn generate(catalog: &Catalog, options: &DemoOptions) -> Result<DemoData, CatalogError> {
    let start = options.start.and_utc().timestamp_micros();
    let end = options.end.and_utc().timestamp_micros();
    if start >= end {
        return Err(CatalogError::Demo(format!(
            "the demo range starts at {} but ends at {}; the start must come first",
            options.start, options.end
        )));
    }
    for (what, t) in [("start", options.start), ("end", options.end)] {
        if kpi_formula::check_supported(what, t.and_utc()).is_err() {
            return Err(CatalogError::Demo(format!(
                "the demo range's {what} {t} is outside the years the engine calculates ({}–{})",
                kpi_formula::MIN_YEAR,
                kpi_formula::MAX_YEAR
            )));
        }
    }
    let models = order(catalog, &options.object_models)?;
    let counts: HashMap<&str, usize> = catalog.object_models().map(|m| (m.code.as_str(), row_count(m, options.rows))).collect();
    let total = models.iter().fold(0usize, |acc, m| acc.saturating_add(counts[m.code.as_str()]));
    if total > MAX_DEMO_ROWS {
        return Err(CatalogError::Demo(format!("{total} demo rows requested; at most {MAX_DEMO_ROWS} are generated at once")));
    }
    let activity = Activity::new(start, end);
    let mut tables: BTreeMap<String, (SchemaRef, Vec<RecordBatch>)> = BTreeMap::new();
    // Whole columns of generated tables, for `copy` hints.
    let mut generated: HashMap<String, HashMap<String, Values>> = HashMap::new();
    for m in models {
        let fills = plan(catalog, m);
        let rows = counts[m.code.as_str()];
        let schema = m.schema();
        let target_rows = |rel: &str| m.relationship(rel).and_then(|r| counts.get(r.to.as_str()).copied()).unwrap_or(1);
        let copy = |rel: &str, column: &str| -> Option<&Values> { generated.get(&m.relationship(rel)?.to)?.get(column) };
        // Columns later tables copy from, and columns later columns of this table start from.
        let keep_whole: HashSet<&str> = catalog
            .object_models()
            .flat_map(|o| {
                o.columns.iter().filter_map(move |c| match c.demo.as_ref().map(|d| &d.values) {
                    Some(Distribution::Copy { relationship, column }) if o.relationship(relationship).is_some_and(|r| r.to == m.code) => {
                        Some(column.as_str())
                    }
                    _ => None,
                })
            })
            .collect();
        let keep_chunk: HashSet<&str> = m
            .columns
            .iter()
            .filter_map(|c| match c.demo.as_ref().map(|d| &d.values) {
                Some(Distribution::After { column, .. }) => Some(column.as_str()),
                _ => None,
            })
            .chain(keep_whole.iter().copied())
            .collect();
        let table_stream = fnv(&m.code);
        let chunks: Vec<(RecordBatch, HashMap<String, Values>)> = (0..rows.div_ceil(CHUNK_ROWS))
            .into_par_iter()
            .map(|k| {
                let first_row = k * CHUNK_ROWS;
                let mut chunk = Chunk {
                    first_row,
                    len: CHUNK_ROWS.min(rows - first_row),
                    rng: Rng::new(options.seed, &[table_stream, k as u64]),
                    activity: &activity,
                    columns: HashMap::new(),
                    picks: HashMap::new(),
                };
                let mut arrays = Vec::with_capacity(m.columns.len());
                let mut validity: HashMap<&str, NullBuffer> = HashMap::new();
                for (c, fill) in m.columns.iter().zip(&fills) {
                    let values = columns::fill(&mut chunk, &c.name, c.data_type, fill, &target_rows, &copy);
                    let valid = column_validity(&mut chunk.rng, c, chunk.len, &validity);
                    if let Some(v) = &valid {
                        validity.insert(c.name.as_str(), v.clone());
                    }
                    if keep_chunk.contains(c.name.as_str()) {
                        chunk.columns.insert(c.name.clone(), values.clone());
                    }
                    arrays.push(columns::to_array(values, c.data_type, valid));
                }
                let batch =
                    RecordBatch::try_new(schema.clone(), arrays).map_err(|e| CatalogError::Demo(format!("object model `{}`: {e}", m.code)));
                chunk.columns.retain(|name, _| keep_whole.contains(name.as_str()));
                (batch, chunk.columns)
            })
            .map(|(b, cols)| b.map(|b| (b, cols)))
            .collect::<Result<_, _>>()?;
        let mut whole: HashMap<String, Values> = HashMap::new();
        let mut batches = Vec::with_capacity(chunks.len());
        for (batch, cols) in chunks {
            batches.push(batch);
            for (name, v) in cols {
                match whole.get_mut(&name) {
                    Some(acc) => append(acc, v),
                    None => {
                        whole.insert(name, v);
                    }
                }
            }
        }
        generated.insert(m.code.clone(), whole);
        tables.insert(m.code.clone(), (schema, batches));
    }
    Ok(DemoData { tables })
}

/// Nulls of a column: its own null rate, plus the nulls of the column a derived time follows.
fn column_validity(rng: &mut Rng, c: &ColumnDef, len: usize, earlier: &HashMap<&str, NullBuffer>) -> Option<NullBuffer> {
    let own = c.demo.as_ref().and_then(|d| columns::nulls(rng, len, if c.nullable { d.null_rate } else { 0.0 }));
    let base = match c.demo.as_ref().map(|d| &d.values) {
        Some(Distribution::After { column, .. }) => earlier.get(column.as_str()).cloned(),
        _ => None,
    };
    if !c.nullable {
        return None;
    }
    NullBuffer::union(own.as_ref(), base.as_ref())
}

fn append(acc: &mut Values, more: Values) {
    match (acc, more) {
        (Values::F64(a), Values::F64(b)) => a.extend(b),
        (Values::I64(a), Values::I64(b)) | (Values::Time(a), Values::Time(b)) => a.extend(b),
        (Values::Bool(a), Values::Bool(b)) => a.extend(b),
        (Values::Text(a, _), Values::Text(b, _)) => a.extend(b),
        (Values::Owned(a), Values::Owned(b)) => a.extend(b),
        _ => {}
    }
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
