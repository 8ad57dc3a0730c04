//! The cost of a KPI pushed down to PostgreSQL against scanning the table into the engine, on a
//! throwaway server (scripts/postgres.sh) holding `--rows` generated orders (1,000,000 unless
//! given). Run in release:
//!
//! ```text
//! cargo run --release -p kpi-benches --bin pg-pushdown -- --rows 10000000
//! ```
//!
//! Prints the median of `--runs` (3) runs of each path and checks they give the same rows.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use datafusion::arrow::datatypes::DataType;
use kpi_catalog::Catalog;
use kpi_core::{Engine, EngineOptions, PostgresDsn, PostgresTable};
use kpi_formula::{Calendar, Grain, Query, TimeRange};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.replace('_', "").parse().ok()).unwrap_or(default)
}

/// A SQL expression generating column `name` of type `t` for row `i`.
fn generated(name: &str, t: &DataType) -> String {
    match (name, t) {
        ("order_id", _) => "i".into(),
        ("status", _) => "CASE WHEN i % 10 = 0 THEN 'cancelled' ELSE 'completed' END".into(),
        ("region", _) => "(ARRAY['europe','asia_pacific','north_america','latin_america'])[i % 4 + 1]".into(),
        ("channel", _) => "(ARRAY['web','store','marketplace'])[i % 3 + 1]".into(),
        (_, DataType::Timestamp(..)) => "timestamp '2024-01-01 00:00:00' + (i % 31536000) * interval '1 second'".into(),
        (_, DataType::Date32) => "date '2024-01-01' + (i % 365)".into(),
        (_, DataType::Boolean) => "i % 3 <> 0".into(),
        (_, DataType::Decimal128(..) | DataType::Float64 | DataType::Float32) => "((i * 37) % 500) + 0.25".into(),
        (_, t) if t.is_integer() => "i % 100000".into(),
        _ => "'x'".into(),
    }
}

fn sql_type(t: &DataType) -> &'static str {
    match t {
        DataType::Timestamp(_, Some(_)) => "timestamptz",
        DataType::Timestamp(_, None) => "timestamp",
        DataType::Date32 => "date",
        DataType::Boolean => "boolean",
        DataType::Decimal128(..) => "numeric(18,2)",
        DataType::Float64 | DataType::Float32 => "double precision",
        t if t.is_integer() => "bigint",
        _ => "text",
    }
}

fn psql(port: &str, sql: &str) {
    let status = Command::new("psql")
        .args(["-q", "-h", "127.0.0.1", "-p", port, "-U", "kpi", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .env("PGPASSWORD", "kpi-test")
        .status()
        .expect("psql runs");
    assert!(status.success(), "psql failed: {sql}");
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (rows, runs) = (arg("--rows", 1_000_000), arg("--runs", 3).max(1));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/postgres.sh");
    let dir = std::path::PathBuf::from(format!("/tmp/kpi-pg-bench-{}", std::process::id()));
    let out = Command::new("bash").arg(&script).arg("start").arg(&dir).output()?;
    assert!(out.status.success(), "postgres.sh: {}", String::from_utf8_lossy(&out.stderr));
    let port = String::from_utf8(out.stdout)?.trim().to_string();
    let outcome = measure(&port, rows, runs).await;
    Command::new("bash").arg(&script).arg("stop").arg(&dir).status()?;
    outcome
}

async fn measure(port: &str, rows: usize, runs: usize) -> Result<(), Box<dyn std::error::Error>> {
    let catalog = Catalog::standard();
    let model = catalog.object_model("orders")?;
    let columns: Vec<(String, DataType)> = model.columns.iter().map(|c| (c.name.clone(), c.data_type.to_arrow())).collect();
    let create = columns.iter().map(|(n, t)| format!("\"{n}\" {}", sql_type(t))).collect::<Vec<_>>().join(", ");
    let select = columns.iter().map(|(n, t)| generated(n, t)).collect::<Vec<_>>().join(", ");
    let started = Instant::now();
    psql(port, &format!("CREATE TABLE orders ({create})"));
    psql(port, &format!("INSERT INTO orders SELECT {select} FROM generate_series(1, {rows}) AS i"));
    psql(port, "ANALYZE orders");
    println!("loaded {rows} orders into PostgreSQL in {:.1} s", started.elapsed().as_secs_f64());

    let dsn: PostgresDsn = format!("postgresql://kpi:kpi-test@127.0.0.1:{port}/postgres?sslmode=disable").parse()?;
    let range = TimeRange::parse("2024-01-01", "2025-01-01", &Calendar::default())?;
    let query = Query::kpi("revenue").with_grain(Grain::Month).by(["orders.region"]).with_range(range);
    let mut results = Vec::new();
    for (name, pushdown) in [("pushed down", true), ("scanned", false)] {
        let engine = Engine::with_options(catalog.clone(), EngineOptions { pushdown, ..Default::default() })?;
        engine.register_postgres("orders", &dsn, &PostgresTable::new("orders")).await?;
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..runs {
            let started = Instant::now();
            let result = engine.calculate_with(&query, &kpi_core::CalculateOptions { bypass_cache: true, ..Default::default() }).await?;
            times.push(started.elapsed());
            last = Some(result.rows());
        }
        let time = median(times);
        println!("| revenue by month x region, {rows} rows | {name} | {:.0} ms |", time.as_secs_f64() * 1e3);
        results.push((time, last));
    }
    let (pushed, scanned) = (&results[0], &results[1]);
    assert_eq!(pushed.1, scanned.1, "both paths give the same rows");
    println!("scanning takes {:.1}x the pushed-down time", scanned.0.as_secs_f64() / pushed.0.as_secs_f64());
    Ok(())
}
