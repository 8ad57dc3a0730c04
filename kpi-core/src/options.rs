//! Settings of an engine and of one calculation.

use std::sync::Arc;
use std::time::Duration;

use kpi_formula::Calendar;

use crate::cache::CachePolicy;
use crate::clock::{Clock, SystemClock};
use crate::error::EngineError;
use crate::isolation::Cancellation;

/// The default of [`EngineOptions::max_result_rows`].
pub const DEFAULT_MAX_RESULT_ROWS: usize = 1_000_000;

/// How an [`Engine`](crate::Engine) calculates.
///
/// ```
/// use std::time::Duration;
/// use kpi_core::EngineOptions;
/// let options = EngineOptions::default()
///     .with_time_zone("Europe/Berlin")?
///     .with_timeout(Duration::from_secs(10))
///     .with_memory_limit(2 << 30);
/// assert_eq!(options.calendar.time_zone.name(), "Europe/Berlin");
/// # Ok::<(), kpi_core::EngineError>(())
/// ```
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// The calendar of queries that do not set their own: time zone and week start.
    pub calendar: Calendar,
    /// The most memory, in bytes, that calculations may reserve together (hash tables, sorts,
    /// joins); `None` for no limit. Exceeding it is [`EngineError::MemoryLimit`]. By default
    /// three quarters of the machine's or the container's memory
    /// ([`default_memory_limit`](crate::default_memory_limit)).
    pub memory_limit: Option<usize>,
    /// How long one calculation may take, queueing included; `None` for no limit.
    pub timeout: Option<Duration>,
    /// The most rows one result may have (periods × dimension groups); a calculation that
    /// produces more stops with [`EngineError::TooManyRows`] as soon as it passes the limit,
    /// before the rows are all held. `None` for no limit; a million by default.
    pub max_result_rows: Option<usize>,
    /// How many calculations of one value chain run at once; more wait in that chain's lane,
    /// so one chain's heavy KPIs never queue in front of another chain's.
    pub lane_concurrency: usize,
    /// DataFusion's partitions per scan and operator; `None` for the number of cores.
    pub target_partitions: Option<usize>,
    /// Result caching.
    pub cache: CachePolicy,
    /// The clock of cache expiry, refresh times and schedules.
    pub clock: Arc<dyn Clock>,
    /// How far behind the latest event time an appended row may be before it is counted as
    /// beyond lateness ([`crate::AppendReport::beyond_lateness`]); `None` for no limit.
    pub allowed_lateness: Option<Duration>,
    /// How long in-memory rows are kept, in event time behind the latest event time of their
    /// table: appends release the oldest batches that fell out of this window, so memory holds
    /// a window of rows rather than all of them. On-demand calculations (and views started
    /// afterwards) see only the rows kept; maintained views keep the values of released rows
    /// while they live. `None` (the default) keeps every row.
    pub retention: Option<Duration>,
    /// A directory that makes the engine durable: registrations, appends and removals of
    /// in-memory data are written to a write-ahead log there before they are acknowledged and
    /// compacted into Parquet checkpoints; an engine opened again with the same directory
    /// restores its tables. `None` (the default) keeps everything in memory only.
    pub data_dir: Option<std::path::PathBuf>,
    /// Where retention archives rows: a directory or an object-store URL (`s3://`, `gs://`,
    /// `az://`, `https://`). By default `archive/` in the [data directory](EngineOptions::data_dir).
    pub archive_location: Option<crate::DataLocation>,
    /// The retention policy enforced on the engine's clock ([`Engine::set_retention_policy`](crate::Engine::set_retention_policy));
    /// an engine for a client takes the client's when this is `None`.
    pub retention_policy: Option<kpi_catalog::RetentionPolicy>,
    /// Whether scheduled jobs and subscriptions record the values they calculate as KPI history
    /// ([`Engine::history`](crate::Engine::history)); off by default.
    pub history: bool,
    /// How far ahead of the engine's clock an event time may be and still move a table's
    /// watermark: rows further ahead are kept and counted
    /// ([`AppendReport::future_rows`](crate::AppendReport::future_rows)) but never make history
    /// look old. Five minutes by default.
    pub clock_skew: Duration,
    /// How streaming views count distinct values: exactly (by default), or with a sketch once a
    /// period and group has many ([`Estimate`]).
    pub distinct_counts: Estimate,
    /// How streaming views keep medians and percentiles: exactly, keeping every value (by
    /// default), or with a sketch of bounded size ([`Estimate`]).
    pub quantiles: Estimate,
    /// The calendar table of query documents that name none (see [`CalendarTableSpec`](crate::CalendarTableSpec)).
    pub calendar_table: Option<crate::CalendarTableSpec>,
    /// Whether a calculation whose tables all come from one PostgreSQL database (nothing
    /// appended in memory) runs there as one SQL statement, only its result coming back; `true`
    /// by default. Off, such tables are scanned (with their filters) and calculated here.
    pub pushdown: bool,
    /// An Apache Ballista cluster that runs calculations and dashboards instead of this
    /// process ([`ClusterOptions`]); `None` (the default) calculates here. Every table a
    /// calculation reads must then be files the executors can reach.
    pub cluster: Option<crate::ClusterOptions>,
}

