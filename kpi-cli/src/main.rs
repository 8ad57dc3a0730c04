//! `kpi`: the KPI engine on the command line.
//!
//! ```text
//! kpi check catalog.yaml                       # every problem, located; exit 1 on problems
//! kpi demo --out data/                         # demo data as Parquet, one file per object model
//! kpi calc -k revenue -g month -b orders.region -d data/
//! kpi sql -k revenue -g month --start 2024-01-01 --end 2025-01-01 --dialect mysql
//! kpi explain -k perfect_order_rate -d data/
//! kpi forecast -k revenue -g month --horizon 6 -b orders.region -d data/
//! kpi trend -k order_count -g month --window 12 -d data/
//! kpi compare -k revenue --current 2024-07-01,2024-10-01 --previous last_year -d data/
//! kpi report run -k revenue,order_count -g week --range last_month -d data/ -o report.pdf
//! kpi price answers.yaml -k perfect_order_rate,new_customers
//! kpi import-dbt my_dbt_project/ -o catalog.yaml   # dbt semantic models and metrics as a catalog
//! ```
//!
//! Every error is one message on standard error and a non-zero exit: 1 for a failed command
//! (including a catalog with problems), 2 for a command line that cannot be parsed, 70 for a
//! bug in `kpi` itself, which never prints a backtrace.

mod check;
mod data;
mod demo;
mod error;
mod forecast;
mod import_dbt;
mod output;
mod price;
mod query;
mod report;
mod retention;
mod tables;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use kpi_core::{Engine, SqlDialect};

use crate::error::{CliError, EXIT_FAILURE, EXIT_INTERNAL};

