//! `kpi-executor`: an Apache Ballista executor that runs the KPI engine's plans.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use kpi_executor::ExecutorSettings;

/// An Apache Ballista executor that runs the KPI engine's plans, over files it reads where
/// they lie (every executor must reach the paths or object-store URLs the engine registers).
#[derive(Parser)]
#[command(name = "kpi-executor", version)]
struct Args {
    /// The scheduler's host.
    #[arg(long, default_value = "127.0.0.1")]
    scheduler_host: String,
    /// The scheduler's port.
    #[arg(long, default_value_t = 50050)]
    scheduler_port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind_host: String,
    /// The host name the scheduler and other executors reach this one by (default: the bind host).
    #[arg(long)]
    external_host: Option<String>,
    /// The Arrow Flight port, where results and shuffle data are fetched.
    #[arg(long, default_value_t = 50051)]
    bind_port: u16,
    /// The gRPC port, where the scheduler sends tasks.
    #[arg(long, default_value_t = 50052)]
    bind_grpc_port: u16,
    /// Tasks run at once (default: the machine's cores).
    #[arg(long)]
    concurrent_tasks: Option<usize>,
    /// Where shuffle files are written (default: a temporary directory).
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Seconds between heartbeats to the scheduler.
    #[arg(long, default_value_t = 5)]
    heartbeat_seconds: u64,
    /// The most memory tasks may reserve together, in bytes.
    #[arg(long)]
    memory_limit: Option<u64>,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    kpi_executor::init_logging();
    let settings = ExecutorSettings {
        scheduler_host: args.scheduler_host,
        scheduler_port: args.scheduler_port,
        bind_host: args.bind_host,
        external_host: args.external_host,
        bind_port: args.bind_port,
        bind_grpc_port: args.bind_grpc_port,
        concurrent_tasks: args.concurrent_tasks,
        work_dir: args.work_dir,
        heartbeat: Duration::from_secs(args.heartbeat_seconds),
        memory_limit: args.memory_limit,
    };
    kpi_executor::exit_code("kpi-executor", kpi_executor::run_executor(settings).await)
}
