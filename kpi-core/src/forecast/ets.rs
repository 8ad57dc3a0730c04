//! Exponential smoothing with additive errors (ETS(A,·,·) in Hyndman et al.'s taxonomy): the
//! state recursion, its point forecasts and their variances.
//!
//! The innovations form is used throughout: with `e = y - (l + φb + s)`,
//! `l' = l + φb + αe`, `b' = φb + βe`, `s' = s + γe`. Holt–Winters' error-correction form (and
//! statsmodels' `ExponentialSmoothing`) writes the trend smoothing as `β* = β / α`; the seasonal
//! and level equations are the same.

use serde::Serialize;

/// How the level moves from one period to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TrendKind {
    /// No trend: a level only.
    None,
    /// A linear trend.
    Additive,
    /// A trend that flattens by the damping factor `φ` each period.
    Damped,
}

/// The shape of one exponential smoothing model: its trend and its season length (none for a
/// model without seasonality).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct EtsModel {
    /// The trend component.
    pub trend: TrendKind,
    /// The number of periods in a season with additive seasonality, `None` without.
    pub season: Option<usize>,
}

impl EtsModel {
    /// The name in ETS notation: `ETS(A,Ad,A)` (error, trend, season).
    pub fn name(&self) -> String {
        let trend = match self.trend {
            TrendKind::None => "N",
            TrendKind::Additive => "A",
            TrendKind::Damped => "Ad",
        };
        format!("ETS(A,{trend},{})", if self.season.is_some() { "A" } else { "N" })
    }

    /// The number of periods in a season (1 without seasonality).
    pub(crate) fn period(&self) -> usize {
        self.season.unwrap_or(1)
    }

    /// How many numbers a fit estimates: smoothing parameters, damping, and initial states (the
    /// seasonal states sum to zero, so one of them is not free).
    pub(crate) fn parameter_count(&self) -> usize {
        let smoothing = 1 + usize::from(self.trend != TrendKind::None) + usize::from(self.season.is_some());
        let damping = usize::from(self.trend == TrendKind::Damped);
        let states = 1 + usize::from(self.trend != TrendKind::None) + self.season.map_or(0, |m| m - 1);
        smoothing + damping + states
    }
}

/// The parameters and initial states of a fitted model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EtsParameters {
    /// Level smoothing.
    pub alpha: f64,
    /// Trend smoothing (innovations form; 0 without a trend).
    pub beta: f64,
    /// Seasonal smoothing (0 without seasonality).
    pub gamma: f64,
    /// Trend damping (1 for an undamped trend, 0 without a trend).
    pub phi: f64,
    /// The level before the first period.
    pub initial_level: f64,
    /// The trend before the first period (0 without a trend).
    pub initial_trend: f64,
    /// The seasonal states for the first season's periods, in order (empty without seasonality).
    pub initial_seasonal: Vec<f64>,
}

/// What running the recursion over a series leaves.
#[derive(Clone, Debug)]
pub(crate) struct Filtered {
    /// The one-step-ahead prediction of every period.
    pub(crate) fitted: Vec<f64>,
    /// The sum of squared errors over the observed periods.
    pub(crate) sse: f64,
    level: f64,
    trend: f64,
    /// The latest seasonal state of each slot, indexed by period number modulo the season.
    seasons: Vec<f64>,
}

/// Runs the model over `y`; a missing value contributes no error, so the states follow their
/// own prediction through it.
pub(crate) fn filter(model: &EtsModel, p: &EtsParameters, y: &[Option<f64>]) -> Filtered {
    let mut fitted = Vec::with_capacity(y.len());
    let (sse, level, trend, seasons) = run(model, p, y, |f| fitted.push(f));
    Filtered { fitted, sse, level, trend, seasons }
}

/// The sum of squared errors of the model over `y`, what a fit minimises (without keeping the
/// fitted values).
pub(crate) fn sse(model: &EtsModel, p: &EtsParameters, y: &[Option<f64>]) -> f64 {
    run(model, p, y, |_| {}).0
}