const CHECK_EXAMPLES: &str = "Examples:
  kpi check catalog.yaml
  kpi check kpis/*.yaml --format json     # for tools: [{file, line, column, path, kind, message, help}]";

const CALC_EXAMPLES: &str = "Examples:
  kpi demo --out data/ && kpi calc -k revenue -g month -b orders.region -d data/
  kpi calc -c catalog.yaml -k revenue -g week -d orders=exports/orders.parquet -d customers=exports/customers.csv
  kpi calc -f 'sum(orders.order_value) / count(orders)' -g quarter --start 2024-01-01 --end 2025-01-01 -d data/ -o aov.csv
  kpi calc -k on_time_delivery_rate -w \"orders.channel = 'web'\" --timezone Europe/Berlin -d data/ --format json";

const SQL_EXAMPLES: &str = "Examples:
  kpi sql -k revenue -g month --start 2024-01-01 --end 2025-01-01
  kpi sql -k perfect_order_rate -g week -b orders.region --start 2024-01-01 --end 2024-04-01 --dialect mysql
Dialects: postgres, timescale, mysql, sqlite, duckdb, bigquery.";

const EXPLAIN_EXAMPLES: &str = "Examples:
  kpi explain -k perfect_order_rate -g month -d data/
  kpi explain -f \"count(orders where orders.status = 'completed')\" --demo 1000";

const FORECAST_EXAMPLES: &str = "Examples:
  kpi demo --out data/ --start 2022-01-01 --end 2025-01-01 && kpi forecast -k revenue -g month -d data/
  kpi forecast -k order_count -g week --horizon 8 -b orders.region -d data/ -o forecast.csv
  kpi forecast -k revenue -g month --method ets --trend damped --level 0.8 -d data/ --format json
  kpi forecast -k revenue -g month --method seasonal_naive -d data/       # the baseline";

const TREND_EXAMPLES: &str = "Examples:
  kpi trend -k order_count -g month --window 12 -d data/
  kpi trend -k perfect_order_rate -g week -b orders.region --window 26 -d data/ --json";

const COMPARE_EXAMPLES: &str = "Examples:
  kpi compare -k revenue --current 2024-07-01,2024-10-01 -d data/              # against the quarter before
  kpi compare -k revenue -b orders.region --current 2024-07-01,2024-10-01 --previous last_year -d data/
  kpi compare -k order_count --current 2024-07-01,2024-08-01 --previous 2024-01-01,2024-02-01 -d data/ --json";

const PRICE_EXAMPLES: &str = "Examples:
  kpi price answers.yaml -k perfect_order_rate,new_customers
  kpi price answers.yaml -k revenue --price-book rates.yaml --format json -o proposal.json";

const DEMO_EXAMPLES: &str = "Examples:
  kpi demo --out data/
  kpi demo --out data/ --rows 1000000 --start 2023-01-01 --end 2025-01-01 --seed 7
  kpi demo --out csv/ --format csv --models orders,customers -c catalog.yaml";

const IMPORT_DBT_EXAMPLES: &str = "Examples:
  kpi import-dbt my_project/ -o catalog.yaml && kpi check catalog.yaml
  kpi import-dbt my_project/target/semantic_manifest.json --strict > catalog.yaml";

/// The KPI engine on the command line: check catalogs, calculate KPIs over Parquet and CSV
/// files, export SQL, explain plans, price proposals and write demo data.
#[derive(Parser, Debug)]
#[command(name = "kpi", version, propagate_version = true, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check catalog files: every problem with file:line:column; exit 1 when there are any.
    #[command(after_help = CHECK_EXAMPLES)]
    Check(check::CheckArgs),
    /// Calculate a KPI or formula over Parquet/CSV files (or demo data).
    #[command(after_help = CALC_EXAMPLES)]
    Calc {
        #[command(flatten)]
        catalog: query::CatalogArgs,
        #[command(flatten)]
        query: query::QueryArgs,
        #[command(flatten)]
        data: data::DataArgs,
        #[command(flatten)]
        output: output::OutputArgs,
    },
    /// Print a KPI as one SQL statement for a database.
    #[command(after_help = SQL_EXAMPLES)]
    Sql {
        #[command(flatten)]
        catalog: query::CatalogArgs,
        #[command(flatten)]
        query: query::QueryArgs,
        /// The database whose SQL to write.
        #[arg(long, default_value = "postgres", value_name = "DIALECT")]
        dialect: String,
        #[command(flatten)]
        data: data::DataArgs,
    },
    /// Print the logical, optimised and physical plans of a KPI over the data.
    #[command(after_help = EXPLAIN_EXAMPLES)]
    Explain {
        #[command(flatten)]
        catalog: query::CatalogArgs,
        #[command(flatten)]
        query: query::QueryArgs,
        #[command(flatten)]
        data: data::DataArgs,
    },
    /// Forecast a KPI past its range, per dimension group, with prediction intervals.
    #[command(after_help = FORECAST_EXAMPLES)]
    Forecast {
        #[command(flatten)]
        catalog: query::CatalogArgs,
        #[command(flatten)]
        query: query::QueryArgs,
        #[command(flatten)]
        forecast: forecast::ForecastArgs,
        #[command(flatten)]
        data: data::DataArgs,
        #[command(flatten)]
        output: output::OutputArgs,
    },
    /// The trend of a KPI: the least-squares slope per period and its significance, per group.
    #[command(after_help = TREND_EXAMPLES)]
    Trend {
        #[command(flatten)]
        catalog: query::CatalogArgs,
        #[command(flatten)]
        query: query::QueryArgs,
        /// The last periods of the range to fit the line to (all of them by default).
        #[arg(long, value_name = "PERIODS")]
        window: Option<usize>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: data::DataArgs,
    },
    /// A KPI over one range against another (the range before, last year, or given), per group.
    #[command(after_help = COMPARE_EXAMPLES)]
    Compare {
        #[command(flatten)]
        catalog: query::CatalogArgs,
        #[command(flatten)]
        query: query::QueryArgs,
        /// The range to compare: START,END.
        #[arg(long, value_name = "START,END")]
        current: String,
        /// What to compare with: previous_period (the default), last_year, or START,END.
        #[arg(long, value_name = "BASELINE", default_value = "previous_period")]
        previous: String,
        /// Print the comparison as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: data::DataArgs,
    },
    /// Reports: KPIs over a range as PDF, CSV or JSON, to a file or by mail.
    #[command(subcommand)]
    Report(report::ReportCommand),
    /// Apply a retention policy to a data directory: archive rows past their active period as
    /// Parquet (or delete them), remove expired archives.
    #[command(after_help = retention::ARCHIVE_EXAMPLES)]
    Archive(retention::LifecycleArgs),
    /// Retention of a data directory: what a policy would archive and delete.
    #[command(subcommand)]
    Retention(retention::RetentionCommand),
    /// Price a service proposal from a questionnaire's answers.
    #[command(after_help = PRICE_EXAMPLES)]
    Price(price::PriceArgs),
    /// Write demo data for a catalog as Parquet or CSV files.
    #[command(after_help = DEMO_EXAMPLES)]
    Demo(demo::DemoArgs),
    /// Import a dbt project's semantic models and metrics as a catalog (YAML).
    #[command(name = "import-dbt", after_help = IMPORT_DBT_EXAMPLES)]
    ImportDbt(import_dbt::ImportDbtArgs),
}

fn main() -> ExitCode {
    // A panic is a bug in kpi: say so in one line, without the default hook's backtrace hint.
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        eprintln!("kpi: internal error{location}: {message} (please report it)");
    }));
    let cli = Cli::parse();
    match std::panic::catch_unwind(|| run(cli.command)) {
        Ok(Ok(true)) => ExitCode::SUCCESS,
        Ok(Ok(false)) => ExitCode::from(EXIT_FAILURE),
        Ok(Err(e)) => {
            eprintln!("kpi: error [{}]: {e}", e.code());
            ExitCode::from(EXIT_FAILURE)
        }
        Err(_) => ExitCode::from(EXIT_INTERNAL),
    }
}

/// An engine over the catalog with the data registered; no data is a usage error.
async fn engine_with_data(catalog: &query::CatalogArgs, data: &data::DataArgs) -> Result<Engine, CliError> {
    if data.is_empty() {
        return Err(CliError::Usage("no data: give --data DIR, --data MODEL=PATH, --demo ROWS or --data-dir DIR".into()));
    }
    data.engine(catalog.load()?).await
}

/// Runs one command; `Ok(false)` when it found problems (a catalog check).
fn run(command: Command) -> Result<bool, CliError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Io { path: "<runtime>".into(), source: e })?;
    match command {
        Command::Check(args) => check::run(&args),
        Command::ImportDbt(args) => import_dbt::run(&args),
        Command::Archive(args) => runtime.block_on(retention::archive(&args)),
        Command::Retention(retention::RetentionCommand::Plan(args)) => runtime.block_on(retention::plan(&args)),
        Command::Calc { catalog, query, data, output } => runtime.block_on(async {
            let spec = query.spec()?;
            output.format()?;
            let engine = engine_with_data(&catalog, &data).await?;
            let result = engine.calculate_spec(&spec).await?;
            output.write(&result)?;
            Ok(true)
        }),
        Command::Sql { catalog, query, dialect, data } => runtime.block_on(async {
            let spec = query.spec()?;
            let dialect = SqlDialect::parse(&dialect)?;
            let engine = data.engine(catalog.load()?).await?;
            let sql = engine.to_sql(&engine.query(&spec)?, dialect).await?;
            println!("{sql}");
            Ok(true)
        }),
        Command::Explain { catalog, query, data } => runtime.block_on(async {
            let spec = query.spec()?;
            if data.is_empty() {
                return Err(CliError::Usage("no data: the plans depend on it; give --data DIR, --data MODEL=PATH or --demo ROWS".into()));
            }
            let engine = data.engine(catalog.load()?).await?;
            println!("{}", engine.explain(&engine.query(&spec)?).await?);
            Ok(true)
        }),
        Command::Forecast { catalog, query, forecast, data, output } => runtime.block_on(async {
            let spec = query.spec()?;
            output.format()?;
            let engine = engine_with_data(&catalog, &data).await?;
            output.write_forecast(&engine.forecast_spec(&spec, &forecast.settings()).await?)?;
            Ok(true)
        }),
        Command::Trend { catalog, query, window, json, data } => runtime.block_on(async {
            let spec = query.spec()?;
            let engine = engine_with_data(&catalog, &data).await?;
            forecast::print_trend(&engine.trend_spec(&spec, window).await?, json)?;
            Ok(true)
        }),
        Command::Compare { catalog, query, current, previous, json, data } => runtime.block_on(async {
            let spec = query.spec()?;
            let current = forecast::range_arg("--current", &current)?;
            let previous = match previous.split_once(',') {
                Some((start, end)) => kpi_core::Baseline::Range(start.trim(), end.trim()),
                None => kpi_core::Baseline::parse(&previous)?,
            };
            let engine = engine_with_data(&catalog, &data).await?;
            forecast::print_comparison(&engine.compare_spec(&spec, current, previous).await?, json)?;
            Ok(true)
        }),
        Command::Report(command) => runtime.block_on(report::run(&command)).map(|()| true),
        Command::Price(args) => price::run(&args).map(|()| true),
        Command::Demo(args) => demo::run(&args).map(|()| true),
    }
}
