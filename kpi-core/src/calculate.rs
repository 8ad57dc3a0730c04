//! Calculating one query: default range, compile, cache (joining an identical calculation in
//! flight), plan, execute, under the lane, timeout and cancellation of its value chain.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::datasource::provider_as_source;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{LogicalPlan, TableSource};
use datafusion::optimizer::Optimizer;
use datafusion::optimizer::replace_distinct_aggregate::ReplaceDistinctWithAggregate;
use datafusion::optimizer::simplify_expressions::SimplifyExpressions;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use kpi_catalog::{Catalog, KpiDefinition};
use kpi_formula::{EmptyPeriods, Query, TableSources, Target, TimeRange};
use tracing::Instrument;

use crate::cache::{CacheOutcome, Lookup, Versions};
use crate::data::TableData;
use crate::engine::Engine;
use crate::error::EngineError;
use crate::isolation::AD_HOC_LANE;
use crate::metrics::Counters;
use crate::options::CalculateOptions;
use crate::prepared::PlanKey;
use crate::result::{KpiInfo, KpiResult, Timing};

/// The registered tables a plan was built over, recording the version of each table it read and
/// the ones that had no data.
pub(crate) struct Snapshot {
    tables: std::collections::HashMap<String, TableData>,
    read: RefCell<BTreeMap<String, u64>>,
    missing: RefCell<Vec<String>>,
}

impl Snapshot {
    /// A snapshot of `tables`, nothing read yet.
    pub(crate) fn new(tables: std::collections::HashMap<String, TableData>) -> Self {
        Snapshot { tables, read: RefCell::default(), missing: RefCell::default() }
    }

    /// The tables, and the version of each one a plan read.
    pub(crate) fn into_read(self) -> (std::collections::HashMap<String, TableData>, Versions) {
        (self.tables, self.read.into_inner().into_iter().collect())
    }
}

impl TableSources for Snapshot {
    fn source(&self, table: &str) -> Result<Arc<dyn TableSource>, DataFusionError> {
        match self.tables.get(table) {
            Some(data) => {
                self.read.borrow_mut().insert(table.to_string(), data.version);
                Ok(provider_as_source(data.provider.clone()))
            }
            None => {
                self.missing.borrow_mut().push(table.to_string());
                Err(DataFusionError::Plan(format!("no data registered for `{table}`")))
            }
        }
    }
}

/// Inputs with at most this many rows, all in memory, are planned for one partition, with only
/// the logical rules the physical planner relies on and only the physical rule that makes a
/// plan runnable: for them planning, not execution, is the cost.
pub const SMALL_INPUT_ROWS: usize = 50_000;

/// The periods a view recalculates: event times `[from, to)` (microseconds) of `table`, the
/// one table it reads.
pub(crate) struct Part {
    pub(crate) table: String,
    pub(crate) from: i64,
    pub(crate) to: i64,
}

/// What the catalog says of a query for calculating it ([`Engine::standing`]).
pub(crate) struct Standing<'c> {
    /// The KPI, for a KPI query.
    pub(crate) kpi: Option<&'c KpiDefinition>,
    /// The lane it runs in: its value chain's, or the ad-hoc lane.
    pub(crate) lane: &'c str,
    /// How long its results are cached (zero: not at all).
    pub(crate) ttl: Duration,
}

/// A planned query ready to run, with what its result reports of how it got there.
struct Execute<'a> {
    query: &'a Query,
    info: KpiInfo,
    planned: Planned,
    lane: &'a str,
    started: Instant,
    planning: Duration,
    queued: Duration,
    /// The definitions generation it was planned in, when its physical plan may be prepared
    /// and reused (all the data, not a view's part or active data only).
    prepare: Option<u64>,
}

