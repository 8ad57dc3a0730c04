//! Answers from maintained state: a query that appends keep making stale is followed by
//! partial states per period and group (the cube a streaming view would use), which each
//! append updates in time proportional to its rows, and later calculations of it read those
//! states instead of the rows.
//!
//! A query earns its states by being asked again after appends twice: the first time its
//! cached result is patched (`crate::patch`, cheap when appends touch few periods and
//! batches) or recalculated; asked again after more appends, its cube is built from the rows
//! in memory (one pass) and answers from then on. Only what the states give exactly takes
//! this path, over an explicit range (a range defaulted from the data moves with appends;
//! patching follows it): one table in memory, its own columns, no time intelligence
//! ([`Maintenance::Cube`]), exact distinct counts and percentiles, no rows released or
//! archived. Anything else, or a
//! states answer that cannot vouch for the version planned, falls back to patching or a full
//! calculation, so answers equal those calculations (property-tested in
//! `kpi-core/tests/it/maintained.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kpi_formula::ir::AggFunc;
use kpi_formula::{IncrementalPlan, Query};

use crate::cache::{CacheOutcome, Versions};
use crate::calculate::Planned;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::maintenance::Maintainable;
#[cfg(doc)]
use crate::maintenance::Maintenance;
use crate::options::Estimate;
use crate::result::KpiResult;
use crate::stream::Maintained;

/// The most queries followed by maintained states; the least recently answered goes first.
pub(crate) const MAX_MAINTAINED_ANSWERS: usize = 128;

/// The most bytes of states kept for followed queries (exact distinct counts keep a hash per
/// value and period, exact percentiles every value); past it the least recently answered go,
/// and states bigger than this alone answer once and are not built again for that query.
pub(crate) const MAX_MAINTAINED_BYTES: usize = 256 << 20;

/// The most queries remembered as too big to follow.
const MAX_TOO_BIG: usize = 1_024;

/// One followed query: its states and what they are valid for.
struct Followed {
    maintained: Arc<Maintained>,
    /// The definitions generation the states were built in.
    generation: u64,
    /// When it last answered (a counter), for eviction.
    used: u64,
}

/// The queries followed by maintained states, by their planned query (range defaulted).
#[derive(Default)]
pub(crate) struct Answers {
    followed: Mutex<HashMap<Query, Followed>>,
    /// Queries whose states alone passed [`MAX_MAINTAINED_BYTES`]: calculated as before rather
    /// than built again at every append.
    too_big: Mutex<std::collections::HashSet<Query>>,
    clock: std::sync::atomic::AtomicU64,
}

