//! Partial states of one aggregate, one per period and dimension group of a maintained view,
//! updated from each appended batch in time proportional to the batch.
//!
//! Sums, counts, averages, minima and maxima keep a few numbers per cell. Distinct counts keep
//! the 64-bit hashes of the values seen, or past [`Estimate::DISTINCT_EXACT_UP_TO`] values a
//! HyperLogLog sketch when approximation is allowed. Medians and percentiles keep the values, or
//! a sketch with relative accuracy [`Estimate::QUANTILE_ACCURACY`] when approximation is allowed.

use std::collections::BTreeMap;

use foldhash::{HashSet, HashSetExt};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type};
use datafusion::common::hash_utils::create_hashes_with_hasher;
use datafusion::error::DataFusionError;
use kpi_formula::ir::{AggFunc, discrete_rank};

use crate::options::Estimate;

/// Registers of the HyperLogLog sketch (2^12): 4 KiB per cell, standard error 1.04/√4096 ≈ 1.6%.
const HLL_BITS: u32 = 12;

const SKETCH_AFTER: usize = Estimate::DISTINCT_EXACT_UP_TO;
const QUANTILE_ACCURACY: f64 = Estimate::QUANTILE_ACCURACY;

/// The states of one aggregate for every cell, indexed by cell.
pub(crate) enum States {
    /// Sum of non-null values and how many there were (null when none).
    Sum { sum: Vec<f64>, n: Vec<u64> },
    /// Mean: the same state as a sum.
    Avg { sum: Vec<f64>, n: Vec<u64> },
    /// Rows, or non-null values.
    Count(Vec<i64>),
    /// Smallest value.
    Min(Vec<Option<f64>>),
    /// Largest value.
    Max(Vec<Option<f64>>),
    /// Distinct non-null values.
    Distinct { cells: Vec<Distinct>, estimate: Estimate },
    /// Percentile at a fraction (0.5 for the median): continuous, or `discrete` (one of the values).
    Quantile { cells: Vec<Quantile>, fraction: f64, estimate: Estimate, discrete: bool },
}

impl States {
    /// No cells yet, for `func` with the accuracy allowed.
    pub(crate) fn new(func: AggFunc, distinct: Estimate, quantiles: Estimate) -> States {
        match func {
            AggFunc::Sum => States::Sum { sum: Vec::new(), n: Vec::new() },
            AggFunc::Avg => States::Avg { sum: Vec::new(), n: Vec::new() },
            AggFunc::Count => States::Count(Vec::new()),
            AggFunc::Min => States::Min(Vec::new()),
            AggFunc::Max => States::Max(Vec::new()),
            AggFunc::CountDistinct => States::Distinct { cells: Vec::new(), estimate: distinct },
            AggFunc::Median => States::Quantile { cells: Vec::new(), fraction: 0.5, estimate: quantiles, discrete: false },
            AggFunc::Percentile(p) => States::Quantile { cells: Vec::new(), fraction: p, estimate: quantiles, discrete: false },
            AggFunc::PercentileDisc(p) => States::Quantile { cells: Vec::new(), fraction: p, estimate: quantiles, discrete: true },
            // Asked to be approximate: a sketch whatever the engine's setting.
            AggFunc::ApproxPercentile(p) => {
                States::Quantile { cells: Vec::new(), fraction: p, estimate: Estimate::Approximate, discrete: false }
            }
        }
    }

    /// About how many bytes the states hold (what a bound on maintained states counts).
    pub(crate) fn bytes(&self) -> usize {
        const ENTRY: usize = std::mem::size_of::<u64>() + 1;
        match self {
            States::Sum { sum, .. } | States::Avg { sum, .. } => sum.len() * 16,
            States::Count(c) => c.len() * 8,
            States::Min(m) | States::Max(m) => m.len() * 16,
            States::Distinct { cells, .. } => cells
                .iter()
                .map(|c| match c {
                    Distinct::Exact(hashes) => 48 + hashes.capacity() * ENTRY,
                    Distinct::Sketch(registers) => 16 + registers.len(),
                })
                .sum(),
            States::Quantile { cells, .. } => cells
                .iter()
                .map(|c| match c {
                    Quantile::Exact { values, .. } => 32 + values.capacity() * 8,
                    Quantile::Sketch { positive, negative, .. } => 64 + (positive.len() + negative.len()) * 32,
                })
                .sum(),
        }
    }

