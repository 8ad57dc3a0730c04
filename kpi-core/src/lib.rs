//! # kpi-core — the KPI engine
//!
//! An [`Engine`] holds a [`Catalog`](kpi_catalog::Catalog), the data registered for its object
//! models (Arrow record batches, Parquet or CSV files, any DataFusion `TableProvider`, checked
//! against each model's schema) and a DataFusion session. It calculates KPI and formula
//! [`Query`](kpi_formula::Query)s on demand — one at a time, as a batch, or as a [`Dashboard`]
//! whose KPIs run concurrently and fail alone — and returns [`KpiResult`]s: Arrow batches, typed
//! rows, series with [`Status`] and [`Trend`], JSON.
//!
//! ```
//! use kpi_catalog::{Catalog, DemoOptions};
//! use kpi_core::{Engine, Status};
//! use kpi_formula::{Grain, Query};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let catalog = Catalog::standard();
//! let engine = Engine::new(catalog.clone())?;
//! engine.register_demo(catalog.demo_data(&DemoOptions::new(2_000).with_seed(7).with_range("2024-01-01", "2024-07-01")?)?)?;
//!
//! let query = Query::kpi("perfect_order_rate").with_grain(Grain::Month).by(["orders.region"]);
//! let result = engine.calculate(&query).await?;
//! assert_eq!(result.schema().field(1).name(), "orders.region");
//! for (region, summary) in result.summaries() {
//!     assert_ne!(summary.status, Status::NotRated, "{region:?}");
//! }
//! println!("{}", serde_json::to_string_pretty(&result)?);
//! # Ok(()) }
//! ```
//!
//! ## What the engine adds to a plan
//!
//! * **Default ranges** — a query with a grain and no range covers its tables' data.
//! * **Caching** ([`CachePolicy`]) — per KPI, module or value chain TTLs; a result is never
//!   served once data it read has changed.
//! * **Isolation** ([`EngineOptions`]) — a lane of limited concurrency per value chain, a
//!   timeout per calculation, [`Cancellation`], and a memory limit through DataFusion's pool.
//! * **Explain and SQL** — [`Engine::explain`] shows the plans; [`Engine::to_sql`] writes a
//!   query for PostgreSQL, TimescaleDB, MySQL, SQLite, DuckDB or BigQuery ([`SqlDialect`]).
//! * **A cluster** ([`ClusterOptions`], feature `cluster`) — plans run as jobs of an Apache
//!   Ballista scheduler (`kpi-scheduler` and `kpi-executor` of the `kpi-executor` crate) over
//!   files the executors read; [`Engine::check_cluster`] connects.
//! * **Observability** — `tracing` spans `kpi.calculate` › `kpi.plan`, `kpi.physical_plan`,
//!   `kpi.execute`, with durations in events; counters through [`Engine::metrics`].
//!
//! Calculations need a Tokio runtime with its time driver (as `#[tokio::main]` builds).

#![warn(missing_docs)]

pub mod alerts;
mod answers;
mod cache;
mod calculate;
mod calendar_table;
mod clock;
mod cluster;
mod dashboard;
mod data;
mod definitions;
mod engine;
mod error;
mod files;
pub mod forecast;
mod isolation;
pub mod lifecycle;
mod maintenance;
mod memory;
mod metrics;
pub mod notify;
mod option_value;
mod options;
mod patch;
#[cfg(feature = "postgres")]
mod postgres;
mod prepared;
pub mod reports;
mod result;
mod settings;
mod shared;
mod spec;
mod sql;
mod stream;

pub use alerts::{ActiveAlert, AlertEvent, AlertEventKind, AlertEvents, AlertRule, AlertRuleInfo, AlertRuleSpec, Condition, Level};
pub use cache::{CacheOutcome, CachePolicy, DEFAULT_CACHE_BYTES};
pub use calculate::SMALL_INPUT_ROWS;
pub use calendar_table::CalendarTableSpec;
pub use clock::{Clock, ManualClock, SystemClock, Wait};
#[cfg(all(feature = "cluster", feature = "object-stores"))]
pub use cluster::EnvironmentStores;
pub use cluster::{ClusterOptions, ClusterStatus, DEFAULT_SCHEDULER_PORT};
#[cfg(feature = "cluster")]
pub use cluster::{KpiLogicalCodec, KpiPhysicalCodec};
pub use dashboard::{Dashboard, DashboardItem};
pub use data::AppendReport;
pub use definitions::DefinitionChange;
pub use engine::{Engine, RegisteredData};
pub use error::EngineError;
pub use files::DataLocation;
pub use isolation::Cancellation;
pub use kpi_catalog::Cron;
pub use kpi_formula::ErrorCategory;
pub use lifecycle::{
    ArchiveEntry, ArchiveIndex, ArchiveRun, HISTORY_TABLE, HistoryQuery, HistoryRow, ModelStorage, PlannedRelease, RetentionPlan,
    RetentionProgress, RetentionReport, RunOutcome, StorageReport,
};
pub use maintenance::Maintenance;
pub use memory::{DEFAULT_MEMORY_SHARE, default_memory_limit};
pub use metrics::Metrics;
pub use notify::{DeadLetter, MailSettings, NotifierInfo, NotifierSpec, sign_webhook, verify_webhook};
pub use option_value::{MAX_DURATION, TimeSetting};
pub use options::{CalculateOptions, DEFAULT_MAX_RESULT_ROWS, EngineOptions, Estimate};
#[cfg(feature = "postgres")]
pub use postgres::{
    DEFAULT_CONNECT_TIMEOUT, Feed, FeedKey, FeedPosition, FeedStatus, FollowOptions, FollowSettings, KeyPart, PostgresDsn, PostgresTable,
    TlsMode,
};
pub use reports::{RelativeRange, ReportDocument, ReportFormat, ReportInfo, ReportRange, ReportRun, ReportSpec};
pub use result::{
    Comparison, ComparisonRow, DimensionValue, KpiInfo, KpiResult, ResultRow, STABLE_BAND_PCT, Series, Status, Summary, Timing, Trend,
    TrendDirection,
};
pub use settings::{CacheSettings, EngineSettings};
pub use spec::{Baseline, QuerySpec};
pub use sql::{Explain, SqlDialect};
pub use stream::{JobInfo, Refresh, StreamInfo, Subscription, Update, UpdateKind, Updates};

/// The Rust examples of the repository's README.md run as doctests of this crate (the lowest
/// crate that sees the formula language, the catalog and the engine; pricing is a dev-dependency).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
