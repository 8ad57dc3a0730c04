//! What a value means: its status against the KPI's thresholds, and its trend against the
//! previous period.

use kpi_catalog::{Direction, Thresholds};
use serde::Serialize;

/// A value's standing against the KPI's thresholds and direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Better than the warning level.
    Good,
    /// At or past the warning level.
    Warning,
    /// At or past the critical level.
    Critical,
    /// The KPI has no thresholds, or no direction that makes one side better.
    NotRated,
    /// There is no value (no rows, or a division by zero).
    NoData,
}

impl Status {
    /// The status of `value`: for a KPI where higher is better, a value at or below `critical`
    /// is critical and at or below `warning` a warning; where lower is better, at or above.
    ///
    /// ```
    /// use kpi_catalog::{Direction, Thresholds};
    /// use kpi_core::Status;
    /// let t = Thresholds { warning: Some(0.9), critical: Some(0.8), target: Some(0.95) };
    /// assert_eq!(Status::of(Some(0.85), Direction::HigherIsBetter, &t), Status::Warning);
    /// assert_eq!(Status::of(Some(0.97), Direction::HigherIsBetter, &t), Status::Good);
    /// assert_eq!(Status::of(None, Direction::HigherIsBetter, &t), Status::NoData);
    /// ```
    pub fn of(value: Option<f64>, direction: Direction, thresholds: &Thresholds) -> Status {
        let Some(v) = value.filter(|v| v.is_finite()) else { return Status::NoData };
        let past = |level: Option<f64>| match (direction, level) {
            (Direction::HigherIsBetter, Some(l)) => Some(v <= l),
            (Direction::LowerIsBetter, Some(l)) => Some(v >= l),
            _ => None,
        };
        match (past(thresholds.critical), past(thresholds.warning)) {
            (Some(true), _) => Status::Critical,
            (_, Some(true)) => Status::Warning,
            (None, None) => Status::NotRated,
            _ => Status::Good,
        }
    }
}

/// Which way a value moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendDirection {
    /// Up by more than the stable band.
    Up,
    /// Down by more than the stable band.
    Down,
    /// Within the stable band, or not comparable.
    Stable,
}

/// A value against the previous one.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Trend {
    /// Up, down or stable.
    pub direction: TrendDirection,
    /// `current - previous`, when both exist.
    pub change: Option<f64>,
    /// The change in percent of `|previous|`, when both exist and `previous` is not zero.
    pub change_pct: Option<f64>,
    /// Whether the move is for the better (by the KPI's direction); `None` when stable or
    /// the KPI is neutral.
    pub improving: Option<bool>,
}

/// Changes within this many percent of the previous value count as stable.
pub const STABLE_BAND_PCT: f64 = 1.0;

impl Trend {
    /// The trend from `previous` to `current`, stable within [`STABLE_BAND_PCT`].
    ///
    /// ```
    /// use kpi_catalog::Direction;
    /// use kpi_core::{Trend, TrendDirection};
    /// let t = Trend::between(Some(110.0), Some(100.0), Direction::LowerIsBetter);
    /// assert_eq!(t.direction, TrendDirection::Up);
    /// assert_eq!(t.change_pct, Some(10.0));
    /// assert_eq!(t.improving, Some(false));
    /// ```
    pub fn between(current: Option<f64>, previous: Option<f64>, direction: Direction) -> Trend {
        let finite = |v: Option<f64>| v.filter(|v| v.is_finite());
        let (Some(c), Some(p)) = (finite(current), finite(previous)) else {
            return Trend { direction: TrendDirection::Stable, change: None, change_pct: None, improving: None };
        };
        let change = c - p;
        let change_pct = (p != 0.0).then(|| change / p.abs() * 100.0);
        let moved = match change_pct {
            Some(pct) => pct.abs() >= STABLE_BAND_PCT,
            None => change != 0.0,
        };
        let trend = match (moved, change > 0.0) {
            (false, _) => TrendDirection::Stable,
            (true, true) => TrendDirection::Up,
            (true, false) => TrendDirection::Down,
        };
        let improving = match (trend, direction) {
            (TrendDirection::Stable, _) | (_, Direction::Neutral) => None,
            (t, Direction::HigherIsBetter) => Some(t == TrendDirection::Up),
            (t, Direction::LowerIsBetter) => Some(t == TrendDirection::Down),
        };
        Trend { direction: trend, change: Some(change), change_pct, improving }
    }
}
