//! Forecasts and trends of KPI series: exponential smoothing with trend and seasonality chosen by
//! AICc, a seasonal naive baseline, prediction intervals, and least-squares trends with their
//! significance.
//!
//! ```
//! use kpi_core::forecast::{ForecastOptions, forecast_series};
//!
//! // Three years of a monthly series with a trend and a yearly season.
//! let values: Vec<Option<f64>> = (0..36)
//!     .map(|t| Some(100.0 + 2.0 * t as f64 + 10.0 * (t as f64 * std::f64::consts::PI / 6.0).sin()))
//!     .collect();
//! let options = ForecastOptions { horizon: 6, season_length: Some(12), ..ForecastOptions::default() };
//! let forecast = forecast_series(&values, &options).unwrap();
//! assert_eq!(forecast.points.len(), 6);
//! assert!(forecast.points.iter().all(|p| p.lower <= p.value && p.value <= p.upper));
//! assert!((forecast.points[0].value - 172.0).abs() < 3.0, "{}", forecast.points[0].value);
//! ```

mod engine;
mod ets;
mod fit;
mod trend;

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

pub use engine::{Forecast, ForecastSettings, GroupForecast, GroupTrend, SkippedGroup, TrendReport};
pub use ets::{EtsModel, EtsParameters, TrendKind};
pub use trend::{TrendFit, trend_of};

/// The longest forecast the engine makes, in periods.
pub const MAX_HORIZON: usize = 1_000;
/// The longest season the engine models, in periods.
pub const MAX_SEASON: usize = 366;
/// The fewest observed values an exponential smoothing model is fitted to.
pub const MIN_OBSERVED: usize = 5;

/// Which model forecasts a series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "method")]
pub enum ForecastMethod {
    /// The exponential smoothing model (no, linear or damped trend; with or without the season)
    /// with the lowest AICc among those the series is long enough for.
    #[default]
    Auto,
    /// One exponential smoothing model.
    Ets {
        /// Its trend.
        trend: TrendKind,
        /// Whether it has additive seasonality of the season length.
        seasonal: bool,
    },
    /// Each period repeats the same period a season before (the last value without a season):
    /// the baseline a model has to beat.
    SeasonalNaive,
}

/// How to forecast a series.
#[derive(Clone, Debug, PartialEq)]
pub struct ForecastOptions {
    /// How many periods ahead, 1 to [`MAX_HORIZON`].
    pub horizon: usize,
    /// Periods per season; `None` or 1 for none. The engine's forecasts default it from the
    /// grain (see [`season_of_grain`]).
    pub season_length: Option<usize>,
    /// The prediction intervals' coverage, between 0 and 1 (0.95 by default).
    pub level: f64,
    /// The model.
    pub method: ForecastMethod,
}

impl Default for ForecastOptions {
    fn default() -> Self {
        ForecastOptions { horizon: 6, season_length: None, level: 0.95, method: ForecastMethod::Auto }
    }
}

impl ForecastError {
    /// As the engine's error: a bad option is [`EngineError::InvalidOption`](crate::EngineError),
    /// a series that cannot be forecast [`EngineError::Forecast`](crate::EngineError) of `what`.
    pub fn into_engine(self, what: &str) -> crate::EngineError {
        match self {
            ForecastError::Option { option, message } => crate::EngineError::InvalidOption { option, message },
            error => crate::EngineError::Forecast { what: what.to_string(), error },
        }
    }
}

impl ForecastOptions {
    /// Checks the options, naming the one that is wrong.
    pub fn check(&self) -> Result<(), ForecastError> {
        if !(1..=MAX_HORIZON).contains(&self.horizon) {
            return Err(ForecastError::Option {
                option: "horizon",
                message: format!("must be 1 to {MAX_HORIZON} periods, got {}", self.horizon),
            });
        }
        if self.season_length.is_some_and(|m| m == 0 || m > MAX_SEASON) {
            return Err(ForecastError::Option { option: "season_length", message: format!("must be 1 to {MAX_SEASON} periods") });
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(ForecastError::Option {
                option: "level",
                message: format!("must be between 0 and 1 (0.95 for 95% intervals), got {}", self.level),
            });
        }
        Ok(())
    }

    fn season(&self) -> Option<usize> {
        self.season_length.filter(|m| *m > 1)
    }
}

