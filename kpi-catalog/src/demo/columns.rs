//! Filling one column of one chunk of demo rows.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::buffer::NullBuffer;

use super::pool::{Pool, pool};
use super::rng::{Activity, Rng, cdf};
use super::spec::Distribution;
use crate::column_type::ColumnType;

const MICROS_PER_DAY: i64 = 86_400_000_000;
const MICROS_PER_HOUR: f64 = 3_600_000_000.0;

/// Raw values of a column before they become an Arrow array.
#[derive(Clone)]
pub(crate) enum Values {
    F64(Vec<f64>),
    I64(Vec<i64>),
    Bool(Vec<bool>),
    /// Microseconds since the epoch (wall clock for `timestamp` and `date`).
    Time(Vec<i64>),
    /// Indices into a shared pool of texts.
    Text(Vec<u32>, Arc<[String]>),
    Owned(Vec<String>),
}

impl Values {
    pub fn len(&self) -> usize {
        match self {
            Values::F64(v) => v.len(),
            Values::I64(v) | Values::Time(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Text(v, _) => v.len(),
            Values::Owned(v) => v.len(),
        }
    }

    /// The value at `i` as microseconds, for columns derived from a time column.
    pub fn time_at(&self, i: usize) -> Option<i64> {
        match self {
            Values::Time(v) | Values::I64(v) => v.get(i).copied(),
            _ => None,
        }
    }

    /// Picks rows of this column by index (for copying a related row's value).
    pub fn take(&self, rows: &[usize]) -> Values {
        match self {
            Values::F64(v) => Values::F64(rows.iter().map(|&r| v[r]).collect()),
            Values::I64(v) => Values::I64(rows.iter().map(|&r| v[r]).collect()),
            Values::Time(v) => Values::Time(rows.iter().map(|&r| v[r]).collect()),
            Values::Bool(v) => Values::Bool(rows.iter().map(|&r| v[r]).collect()),
            Values::Text(v, pool) => Values::Text(rows.iter().map(|&r| v[r]).collect(), pool.clone()),
            Values::Owned(v) => Values::Owned(rows.iter().map(|&r| v[r].clone()).collect()),
        }
    }
}

/// What fills a column, decided once per table.
pub(crate) enum Fill {
    /// Row numbers from 1 (integer primary keys).
    Sequence,
    /// Enumerated keys, one per row (text primary keys with `choice` values).
    Keys(Arc<[String]>),
    /// `"<table>-<n>"` (text primary keys without values).
    Labels(String),
    /// The key of the related row drawn for `relationship`.
    Foreign { relationship: String, target_keys: TargetKeys },
    /// The model's time column.
    Time,
    /// From a distribution.
    Draw(Distribution),
    /// Defaults by type when nothing is said.
    Default,
    /// A column of the related row.
    Copy { relationship: String, column: String },
}

/// How a target table's key is written for a row index.
#[derive(Clone)]
pub(crate) enum TargetKeys {
    Sequence,
    Keys(Arc<[String]>),
    Labels(String),
}

/// The chunk being filled: its rows, generator, and what earlier columns produced.
pub(crate) struct Chunk<'a> {
    pub first_row: usize,
    pub len: usize,
    pub rng: Rng,
    pub activity: &'a Activity,
    pub columns: HashMap<String, Values>,
    /// Row indices drawn in the target table, per relationship.
    pub picks: HashMap<String, Vec<usize>>,
}

impl Chunk<'_> {
    /// Target row indices for `relationship`, drawn once per chunk with a skew towards early
    /// rows (a few customers and products account for much of the activity).
    pub fn picks(&mut self, relationship: &str, target_rows: usize) -> &[usize] {
        let (len, rng) = (self.len, &mut self.rng);
        self.picks.entry(relationship.to_string()).or_insert_with(|| {
            (0..len).map(|_| ((rng.unit().powf(1.6) * target_rows as f64) as usize).min(target_rows.saturating_sub(1))).collect()
        })
    }
}

