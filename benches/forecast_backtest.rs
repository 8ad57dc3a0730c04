//! How well forecasts do on the standard KPIs: every KPI is calculated by month over demo data
//! (`--rows` orders, 200,000 unless given, over 2021–2024), the last `--holdout` months (6) are
//! held out, the rest is forecast through `Engine::forecast`, and the forecasts are scored
//! against what was calculated (MAPE) for the automatic exponential smoothing model and the
//! seasonal naive baseline. Prints a Markdown table, the medians, and the cost of one series'
//! forecast (the model search alone, without the calculation):
//!
//! ```text
//! cargo run --release -p kpi-benches --bin forecast-backtest -- --rows 200000
//! ```
//!
//! With `--check` (as `make test` runs it) it fails unless the model's median MAPE is below the
//! baseline's and the model is as good or better on most KPIs.

use std::time::Instant;

use kpi_catalog::{Catalog, DemoOptions};
use kpi_core::Engine;
use kpi_core::forecast::{ForecastMethod, ForecastOptions, forecast_series};
use kpi_formula::{Calendar, Grain, Query, TimeRange};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

/// The mean absolute percentage error over the periods whose actual value is not zero.
fn mape(actual: &[Option<f64>], forecast: &[f64]) -> Option<f64> {
    let errors: Vec<f64> =
        actual.iter().zip(forecast).filter_map(|(a, f)| a.filter(|a| *a != 0.0).map(|a| ((a - f) / a).abs() * 100.0)).collect();
    (!errors.is_empty()).then(|| errors.iter().sum::<f64>() / errors.len() as f64)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() {
    let rows = arg("--rows", 200_000);
    let holdout = arg("--holdout", 6);
    let catalog = Catalog::standard();
    let options = DemoOptions::new(rows).with_seed(42).with_range("2021-01-01", "2025-01-01").expect("a range");
    let engine = Engine::new(catalog.clone()).expect("an engine");
    engine.register_demo(catalog.demo_data(&options).expect("demo data")).expect("registered");
    let calendar = Calendar::default();
    let whole = TimeRange::parse("2021-01-01", "2025-01-01", &calendar).expect("a range");
    let fitted = TimeRange::new(whole.start, calendar.add_periods(whole.end, Grain::Month, -(holdout as i64))).expect("a range");

    println!("| KPI | model | MAPE, model | MAPE, seasonal naive | forecast ms |");
    println!("|---|---|---:|---:|---:|");
    let (mut model_mapes, mut naive_mapes, mut costs, mut wins, mut skipped) = (Vec::new(), Vec::new(), Vec::new(), 0, Vec::new());
    for kpi in catalog.kpis() {
        let query = Query::kpi(&kpi.code).with_grain(Grain::Month);
        let actual = match engine.calculate(&query.clone().with_range(whole)).await {
            Ok(r) => r.series().into_iter().next().map(|s| s.points.into_iter().map(|(_, v)| v).collect::<Vec<_>>()).unwrap_or_default(),
            Err(e) => {
                skipped.push(format!("{}: {e}", kpi.code));
                continue;
            }
        };
        let auto = ForecastOptions { horizon: holdout, ..ForecastOptions::default() };
        let naive = ForecastOptions { method: ForecastMethod::SeasonalNaive, ..auto.clone() };
        let (model, baseline) = match (
            engine.forecast(&query.clone().with_range(fitted), &auto).await,
            engine.forecast(&query.clone().with_range(fitted), &naive).await,
        ) {
            (Ok(m), Ok(n)) => (m, n),
            (Err(e), _) | (_, Err(e)) => {
                skipped.push(format!("{}: {e}", kpi.code));
                continue;
            }
        };
        let (Some(group), Some(base)) = (model.groups.first(), baseline.groups.first()) else { continue };
        let held: Vec<Option<f64>> = actual.iter().rev().take(holdout).rev().copied().collect();
        let values: Vec<f64> = group.forecast.points.iter().map(|p| p.value).collect();
        let base_values: Vec<f64> = base.forecast.points.iter().map(|p| p.value).collect();
        let history: Vec<Option<f64>> = group.history.iter().map(|(_, v)| *v).collect();
        let options = ForecastOptions { season_length: Some(12), ..auto.clone() };
        let started = Instant::now();
        let _ = forecast_series(&history, &options);
        let cost = started.elapsed().as_secs_f64() * 1000.0;
        let (Some(m), Some(n)) = (mape(&held, &values), mape(&held, &base_values)) else {
            skipped.push(format!("{}: no non-zero actual values in the holdout", kpi.code));
            continue;
        };
        wins += usize::from(m <= n);
        println!("| {} | {} | {m:.1}% | {n:.1}% | {cost:.2} |", kpi.code, group.forecast.model);
        model_mapes.push(m);
        naive_mapes.push(n);
        costs.push(cost);
    }
    let (model_median, naive_median, count) = (median(model_mapes.clone()), median(naive_mapes.clone()), model_mapes.len());
    println!();
    println!(
        "{} KPIs: median MAPE {:.1}% (model) against {:.1}% (seasonal naive); the model as good or better on {wins}; median forecast {:.2} ms per series, slowest {:.2} ms",
        model_mapes.len(),
        median(model_mapes),
        median(naive_mapes),
        median(costs.clone()),
        costs.iter().copied().fold(0.0, f64::max),
    );
    for s in skipped {
        println!("skipped {s}");
    }
    if std::env::args().any(|a| a == "--check") {
        let fine = count >= 50 && model_median < naive_median && wins * 2 > count;
        if !fine {
            eprintln!(
                "forecast-backtest: the model does not beat the seasonal naive baseline ({model_median:.1}% against {naive_median:.1}%, {wins} of {count})"
            );
            std::process::exit(1);
        }
    }
}