/// The season length a grain suggests: a week of days, a year of weeks, months or quarters, a
/// day of hours; none for minutes and years.
pub fn season_of_grain(grain: kpi_formula::Grain) -> Option<usize> {
    use kpi_formula::Grain;
    match grain {
        Grain::Minute | Grain::Year => None,
        Grain::Hour => Some(24),
        Grain::Day => Some(7),
        Grain::Week => Some(52),
        Grain::Month => Some(12),
        Grain::Quarter => Some(4),
    }
}

/// Why a series could not be forecast.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ForecastError {
    /// The series has no values at all.
    #[error("the series has no values to forecast from")]
    NoValues,
    /// The series is too short for the model asked for (or for any model).
    #[error("{model} needs at least {needed} periods with values, the series has {observed}; {help}")]
    TooShort {
        /// The model.
        model: String,
        /// Values it needs.
        needed: usize,
        /// Values the series has.
        observed: usize,
        /// What to do instead.
        help: &'static str,
    },
    /// An option has a value that cannot be used.
    #[error("invalid forecast option {option}: {message}")]
    Option {
        /// The option.
        option: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

/// One forecast period.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ForecastPoint {
    /// The point forecast (the mean).
    pub value: f64,
    /// The lower end of the prediction interval.
    pub lower: f64,
    /// The upper end of the prediction interval.
    pub upper: f64,
}

/// A series' forecast and the model that made it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeriesForecast {
    /// The model's name: `ETS(A,Ad,A)`, `seasonal naive`, `naive` or `constant`.
    pub model: String,
    /// The fitted parameters of an exponential smoothing model.
    pub parameters: Option<EtsParameters>,
    /// The model's AICc (exponential smoothing only).
    pub aicc: Option<f64>,
    /// The standard deviation of one-step errors.
    pub sigma: f64,
    /// The periods with a value.
    pub observed: usize,
    /// The periods inside the series without a value (their errors are left out of the fit).
    pub missing: usize,
    /// The model's one-step prediction of every period of the series (`None` where the model
    /// has none, as the first season of a seasonal naive forecast).
    pub fitted: Vec<Option<f64>>,
    /// The forecast periods.
    pub points: Vec<ForecastPoint>,
}

/// Forecasts `values` (one per period, in order; `None` or non-finite where there is no value)
/// for `options.horizon` periods. Leading periods without values are left out.
pub fn forecast_series(values: &[Option<f64>], options: &ForecastOptions) -> Result<SeriesForecast, ForecastError> {
    options.check()?;
    let first = values.iter().position(|v| v.is_some_and(f64::is_finite)).ok_or(ForecastError::NoValues)?;
    let y: Vec<Option<f64>> = values[first..].iter().map(|v| v.filter(|v| v.is_finite())).collect();
    let observed = y.iter().flatten().count();
    let missing = y.len() - observed;
    let z = Normal::standard().inverse_cdf(0.5 + options.level / 2.0);
    let mut out = match options.method {
        _ if is_constant(&y) && options.method != ForecastMethod::SeasonalNaive => constant(&y, options.horizon),
        ForecastMethod::SeasonalNaive => seasonal_naive(&y, options.season().unwrap_or(1), options.horizon, z)?,
        ForecastMethod::Auto => smoothing(&y, &candidates(options.season(), observed), options, z)?,
        ForecastMethod::Ets { trend, seasonal } => {
            let season = if seasonal {
                Some(options.season().ok_or_else(|| ForecastError::Option {
                    option: "seasonal",
                    message: "a seasonal model needs a season_length above 1 (or a grain that has one)".into(),
                })?)
            } else {
                None
            };
            smoothing(&y, &[EtsModel { trend, season }], options, z)?
        }
    };
    out.observed = observed;
    out.missing = missing;
    let mut fitted = vec![None; first];
    fitted.append(&mut out.fitted);
    out.fitted = fitted;
    Ok(out)
}

fn is_constant(y: &[Option<f64>]) -> bool {
    let mut values = y.iter().flatten();
    let first = values.next().copied().unwrap_or_default();
    values.all(|v| (v - first).abs() <= 1e-12 * first.abs().max(1.0))
}