    /// Adds an empty cell.
    pub(crate) fn push(&mut self) {
        match self {
            States::Sum { sum, n } | States::Avg { sum, n } => {
                sum.push(0.0);
                n.push(0);
            }
            States::Count(c) => c.push(0),
            States::Min(m) | States::Max(m) => m.push(None),
            States::Distinct { cells, .. } => cells.push(Distinct::Exact(HashSet::new())),
            States::Quantile { cells, estimate, .. } => cells.push(Quantile::new(*estimate)),
        }
    }

    /// Whether the aggregate reads its argument as a number.
    pub(crate) fn numeric(&self) -> bool {
        !matches!(self, States::Count(_) | States::Distinct { .. })
    }

    /// Adds the rows of a batch: row `r` goes to cell `cells[r]` unless that is `None` or
    /// `filter` (the aggregate's own `where`) is not true for it; `arg` is `None` for rows.
    pub(crate) fn update(
        &mut self,
        cells: &[Option<u32>],
        arg: Option<&ArrayRef>,
        filter: Option<&BooleanArray>,
    ) -> Result<(), DataFusionError> {
        let counted = |r: usize| filter.is_none_or(|f| f.is_valid(r) && f.value(r));
        let rows = cells.iter().enumerate().filter_map(|(r, c)| Some((r, (*c)? as usize))).filter(|(r, _)| counted(*r));
        match self {
            States::Count(counts) => match arg {
                None => rows.for_each(|(_, c)| counts[c] += 1),
                Some(a) => rows.filter(|(r, _)| a.is_valid(*r)).for_each(|(_, c)| counts[c] += 1),
            },
            States::Distinct { cells: states, estimate } => {
                let Some(a) = arg else { return Ok(()) };
                let mut hashes = vec![0u64; a.len()];
                create_hashes_with_hasher([a], &ValueHasher::default(), &mut hashes)?;
                for (r, c) in rows.filter(|(r, _)| a.is_valid(*r)) {
                    states[c].insert(hashes[r], *estimate);
                }
            }
            _ => {
                let Some(a) = arg else { return Ok(()) };
                let values = floats(a)?;
                let values = values.as_primitive::<Float64Type>();
                for (r, c) in rows.filter(|(r, _)| values.is_valid(*r)) {
                    let x = values.value(r);
                    match self {
                        States::Sum { sum, n } | States::Avg { sum, n } => {
                            sum[c] += x;
                            n[c] += 1;
                        }
                        States::Min(m) => m[c] = Some(m[c].map_or(x, |y| y.min(x))),
                        States::Max(m) => m[c] = Some(m[c].map_or(x, |y| y.max(x))),
                        States::Quantile { cells, .. } => cells[c].insert(x),
                        States::Count(_) | States::Distinct { .. } => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// The aggregate's values of `cells`: `Int64` for counts, `Float64` otherwise.
    pub(crate) fn values(&mut self, cells: &[u32]) -> ArrayRef {
        let floats = |f: &mut dyn FnMut(usize) -> Option<f64>| -> ArrayRef {
            Arc::new(cells.iter().map(|&c| f(c as usize)).collect::<Float64Array>())
        };
        match self {
            States::Count(counts) => Arc::new(cells.iter().map(|&c| counts[c as usize]).collect::<Int64Array>()),
            States::Distinct { cells: states, .. } => Arc::new(cells.iter().map(|&c| states[c as usize].count()).collect::<Int64Array>()),
            States::Sum { sum, n } => floats(&mut |c| (n[c] > 0).then(|| sum[c])),
            States::Avg { sum, n } => floats(&mut |c| (n[c] > 0).then(|| sum[c] / n[c] as f64)),
            States::Min(m) | States::Max(m) => floats(&mut |c| m[c]),
            States::Quantile { cells: states, fraction, discrete: false, .. } => floats(&mut |c| states[c].value(*fraction)),
            States::Quantile { cells: states, fraction, discrete: true, .. } => floats(&mut |c| states[c].discrete(*fraction)),
        }
    }
}

/// `array` as `Float64`.
fn floats(array: &ArrayRef) -> Result<ArrayRef, DataFusionError> {
    Ok(if array.data_type() == &DataType::Float64 { array.clone() } else { cast(array, &DataType::Float64)? })
}

/// A fixed hasher, so a value hashes the same in every batch.
type ValueHasher = foldhash::quality::FixedState;

/// The distinct values of one cell.
pub(crate) enum Distinct {
    /// The 64-bit hashes of the values: exact unless two values share a hash (for a million
    /// distinct values, a chance of about 3 in 10^8).
    Exact(HashSet<u64>),
    /// A HyperLogLog sketch: registers of the highest leading-zero rank per hash bucket.
    Sketch(Box<[u8]>),
}

impl Distinct {
    fn insert(&mut self, hash: u64, estimate: Estimate) {
        match self {
            Distinct::Exact(set) => {
                set.insert(hash);
                if estimate == Estimate::Approximate && set.len() > SKETCH_AFTER {
                    let mut registers = vec![0u8; 1 << HLL_BITS].into_boxed_slice();
                    set.iter().for_each(|h| hll_insert(&mut registers, *h));
                    *self = Distinct::Sketch(registers);
                }
            }
            Distinct::Sketch(registers) => hll_insert(registers, hash),
        }
    }

    fn count(&self) -> i64 {
        match self {
            Distinct::Exact(set) => set.len() as i64,
            Distinct::Sketch(registers) => hll_estimate(registers).round() as i64,
        }
    }
}

fn hll_insert(registers: &mut [u8], hash: u64) {
    // The hash's top bits pick the register, its other bits give the rank.
    let index = (hash >> (64 - HLL_BITS)) as usize;
    let rest = (hash << HLL_BITS) | (1 << (HLL_BITS - 1));
    let rank = rest.leading_zeros() as u8 + 1;
    registers[index] = registers[index].max(rank);
}

/// The HyperLogLog estimate with the small-range (linear counting) correction.
fn hll_estimate(registers: &[u8]) -> f64 {
    let m = registers.len() as f64;
    let alpha = 0.7213 / (1.0 + 1.079 / m);
    let sum: f64 = registers.iter().map(|&r| 2f64.powi(-i32::from(r))).sum();
    let raw = alpha * m * m / sum;
    let zeros = registers.iter().filter(|&&r| r == 0).count();
    if raw <= 2.5 * m && zeros > 0 { m * (m / zeros as f64).ln() } else { raw }
}

/// The values of one cell for a median or percentile.
pub(crate) enum Quantile {
    /// Every value, sorted lazily.
    Exact { values: Vec<f64>, sorted: bool },
    /// Counts per logarithmic bucket (`γ = (1+a)/(1-a)` for accuracy `a`), by sign, and zeros.
    Sketch { positive: BTreeMap<i32, u64>, negative: BTreeMap<i32, u64>, zeros: u64 },
}

impl Quantile {
    fn new(estimate: Estimate) -> Quantile {
        match estimate {
            Estimate::Exact => Quantile::Exact { values: Vec::new(), sorted: true },
            Estimate::Approximate => Quantile::Sketch { positive: BTreeMap::new(), negative: BTreeMap::new(), zeros: 0 },
        }
    }

    fn insert(&mut self, x: f64) {
        match self {
            Quantile::Exact { values, sorted } => {
                *sorted &= values.last().is_none_or(|last| *last <= x);
                values.push(x);
            }
            Quantile::Sketch { positive, negative, zeros } => {
                if x == 0.0 || !x.is_finite() {
                    *zeros += u64::from(x == 0.0);
                } else if x > 0.0 {
                    *positive.entry(bucket(x)).or_default() += 1;
                } else {
                    *negative.entry(bucket(-x)).or_default() += 1;
                }
            }
        }
    }

    /// The continuous percentile at `fraction`: interpolated between the two order statistics
    /// around rank `fraction × (n − 1)`.
    fn value(&mut self, fraction: f64) -> Option<f64> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        let rank = fraction * (n - 1) as f64;
        let (lo, hi) = (rank.floor() as u64, rank.ceil() as u64);
        let (a, b) = (self.nth(lo), self.nth(hi));
        // The weight truncated to millionths, as DataFusion's `percentile_cont` does, so
        // streamed and calculated values agree.
        let weight = ((rank - lo as f64) * 1e6).floor() / 1e6;
        Some(a + (b - a) * weight)
    }

    /// The discrete percentile at `fraction`: the value at [`discrete_rank`].
    fn discrete(&mut self, fraction: f64) -> Option<f64> {
        let n = self.len();
        (n > 0).then(|| self.nth(discrete_rank(fraction, n as usize) as u64))
    }

    fn len(&self) -> u64 {
        match self {
            Quantile::Exact { values, .. } => values.len() as u64,
            Quantile::Sketch { positive, negative, zeros } => positive.values().chain(negative.values()).sum::<u64>() + zeros,
        }
    }

    /// The `k`-th smallest value (from 0).
    fn nth(&mut self, k: u64) -> f64 {
        match self {
            Quantile::Exact { values, sorted } => {
                if !*sorted {
                    values.sort_by(f64::total_cmp);
                    *sorted = true;
                }
                values[k as usize]
            }
            Quantile::Sketch { positive, negative, zeros } => {
                let mut left = k;
                for (key, count) in negative.iter().rev() {
                    if left < *count {
                        return -representative(*key);
                    }
                    left -= count;
                }
                if left < *zeros {
                    return 0.0;
                }
                left -= *zeros;
                for (key, count) in positive.iter() {
                    if left < *count {
                        return representative(*key);
                    }
                    left -= count;
                }
                positive.keys().next_back().map_or(0.0, |k| representative(*k))
            }
        }
    }
}

fn gamma() -> f64 {
    (1.0 + QUANTILE_ACCURACY) / (1.0 - QUANTILE_ACCURACY)
}

/// The bucket of a positive value: `(γ^(k-1), γ^k]`.
fn bucket(x: f64) -> i32 {
    (x.ln() / gamma().ln()).ceil() as i32
}

/// The value standing for bucket `k`, within the accuracy of every value in it.
fn representative(k: i32) -> f64 {
    let g = gamma();
    2.0 * g.powi(k) / (g + 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(n: usize) -> Vec<Option<u32>> {
        vec![Some(0); n]
    }

    #[test]
    fn exact_quantiles_interpolate_like_percentile_cont() {
        let mut s = States::new(AggFunc::Percentile(0.9), Estimate::Exact, Estimate::Exact);
        s.push();
        let values: ArrayRef = Arc::new(Float64Array::from(vec![Some(4.0), None, Some(1.0), Some(3.0), Some(2.0)]));
        s.update(&cells(5), Some(&values), None).unwrap();
        let out = s.values(&[0]);
        assert!((out.as_primitive::<Float64Type>().value(0) - 3.7).abs() < 1e-12);
    }

    #[test]
    fn approximate_quantiles_stay_within_their_accuracy() {
        let mut s = States::new(AggFunc::Median, Estimate::Exact, Estimate::Approximate);
        s.push();
        let values: ArrayRef = Arc::new(Float64Array::from((1..=10_001).map(|i| i as f64 * 0.37).collect::<Vec<_>>()));
        s.update(&cells(10_001), Some(&values), None).unwrap();
        let median = s.values(&[0]).as_primitive::<Float64Type>().value(0);
        let exact = 5_001.0 * 0.37;
        assert!((median - exact).abs() <= QUANTILE_ACCURACY * exact, "{median} vs {exact}");
    }

    #[test]
    fn approximate_distinct_counts_are_exact_while_small_and_close_when_large() {
        for (n, tolerance) in [(500_i64, 0.0), (100_000, 0.05)] {
            let mut s = States::new(AggFunc::CountDistinct, Estimate::Approximate, Estimate::Exact);
            s.push();
            let values: ArrayRef = Arc::new(Int64Array::from((0..n).chain(0..n).collect::<Vec<_>>()));
            s.update(&cells(2 * n as usize), Some(&values), None).unwrap();
            let count = s.values(&[0]).as_primitive::<datafusion::arrow::datatypes::Int64Type>().value(0);
            assert!(((count - n) as f64).abs() <= tolerance * n as f64, "{count} vs {n}");
        }
    }
}
