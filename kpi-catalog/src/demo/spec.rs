//! How demo data fills object models: sizes per table and value distributions per column.

use serde::{Deserialize, Serialize};

/// How many demo rows an object model gets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelDemo {
    /// Rows relative to the requested row count (1.0 = as many; 0.1 = a tenth).
    #[serde(default = "one")]
    pub scale: f64,
    /// A fixed row count (for reference tables such as products), overriding `scale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<usize>,
}

fn one() -> f64 {
    1.0
}

/// How demo data fills one column.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnDemo {
    /// The distribution values are drawn from.
    #[serde(flatten)]
    pub values: Distribution,
    /// The fraction of rows that are null (0.0–1.0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub null_rate: f64,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// A distribution of demo values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// Uniform between `min` and `max` (integers are rounded).
    Uniform {
        /// Smallest value.
        min: f64,
        /// Largest value.
        max: f64,
    },
    /// Normal, clamped to `[min, max]` when given.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        sd: f64,
        /// Lower clamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        /// Upper clamp.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
    },
    /// Log-normal with the given median and shape: right-skewed amounts such as order values.
    Lognormal {
        /// Median value.
        median: f64,
        /// Shape (standard deviation of the logarithm).
        sigma: f64,
    },
    /// One of `values`, with optional relative `weights`.
    Choice {
        /// The values, written as text and read as the column's type.
        values: Vec<String>,
        /// Relative weights, one per value; equal when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weights: Option<Vec<f64>>,
    },
    /// `true` with this probability.
    Chance(f64),
    /// A time after an earlier time column of the same row, by a uniform number of hours.
    After {
        /// The earlier column (declared before this one).
        column: String,
        /// Fewest hours after it.
        min_hours: f64,
        /// Most hours after it.
        max_hours: f64,
    },
    /// The value of a column of the related row (e.g. an order line's `ordered_at` from its order).
    Copy {
        /// The many-to-one relationship to follow.
        relationship: String,
        /// The column of the related object model.
        column: String,
    },
}
