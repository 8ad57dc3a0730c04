//! The KPI engine on an Apache Ballista cluster: a scheduler and executors that read the
//! engine's plans.
//!
//! An engine with a cluster ([`kpi_core::EngineOptions::cluster`], Python
//! `Engine(cat, cluster="df://host:50050")`, Node `{ cluster }`, `kpi calc --cluster`) lowers
//! and optimises each KPI's plan itself and sends it to a Ballista scheduler, which splits it
//! into stages and runs them on executors over the data where it lies (Parquet or CSV files in
//! a directory every executor can read, or an object store). The plans use three functions of
//! the formula language (calendar periods, calendar offsets, `percentile_disc`) that a stock
//! Ballista does not know: the `kpi-scheduler` and `kpi-executor` binaries of this crate are
//! Ballista's scheduler and executor with the engine's plan codecs
//! ([`kpi_core::KpiLogicalCodec`], [`kpi_core::KpiPhysicalCodec`]), so every plan that runs
//! locally runs there.
//!
//! ```text
//! kpi-scheduler --bind-port 50050
//! kpi-executor --scheduler-port 50050 --bind-port 50051 --bind-grpc-port 50052
//! kpi-executor --scheduler-port 50050 --bind-port 50061 --bind-grpc-port 50062
//! ```
//!
//! Both run in-process too ([`run_scheduler`], [`run_executor`]):
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use kpi_executor::{ExecutorSettings, SchedulerSettings};
//! let scheduler = tokio::spawn(kpi_executor::run_scheduler(SchedulerSettings { bind_port: 50050, ..Default::default() }));
//! let executor = tokio::spawn(kpi_executor::run_executor(ExecutorSettings { scheduler_port: 50050, ..Default::default() }));
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use ballista_core::config::TaskSchedulingPolicy;
use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionConfig;
use kpi_core::{EnvironmentStores, KpiLogicalCodec, KpiPhysicalCodec};

/// A scheduler's settings.
#[derive(Clone, Debug)]
pub struct SchedulerSettings {
    /// The address it listens on: loopback by default.
    pub bind_host: String,
    /// Its gRPC port (50050 by default); `df://host:<port>` is the engine's cluster URL.
    pub bind_port: u16,
    /// The host name executors and clients reach it by; `bind_host` by default.
    pub external_host: Option<String>,
    /// How long an executor may miss heartbeats before its tasks are run elsewhere.
    pub executor_timeout: Duration,
    /// How often executors that stopped answering are looked for.
    pub expire_dead_executors_every: Duration,
    /// How many times a task may fail (an executor lost, say) before its job fails.
    pub task_max_failures: usize,
}

impl Default for SchedulerSettings {
    /// Loopback on port 50050; executors lost after 20 s without a heartbeat, looked for every
    /// 5 s; four tries per task.
    fn default() -> Self {
        SchedulerSettings {
            bind_host: "127.0.0.1".into(),
            bind_port: 50050,
            external_host: None,
            executor_timeout: Duration::from_secs(20),
            expire_dead_executors_every: Duration::from_secs(5),
            task_max_failures: 4,
        }
    }
}

/// An executor's settings.
#[derive(Clone, Debug)]
pub struct ExecutorSettings {
    /// The scheduler's host.
    pub scheduler_host: String,
    /// The scheduler's port.
    pub scheduler_port: u16,
    /// The address it listens on: loopback by default.
    pub bind_host: String,
    /// The host name the scheduler and other executors reach it by; `bind_host` by default.
    pub external_host: Option<String>,
    /// Its Arrow Flight port, where other executors and clients fetch results (50051).
    pub bind_port: u16,
    /// Its gRPC port, where the scheduler sends tasks (50052).
    pub bind_grpc_port: u16,
    /// Tasks it runs at once; the machine's cores by default.
    pub concurrent_tasks: Option<usize>,
    /// Where it writes shuffle files; a temporary directory by default.
    pub work_dir: Option<PathBuf>,
    /// How often it tells the scheduler it is alive.
    pub heartbeat: Duration,
    /// The most memory its tasks may reserve together (bytes); a share of the machine's by default.
    pub memory_limit: Option<u64>,
}

impl Default for ExecutorSettings {
    /// A scheduler at 127.0.0.1:50050; listening on loopback ports 50051 (Flight) and 50052
    /// (gRPC); a heartbeat every 5 s.
    fn default() -> Self {
        ExecutorSettings {
            scheduler_host: "127.0.0.1".into(),
            scheduler_port: 50050,
            bind_host: "127.0.0.1".into(),
            external_host: None,
            bind_port: 50051,
            bind_grpc_port: 50052,
            concurrent_tasks: None,
            work_dir: None,
            heartbeat: Duration::from_secs(5),
            memory_limit: None,
        }
    }
}

