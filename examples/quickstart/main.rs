//! The Rust quickstart (`make quickstart`): loads the standard catalog, generates a year of
//! demo data for all its object models, and prints a monthly dashboard of twenty KPIs across the value chains —
//! latest value, status against the thresholds, trend against the previous month, and how long
//! each took — calculated concurrently by the engine. A second run shows the result cache.

use std::time::Instant;

use kpi_catalog::{Catalog, DemoOptions, Unit};
use kpi_core::{Engine, KpiResult, Status, TrendDirection};
use kpi_formula::{Calendar, Grain, Query, TimeRange};

/// Orders in the demo data; the other object models scale with it.
const ORDERS: usize = 200_000;

/// Twenty KPIs across supply chain, sales, finance, CRM, support and SaaS.
const DASHBOARD: [&str; 20] = [
    "perfect_order_rate",
    "on_time_delivery_rate",
    "order_fulfillment_cycle_time",
    "freight_cost_per_shipment",
    "supplier_on_time_rate",
    "return_rate",
    "revenue",
    "revenue_growth",
    "revenue_ytd",
    "average_order_value",
    "win_rate",
    "gross_margin",
    "days_sales_outstanding",
    "customer_acquisition_cost",
    "active_customers",
    "first_response_time",
    "customer_satisfaction",
    "mrr",
    "customer_churn_rate",
    "ltv_to_cac_ratio",
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let catalog = Catalog::standard();
    let options = DemoOptions::new(ORDERS).with_seed(42).with_range("2024-01-01", "2025-01-01")?;
    let data = catalog.demo_data(&options)?;
    let rows = data.total_rows();
    let generated = started.elapsed();
    let engine = Engine::new(catalog.clone())?;
    engine.register_demo(data)?;
    println!(
        "KPI Engine quickstart: standard catalog ({} KPIs), {rows} demo rows ({ORDERS} orders) generated in {generated:.0?}\n",
        catalog.kpis().count()
    );

    let range = TimeRange::parse("2024-01-01", "2025-01-01", &Calendar::default())?;
    let queries: Vec<Query> = DASHBOARD.iter().map(|code| Query::kpi(*code).with_grain(Grain::Month).with_range(range)).collect();
    let dashboard = engine.dashboard(&queries).await;

    println!("{:<34} {:>12} {:>10} {:>14} {:>9}", "KPI (December 2024)", "value", "status", "vs November", "time");
    println!("{}", "-".repeat(83));
    let mut busy = std::time::Duration::ZERO;
    for item in &dashboard.items {
        match &item.outcome {
            Ok(result) => {
                busy += result.timing().planning + result.timing().execution;
                println!("{}", line(result));
            }
            Err(e) => println!("{:<34} error: {e}", describe(&item.query)),
        }
    }
    println!("{}", "-".repeat(83));
    println!(
        "{} KPIs x 12 months: {:.1?} wall for {:.1?} of calculation ({} failed)",
        dashboard.items.len(),
        dashboard.wall,
        busy,
        dashboard.errors().count()
    );

    let again = engine.dashboard(&queries).await;
    let metrics = engine.metrics();
    println!(
        "The same dashboard again: {:.1?} ({} cache hits of {} calculations)\nTotal run {:.1?}",
        again.wall,
        metrics.cache_hits,
        metrics.calculations,
        started.elapsed()
    );
    Ok(())
}

fn describe(query: &Query) -> String {
    match &query.target {
        kpi_formula::Target::Kpi(code) => code.clone(),
        kpi_formula::Target::Formula(text) => text.clone(),
    }
}

fn line(result: &KpiResult) -> String {
    let info = result.info();
    let name = info.name.clone().unwrap_or_else(|| describe(result.query()));
    let Some(summary) = result.summary() else { return format!("{name:<34} (no rows)") };
    let status = match summary.status {
        Status::Good => "good",
        Status::Warning => "WARNING",
        Status::Critical => "CRITICAL",
        Status::NotRated => "-",
        Status::NoData => "no data",
    };
    let arrow = match summary.trend.direction {
        TrendDirection::Up => "↑",
        TrendDirection::Down => "↓",
        TrendDirection::Stable => "→",
    };
    let trend = summary.trend.change_pct.map_or_else(|| arrow.to_string(), |p| format!("{arrow} {p:+.1}%"));
    format!(
        "{name:<34} {:>12} {status:>10} {trend:>14} {:>7.1?}",
        value(summary.value, &info.unit),
        result.timing().planning + result.timing().execution
    )
}

fn value(v: Option<f64>, unit: &Unit) -> String {
    let Some(v) = v else { return "-".into() };
    match unit {
        Unit::Ratio => format!("{:.1}%", v * 100.0),
        Unit::Percent => format!("{v:.1}%"),
        Unit::Currency => format!("${v:.0}"),
        Unit::Days => format!("{v:.1} d"),
        Unit::Hours => format!("{v:.1} h"),
        Unit::Minutes => format!("{v:.0} min"),
        _ if v.abs() >= 100.0 => format!("{v:.0}"),
        _ => format!("{v:.2}"),
    }
}
