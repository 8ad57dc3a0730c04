//! Cached results: a time to live per KPI, module or value chain, and exact invalidation by data
//! version.
//!
//! A cached result remembers the version of every object model its plan read. Registering,
//! replacing or appending data gives that model a new version, so a result over changed data is
//! never served, whatever its TTL. It stays in the cache all the same: after appends, a result
//! whose periods depend only on their own rows is brought up to date by recalculating just the
//! periods the appends touched (`crate::patch`). The TTL bounds how stale a result over data the
//! engine cannot see change (a Parquet directory another process writes to) may get, and how
//! long a result occupies memory.
//!
//! Identical calculations over the same data versions asked for while one of them runs share
//! its result ([`Flights`]): after an append invalidates a popular dashboard's results, a burst
//! of requests for it recalculates once, not once per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use kpi_formula::Query;
use tokio::sync::OnceCell;

use crate::result::KpiResult;

/// How long results are kept. The most specific setting wins: KPI, then module, then value
/// chain, then the default (ad-hoc formulas use `formula_ttl`). A zero TTL turns caching off.
///
/// ```
/// use std::time::Duration;
/// use kpi_core::CachePolicy;
/// let policy = CachePolicy::default().with_value_chain("scor", Duration::from_secs(3600)).with_kpi("revenue", Duration::ZERO);
/// assert_eq!(policy.ttl(Some("on_time_delivery"), None, Some("scor")), Duration::from_secs(3600));
/// assert_eq!(policy.ttl(Some("revenue"), None, Some("scor")), Duration::ZERO);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct CachePolicy {
    /// The TTL of KPIs with no more specific setting.
    pub default_ttl: Duration,
    /// The TTL of ad-hoc formulas.
    pub formula_ttl: Duration,
    /// TTLs by KPI code.
    pub kpis: HashMap<String, Duration>,
    /// TTLs by module code.
    pub modules: HashMap<String, Duration>,
    /// TTLs by value chain code.
    pub value_chains: HashMap<String, Duration>,
    /// The most results kept; the oldest go first.
    pub max_entries: usize,
    /// The most bytes of result data kept (Arrow buffers); the oldest go first, and a result
    /// larger than this is not cached at all.
    pub max_bytes: usize,
}

/// The default bound on the bytes of cached results: 256 MiB.
pub const DEFAULT_CACHE_BYTES: usize = 256 << 20;

impl Default for CachePolicy {
    /// The seeds' settings: supply chain (SCOR) results for an hour, CRM results for five
    /// minutes, other KPIs five minutes, ad-hoc formulas fifteen; at most 1,024 results and
    /// [`DEFAULT_CACHE_BYTES`] of them.
    fn default() -> Self {
        CachePolicy {
            default_ttl: Duration::from_secs(300),
            formula_ttl: Duration::from_secs(900),
            kpis: HashMap::new(),
            modules: HashMap::new(),
            value_chains: HashMap::from([("scor".to_string(), Duration::from_secs(3600)), ("crm".to_string(), Duration::from_secs(300))]),
            max_entries: 1024,
            max_bytes: DEFAULT_CACHE_BYTES,
        }
    }
}

impl CachePolicy {
    /// No caching at all.
    pub fn disabled() -> Self {
        CachePolicy {
            default_ttl: Duration::ZERO,
            formula_ttl: Duration::ZERO,
            kpis: HashMap::new(),
            modules: HashMap::new(),
            value_chains: HashMap::new(),
            max_entries: 0,
            max_bytes: 0,
        }
    }

    /// Sets the TTL of one KPI.
    pub fn with_kpi(mut self, code: impl Into<String>, ttl: Duration) -> Self {
        self.kpis.insert(code.into(), ttl);
        self
    }

    /// Sets the TTL of a module's KPIs.
    pub fn with_module(mut self, code: impl Into<String>, ttl: Duration) -> Self {
        self.modules.insert(code.into(), ttl);
        self
    }

    /// Sets the TTL of a value chain's KPIs.
    pub fn with_value_chain(mut self, code: impl Into<String>, ttl: Duration) -> Self {
        self.value_chains.insert(code.into(), ttl);
        self
    }

    /// The TTL of a KPI (`None` for an ad-hoc formula) in its module and value chain.
    pub fn ttl(&self, kpi: Option<&str>, module: Option<&str>, value_chain: Option<&str>) -> Duration {
        let Some(kpi) = kpi else { return self.formula_ttl };
        self.kpis
            .get(kpi)
            .or_else(|| module.and_then(|m| self.modules.get(m)))
            .or_else(|| value_chain.and_then(|v| self.value_chains.get(v)))
            .copied()
            .unwrap_or(self.default_ttl)
    }
}