/// A series that never changes forecasts itself, with no uncertainty it could estimate.
fn constant(y: &[Option<f64>], horizon: usize) -> SeriesForecast {
    let value = y.iter().flatten().next().copied().unwrap_or_default();
    SeriesForecast {
        model: "constant".into(),
        parameters: None,
        aicc: None,
        sigma: 0.0,
        observed: 0,
        missing: 0,
        fitted: vec![Some(value); y.len()],
        points: vec![ForecastPoint { value, lower: value, upper: value }; horizon],
    }
}

/// The models AICc chooses among: every trend, with the season when there are two full seasons
/// of values.
fn candidates(season: Option<usize>, observed: usize) -> Vec<EtsModel> {
    let mut seasons = vec![None];
    seasons.extend(season.filter(|m| observed >= 2 * m).map(Some));
    seasons
        .into_iter()
        .flat_map(|season| [TrendKind::None, TrendKind::Additive, TrendKind::Damped].map(|trend| EtsModel { trend, season }))
        .collect()
}

fn smoothing(y: &[Option<f64>], models: &[EtsModel], options: &ForecastOptions, z: f64) -> Result<SeriesForecast, ForecastError> {
    let observed = y.iter().flatten().count();
    // AICc is defined when the values outnumber the parameters (and σ) by two.
    let fits = |m: &EtsModel| observed >= MIN_OBSERVED.max(m.parameter_count() + 3) && m.season.is_none_or(|s| y.len() >= 2 * s);
    let usable: Vec<&EtsModel> = models.iter().filter(|m| fits(m)).collect();
    if usable.is_empty() {
        let model = models.iter().min_by_key(|m| m.parameter_count()).copied().unwrap_or(EtsModel { trend: TrendKind::None, season: None });
        let needed = MIN_OBSERVED.max(model.parameter_count() + 3).max(model.season.map_or(0, |s| 2 * s));
        return Err(ForecastError::TooShort {
            model: if models.len() > 1 { "exponential smoothing".into() } else { model.name() },
            needed,
            observed,
            help: "calculate a longer range or a finer grain, or use the seasonal_naive method",
        });
    }
    let best = usable.into_iter().map(|m| fit::fit(*m, y)).min_by(|a, b| a.aicc.total_cmp(&b.aicc)).ok_or(ForecastError::NoValues)?;
    let sigma2 = best.sigma2();
    let points = ets::project(&best.model, &best.params, &best.filtered, y.len(), options.horizon)
        .into_iter()
        .map(|(value, multiplier)| {
            let half = z * (sigma2 * multiplier).sqrt();
            ForecastPoint { value, lower: value - half, upper: value + half }
        })
        .collect();
    Ok(SeriesForecast {
        model: best.model.name(),
        aicc: Some(best.aicc),
        sigma: sigma2.sqrt(),
        observed,
        missing: 0,
        fitted: best.filtered.fitted.iter().map(|v| Some(*v)).collect(),
        parameters: Some(best.params),
        points,
    })
}

