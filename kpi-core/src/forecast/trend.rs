//! A series' trend: the least-squares slope per period and whether it is significant.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};

use super::ForecastError;

/// The straight line through a series' values and how sure it is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TrendFit {
    /// The change per period.
    pub slope: f64,
    /// The line's value at the window's first period.
    pub intercept: f64,
    /// The standard error of the slope.
    pub slope_error: f64,
    /// The share of the values' variance the line explains.
    pub r_squared: f64,
    /// The two-sided p-value of a slope of zero (Student's t with n − 2 degrees of freedom).
    pub p_value: f64,
    /// Whether the p-value is below 0.05.
    pub significant: bool,
    /// The periods with values the line was fitted to.
    pub observed: usize,
    /// The slope relative to the mean value, in percent per period (`None` for a mean of zero).
    pub slope_pct: Option<f64>,
}

/// The least-squares line through `values` (one per period; `None` where a period has no
/// value, which keeps its place on the time axis). Needs three values.
pub fn trend_of(values: &[Option<f64>]) -> Result<TrendFit, ForecastError> {
    let points: Vec<(f64, f64)> =
        values.iter().enumerate().filter_map(|(t, v)| v.filter(|v| v.is_finite()).map(|v| (t as f64, v))).collect();
    let n = points.len();
    if n < 3 {
        return Err(ForecastError::TooShort {
            model: "a trend".into(),
            needed: 3,
            observed: n,
            help: "calculate a longer range or a finer grain",
        });
    }
    let nf = n as f64;
    let mean_t = points.iter().map(|p| p.0).sum::<f64>() / nf;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / nf;
    let stt: f64 = points.iter().map(|(t, _)| (t - mean_t).powi(2)).sum();
    let sty: f64 = points.iter().map(|(t, y)| (t - mean_t) * (y - mean_y)).sum();
    let syy: f64 = points.iter().map(|(_, y)| (y - mean_y).powi(2)).sum();
    let slope = sty / stt;
    let intercept = mean_y - slope * mean_t;
    let residual = (syy - slope * sty).max(0.0);
    let df = nf - 2.0;
    let slope_error = (residual / df / stt).sqrt();
    let exact = residual <= 1e-24 * syy.max(f64::MIN_POSITIVE);
    let p_value = match (syy > 0.0, exact) {
        // No variation at all: nothing to be significant about.
        (false, _) => 1.0,
        // Values on a line: the slope is certain.
        (true, true) => 0.0,
        (true, false) => {
            let t = slope / slope_error;
            StudentsT::new(0.0, 1.0, df).map_or(1.0, |d| 2.0 * d.cdf(-t.abs()))
        }
    };
    Ok(TrendFit {
        slope,
        intercept,
        slope_error,
        r_squared: if syy > 0.0 { 1.0 - residual / syy } else { 0.0 },
        p_value,
        significant: p_value < 0.05,
        observed: n,
        slope_pct: (mean_y != 0.0).then(|| 100.0 * slope / mean_y.abs()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_regression() {
        // y = 1, 3, 2, 5, 4: slope 0.8, intercept 1.4, t = 2.31 on 3 df (p = 0.104).
        let y = [1.0, 3.0, 2.0, 5.0, 4.0].map(Some);
        let fit = trend_of(&y).unwrap();
        assert!((fit.slope - 0.8).abs() < 1e-12);
        assert!((fit.intercept - 1.4).abs() < 1e-12);
        assert!((fit.p_value - 0.1041).abs() < 1e-3, "{}", fit.p_value);
        assert!(!fit.significant);
        assert!((fit.r_squared - 0.64).abs() < 1e-12);
    }

    #[test]
    fn lines_constants_and_short_series() {
        let line = trend_of(&[Some(1.0), None, Some(3.0), Some(4.0)]).unwrap();
        assert_eq!((line.slope, line.p_value, line.significant), (1.0, 0.0, true));
        let flat = trend_of(&[Some(2.0); 4]).unwrap();
        assert_eq!((flat.slope, flat.p_value), (0.0, 1.0));
        assert!(trend_of(&[Some(1.0), Some(2.0)]).is_err());
    }
}