/// How a result came about: the path it took through the cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheOutcome {
    /// Calculated in full: nothing usable was cached, the cache is off for it, or it was bypassed.
    #[default]
    Full,
    /// A cached result over the same data.
    Hit,
    /// The result of an identical calculation in flight that this one joined.
    Shared,
    /// A cached result over older data, brought up to date by recalculating only the periods
    /// appends touched.
    Patched,
    /// Read from partial states per period and group that appends keep up to date (see
    /// [`crate::Metrics::maintained_answers`]).
    Maintained,
}

impl CacheOutcome {
    /// The outcome's name: `full`, `hit`, `shared`, `patched` or `maintained`.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheOutcome::Full => "full",
            CacheOutcome::Hit => "hit",
            CacheOutcome::Shared => "shared",
            CacheOutcome::Patched => "patched",
            CacheOutcome::Maintained => "maintained",
        }
    }
}

/// Versions of the object models a result read, sorted by name.
pub(crate) type Versions = Vec<(String, u64)>;

struct Entry {
    result: Arc<KpiResult>,
    versions: Versions,
    /// The definitions generation the calculation started in (`crate::definitions`).
    generation: u64,
    expires: DateTime<Utc>,
    seq: u64,
    bytes: usize,
}

/// The entries and what they hold in all.
#[derive(Default)]
struct Entries {
    map: HashMap<Query, Entry>,
    seq: u64,
    bytes: usize,
}

impl Entries {
    fn remove(&mut self, key: &Query) {
        if let Some(e) = self.map.remove(key) {
            self.bytes -= e.bytes;
        }
    }
}

/// The results cache, by the query as asked: a default range moves with the data, and a result
/// over older data is still the one to bring up to date.
#[derive(Default)]
pub(crate) struct ResultCache {
    entries: Mutex<Entries>,
}

/// What the cache holds for a key.
pub(crate) enum Lookup {
    /// A result over the data versions asked for.
    Fresh(Arc<KpiResult>),
    /// A result over other data versions, within its TTL, and when it expires.
    Stale { result: Arc<KpiResult>, versions: Versions, expires: DateTime<Utc> },
    /// Nothing usable.
    Missing,
}

impl ResultCache {
    /// The result of `key` if it is within its TTL at `now` and was calculated in definitions
    /// generation `valid_since` or later: fresh if it read exactly `versions`, else stale. An
    /// expired or outdated result is dropped.
    pub(crate) fn get(&self, key: &Query, versions: &Versions, now: DateTime<Utc>, valid_since: u64) -> Lookup {
        let mut guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let Some(entry) = guard.map.get(key) else { return Lookup::Missing };
        if entry.expires <= now || entry.generation < valid_since {
            guard.remove(key);
            return Lookup::Missing;
        }
        if entry.versions == *versions {
            return Lookup::Fresh(entry.result.clone());
        }
        Lookup::Stale { result: entry.result.clone(), versions: entry.versions.clone(), expires: entry.expires }
    }

    /// The result of `key` if it is within its TTL at `now` and every object model it read is
    /// still at the version it read (`current` gives a model's version now): a hit found
    /// before the query is planned, since what a query reads is fixed by the catalog.
    pub(crate) fn fresh(
        &self,
        key: &Query,
        now: DateTime<Utc>,
        valid_since: u64,
        current: impl Fn(&str) -> Option<u64>,
    ) -> Option<Arc<KpiResult>> {
        let guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = guard.map.get(key)?;
        let fresh = entry.expires > now
            && entry.generation >= valid_since
            && entry.versions.iter().all(|(table, version)| current(table) == Some(*version));
        fresh.then(|| entry.result.clone())
    }

    /// Whether a result of `key` within its TTL at `now` and of definitions generation
    /// `valid_since` or later is held, over whatever data.
    pub(crate) fn holds(&self, key: &Query, now: DateTime<Utc>, valid_since: u64) -> bool {
        let guard = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        guard.map.get(key).is_some_and(|e| e.expires > now && e.generation >= valid_since)
    }

