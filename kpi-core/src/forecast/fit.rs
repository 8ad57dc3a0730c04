//! Fitting exponential smoothing models by least squares (the Gaussian likelihood of additive
//! errors) and choosing among them by AICc.
//!
//! The fit runs on the standardised series, so every parameter of the simplex has the same
//! order of magnitude; states are scaled back afterwards. Bounds are those of Hyndman et al.
//! and statsmodels: `α ∈ [1e-4, 1)`, `β ∈ [1e-4, α]`, `γ ∈ [1e-4, 1 - α]`, `φ ∈ [0.8, 0.98]`.

use super::ets::{EtsModel, EtsParameters, Filtered, TrendKind, filter, sse};

const SMALL: f64 = 1e-4;
const PHI_RANGE: (f64, f64) = (0.8, 0.98);
/// Seasons longer than this keep their heuristic initial states (a simplex over 50 seasonal
/// states converges too slowly to be worth it).
const MAX_FITTED_SEASON: usize = 24;

/// A model fitted to a series.
#[derive(Clone, Debug)]
pub(crate) struct Fitted {
    pub(crate) model: EtsModel,
    pub(crate) params: EtsParameters,
    pub(crate) filtered: Filtered,
    /// Observed (non-missing) periods.
    pub(crate) observed: usize,
    /// The corrected Akaike information criterion.
    pub(crate) aicc: f64,
}

impl Fitted {
    /// The one-step error variance: the maximum-likelihood estimate `SSE / n`, as statsmodels.
    pub(crate) fn sigma2(&self) -> f64 {
        self.filtered.sse / self.observed as f64
    }
}

/// The series with gaps filled by straight lines between observed values (and held at the ends),
/// for the heuristic initial states only.
fn interpolated(y: &[Option<f64>]) -> Vec<f64> {
    let known: Vec<(usize, f64)> = y.iter().enumerate().filter_map(|(t, v)| v.map(|v| (t, v))).collect();
    let mut out = Vec::with_capacity(y.len());
    let mut next = 0;
    for t in 0..y.len() {
        while next < known.len() && known[next].0 < t {
            next += 1;
        }
        let value = match (next.checked_sub(1).and_then(|i| known.get(i)), known.get(next)) {
            (_, Some(&(tn, vn))) if tn == t => vn,
            (Some(&(ta, va)), Some(&(tb, vb))) => va + (vb - va) * (t - ta) as f64 / (tb - ta) as f64,
            (Some(&(_, v)), None) | (None, Some(&(_, v))) => v,
            (None, None) => 0.0,
        };
        out.push(value);
    }
    out
}

/// Initial states from the first seasons (or the first periods without seasonality).
fn heuristic_states(model: &EtsModel, z: &[f64]) -> (f64, f64, Vec<f64>) {
    let has_trend = model.trend != TrendKind::None;
    match model.season {
        Some(m) => {
            let seasons = (z.len() / m).clamp(1, 4);
            let means: Vec<f64> = (0..seasons).map(|k| z[k * m..(k + 1) * m].iter().sum::<f64>() / m as f64).collect();
            let trend = if has_trend && seasons > 1 { (means[1] - means[0]) / m as f64 } else { 0.0 };
            let level = means[0] - trend * (m as f64 + 1.0) / 2.0;
            let mut seasonal: Vec<f64> =
                (0..m).map(|j| (0..seasons).map(|k| z[k * m + j] - means[k]).sum::<f64>() / seasons as f64).collect();
            let mean = seasonal.iter().sum::<f64>() / m as f64;
            seasonal.iter_mut().for_each(|s| *s -= mean);
            (level, trend, seasonal)
        }
        None => {
            let span = z.len().min(4);
            let trend = if has_trend && span > 1 { (z[span - 1] - z[0]) / (span - 1) as f64 } else { 0.0 };
            (z[0] - trend, trend, Vec::new())
        }
    }
}

/// Which entries of the parameter vector a model has, in order: α, β, γ, φ, l₀, b₀, s₀..s_{m-2}.
struct Layout {
    model: EtsModel,
    /// Whether the seasonal states are fitted (otherwise they stay as given).
    fit_seasons: bool,
}

