//! `kpi-scheduler`: an Apache Ballista scheduler that reads the KPI engine's plans.

use std::time::Duration;

use clap::Parser;
use kpi_executor::SchedulerSettings;

/// An Apache Ballista scheduler that reads the KPI engine's plans. Point engines at it with
/// `cluster = df://<host>:<port>`, and start `kpi-executor`s with its host and port.
#[derive(Parser)]
#[command(name = "kpi-scheduler", version)]
struct Args {
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind_host: String,
    /// The port to listen on (the port of the engine's `df://host:port`).
    #[arg(long, default_value_t = 50050)]
    bind_port: u16,
    /// The host name executors and engines reach this scheduler by (default: the bind host).
    #[arg(long)]
    external_host: Option<String>,
    /// Seconds an executor may miss heartbeats before its tasks run elsewhere.
    #[arg(long, default_value_t = 20)]
    executor_timeout_seconds: u64,
    /// How many times a task may fail before its job fails.
    #[arg(long, default_value_t = 4)]
    task_max_failures: usize,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    kpi_executor::init_logging();
    let settings = SchedulerSettings {
        bind_host: args.bind_host,
        bind_port: args.bind_port,
        external_host: args.external_host,
        executor_timeout: Duration::from_secs(args.executor_timeout_seconds),
        task_max_failures: args.task_max_failures,
        ..SchedulerSettings::default()
    };
    kpi_executor::exit_code("kpi-scheduler", kpi_executor::run_scheduler(settings).await)
}