    /// Stores a result over data `versions` of definitions generation `generation` until `expires`, evicting the oldest entries beyond `policy`'s bounds on
    /// entries and bytes; a result larger than the bytes bound alone is not stored.
    pub(crate) fn put(
        &self,
        key: Query,
        result: Arc<KpiResult>,
        (versions, generation): (Versions, u64),
        expires: DateTime<Utc>,
        policy: &CachePolicy,
        now: DateTime<Utc>,
    ) {
        let bytes = result.memory_size();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(&key);
        if bytes > policy.max_bytes || policy.max_entries == 0 {
            return;
        }
        entries.seq += 1;
        let seq = entries.seq;
        entries.map.insert(key, Entry { result, versions, generation, expires, seq, bytes });
        entries.bytes += bytes;
        let over = |e: &Entries| e.map.len() > policy.max_entries || e.bytes > policy.max_bytes;
        if over(&entries) {
            let expired: Vec<Query> = entries.map.iter().filter(|(_, e)| e.expires <= now).map(|(k, _)| k.clone()).collect();
            for k in &expired {
                entries.remove(k);
            }
        }
        while over(&entries) {
            let Some(oldest) = entries.map.iter().min_by_key(|(_, e)| e.seq).map(|(k, _)| k.clone()) else { break };
            entries.remove(&oldest);
        }
    }

    /// The bytes of result data held.
    pub(crate) fn bytes(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).bytes
    }

    /// Drops the entries of the queries `depends` picks; how many.
    pub(crate) fn forget(&self, depends: impl Fn(&Query) -> bool) -> usize {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let gone: Vec<Query> = entries.map.keys().filter(|q| depends(q)).cloned().collect();
        for key in &gone {
            entries.remove(key);
        }
        gone.len()
    }

    /// Drops every entry.
    pub(crate) fn clear(&self) {
        *self.entries.lock().unwrap_or_else(|p| p.into_inner()) = Entries::default();
    }

    /// How many results are held.
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).map.len()
    }
}

/// The result cell of one calculation in flight.
pub(crate) type FlightCell = Arc<OnceCell<Arc<KpiResult>>>;

/// What makes two calculations the same one: the query as asked, over the same data versions,
/// with the same definitions.
#[derive(Clone, PartialEq, Eq, Hash)]
struct FlightKey {
    query: Query,
    versions: Versions,
    generation: u64,
}

/// Calculations in flight.
#[derive(Default)]
pub(crate) struct Flights {
    cells: Mutex<HashMap<FlightKey, FlightCell>>,
}

impl Flights {
    /// Joins the calculation of `key` over `versions`, starting one if none is in flight. The
    /// first to call [`OnceCell::get_or_try_init`] on the cell runs it; if that caller is
    /// dropped (timeout, cancellation) or fails, the next one waiting runs it instead.
    pub(crate) fn join(&self, query: &Query, versions: &Versions, generation: u64) -> Flight<'_> {
        let mut cells = self.cells.lock().unwrap_or_else(|p| p.into_inner());
        let id = FlightKey { query: query.clone(), versions: versions.clone(), generation };
        let cell = cells.entry(id.clone()).or_default().clone();
        Flight { flights: self, id, cell }
    }

    /// How many calculations are in flight.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.cells.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// A part in a calculation in flight; the last part to leave removes it.
pub(crate) struct Flight<'a> {
    flights: &'a Flights,
    id: FlightKey,
    /// The shared result, set by whichever part ran the calculation.
    pub(crate) cell: FlightCell,
}

impl Drop for Flight<'_> {
    fn drop(&mut self) {
        let mut cells = self.flights.cells.lock().unwrap_or_else(|p| p.into_inner());
        // The map's reference and this one: nobody else waits for the result.
        if Arc::strong_count(&self.cell) <= 2 && cells.get(&self.id).is_some_and(|c| Arc::ptr_eq(c, &self.cell)) {
            cells.remove(&self.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flight_is_removed_when_its_last_part_leaves() {
        let flights = Flights::default();
        let versions = vec![("orders".to_string(), 1)];
        let q = Query::kpi("revenue");
        let a = flights.join(&q, &versions, 0);
        let b = flights.join(&q, &versions, 0);
        assert!(Arc::ptr_eq(&a.cell, &b.cell));
        let other = flights.join(&q, &vec![("orders".to_string(), 2)], 0);
        assert!(!Arc::ptr_eq(&a.cell, &other.cell), "other data versions are another calculation");
        assert_eq!(flights.len(), 2);
        drop(a);
        assert_eq!(flights.len(), 2);
        drop(b);
        drop(other);
        assert_eq!(flights.len(), 0);
    }
}
