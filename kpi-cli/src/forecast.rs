//! `kpi forecast`, `kpi trend` and `kpi compare`: the forecast options as the engine's settings
//! document, and trends and comparisons printed for people or as JSON.

use clap::Args;
use kpi_core::forecast::{ForecastSettings, TrendReport};

use crate::error::CliError;

/// How to forecast.
#[derive(Args, Debug, Clone)]
pub struct ForecastArgs {
    /// Periods ahead, 1 to 1000.
    #[arg(long, default_value_t = 6, value_name = "PERIODS")]
    pub horizon: usize,
    /// Periods per season (by default from the grain: 7 days, 52 weeks, 12 months, 4 quarters, 24 hours; 1 for none).
    #[arg(long, value_name = "PERIODS")]
    pub season_length: Option<usize>,
    /// The prediction intervals' coverage.
    #[arg(long, default_value_t = 0.95, value_name = "SHARE")]
    pub level: f64,
    /// auto (the exponential smoothing model with the lowest AICc), ets (one model) or seasonal_naive.
    #[arg(long, default_value = "auto", value_name = "METHOD")]
    pub method: String,
    /// For --method ets: none, additive or damped.
    #[arg(long, value_name = "TREND")]
    pub trend: Option<String>,
    /// For --method ets: whether the model is seasonal (true or false).
    #[arg(long, value_name = "BOOL")]
    pub seasonal: Option<bool>,
}

impl ForecastArgs {
    /// The forecast settings document.
    pub fn settings(&self) -> ForecastSettings {
        ForecastSettings {
            horizon: Some(self.horizon),
            season_length: self.season_length,
            level: Some(self.level),
            method: Some(self.method.clone()),
            trend: self.trend.clone(),
            seasonal: self.seasonal,
        }
    }
}

/// A trend report: one line per dimension group, or the JSON document.
pub fn print_trend(report: &TrendReport, json: bool) -> Result<(), CliError> {
    if json {
        let text =
            serde_json::to_string_pretty(report).map_err(|e| kpi_core::EngineError::Internal(format!("could not write JSON: {e}")))?;
        println!("{text}");
        return Ok(());
    }
    let label = if report.dimensions.is_empty() { "all".to_string() } else { report.dimensions.join(", ") };
    println!("{label:<30} {:>14} {:>10} {:>6} {:>8}  trend", "slope/period", "% /period", "r²", "p");
    for g in &report.groups {
        let group: Vec<String> = g.dimensions.iter().map(ToString::to_string).collect();
        let name = if group.is_empty() { "all".to_string() } else { group.join(", ") };
        let pct = g.fit.slope_pct.map_or("-".to_string(), |p| format!("{p:.2}"));
        let verdict = match (g.fit.significant, g.improving) {
            (false, _) => "no significant trend",
            (true, Some(true)) => "improving",
            (true, Some(false)) => "worsening",
            (true, None) if g.fit.slope > 0.0 => "rising",
            (true, None) => "falling",
        };
        println!("{name:<30} {:>14.4} {pct:>10} {:>6.3} {:>8.4}  {verdict}", g.fit.slope, g.fit.r_squared, g.fit.p_value);
    }
    for s in &report.skipped {
        let group: Vec<String> = s.dimensions.iter().map(ToString::to_string).collect();
        println!("skipped {}: {}", group.join(", "), s.message);
    }
    Ok(())
}

/// A `START,END` argument.
pub fn range_arg<'a>(flag: &str, text: &'a str) -> Result<(&'a str, &'a str), CliError> {
    text.split_once(',')
        .map(|(start, end)| (start.trim(), end.trim()))
        .ok_or_else(|| CliError::Usage(format!("{flag} takes START,END, e.g. 2024-07-01,2024-10-01; got `{text}`")))
}

/// A comparison: one line per dimension group, or the JSON document.
pub fn print_comparison(comparison: &kpi_core::Comparison, json: bool) -> Result<(), CliError> {
    let doc = comparison.to_json();
    if json {
        let text = serde_json::to_string_pretty(&doc).map_err(|e| kpi_core::EngineError::Internal(format!("could not write JSON: {e}")))?;
        println!("{text}");
        return Ok(());
    }
    let when = |r: &kpi_formula::TimeRange| format!("{} – {}", r.start.format("%Y-%m-%d %H:%M"), r.end.format("%Y-%m-%d %H:%M"));
    println!("current  {}\nprevious {}", when(&comparison.current), when(&comparison.previous));
    let label = if comparison.dimensions.is_empty() { "all".to_string() } else { comparison.dimensions.join(", ") };
    println!("{label:<30} {:>16} {:>16} {:>10}  trend", "current", "previous", "change");
    let number = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2}"));
    for row in &comparison.rows {
        let group: Vec<String> = row.dimensions.iter().map(ToString::to_string).collect();
        let name = if group.is_empty() { "all".to_string() } else { group.join(", ") };
        let pct = row.trend.change_pct.map_or("-".to_string(), |p| format!("{p:+.1}%"));
        let verdict = match row.trend.improving {
            Some(true) => "improving",
            Some(false) => "worsening",
            None => "-",
        };
        println!("{name:<30} {:>16} {:>16} {pct:>10}  {verdict}", number(row.current), number(row.previous));
    }
    Ok(())
}