/// Fills one column of a chunk.
pub(crate) fn fill<'v>(
    chunk: &mut Chunk,
    name: &str,
    ty: ColumnType,
    how: &Fill,
    target_rows: &dyn Fn(&str) -> usize,
    copy: &dyn Fn(&str, &str) -> Option<&'v Values>,
) -> Values {
    let n = chunk.len;
    match how {
        Fill::Sequence => Values::I64((0..n).map(|i| (chunk.first_row + i + 1) as i64).collect()),
        Fill::Keys(keys) => Values::Text((0..n).map(|i| ((chunk.first_row + i) % keys.len()) as u32).collect(), keys.clone()),
        Fill::Labels(prefix) => Values::Owned((0..n).map(|i| format!("{prefix}-{}", chunk.first_row + i + 1)).collect()),
        Fill::Foreign { relationship, target_keys } => {
            let rows = target_rows(relationship);
            let picks = chunk.picks(relationship, rows.max(1));
            match target_keys {
                TargetKeys::Sequence => Values::I64(picks.iter().map(|&r| r as i64 + 1).collect()),
                TargetKeys::Keys(keys) => Values::Text(picks.iter().map(|&r| (r % keys.len()) as u32).collect(), keys.clone()),
                TargetKeys::Labels(prefix) => Values::Owned(picks.iter().map(|&r| format!("{prefix}-{}", r + 1)).collect()),
            }
        }
        Fill::Time => Values::Time((0..n).map(|_| chunk.activity.sample(&mut chunk.rng)).collect()),
        Fill::Copy { relationship, column } => {
            let rows = target_rows(relationship);
            let picks = chunk.picks(relationship, rows.max(1)).to_vec();
            copy(relationship, column).map(|v| v.take(&picks)).unwrap_or_else(|| default(chunk, name, ty))
        }
        Fill::Draw(d) => draw(chunk, ty, d).unwrap_or_else(|| default(chunk, name, ty)),
        Fill::Default => default(chunk, name, ty),
    }
}

fn draw(chunk: &mut Chunk, ty: ColumnType, d: &Distribution) -> Option<Values> {
    let (n, rng) = (chunk.len, &mut chunk.rng);
    Some(match d {
        Distribution::Uniform { min, max } => Values::F64((0..n).map(|_| min + rng.unit() * (max - min)).collect()),
        Distribution::Normal { mean, sd, min, max } => Values::F64(
            (0..n).map(|_| (mean + sd * rng.normal()).clamp(min.unwrap_or(f64::NEG_INFINITY), max.unwrap_or(f64::INFINITY))).collect(),
        ),
        Distribution::Lognormal { median, sigma } => Values::F64((0..n).map(|_| median * (sigma * rng.normal()).exp()).collect()),
        Distribution::Chance(p) => Values::Bool((0..n).map(|_| rng.unit() < *p).collect()),
        Distribution::Choice { values, weights } => {
            let cdf = cdf(weights.clone().unwrap_or_else(|| vec![1.0; values.len()]));
            let idx: Vec<usize> = (0..n).map(|_| rng.pick(&cdf)).collect();
            match pool(values, ty).ok()? {
                Pool::F64(p) => Values::F64(idx.iter().map(|&i| p[i]).collect()),
                Pool::Bool(p) => Values::Bool(idx.iter().map(|&i| p[i]).collect()),
                Pool::Time(p) => Values::Time(idx.iter().map(|&i| p[i]).collect()),
                Pool::Text(p) => Values::Text(idx.iter().map(|&i| i as u32).collect(), p),
            }
        }
        Distribution::After { column, min_hours, max_hours } => {
            let base = chunk.columns.get(column)?;
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                let hours = min_hours + rng.unit() * (max_hours - min_hours);
                out.push(base.time_at(i)? + (hours * MICROS_PER_HOUR) as i64);
            }
            Values::Time(out)
        }
        Distribution::Copy { .. } => return None,
    })
}

fn default(chunk: &mut Chunk, name: &str, ty: ColumnType) -> Values {
    let (n, rng) = (chunk.len, &mut chunk.rng);
    match ty {
        ColumnType::Bool => Values::Bool((0..n).map(|_| rng.unit() < 0.5).collect()),
        ColumnType::Int32 | ColumnType::Int64 => Values::I64((0..n).map(|_| 1 + rng.below(1000) as i64).collect()),
        ColumnType::Float64 | ColumnType::Decimal { .. } => Values::F64((0..n).map(|_| 100.0 * (0.8 * rng.normal()).exp()).collect()),
        ColumnType::String => {
            let pool: Arc<[String]> = (1..=8).map(|k| format!("{name} {k}")).collect::<Vec<_>>().into();
            Values::Text((0..n).map(|_| rng.below(8) as u32).collect(), pool)
        }
        ColumnType::Date | ColumnType::Timestamp | ColumnType::TimestampTz => {
            Values::Time((0..n).map(|_| chunk.activity.sample(rng)).collect())
        }
    }
}