/// A query compiled and lowered over a snapshot of the data.
pub(crate) struct Planned {
    pub(crate) query: Query,
    pub(crate) plan: LogicalPlan,
    pub(crate) range: Option<TimeRange>,
    pub(crate) versions: Versions,
    /// Every table read is in memory, together at most [`SMALL_INPUT_ROWS`] rows.
    pub(crate) small: bool,
    /// It runs on the engine's cluster.
    pub(crate) on_cluster: bool,
    /// The statement to run in PostgreSQL instead, when every table read lives there.
    #[cfg(feature = "postgres")]
    pub(crate) pushdown: Option<crate::postgres::Pushdown>,
}

impl Engine {
    /// Calculates a KPI or formula query with the engine's timeout.
    ///
    /// A query without a time range but with a grain covers the data: from the first to the
    /// last time of the tables it aggregates. Over empty tables the result is empty.
    pub async fn calculate(&self, query: &Query) -> Result<KpiResult, EngineError> {
        self.calculate_with(query, &CalculateOptions::default()).await
    }

    /// Calculates a query with its own timeout, cancellation or cache setting.
    pub async fn calculate_with(&self, query: &Query, options: &CalculateOptions) -> Result<KpiResult, EngineError> {
        self.calculate_part(query, options, None).await
    }

    /// [`Engine::calculate_with`], or with `part` a view's recalculation of a few periods: it
    /// scans only the in-memory batches of the table that may hold them, and its result is not
    /// cached (it is of no use to anyone else).
    pub(crate) async fn calculate_part(
        &self,
        query: &Query,
        options: &CalculateOptions,
        part: Option<&Part>,
    ) -> Result<KpiResult, EngineError> {
        let counters = &self.inner.counters;
        Counters::add(&counters.calculations, 1);
        let what = describe(query);
        let span = tracing::info_span!("kpi.calculate", what = %what, grain = ?query.grain.map(|g| g.as_str()));
        let started = Instant::now();
        let work = self.calculate_in_lane(query, options, part, started).instrument(span);
        let timeout = options.timeout.or(self.inner.options.timeout);
        let cancelled = async {
            match &options.cancellation {
                Some(token) => token.cancelled().await,
                None => std::future::pending().await,
            }
        };
        let outcome = tokio::select! {
            r = work => r,
            () = cancelled => {
                Counters::add(&counters.cancellations, 1);
                Err(EngineError::Cancelled(what.clone()))
            }
            () = sleep_or_forever(timeout) => {
                Counters::add(&counters.timeouts, 1);
                Err(EngineError::Timeout { what: what.clone(), after: timeout.unwrap_or_default() })
            }
        };
        // A scan that failed over archived files may have met a corrupt one: say which.
        let outcome = match outcome {
            Err(e @ EngineError::Execution(_)) => Err(self.explain_failure(query, e).await),
            other => other,
        };
        if let Err(e) = &outcome {
            Counters::add(&counters.errors, 1);
            tracing::debug!(error = %e, code = e.code(), "calculation failed");
        }
        outcome
    }

    pub(crate) async fn calculate_in_lane(
        &self,
        query: &Query,
        options: &CalculateOptions,
        part: Option<&Part>,
        started: Instant,
    ) -> Result<KpiResult, EngineError> {
        // The definitions generation before the catalog: a result is never cached as newer
        // than the definitions it was calculated with (`crate::definitions`).
        let generation = self.inner.definitions.generation();
        let valid_since = self.inner.definitions.valid_since(query);
        let catalog = self.catalog();
        let Standing { kpi, lane, ttl } = self.standing(&catalog, query);
        let info = self.info(query, kpi);
        let cacheable = ttl != Duration::ZERO && part.is_none() && !options.active_only;
        if cacheable
            && !options.bypass_cache
            && let Some(hit) = self.fresh_result(query, valid_since)
        {
            Counters::add(&self.inner.counters.cache_hits, 1);
            let mut result = KpiResult::clone(&hit);
            result.cache = CacheOutcome::Hit;
            result.query = query.clone();
            result.timing.total = started.elapsed();
            return Ok(result);
        }
        // Planning may scan (a default range needs the data's time bounds), so it takes a slot
        // of the lane too, but only while it plans: a calculation waiting for an identical one
        // in flight, or served from the cache, holds no slot.
        let (permit, queued) = self.lane_slot(lane).await;
        let planning = Instant::now();
        let planned = self.plan_part(query, part, options.active_only).instrument(tracing::info_span!("kpi.plan")).await?;
        let planning = planning.elapsed();
        drop(permit);
        let prepare = (part.is_none() && !options.active_only).then_some(generation);
        let execute = Execute { query, info, planned, lane, started, planning, queued, prepare };
        if !cacheable {
            return self.execute(execute).await;
        }
        let generations = (generation, valid_since);
        let (result, outcome) = self.through_cache(execute, ttl, options.bypass_cache, generations).await?;
        let mut result = KpiResult::clone(&result);
        result.cache = outcome;
        if matches!(outcome, CacheOutcome::Hit | CacheOutcome::Shared) {
            // Another calculation's result: this query's own text and total time.
            result.query = query.clone();
            result.timing.total = started.elapsed();
        }
        Ok(result)
    }