/// Whether a streaming view may approximate an aggregate whose exact state grows with the rows:
/// distinct counts and medians or percentiles. Calculations on demand are always exact.
///
/// - Distinct counts: exact state is the set of the values' 64-bit hashes per period and group.
///   Approximately, a period and group switches to a HyperLogLog sketch of 4 KiB after
///   [`Estimate::DISTINCT_EXACT_UP_TO`] distinct values: standard error 1.6%.
/// - Medians and percentiles: exact state is every value. Approximately, a sketch of counts in
///   logarithmic buckets, whose size grows with the logarithm of the values' range: each order
///   statistic the percentile interpolates between is within
///   [`Estimate::QUANTILE_ACCURACY`] (1%) of the exact one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Estimate {
    /// Exact values; state grows with the distinct values or the rows.
    #[default]
    Exact,
    /// Approximate values with the error bounds above; state bounded per period and group.
    Approximate,
}

impl Estimate {
    /// Distinct values a period and group counts exactly before an approximate distinct count
    /// turns to a sketch.
    pub const DISTINCT_EXACT_UP_TO: usize = 512;
    /// The relative accuracy of each order statistic of an approximate median or percentile.
    pub const QUANTILE_ACCURACY: f64 = 0.01;
}

impl Default for EngineOptions {
    /// UTC with Monday weeks, a memory limit of three quarters of the memory available, a
    /// 60-second timeout, results of at most a million rows, four calculations per value
    /// chain at once, the seeds' cache TTLs, the system clock.
    fn default() -> Self {
        EngineOptions {
            calendar: Calendar::default(),
            memory_limit: crate::memory::default_memory_limit(),
            timeout: Some(Duration::from_secs(60)),
            max_result_rows: Some(DEFAULT_MAX_RESULT_ROWS),
            lane_concurrency: 4,
            target_partitions: None,
            cache: CachePolicy::default(),
            clock: Arc::new(SystemClock),
            allowed_lateness: None,
            retention: None,
            distinct_counts: Estimate::Exact,
            quantiles: Estimate::Exact,
            calendar_table: None,
            pushdown: true,
            cluster: None,
            data_dir: None,
            archive_location: None,
            retention_policy: None,
            history: false,
            clock_skew: Duration::from_secs(5 * 60),
        }
    }
}

impl EngineOptions {
    /// Sets the time zone of the default calendar by IANA name.
    pub fn with_time_zone(mut self, name: &str) -> Result<Self, EngineError> {
        let zone = Calendar::parse_time_zone(name).map_err(kpi_formula::FormulaError::from)?;
        self.calendar = Calendar { time_zone: zone, ..self.calendar };
        Ok(self)
    }

