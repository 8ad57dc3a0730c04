//! Calculations on an Apache Ballista cluster: the engine lowers and optimises a KPI's plan
//! here, as always, and a Ballista scheduler plans its stages and runs them on executors that
//! read the data where it lies (Parquet or CSV in a directory they share, or an object store).
//!
//! Ballista is built on the same DataFusion, so the plan travels as DataFusion's protobuf; the
//! formula language's own functions travel with their parameters through [`KpiLogicalCodec`]
//! and [`KpiPhysicalCodec`], which the `kpi-scheduler` and `kpi-executor` binaries install.
//! Tables whose rows live only in this process (registered from Arrow, appended to, read from
//! PostgreSQL by this process) cannot be read there: such a calculation is refused with
//! [`EngineError::LocalOnly`], never run elsewhere on other data.

#[cfg(feature = "cluster")]
mod codec;
#[cfg(feature = "cluster")]
mod session;
#[cfg(all(feature = "cluster", feature = "object-stores"))]
mod stores;

use std::time::Duration;

#[cfg(feature = "cluster")]
pub use codec::{KpiLogicalCodec, KpiPhysicalCodec};
#[cfg(all(feature = "cluster", feature = "object-stores"))]
pub use stores::EnvironmentStores;

use crate::data::TableData;
use crate::engine::Engine;
use crate::error::EngineError;

/// The port of a Ballista scheduler when a cluster URL names none.
pub const DEFAULT_SCHEDULER_PORT: u16 = 50050;

/// Where calculations run when they run on a cluster: an Apache Ballista scheduler.
///
/// ```
/// use kpi_core::ClusterOptions;
/// let cluster = ClusterOptions::parse("df://127.0.0.1:50050")?;
/// assert_eq!(cluster.address(), "127.0.0.1:50050");
/// assert!(ClusterOptions::parse("http://127.0.0.1:50050").is_err());
/// # Ok::<(), kpi_core::EngineError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterOptions {
    host: String,
    port: u16,
    /// How long connecting to the scheduler may take before a calculation fails with
    /// [`EngineError::Cluster`] naming its address; 5 seconds by default.
    pub connect_timeout: Duration,
}

impl ClusterOptions {
    /// The scheduler at `url`: `df://host:port` (`df://host` for port 50050).
    pub fn parse(url: &str) -> Result<ClusterOptions, EngineError> {
        let bad = |why: &str| EngineError::InvalidOption {
            option: "cluster",
            message: format!("`{url}` is not a scheduler address: {why}; write df://host:port, e.g. df://127.0.0.1:50050"),
        };
        let rest = url.strip_prefix("df://").ok_or_else(|| bad("it does not start with df://"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', ' ']) {
            return Err(bad("it should be a host and a port only"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            // An IPv6 literal in brackets keeps its colons.
            Some((host, port)) if !port.contains(']') => {
                (host, port.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| bad("the port is not a number from 1 to 65535"))?)
            }
            _ => (rest, DEFAULT_SCHEDULER_PORT),
        };
        if host.is_empty() {
            return Err(bad("the host is missing"));
        }
        Ok(ClusterOptions { host: host.to_string(), port, connect_timeout: Duration::from_secs(5) })
    }

    /// The same options with another connect timeout.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> ClusterOptions {
        self.connect_timeout = timeout;
        self
    }

    /// `host:port` of the scheduler.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// The scheduler's URL as written: `df://host:port`.
    pub fn url(&self) -> String {
        format!("df://{}", self.address())
    }
}

/// A connected cluster's state as the scheduler reports it ([`Engine::check_cluster`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterStatus {
    /// `df://host:port`.
    pub url: String,
    /// How long connecting and the scheduler's answer took.
    pub round_trip: Duration,
}

/// The cluster an engine sends its calculations to.
pub(crate) struct Cluster {
    pub(crate) options: ClusterOptions,
    #[cfg(feature = "cluster")]
    pub(crate) session: session::RemoteSession,
    /// Without the feature there is no session, so no cluster can be made.
    #[cfg(not(feature = "cluster"))]
    pub(crate) session: std::convert::Infallible,
}

impl Cluster {
    /// A session for the scheduler of `options`, configured like the engine's own. Nothing is
    /// connected yet: each calculation connects within the timeout.
    pub(crate) fn new(options: ClusterOptions, config: &datafusion::prelude::SessionConfig) -> Result<Cluster, EngineError> {
        #[cfg(feature = "cluster")]
        {
            let session = session::RemoteSession::new(&options, config)?;
            Ok(Cluster { options, session })
        }
        #[cfg(not(feature = "cluster"))]
        {
            let _ = config;
            Err(EngineError::InvalidOption {
                option: "cluster",
                message: format!("this build of kpi-core has no `cluster` feature, so it cannot use {}", options.url()),
            })
        }
    }