impl Answers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Query, Followed>> {
        self.followed.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn tick(&self) -> u64 {
        self.clock.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// The states of `query` if they were built in a generation at least `valid_since`.
    fn get(&self, query: &Query, valid_since: u64) -> Option<Arc<Maintained>> {
        let used = self.tick();
        let mut followed = self.lock();
        let entry = followed.get_mut(query).filter(|f| f.generation >= valid_since)?;
        entry.used = used;
        Some(entry.maintained.clone())
    }

    fn too_big(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<Query>> {
        self.too_big.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn keep(&self, query: Query, maintained: Arc<Maintained>, generation: u64) {
        if maintained.bytes() > MAX_MAINTAINED_BYTES {
            let mut too_big = self.too_big();
            if too_big.len() < MAX_TOO_BIG {
                too_big.insert(query);
            }
            return;
        }
        let used = self.tick();
        let mut followed = self.lock();
        followed.insert(query, Followed { maintained, generation, used });
        // States grow with appends, so their size is taken as it is now.
        while followed.len() > MAX_MAINTAINED_ANSWERS || held(&followed) > MAX_MAINTAINED_BYTES {
            let Some(oldest) = followed.iter().min_by_key(|(_, f)| f.used).map(|(q, _)| q.clone()) else { break };
            followed.remove(&oldest);
        }
    }

    /// About how many bytes the states of the followed queries hold.
    pub(crate) fn bytes(&self) -> usize {
        held(&self.lock())
    }

    /// Stops following every query (their cubes go when no view uses them).
    pub(crate) fn clear(&self) {
        self.lock().clear();
        self.too_big().clear();
    }

    /// Stops following the queries `depends` says a definition change affects.
    pub(crate) fn forget(&self, depends: impl Fn(&Query) -> bool) {
        self.lock().retain(|q, _| !depends(q));
        self.too_big().retain(|q| !depends(q));
    }
}

/// The bytes of the cubes `followed` read, each counted once (queries grouping a table the
/// same way share one).
fn held(followed: &HashMap<Query, Followed>) -> usize {
    let mut seen = std::collections::HashSet::new();
    followed.values().filter(|f| seen.insert(f.maintained.cube_id())).map(|f| f.maintained.bytes()).sum()
}

/// Whether `plan`'s states give exactly what a calculation gives under `options`.
fn exact(plan: &IncrementalPlan, distinct: Estimate, quantiles: Estimate) -> bool {
    plan.aggregates.iter().all(|a| match a.func {
        AggFunc::CountDistinct => distinct == Estimate::Exact,
        AggFunc::Median | AggFunc::Percentile(_) | AggFunc::PercentileDisc(_) => quantiles == Estimate::Exact,
        // DataFusion's t-digest and the cube's sketch are different approximations.
        AggFunc::ApproxPercentile(_) => false,
        AggFunc::Sum | AggFunc::Count | AggFunc::Avg | AggFunc::Min | AggFunc::Max => true,
    })
}

impl Engine {
    /// Whether `stale`, a cached result over the data versions `old`, was itself calculated
    /// after appends (patched, answered from states, or calculated over appended data): the
    /// query is being asked as data arrives, so following it pays.
    pub(crate) fn asked_across_appends(&self, stale: &KpiResult, old: &Versions) -> bool {
        if matches!(stale.cache_outcome(), CacheOutcome::Patched | CacheOutcome::Maintained) {
            return true;
        }
        let tables = self.inner.tables.read().unwrap_or_else(|e| e.into_inner());
        old.iter().all(|(table, version)| tables.get(table).is_some_and(|data| *version > data.log_since))
    }

    /// `planned`'s values read from maintained states: those already followed, or (with
    /// `follow`) states built now from the rows in memory. `None` when the query cannot be
    /// answered that way at the version planned; the caller calculates instead.
    pub(crate) fn maintained_answer(
        &self,
        asked: &Query,
        planned: &Planned,
        (generation, valid_since): (u64, u64),
        follow: bool,
    ) -> Option<Result<KpiResult, EngineError>> {
        let [(table, version)] = planned.versions.as_slice() else { return None };
        let maintained = match self.inner.answers.get(&planned.query, valid_since) {
            Some(m) => m,
            // A range defaulted from the data moves with appends (a new planned query each
            // time): patching follows it, a cube per append would not pay.
            None if follow && asked.range.is_some() && !self.inner.answers.too_big().contains(&planned.query) => {
                let tables = self.inner.tables.read().unwrap_or_else(|e| e.into_inner());
                if !tables.get(table).is_some_and(crate::data::TableData::all_rows_in_memory) {
                    return None;
                }
                let plan = Maintainable::of(&planned.query, &self.catalog()).cube?;
                let options = &self.inner.options;
                if plan.table != *table || !exact(&plan, options.distinct_counts, options.quantiles) {
                    return None;
                }
                let maintained = Arc::new(Maintained::start_in_memory(self, &plan)?);
                self.inner.answers.keep(planned.query.clone(), maintained.clone(), generation);
                maintained
            }
            None => return None,
        };
        let (schema, batches) = match maintained.answer(self, *version) {
            Ok(answer) => answer?,
            Err(e) => return Some(Err(e)),
        };
        let info = self.info_of(asked);
        Some(Ok(KpiResult::maintained(info, asked.clone(), planned.range, schema, batches)))
    }
}