    /// The query's KPI (none for a formula), its value chain's lane and its cache TTL: one
    /// catalog lookup.
    pub(crate) fn standing<'c>(&self, catalog: &'c Catalog, query: &Query) -> Standing<'c> {
        let kpi = match &query.target {
            Target::Kpi(code) => catalog.kpi(code).ok(),
            Target::Formula(_) => None,
        };
        let chain = kpi.and_then(|k| catalog.value_chain_of(k));
        let ttl = self.inner.options.cache.ttl(kpi.map(|k| k.code.as_str()), kpi.and_then(|k| k.module.as_deref()), chain);
        Standing { kpi, lane: chain.unwrap_or(AD_HOC_LANE), ttl }
    }

    /// The cached result of `query` if it is fresh over the data registered now (answered
    /// before planning: what a query reads is fixed by the catalog).
    pub(crate) fn fresh_result(&self, query: &Query, valid_since: u64) -> Option<Arc<KpiResult>> {
        let now = self.inner.options.clock.now();
        let tables = self.inner.tables.read().unwrap_or_else(|p| p.into_inner());
        self.inner.cache.fresh(query, now, valid_since, |t| tables.get(t).map(|d| d.version))
    }

    /// `execute`'s result by way of the cache: a hit, a stale result patched, the result of an
    /// identical calculation in flight, or calculated in full; whatever was calculated is
    /// cached for `ttl`. `generations`: the definitions generation the calculation started in,
    /// and the one a cached result must be of.
    async fn through_cache(
        &self,
        execute: Execute<'_>,
        ttl: Duration,
        bypass: bool,
        (generation, valid_since): (u64, u64),
    ) -> Result<(Arc<KpiResult>, CacheOutcome), EngineError> {
        let counters = &self.inner.counters;
        let query = execute.query;
        let versions = execute.planned.versions.clone();
        let now = self.inner.options.clock.now();
        let fresh_until = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        let store = |result: &Arc<KpiResult>, expires: DateTime<Utc>| {
            self.inner.cache.put(query.clone(), result.clone(), (versions.clone(), generation), expires, &self.inner.options.cache, now);
        };
        if bypass {
            let result = Arc::new(self.execute(execute).await?);
            store(&result, fresh_until);
            return Ok((result, CacheOutcome::Full));
        }
        let stale = match self.inner.cache.get(query, &versions, now, valid_since) {
            Lookup::Fresh(hit) => {
                Counters::add(&counters.cache_hits, 1);
                return Ok((hit, CacheOutcome::Hit));
            }
            Lookup::Stale { result, versions, expires } => Some((result, versions, expires)),
            Lookup::Missing => None,
        };
        Counters::add(&counters.cache_misses, 1);

        let flight = self.inner.flights.join(query, &versions, generation);
        let mut ran = CacheOutcome::Shared;
        let result = flight
            .cell
            .get_or_try_init(|| async {
                // A query followed by maintained states reads them; one whose stale result was
                // already calculated after an append starts being followed (`crate::answers`).
                let follow = stale.as_ref().is_some_and(|(s, old, _)| self.asked_across_appends(s, old));
                let reading = Instant::now();
                if let Some(answer) = self.maintained_answer(query, &execute.planned, (generation, valid_since), follow) {
                    let mut result = answer?;
                    let (planning, queued, execution) = (execute.planning, execute.queued, reading.elapsed());
                    result.timing = Timing { total: execute.started.elapsed(), planning, queued, execution };
                    result.cache = CacheOutcome::Maintained;
                    Counters::add(&counters.maintained_answers, 1);
                    Counters::add(&counters.result_bytes, result.memory_size() as u64);
                    ran = CacheOutcome::Maintained;
                    let result = Arc::new(result);
                    // Kept like a patched result: the TTL bounds the time since a full calculation.
                    store(&result, stale.as_ref().map_or(fresh_until, |(_, _, expires)| *expires));
                    return Ok(result);
                }
                // A stale result brought up to date keeps its expiry: the TTL still bounds the
                // time since a full calculation.
                if let Some((stale, old, expires)) = stale
                    && let Some(result) = self.patched(query, &execute.planned, &stale, &old).await
                {
                    Counters::add(&counters.cache_patches, 1);
                    Counters::add(&counters.result_bytes, result.memory_size() as u64);
                    ran = CacheOutcome::Patched;
                    let result = Arc::new(result);
                    store(&result, expires);
                    return Ok(result);
                }
                ran = CacheOutcome::Full;
                let result = Arc::new(self.execute(execute).await?);
                store(&result, fresh_until);
                Ok::<_, EngineError>(result)
            })
            .await?
            .clone();
        if ran == CacheOutcome::Shared {
            Counters::add(&counters.shared, 1);
        }
        Ok((result, ran))
    }

    /// A slot of `lane`, and how long it took to get.
    pub(crate) async fn lane_slot(&self, lane: &str) -> (tokio::sync::OwnedSemaphorePermit, Duration) {
        let waiting = Instant::now();
        let permit = self.inner.lanes.enter(lane, || Counters::add(&self.inner.counters.queued, 1)).await;
        (permit, waiting.elapsed())
    }

    /// Runs a planned query in its lane: physical planning and execution.
    async fn execute(&self, run: Execute<'_>) -> Result<KpiResult, EngineError> {
        let Execute { query, info, planned, lane, started, planning, queued, prepare } = run;
        let (_permit, waited) = self.lane_slot(lane).await;
        let queued = queued + waited;

        let (schema, batches, planning, execution) = match self.pushed_down(&planned, query).await {
            Some(pushed) => {
                let (schema, batches, execution) = pushed?;
                (schema, batches, planning, execution)
            }
            None => {
                let physical_planning = Instant::now();
                // A plan on the cluster is never small (`plan_part`), so never prepared here.
                let cluster = self.inner.cluster.as_ref().filter(|_| planned.on_cluster);
                let ctx = self.context_for(cluster, planned.small);
                let key = prepare.filter(|_| planned.small).map(|generation| PlanKey {
                    query: planned.query.clone(),
                    versions: planned.versions.clone(),
                    generation,
                });
                let physical = match key.as_ref().and_then(|k| self.inner.prepared.get(k)) {
                    Some(prepared) => {
                        Counters::add(&self.inner.counters.plans_reused, 1);
                        prepared
                    }
                    None => {
                        let physical = self
                            .physical_plan(ctx, planned.plan, planned.small)
                            .instrument(tracing::info_span!("kpi.physical_plan"))
                            .await
                            .map_err(|e| self.execution_error(e, query))?;
                        if let Some(key) = key {
                            let tables = self.inner.tables.read().unwrap_or_else(|p| p.into_inner());
                            self.inner.prepared.put(key, physical.clone(), |t| tables.get(t).map(|d| d.version));
                        }
                        physical
                    }
                };
                let planning = planning + physical_planning.elapsed();
                tracing::debug!(planning_ms = planning.as_secs_f64() * 1e3, "planned");

                let execution = Instant::now();
                let schema = physical.schema();
                let batches = self.collect_on(cluster, physical, ctx, query).instrument(tracing::info_span!("kpi.execute")).await?;
                (schema, batches, planning, execution.elapsed())
            }
        };
        let bytes = batches.iter().map(RecordBatch::get_array_memory_size).sum::<usize>();
        Counters::add(&self.inner.counters.result_bytes, bytes as u64);
        tracing::debug!(
            execution_ms = execution.as_secs_f64() * 1e3,
            rows = batches.iter().map(|b| b.num_rows()).sum::<usize>(),
            bytes,
            "executed"
        );

        Ok(KpiResult {
            info,
            query: query.clone(),
            range: planned.range,
            schema,
            batches,
            timing: Timing { queued, planning, execution, total: started.elapsed() },
            cache: CacheOutcome::Full,
        })
    }

    /// The result of `planned` run in PostgreSQL, when it is pushed down: its schema, rows and
    /// execution time.
    async fn pushed_down(&self, planned: &Planned, query: &Query) -> Option<Result<(SchemaRef, Vec<RecordBatch>, Duration), EngineError>> {
        #[cfg(feature = "postgres")]
        if let Some(pushdown) = &planned.pushdown {
            let execution = Instant::now();
            let schema = Arc::new(planned.plan.schema().as_arrow().clone());
            let batches = self.run_pushdown(pushdown, &schema, query).instrument(tracing::info_span!("kpi.pushdown")).await;
            Counters::add(&self.inner.counters.pushed_down, 1);
            return Some(batches.map(|b| (schema, b, execution.elapsed())));
        }
        #[cfg(not(feature = "postgres"))]
        let _ = (planned, query);
        None
    }

    /// Runs `physical`, stopping as soon as its rows pass the engine's `max_result_rows`.
    pub(crate) async fn collect(
        &self,
        physical: Arc<dyn ExecutionPlan>,
        ctx: &SessionContext,
        query: &Query,
    ) -> Result<Vec<RecordBatch>, EngineError> {
        let limit = self.inner.options.max_result_rows.unwrap_or(usize::MAX);
        let mut stream = datafusion::physical_plan::execute_stream(physical, ctx.task_ctx()).map_err(|e| self.execution_error(e, query))?;
        let (mut batches, mut rows) = (Vec::new(), 0usize);
        while let Some(batch) = stream.next().await {
            let batch = batch.map_err(|e| self.execution_error(e, query))?;
            rows = rows.saturating_add(batch.num_rows());
            if rows > limit {
                return Err(EngineError::TooManyRows { what: describe(query), limit, at_least: None });
            }
            batches.push(batch);
        }
        Ok(batches)
    }

    /// Compiles and lowers `query` over the data registered now, defaulting its range.
    pub(crate) async fn plan(&self, query: &Query) -> Result<Planned, EngineError> {
        self.plan_part(query, None, false).await
    }

    /// [`Engine::plan`], with `part`'s table narrowed to the batches its range may need.
    /// With `active_only`, archived rows are left out.
    async fn plan_part(&self, query: &Query, part: Option<&Part>, active_only: bool) -> Result<Planned, EngineError> {
        let query = self.with_default_range(query).await?;
        self.check_periods(&query)?;
        let catalog = self.catalog();
        let catalog = catalog.as_ref();
        let compiled = kpi_formula::compile(&query, catalog)?;
        let mut tables = self.inner.tables.read().unwrap_or_else(|p| p.into_inner()).clone();
        if active_only {
            tables.values_mut().for_each(|data| *data = data.active_only());
        }
        if let Some(part) = part
            && let (Some(data), Ok(model)) = (tables.get_mut(&part.table), catalog.object_model(&part.table))
        {
            *data = data.narrowed(&self.inner.ctx, model, part.from, part.to, self.inner.layout)?;
        }
        let snapshot = Snapshot::new(tables);
        let plan = match compiled.to_logical_plan(&snapshot) {
            Ok(plan) => plan,
            Err(e) => {
                return Err(match snapshot.missing.borrow().first() {
                    Some(table) => EngineError::NoData(table.clone()),
                    None => e.into(),
                });
            }
        };
        let versions: Versions = snapshot.read.into_inner().into_iter().collect();
        let on_cluster = self.placement(versions.iter().map(|(t, _)| (t.as_str(), &snapshot.tables[t])))?.is_some();
        let mut rows = 0;
        let small = versions.iter().all(|(t, _)| {
            let data = &snapshot.tables[t];
            rows += data.memory_rows;
            data.in_memory()
        }) && rows <= SMALL_INPUT_ROWS;
        #[cfg(feature = "postgres")]
        let pushdown = self.pushdown(&query, versions.iter().map(|(t, _)| (t.as_str(), snapshot.tables[t].remote.as_ref())));
        Ok(Planned {
            range: compiled.range(),
            query,
            plan,
            versions,
            small: small && !on_cluster,
            on_cluster,
            #[cfg(feature = "postgres")]
            pushdown,
        })
    }

    /// Refuses before planning a query whose periods alone pass `max_result_rows`: with empty
    /// periods included every group has a row per period, so the periods are a lower bound
    /// of the rows. (Groups are only known by scanning; `collect` counts them as they come.)
    pub(crate) fn check_periods(&self, query: &Query) -> Result<(), EngineError> {
        let (Some(limit), Some(grain), Some(range), EmptyPeriods::Include) =
            (self.inner.options.max_result_rows, query.grain, query.range, query.empty_periods)
        else {
            return Ok(());
        };
        // Past the lowering's own bound on periods the lowering refuses with its own error.
        let cap = limit.min(kpi_formula::MAX_PERIODS);
        let periods = match query.calendar.periods(range.start, range.end, grain, cap + 1) {
            Ok(periods) => periods.len(),
            // More than `cap + 1`: past the limit if the limit is the cap.
            Err(_) if cap == limit => limit + 1,
            Err(_) => return Ok(()),
        };
        if periods > limit {
            return Err(EngineError::TooManyRows { what: describe(query), limit, at_least: Some(periods) });
        }
        Ok(())
    }

    /// The physical plan of `plan`: optimised, or for small inputs only analysed (type
    /// coercion), with `DISTINCT` as an aggregate and expressions simplified (the physical
    /// planner relies on both, e.g. for `coalesce`).
    pub(crate) async fn physical_plan(
        &self,
        ctx: &SessionContext,
        plan: LogicalPlan,
        small: bool,
    ) -> Result<Arc<dyn ExecutionPlan>, DataFusionError> {
        let state = ctx.state();
        if !small {
            return state.create_physical_plan(&plan).await;
        }
        let analyzed = state.analyzer().execute_and_check(plan, state.config_options(), |_, _| {})?;
        let simplified = small_plan_optimizer().optimize(analyzed, &state, |_, _| {})?;
        state.query_planner().create_physical_plan(&simplified, &state).await
    }

    /// `query` with the data's time bounds as its range, when it has a grain and no range.
    /// With no rows at all it covers the current period and omits empty periods, so the result
    /// is empty rather than a row of zeros.
    pub(crate) async fn with_default_range(&self, query: &Query) -> Result<Query, EngineError> {
        let (Some(grain), None) = (query.grain, query.range) else { return Ok(query.clone()) };
        let catalog = self.catalog();
        let catalog = catalog.as_ref();
        let resolved = crate::maintenance::resolve(query, catalog);
        // An invalid formula is reported by the compile that follows, with every problem.
        let Ok(resolved) = resolved else { return Ok(query.clone()) };
        let mut bounds: Option<(DateTime<Utc>, DateTime<Utc>)> = None;
        for table in &resolved.tables {
            let Ok(model) = catalog.object_model(table) else { continue };
            let Some(time) = &model.time_column else { continue };
            let data = self.inner.tables.read().unwrap_or_else(|p| p.into_inner()).get(table).cloned();
            let Some(data) = data else { continue };
            // On a cluster the bounds are a job there too: the files may be only where it runs.
            let cluster = self.placement([(table.as_str(), &data)])?;
            let ctx = self.context_for(cluster, false);
            let found = data.bounds.get(ctx, &data.provider, time).await;
            if let Some((lo, hi)) = found.map_err(|e| crate::cluster::failure(cluster, e))? {
                let (lo, hi) = (lo.instant(&query.calendar), hi.instant(&query.calendar));
                // Data behind a provider is not checked on registration: its bounds are.
                if let Some(outside) = [lo, hi].into_iter().find(|t| kpi_formula::check_supported("time", *t).is_err()) {
                    return Err(EngineError::TimeOutOfRange {
                        object_model: table.clone(),
                        column: time.clone(),
                        time: outside.to_rfc3339(),
                    });
                }
                bounds = Some(match bounds {
                    Some((a, b)) => (a.min(lo), b.max(hi)),
                    None => (lo, hi),
                });
            }
        }
        let mut query = query.clone();
        let range = match bounds {
            Some((lo, hi)) => TimeRange::new(lo, hi + chrono::Duration::microseconds(1)),
            None => {
                let now = query.calendar.period_start(self.inner.options.clock.now(), grain);
                query.empty_periods = EmptyPeriods::Omit;
                TimeRange::new(now, query.calendar.add_periods(now, grain, 1))
            }
        };
        query.range = Some(range.map_err(kpi_formula::FormulaError::from)?);
        Ok(query)
    }

    /// The catalog's information on the query's KPI (defaults for a formula or an unknown code).
    pub(crate) fn info_of(&self, query: &Query) -> KpiInfo {
        let catalog = self.catalog();
        let kpi = match &query.target {
            Target::Kpi(code) => catalog.kpi(code).ok(),
            Target::Formula(_) => None,
        };
        self.info(query, kpi)
    }

    /// The catalog's information on the query's KPI `kpi` (defaults for a formula or an
    /// unknown code).
    fn info(&self, query: &Query, kpi: Option<&KpiDefinition>) -> KpiInfo {
        match (&query.target, kpi) {
            (_, Some(k)) => KpiInfo {
                code: Some(k.code.clone()),
                name: Some(k.name.clone()),
                unit: k.unit.clone(),
                direction: k.direction,
                thresholds: k.thresholds,
            },
            (Target::Kpi(code), None) => KpiInfo { code: Some(code.clone()), ..KpiInfo::default() },
            (Target::Formula(_), None) => KpiInfo::default(),
        }
    }

    pub(crate) fn execution_error(&self, e: DataFusionError, query: &Query) -> EngineError {
        EngineError::from_execution(e, &describe(query), self.inner.options.memory_limit)
    }
}

/// How errors and spans name a query: the KPI code, or "formula `...`".
pub(crate) fn describe(query: &Query) -> String {
    match &query.target {
        Target::Kpi(code) => format!("KPI `{code}`"),
        Target::Formula(text) if text.len() <= 60 => format!("formula `{text}`"),
        Target::Formula(text) => format!("formula `{}…`", text.chars().take(57).collect::<String>()),
    }
}

/// The logical rules small inputs get: only those the physical planner needs.
fn small_plan_optimizer() -> &'static Optimizer {
    static OPTIMIZER: std::sync::OnceLock<Optimizer> = std::sync::OnceLock::new();
    OPTIMIZER
        .get_or_init(|| Optimizer::with_rules(vec![Arc::new(ReplaceDistinctWithAggregate::new()), Arc::new(SimplifyExpressions::new())]))
}

async fn sleep_or_forever(timeout: Option<Duration>) {
    match timeout {
        Some(t) => tokio::time::sleep(t).await,
        None => std::future::pending().await,
    }
}