    /// The session whose physical plans are jobs on the cluster.
    pub(crate) fn context(&self) -> &datafusion::prelude::SessionContext {
        #[cfg(feature = "cluster")]
        return &self.session.ctx;
        #[cfg(not(feature = "cluster"))]
        match self.session {}
    }
}

/// `e` of a calculation, as the cluster's failure when it ran on `cluster` and failed in
/// execution (a row limit, a timeout or a cancellation stay what they are).
pub(crate) fn failure(cluster: Option<&Cluster>, e: EngineError) -> EngineError {
    match (cluster, e) {
        #[cfg(feature = "cluster")]
        (Some(cluster), EngineError::Execution(e)) => session::cluster_error(&cluster.options.url(), e),
        (_, other) => other,
    }
}

/// Why a table's rows cannot be read on a cluster, if they cannot.
pub(crate) fn local_only(data: &TableData) -> Option<&'static str> {
    if data.in_memory() {
        return Some("its rows are in this process's memory (registered from Arrow)");
    }
    if data.has_appended() {
        return Some("rows were appended to it in this process");
    }
    if data.archive.is_some() {
        return Some("part of its rows are archived by this process's retention");
    }
    #[cfg(feature = "postgres")]
    if data.remote.is_some() {
        return Some("this process reads it from PostgreSQL");
    }
    None
}

impl Engine {
    /// The cluster calculations run on (`df://host:port`), if the engine has one.
    pub fn cluster(&self) -> Option<String> {
        self.inner.cluster.as_ref().map(|c| c.options.url())
    }

    /// Connects to the engine's cluster within its connect timeout and asks the scheduler for
    /// about a job: [`EngineError::Cluster`] naming the address when it cannot be reached or
    /// is not a Ballista scheduler, [`EngineError::InvalidOption`] when the engine has no cluster.
    pub async fn check_cluster(&self) -> Result<ClusterStatus, EngineError> {
        let Some(cluster) = self.inner.cluster.as_ref() else {
            return Err(EngineError::InvalidOption { option: "cluster", message: "the engine has no cluster".into() });
        };
        #[cfg(feature = "cluster")]
        return cluster.session.check(&cluster.options).await;
        #[cfg(not(feature = "cluster"))]
        match cluster.session {}
    }

    /// The cluster a plan over `tables` runs on: the engine's, when it has one and every table
    /// can be read there; `None` to run here; [`EngineError::LocalOnly`] when the engine has a
    /// cluster and a table can only be read here.
    pub(crate) fn placement<'t>(
        &self,
        tables: impl IntoIterator<Item = (&'t str, &'t TableData)>,
    ) -> Result<Option<&Cluster>, EngineError> {
        let Some(cluster) = self.inner.cluster.as_ref() else { return Ok(None) };
        for (name, data) in tables {
            if let Some(why) = local_only(data) {
                return Err(EngineError::LocalOnly { object_model: name.to_string(), cluster: cluster.options.url(), why });
            }
        }
        Ok(Some(cluster))
    }

    /// The session a plan runs in: `cluster`'s when it runs there, otherwise the one-partition
    /// session for small inputs or the engine's own.
    pub(crate) fn context_for<'a>(&'a self, cluster: Option<&'a Cluster>, small: bool) -> &'a datafusion::prelude::SessionContext {
        match cluster {
            Some(cluster) => cluster.context(),
            None if small => &self.inner.small_ctx,
            None => &self.inner.ctx,
        }
    }

    /// [`Engine::collect`] in `ctx`; on `cluster`, a failure is the cluster's and the job counted.
    pub(crate) async fn collect_on(
        &self,
        cluster: Option<&Cluster>,
        physical: std::sync::Arc<dyn datafusion::physical_plan::ExecutionPlan>,
        ctx: &datafusion::prelude::SessionContext,
        query: &kpi_formula::Query,
    ) -> Result<Vec<datafusion::arrow::array::RecordBatch>, EngineError> {
        let batches = self.collect(physical, ctx, query).await.map_err(|e| failure(cluster, e))?;
        if cluster.is_some() {
            crate::metrics::Counters::add(&self.inner.counters.cluster_jobs, 1);
        }
        Ok(batches)
    }
}