/// The recursion, giving each period's prediction to `fitted`; the squared errors and the
/// final states.
fn run(model: &EtsModel, p: &EtsParameters, y: &[Option<f64>], mut fitted: impl FnMut(f64)) -> (f64, f64, f64, Vec<f64>) {
    let m = model.period();
    let mut level = p.initial_level;
    let mut trend = p.initial_trend;
    let mut seasons = if model.season.is_some() { p.initial_seasonal.clone() } else { vec![0.0] };
    let mut sse = 0.0;
    for (t, value) in y.iter().enumerate() {
        let slot = t % m;
        let predicted = level + p.phi * trend + seasons[slot];
        fitted(predicted);
        let e = value.map_or(0.0, |v| v - predicted);
        sse += e * e;
        level += p.phi * trend + p.alpha * e;
        trend = p.phi * trend + p.beta * e;
        seasons[slot] += p.gamma * e;
    }
    (sse, level, trend, seasons)
}

/// Point forecasts for the `horizon` periods after the series `filter` ran over (of length
/// `n`), with the variance multiplier of each (the h-step variance over the one-step variance).
pub(crate) fn project(model: &EtsModel, p: &EtsParameters, state: &Filtered, n: usize, horizon: usize) -> Vec<(f64, f64)> {
    let m = model.period();
    let mut out = Vec::with_capacity(horizon);
    let mut damped_sum = 0.0; // φ + φ² + ... + φ^h
    let mut power = 1.0;
    let mut variance = 1.0; // 1 + Σ_{j<h} c_j²
    for h in 1..=horizon {
        power *= p.phi;
        damped_sum += power;
        let season = if model.season.is_some() { state.seasons[(n + h - 1) % m] } else { 0.0 };
        out.push((state.level + damped_sum * state.trend + season, variance));
        // c_h: how much the error h periods back moves a forecast, for the next horizon.
        let seasonal = if model.season.is_some() && h % m == 0 { p.gamma } else { 0.0 };
        let c = p.alpha + p.beta * damped_sum + seasonal;
        variance += c * c;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(alpha: f64, beta: f64, gamma: f64, phi: f64, seasonal: Vec<f64>) -> EtsParameters {
        EtsParameters { alpha, beta, gamma, phi, initial_level: 10.0, initial_trend: 1.0, initial_seasonal: seasonal }
    }

    #[test]
    fn a_level_with_no_smoothing_forecasts_its_initial_line() {
        let model = EtsModel { trend: TrendKind::Additive, season: None };
        let p = params(0.0, 0.0, 0.0, 1.0, vec![]);
        let y: Vec<Option<f64>> = (0..5).map(|t| Some(11.0 + t as f64)).collect();
        let f = filter(&model, &p, &y);
        assert_eq!(f.fitted, vec![11.0, 12.0, 13.0, 14.0, 15.0]);
        assert_eq!(f.sse, 0.0);
        let ahead = project(&model, &p, &f, 5, 2);
        assert_eq!(ahead, vec![(16.0, 1.0), (17.0, 1.0)]);
    }

    #[test]
    fn variances_grow_by_the_errors_reach() {
        // ETS(A,N,N): var_h = σ²(1 + (h-1)α²).
        let model = EtsModel { trend: TrendKind::None, season: None };
        let p =
            EtsParameters { alpha: 0.5, beta: 0.0, gamma: 0.0, phi: 1.0, initial_level: 0.0, initial_trend: 0.0, initial_seasonal: vec![] };
        let f = filter(&model, &p, &[Some(1.0), None, Some(2.0)]);
        let v: Vec<f64> = project(&model, &p, &f, 3, 3).into_iter().map(|(_, v)| v).collect();
        assert_eq!(v, vec![1.0, 1.25, 1.5]);
    }

    #[test]
    fn seasonal_states_follow_their_slot() {
        let model = EtsModel { trend: TrendKind::None, season: Some(2) };
        let p = EtsParameters {
            alpha: 0.0,
            beta: 0.0,
            gamma: 0.0,
            phi: 1.0,
            initial_level: 5.0,
            initial_trend: 0.0,
            initial_seasonal: vec![1.0, -1.0],
        };
        let f = filter(&model, &p, &[Some(6.0), Some(4.0), Some(6.0)]);
        let points: Vec<f64> = project(&model, &p, &f, 3, 2).into_iter().map(|(v, _)| v).collect();
        assert_eq!(points, vec![4.0, 6.0]);
        assert_eq!(model.parameter_count(), 4);
        assert_eq!(model.name(), "ETS(A,N,A)");
    }
}