impl Layout {
    fn decode(&self, x: &[f64], seasons: &[f64]) -> Option<EtsParameters> {
        let mut it = x.iter().copied();
        let has_trend = self.model.trend != TrendKind::None;
        let alpha = it.next()?;
        let beta = if has_trend { it.next()? } else { 0.0 };
        let gamma = if self.model.season.is_some() { it.next()? } else { 0.0 };
        let phi = if self.model.trend == TrendKind::Damped { it.next()? } else { 1.0 };
        let inside = (SMALL..1.0 - SMALL).contains(&alpha)
            && (!has_trend || (SMALL..=alpha).contains(&beta))
            && (self.model.season.is_none() || (SMALL..=1.0 - alpha).contains(&gamma))
            && (self.model.trend != TrendKind::Damped || (PHI_RANGE.0..=PHI_RANGE.1).contains(&phi));
        if !inside {
            return None;
        }
        let initial_level = it.next()?;
        let initial_trend = if has_trend { it.next()? } else { 0.0 };
        let initial_seasonal = match self.model.season {
            Some(_) if self.fit_seasons => {
                let mut s: Vec<f64> = it.collect();
                s.push(-s.iter().sum::<f64>());
                s
            }
            Some(_) => seasons.to_vec(),
            None => Vec::new(),
        };
        Some(EtsParameters { alpha, beta, gamma, phi, initial_level, initial_trend, initial_seasonal })
    }

    /// The first simplex's step along each entry: a tenth of the smoothing range, a quarter of a
    /// standard deviation for states (the series is standardised).
    fn steps(&self, x: &[f64]) -> Vec<f64> {
        let has_trend = self.model.trend != TrendKind::None;
        let smoothing =
            1 + usize::from(has_trend) + usize::from(self.model.season.is_some()) + usize::from(self.model.trend == TrendKind::Damped);
        x.iter().enumerate().map(|(i, v)| if i < smoothing { (0.3 * v).clamp(0.01, 0.05) } else { 0.25 }).collect()
    }

    fn encode(&self, p: &EtsParameters) -> Vec<f64> {
        let has_trend = self.model.trend != TrendKind::None;
        let mut x = vec![p.alpha];
        if has_trend {
            x.push(p.beta);
        }
        if self.model.season.is_some() {
            x.push(p.gamma);
        }
        if self.model.trend == TrendKind::Damped {
            x.push(p.phi);
        }
        x.push(p.initial_level);
        if has_trend {
            x.push(p.initial_trend);
        }
        if self.model.season.is_some() && self.fit_seasons {
            x.extend(p.initial_seasonal.iter().take(p.initial_seasonal.len().saturating_sub(1)));
        }
        x
    }
}