/// Marks a fraction of rows null.
pub(crate) fn nulls(rng: &mut Rng, len: usize, rate: f64) -> Option<NullBuffer> {
    (rate > 0.0).then(|| NullBuffer::from((0..len).map(|_| rng.unit() >= rate).collect::<Vec<bool>>()))
}

/// The Arrow array of a column of type `ty` from raw values; nulls where `valid` says so, and
/// where a derived time had no base.
pub(crate) fn to_array(values: Values, ty: ColumnType, valid: Option<NullBuffer>) -> ArrayRef {
    let as_f64 = |v: &Values| -> Vec<f64> {
        match v {
            Values::F64(x) => x.clone(),
            Values::I64(x) | Values::Time(x) => x.iter().map(|&i| i as f64).collect(),
            Values::Bool(x) => x.iter().map(|&b| f64::from(u8::from(b))).collect(),
            _ => vec![0.0; v.len()],
        }
    };
    let as_i64 = |v: &Values| -> Vec<i64> {
        match v {
            Values::I64(x) | Values::Time(x) => x.clone(),
            other => as_f64(other).iter().map(|f| f.round() as i64).collect(),
        }
    };
    match ty {
        ColumnType::Bool => {
            let v = match &values {
                Values::Bool(b) => b.clone(),
                other => as_f64(other).iter().map(|f| *f != 0.0).collect(),
            };
            Arc::new(BooleanArray::new(v.into(), valid))
        }
        ColumnType::Int32 => {
            Arc::new(Int32Array::new(as_i64(&values).iter().map(|&i| i.clamp(i32::MIN as i64, i32::MAX as i64) as i32).collect(), valid))
        }
        ColumnType::Int64 => Arc::new(Int64Array::new(as_i64(&values).into(), valid)),
        ColumnType::Float64 => Arc::new(Float64Array::new(as_f64(&values).iter().map(|f| (f * 100.0).round() / 100.0).collect(), valid)),
        ColumnType::Decimal { precision, scale } => {
            let factor = 10f64.powi(scale as i32);
            let limit = 10i128.pow(precision as u32) - 1;
            let v: Vec<i128> = as_f64(&values).iter().map(|f| ((f * factor).round() as i128).clamp(-limit, limit)).collect();
            Arc::new(
                Decimal128Array::new(v.into(), valid)
                    .with_precision_and_scale(precision, scale)
                    // invariant: validation refused catalogs whose decimal types Arrow cannot hold.
                    .expect("precision and scale were validated"),
            )
        }
        ColumnType::String => match values {
            Values::Text(idx, pool) => {
                let mut a: StringArray = idx.iter().map(|&i| Some(pool[i as usize].as_str())).collect();
                if let Some(v) = valid {
                    a = StringArray::new(a.offsets().clone(), a.values().clone(), Some(v));
                }
                Arc::new(a)
            }
            Values::Owned(s) => {
                let a = StringArray::from(s);
                Arc::new(StringArray::new(a.offsets().clone(), a.values().clone(), valid))
            }
            other => {
                let s: StringArray = as_f64(&other).iter().map(|f| Some(f.to_string())).collect();
                Arc::new(StringArray::new(s.offsets().clone(), s.values().clone(), valid))
            }
        },
        ColumnType::Date => {
            Arc::new(Date32Array::new(as_i64(&values).iter().map(|&t| t.div_euclid(MICROS_PER_DAY) as i32).collect(), valid))
        }
        ColumnType::Timestamp => Arc::new(TimestampMicrosecondArray::new(as_i64(&values).into(), valid)),
        ColumnType::TimestampTz => Arc::new(TimestampMicrosecondArray::new(as_i64(&values).into(), valid).with_timezone("UTC")),
    }
}
