//! Counters of what the engine did, readable at any time.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// A snapshot of the engine's counters since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Metrics {
    /// Calculations asked for (each KPI of a dashboard counts).
    pub calculations: u64,
    /// Calculations that ended in an error (timeouts and cancellations included).
    pub errors: u64,
    /// Calculations stopped by their timeout.
    pub timeouts: u64,
    /// Calculations cancelled by their caller.
    pub cancellations: u64,
    /// Results served from the cache.
    pub cache_hits: u64,
    /// Cacheable calculations that found no fresh result in the cache.
    pub cache_misses: u64,
    /// Cache misses answered by bringing the cached result of older data up to date: only the
    /// periods appends touched were recalculated.
    pub cache_patches: u64,
    /// Cache misses answered from partial states per period and group kept up to date by
    /// appends: a query brought up to date by patching once and asked again after more appends
    /// is followed that way from then on (one table, no time intelligence), so an append costs
    /// in proportion to its rows and the answer reads no rows.
    pub maintained_answers: u64,
    /// Calculations that joined an identical one in flight (same query, same data) and took its
    /// result rather than running again.
    pub shared: u64,
    /// Calculations of a dashboard or batch answered by a plan shared with other queries that
    /// read and group the same rows (one scan for all of them).
    pub shared_scans: u64,
    /// Calculations of small inputs that ran the physical plan prepared for the same query over
    /// the same data, skipping DataFusion's planning.
    pub plans_reused: u64,
    /// Calculations that had to wait for a slot of their value chain.
    pub queued: u64,
    /// Rows registered or appended.
    pub rows_ingested: u64,
    /// Appended rows older than the latest event time seen before them.
    pub late_rows: u64,
    /// Appended rows older than that time minus the allowed lateness (kept all the same).
    pub rows_beyond_lateness: u64,
    /// In-memory rows released because they fell out of the retention window
    /// ([`crate::EngineOptions::retention`]).
    pub rows_released: u64,
    /// Rows stamped further ahead of the clock than the allowed skew
    /// ([`crate::EngineOptions::clock_skew`]): kept, but they did not move watermarks.
    pub rows_from_future: u64,
    /// Rows retention wrote to the archive and released from active data.
    pub rows_archived: u64,
    /// Rows retention deleted after their active period (the policy keeps no archive).
    pub rows_deleted: u64,
    /// Bytes of Arrow result data calculated, in full, by patching a cached result or from
    /// maintained states (cache hits and shared calculations add nothing): what calculations
    /// cost in memory over time.
    pub result_bytes: u64,
    /// Calculations that ran in a PostgreSQL database as one statement
    /// ([`crate::EngineOptions::pushdown`]).
    pub pushed_down: u64,
    /// Calculations that ran as jobs on the engine's Ballista cluster
    /// ([`crate::EngineOptions::cluster`]).
    pub cluster_jobs: u64,
    /// Bytes of result data the cache holds now (bounded by [`crate::CachePolicy::max_bytes`]).
    pub cached_bytes: u64,
    /// Bytes of the partial states kept for queries followed by maintained states (at most
    /// 256 MiB; see [`Metrics::maintained_answers`]).
    pub maintained_bytes: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) calculations: AtomicU64,
    pub(crate) errors: AtomicU64,
    pub(crate) timeouts: AtomicU64,
    pub(crate) cancellations: AtomicU64,
    pub(crate) cache_hits: AtomicU64,
    pub(crate) cache_misses: AtomicU64,
    pub(crate) cache_patches: AtomicU64,
    pub(crate) maintained_answers: AtomicU64,
    pub(crate) shared: AtomicU64,
    pub(crate) shared_scans: AtomicU64,
    pub(crate) plans_reused: AtomicU64,
    pub(crate) queued: AtomicU64,
    pub(crate) rows_ingested: AtomicU64,
    pub(crate) late_rows: AtomicU64,
    pub(crate) rows_beyond_lateness: AtomicU64,
    pub(crate) rows_released: AtomicU64,
    pub(crate) rows_from_future: AtomicU64,
    pub(crate) rows_archived: AtomicU64,
    pub(crate) rows_deleted: AtomicU64,
    pub(crate) result_bytes: AtomicU64,
    pub(crate) pushed_down: AtomicU64,
    pub(crate) cluster_jobs: AtomicU64,
}

impl Counters {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Metrics {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Metrics {
            calculations: get(&self.calculations),
            errors: get(&self.errors),
            timeouts: get(&self.timeouts),
            cancellations: get(&self.cancellations),
            cache_hits: get(&self.cache_hits),
            cache_misses: get(&self.cache_misses),
            cache_patches: get(&self.cache_patches),
            maintained_answers: get(&self.maintained_answers),
            shared: get(&self.shared),
            shared_scans: get(&self.shared_scans),
            plans_reused: get(&self.plans_reused),
            queued: get(&self.queued),
            rows_ingested: get(&self.rows_ingested),
            late_rows: get(&self.late_rows),
            rows_beyond_lateness: get(&self.rows_beyond_lateness),
            rows_released: get(&self.rows_released),
            rows_from_future: get(&self.rows_from_future),
            rows_archived: get(&self.rows_archived),
            rows_deleted: get(&self.rows_deleted),
            result_bytes: get(&self.result_bytes),
            pushed_down: get(&self.pushed_down),
            cluster_jobs: get(&self.cluster_jobs),
            cached_bytes: 0,
            maintained_bytes: 0,
        }
    }
}