/// A failure to start or run a scheduler or executor.
pub type Error = ballista_core::error::BallistaError;

/// Runs a scheduler that reads the engine's plans until the process ends.
pub async fn run_scheduler(settings: SchedulerSettings) -> Result<(), Error> {
    let address: SocketAddr = format!("{}:{}", settings.bind_host, settings.bind_port).parse().map_err(|e| {
        Error::Configuration(format!("`{}:{}` is not an address to listen on: {e}", settings.bind_host, settings.bind_port))
    })?;
    let config = SchedulerConfig {
        external_host: settings.external_host.clone().unwrap_or_else(|| settings.bind_host.clone()),
        bind_host: settings.bind_host.clone(),
        bind_port: settings.bind_port,
        scheduling_policy: TaskSchedulingPolicy::PushStaged,
        executor_timeout_seconds: settings.executor_timeout.as_secs().max(1),
        expire_dead_executor_interval_seconds: settings.expire_dead_executors_every.as_secs().max(1),
        task_max_failures: settings.task_max_failures.max(1),
        override_logical_codec: Some(Arc::new(KpiLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(KpiPhysicalCodec::default())),
        override_session_builder: Some(Arc::new(scheduler_session)),
        ..SchedulerConfig::default()
    };
    let cluster = BallistaCluster::new_from_config(&config).await?;
    start_server(cluster, address, Arc::new(config)).await
}

/// Runs an executor that reads the engine's plans until the process ends or the scheduler
/// tells it to stop.
pub async fn run_executor(settings: ExecutorSettings) -> Result<(), Error> {
    let work_dir = settings.work_dir.clone();
    let mut config = ExecutorProcessConfig {
        bind_host: settings.bind_host.clone(),
        external_host: settings.external_host.clone(),
        port: settings.bind_port,
        grpc_port: settings.bind_grpc_port,
        scheduler_host: settings.scheduler_host.clone(),
        scheduler_port: settings.scheduler_port,
        scheduler_connect_timeout_seconds: 10,
        task_scheduling_policy: TaskSchedulingPolicy::PushStaged,
        work_dir: settings.work_dir.as_ref().map(|d| d.display().to_string()),
        executor_heartbeat_interval_seconds: settings.heartbeat.as_secs().max(1),
        memory_pool_size: settings.memory_limit,
        print_thread_info: false,
        override_logical_codec: Some(Arc::new(KpiLogicalCodec::default())),
        override_physical_codec: Some(Arc::new(KpiPhysicalCodec::default())),
        override_runtime_producer: Some(Arc::new(move |_: &SessionConfig| {
            let mut runtime = RuntimeEnvBuilder::new().with_object_store_registry(Arc::new(EnvironmentStores::default()));
            if let Some(dir) = &work_dir {
                runtime = runtime.with_temp_file_path(dir.clone());
            }
            runtime.build_arc()
        })),
        ..ExecutorProcessConfig::default()
    };
    if let Some(n) = settings.concurrent_tasks {
        config.vcores = n.max(1);
    }
    start_executor_process(Arc::new(config)).await
}

/// A scheduler's session for a job: Ballista's, whose object stores are built from this
/// process's environment, so listing a table's files on an object store works as it does for
/// the engine that registered it.
fn scheduler_session(config: SessionConfig) -> datafusion::error::Result<datafusion::execution::SessionState> {
    use ballista_core::extension::{ballista_aggregate_functions, ballista_scalar_functions, ballista_window_functions};
    let runtime = RuntimeEnvBuilder::new().with_object_store_registry(Arc::new(EnvironmentStores::default())).build_arc()?;
    Ok(SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_optimizer_rules(ballista_core::optimizer::ballista_default_optimizer_rules())
        .with_scalar_functions(ballista_scalar_functions())
        .with_aggregate_functions(ballista_aggregate_functions())
        .with_window_functions(ballista_window_functions())
        .build())
}

/// Logs to standard error, `RUST_LOG` choosing what (`info` by default).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A second call (a test running both in one process) keeps the first subscriber.
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_writer(std::io::stderr).try_init();
}

/// The exit code of a binary whose server ended with `result`, the error printed.
pub fn exit_code(binary: &str, result: Result<(), Error>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{binary}: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