/// Repeats the last observed value of each season slot; intervals widen with the seasons ahead.
fn seasonal_naive(y: &[Option<f64>], m: usize, horizon: usize, z: f64) -> Result<SeriesForecast, ForecastError> {
    let observed = y.iter().flatten().count();
    if y.len() <= m || observed < 2 {
        return Err(ForecastError::TooShort {
            model: if m > 1 { "a seasonal naive forecast".into() } else { "a naive forecast".into() },
            needed: m + 1,
            observed,
            help: "calculate a longer range, or forecast with a shorter season_length",
        });
    }
    let fitted: Vec<Option<f64>> = (0..y.len()).map(|t| t.checked_sub(m).and_then(|s| y[s])).collect();
    let errors: Vec<f64> = y.iter().zip(&fitted).filter_map(|(v, f)| Some(v.as_ref()? - f.as_ref()?)).collect();
    let sigma = if errors.is_empty() { 0.0 } else { (errors.iter().map(|e| e * e).sum::<f64>() / errors.len() as f64).sqrt() };
    // The latest value of every slot, looking back past missing periods.
    let slot_value = |t: usize| -> Option<f64> {
        let mut s = t;
        while s >= y.len() || y[s].is_none() {
            s = s.checked_sub(m)?;
        }
        y[s]
    };
    let mut points = Vec::with_capacity(horizon);
    for h in 1..=horizon {
        let value = slot_value(y.len() + h - 1).unwrap_or_default();
        let seasons_ahead = ((h - 1) / m + 1) as f64;
        let half = z * sigma * seasons_ahead.sqrt();
        points.push(ForecastPoint { value, lower: value - half, upper: value + half });
    }
    Ok(SeriesForecast {
        model: if m > 1 { "seasonal naive".into() } else { "naive".into() },
        parameters: None,
        aicc: None,
        sigma,
        observed,
        missing: 0,
        fitted,
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn monthly(n: usize) -> Vec<Option<f64>> {
        (0..n).map(|t| Some(50.0 + t as f64 + 8.0 * ((t % 12) as f64 - 5.5).abs())).collect()
    }

    #[test]
    fn three_points_are_too_short_with_a_clear_message() {
        let e = forecast_series(&[Some(1.0), Some(2.0), Some(4.0)], &ForecastOptions::default()).unwrap_err();
        assert!(e.to_string().contains("at least 5 periods with values, the series has 3"), "{e}");
    }

    #[test]
    fn no_values_and_bad_options_are_refused() {
        assert_eq!(forecast_series(&[None, None], &ForecastOptions::default()), Err(ForecastError::NoValues));
        let far = ForecastOptions { horizon: 100_000_000, ..ForecastOptions::default() };
        assert!(matches!(forecast_series(&monthly(30), &far), Err(ForecastError::Option { option: "horizon", .. })));
        let nan = ForecastOptions { level: f64::NAN, ..ForecastOptions::default() };
        assert!(matches!(forecast_series(&monthly(30), &nan), Err(ForecastError::Option { option: "level", .. })));
    }

    #[test]
    fn a_constant_forecasts_itself() {
        let f = forecast_series(&[Some(3.0); 8], &ForecastOptions::default()).unwrap();
        assert_eq!(f.model, "constant");
        assert!(f.points.iter().all(|p| p.value == 3.0 && p.lower == 3.0 && p.upper == 3.0));
    }

    #[test]
    fn seasonality_is_chosen_when_the_series_has_it() {
        let options = ForecastOptions { horizon: 12, season_length: Some(12), ..ForecastOptions::default() };
        let f = forecast_series(&monthly(48), &options).unwrap();
        assert!(f.model.ends_with(",A)"), "{}", f.model);
        let expected = monthly(60);
        for (h, p) in f.points.iter().enumerate() {
            let want = expected[48 + h].unwrap_or_default();
            assert!((p.value - want).abs() < 1.0, "h={h}: {} against {want}", p.value);
        }
    }

    #[test]
    fn gaps_leave_the_fit_and_are_counted() {
        let mut y = monthly(40);
        y[20] = None;
        y[21] = Some(f64::NAN);
        let options = ForecastOptions { horizon: 3, season_length: Some(12), ..ForecastOptions::default() };
        let f = forecast_series(&y, &options).unwrap();
        assert_eq!((f.observed, f.missing), (38, 2));
        assert_eq!(f.fitted.len(), 40);
    }

    #[test]
    fn seasonal_naive_repeats_last_season() {
        let y: Vec<Option<f64>> = [1.0, 2.0, 3.0, 1.5, 2.5, 3.5].into_iter().map(Some).collect();
        let options = ForecastOptions { horizon: 4, season_length: Some(3), method: ForecastMethod::SeasonalNaive, ..Default::default() };
        let f = forecast_series(&y, &options).unwrap();
        let values: Vec<f64> = f.points.iter().map(|p| p.value).collect();
        assert_eq!(values, vec![1.5, 2.5, 3.5, 1.5]);
        assert!((f.sigma - 0.5).abs() < 1e-12);
        // The fourth period is a second season ahead: √2 times as wide.
        let width = |p: &ForecastPoint| p.upper - p.lower;
        assert!((width(&f.points[3]) / width(&f.points[0]) - 2f64.sqrt()).abs() < 1e-9);
    }

    #[test]
    fn intervals_widen_with_the_horizon() {
        let y: Vec<Option<f64>> = (0..30).map(|t| Some(((t * 7919) % 13) as f64 + t as f64)).collect();
        let f = forecast_series(&y, &ForecastOptions { horizon: 6, ..Default::default() }).unwrap();
        let widths: Vec<f64> = f.points.iter().map(|p| p.upper - p.lower).collect();
        assert!(widths.windows(2).all(|w| w[1] >= w[0] - 1e-12), "{widths:?}");
    }
}