/// Fits `model` to `y` (at least one value observed and not all equal).
pub(crate) fn fit(model: EtsModel, y: &[Option<f64>]) -> Fitted {
    let observed: Vec<f64> = y.iter().flatten().copied().collect();
    let n = observed.len() as f64;
    let mean = observed.iter().sum::<f64>() / n;
    let sd = (observed.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let scale = if sd > 0.0 { sd } else { 1.0 };
    let z: Vec<Option<f64>> = y.iter().map(|v| v.map(|v| (v - mean) / scale)).collect();
    let (level, trend, seasonal) = heuristic_states(&model, &interpolated(&z));
    // Several starts for the smoothing parameters (the squared errors of a trend model often
    // have more than one valley); the best goes on to the joint fit.
    let starts: [(f64, f64, f64, f64); 4] = [(0.1, 0.01, 0.05, 0.98), (0.3, 0.03, 0.1, 0.95), (0.6, 0.2, 0.2, 0.9), (0.9, 0.5, 0.05, 0.85)];
    let start_at = |(alpha, beta, gamma, phi): (f64, f64, f64, f64)| EtsParameters {
        alpha,
        beta,
        gamma: gamma.min(1.0 - alpha - SMALL),
        phi,
        initial_level: level,
        initial_trend: trend,
        initial_seasonal: seasonal.clone(),
    };
    let layout = Layout { model, fit_seasons: false };
    let best = starts
        .iter()
        .map(|&s| optimise(&layout, &start_at(s), &z))
        .map(|p| (sse(&model, &p, &z), p))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map_or_else(|| start_at(starts[1]), |(_, p)| p);
    // Then, for short seasons, the seasonal states join the smoothing parameters, from the best
    // start (from the two best, the squared errors came out the same in statsmodels' tests and
    // the search took 1.6x as long).
    let best = match model.season {
        Some(m) if m <= MAX_FITTED_SEASON => optimise(&Layout { model, fit_seasons: true }, &best, &z),
        _ => best,
    };
    let params = EtsParameters {
        initial_level: mean + scale * best.initial_level,
        initial_trend: scale * best.initial_trend,
        initial_seasonal: best.initial_seasonal.iter().map(|s| scale * s).collect(),
        ..best
    };
    let filtered = filter(&model, &params, y);
    let k = model.parameter_count() as f64 + 1.0; // and σ
    let sse = filtered.sse.max(f64::MIN_POSITIVE);
    // −2 log L of Gaussian errors at σ² = SSE/n, as statsmodels and R's forecast report it.
    let aic = n * ((2.0 * std::f64::consts::PI * sse / n).ln() + 1.0) + 2.0 * k;
    let aicc = if n - k - 1.0 > 0.0 { aic + 2.0 * k * (k + 1.0) / (n - k - 1.0) } else { f64::INFINITY };
    Fitted { model, params, filtered, observed: observed.len(), aicc }
}

/// The parameters minimising the squared errors, by Nelder–Mead restarted until it stops
/// improving.
fn optimise(layout: &Layout, start: &EtsParameters, z: &[Option<f64>]) -> EtsParameters {
    let seasons = start.initial_seasonal.clone();
    let objective = |x: &[f64]| layout.decode(x, &seasons).map_or(f64::INFINITY, |p| sse(&layout.model, &p, z));
    let mut x = layout.encode(start);
    let mut value = objective(&x);
    for _ in 0..4 {
        let (next, next_value) = nelder_mead(&objective, &x, &layout.steps(&x), 300 * x.len());
        let improved = next_value < value - 1e-7 * value.abs().max(1e-12);
        if next_value <= value {
            x = next;
            value = next_value;
        }
        if !improved {
            break;
        }
    }
    layout.decode(&x, &seasons).unwrap_or_else(|| start.clone())
}

/// Minimises `f` from `x0` by the Nelder–Mead simplex method; infinite values mark points
/// outside the bounds.
fn nelder_mead(f: &dyn Fn(&[f64]) -> f64, x0: &[f64], steps: &[f64], max_evaluations: usize) -> (Vec<f64>, f64) {
    let dim = x0.len();
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(dim + 1);
    simplex.push((x0.to_vec(), f(x0)));
    for i in 0..dim {
        let mut x = x0.to_vec();
        x[i] += steps[i];
        let mut v = f(&x);
        if !v.is_finite() {
            // Past a bound: step the other way.
            x[i] = x0[i] - steps[i];
            v = f(&x);
        }
        simplex.push((x, v));
    }
    let mut evaluations = dim + 1;
    let centroid = |simplex: &[(Vec<f64>, f64)]| -> Vec<f64> {
        let mut c = vec![0.0; dim];
        for (x, _) in &simplex[..dim] {
            c.iter_mut().zip(x).for_each(|(c, x)| *c += x / dim as f64);
        }
        c
    };
    let along = |c: &[f64], x: &[f64], t: f64| -> Vec<f64> { c.iter().zip(x).map(|(c, x)| c + t * (x - c)).collect() };
    while evaluations < max_evaluations {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (best, worst) = (simplex[0].1, simplex[dim].1);
        if worst.is_finite() && worst - best <= 1e-10 * (best.abs() + 1e-12) {
            break;
        }
        let c = centroid(&simplex);
        let reflected = along(&c, &simplex[dim].0, -1.0);
        let fr = f(&reflected);
        evaluations += 1;
        if fr < best {
            let expanded = along(&c, &simplex[dim].0, -2.0);
            let fe = f(&expanded);
            evaluations += 1;
            simplex[dim] = if fe < fr { (expanded, fe) } else { (reflected, fr) };
        } else if fr < simplex[dim - 1].1 {
            simplex[dim] = (reflected, fr);
        } else {
            let (towards, t) = if fr < worst { (&reflected, 0.5) } else { (&simplex[dim].0, 0.5) };
            let contracted = along(&c, towards, t);
            let fc = f(&contracted);
            evaluations += 1;
            if fc < worst.min(fr) {
                simplex[dim] = (contracted, fc);
            } else {
                let first = simplex[0].0.clone();
                for point in simplex.iter_mut().skip(1) {
                    point.0 = along(&first, &point.0, 0.5);
                    point.1 = f(&point.0);
                }
                evaluations += dim;
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    simplex.swap_remove(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_bridged_by_straight_lines() {
        assert_eq!(interpolated(&[None, Some(1.0), None, None, Some(4.0), None]), vec![1.0, 1.0, 2.0, 3.0, 4.0, 4.0]);
    }

    #[test]
    fn nelder_mead_finds_a_bowls_bottom() {
        let f = |x: &[f64]| (x[0] - 3.0).powi(2) + 10.0 * (x[1] + 1.0).powi(2);
        let (x, v) = nelder_mead(&f, &[0.0, 0.0], &[0.5, 0.5], 2000);
        assert!(v < 1e-8, "{v}");
        assert!((x[0] - 3.0).abs() < 1e-3 && (x[1] + 1.0).abs() < 1e-3, "{x:?}");
    }

    #[test]
    fn a_trend_model_fits_a_noisy_line_closely() {
        let y: Vec<Option<f64>> = (0..30).map(|t| Some(100.0 + 5.0 * t as f64 + if t % 2 == 0 { 1.0 } else { -1.0 })).collect();
        let fitted = fit(EtsModel { trend: TrendKind::Additive, season: None }, &y);
        assert!(fitted.sigma2() < 2.0, "{}", fitted.sigma2());
        assert!((fitted.filtered.fitted[29] - 245.0).abs() < 3.0);
    }
}