    /// Sets the default calendar.
    pub fn with_calendar(mut self, calendar: Calendar) -> Self {
        self.calendar = calendar;
        self
    }

    /// Sets the memory limit in bytes.
    pub fn with_memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = Some(bytes);
        self
    }

    /// Sets the most rows one result may have (`None` for no limit).
    pub fn with_max_result_rows(mut self, rows: Option<usize>) -> Self {
        self.max_result_rows = rows;
        self
    }

    /// Sets the timeout of each calculation.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets how many calculations of one value chain run at once.
    pub fn with_lane_concurrency(mut self, n: usize) -> Self {
        self.lane_concurrency = n;
        self
    }

    /// Sets the cache policy.
    pub fn with_cache(mut self, cache: CachePolicy) -> Self {
        self.cache = cache;
        self
    }

    /// Sets the allowed lateness of appended rows.
    pub fn with_allowed_lateness(mut self, lateness: Duration) -> Self {
        self.allowed_lateness = Some(lateness);
        self
    }

    /// Sets how long in-memory rows are kept ([`EngineOptions::retention`]).
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = Some(retention);
        self
    }

    /// Sets the data directory ([`EngineOptions::data_dir`]).
    pub fn with_data_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Sets where retention archives rows ([`EngineOptions::archive_location`]).
    pub fn with_archive_location(mut self, location: impl Into<crate::DataLocation>) -> Self {
        self.archive_location = Some(location.into());
        self
    }

    /// Sets the retention policy ([`EngineOptions::retention_policy`]).
    pub fn with_retention_policy(mut self, policy: kpi_catalog::RetentionPolicy) -> Self {
        self.retention_policy = Some(policy);
        self
    }

    /// Keeps KPI history ([`EngineOptions::history`]).
    pub fn with_history(mut self) -> Self {
        self.history = true;
        self
    }

    /// Sets how far ahead of the clock event times may move watermarks ([`EngineOptions::clock_skew`]).
    pub fn with_clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = skew;
        self
    }

    /// Sets how streaming views count distinct values.
    pub fn with_distinct_counts(mut self, estimate: Estimate) -> Self {
        self.distinct_counts = estimate;
        self
    }

    /// Sets how streaming views keep medians and percentiles.
    pub fn with_quantiles(mut self, estimate: Estimate) -> Self {
        self.quantiles = estimate;
        self
    }

    /// Sets the clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub(crate) fn check(&self) -> Result<(), EngineError> {
        if self.lane_concurrency == 0 {
            return Err(EngineError::InvalidOption { option: "lane_concurrency", message: "must be at least 1".into() });
        }
        if self.target_partitions == Some(0) {
            return Err(EngineError::InvalidOption { option: "target_partitions", message: "must be at least 1".into() });
        }
        if self.timeout == Some(Duration::ZERO) {
            return Err(EngineError::InvalidOption {
                option: "timeout",
                message: "must be longer than zero (use None for no timeout)".into(),
            });
        }
        Ok(())
    }
}

/// Settings of one calculation that override the engine's.
#[derive(Clone, Debug, Default)]
pub struct CalculateOptions {
    /// The timeout; `None` for the engine's.
    pub timeout: Option<Duration>,
    /// A token that cancels the calculation.
    pub cancellation: Option<Cancellation>,
    /// Skip the cache (the fresh result still replaces the cached one).
    pub bypass_cache: bool,
    /// Read only active data, leaving out rows retention archived (such results are not cached).
    pub active_only: bool,
}

impl CalculateOptions {
    /// Sets the timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the cancellation token.
    pub fn with_cancellation(mut self, token: Cancellation) -> Self {
        self.cancellation = Some(token);
        self
    }

    /// Skips the cache.
    pub fn bypassing_cache(mut self) -> Self {
        self.bypass_cache = true;
        self
    }

    /// Reads only active data ([`CalculateOptions::active_only`]).
    pub fn active_only(mut self) -> Self {
        self.active_only = true;
        self
    }
}
