//! Shared scans: the queries of a dashboard (or a batch) that read the same rows and group them
//! the same way ([`ScanShape`]) are calculated as one plan with a value column per query, so each
//! table is scanned once per shape rather than once per KPI, and an aggregate several KPIs use
//! (revenue in margin, average order value, growth...) is computed once.
//!
//! Only queries the cache cannot answer cheaply take this path: a fresh cached result is a
//! hit, and a stale one that appends can patch is patched by the query's own path. A group
//! that fails to plan or run is not an answer for anyone: its queries are calculated one by
//! one, so a failing KPI fails alone with its own error.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use kpi_formula::{CompiledQuery, Query, ScanShape};

use crate::cache::{CacheOutcome, Versions};
use crate::calculate::{SMALL_INPUT_ROWS, Snapshot};
use crate::engine::Engine;
use crate::error::EngineError;
use crate::maintenance::Maintainable;
use crate::metrics::Counters;
use crate::result::{KpiResult, Timing};

/// One distinct query of a shape's group, and the dashboard positions that asked for it.
struct Member {
    asked: Query,
    compiled: CompiledQuery,
    ttl: Duration,
    positions: Vec<usize>,
}

impl Engine {
    /// The results of `queries` calculated by shared plans, by position; `None` where a query
    /// is left to its own calculation (a cache hit or patch, a query that does not compile or
    /// plan, a shape no other query has, a group whose shared plan failed).
    pub(crate) async fn calculate_shared(&self, queries: &[Query]) -> Vec<Option<KpiResult>> {
        let mut out: Vec<Option<KpiResult>> = (0..queries.len()).map(|_| None).collect();
        if queries.len() < 2 {
            return out;
        }
        // The definitions generation before the catalog, as for one query (`crate::definitions`).
        let generation = self.inner.definitions.generation();
        let mut groups: HashMap<ScanShape, Vec<Member>> = HashMap::new();
        for (position, asked) in queries.iter().enumerate() {
            let Some((compiled, ttl)) = self.shareable(asked).await else { continue };
            let members = groups.entry(compiled.scan_shape()).or_default();
            // The same query asked twice is one value column for both.
            match members.iter_mut().find(|m| m.asked == *asked) {
                Some(m) => m.positions.push(position),
                None => members.push(Member { asked: asked.clone(), compiled, ttl, positions: vec![position] }),
            }
        }
        // Each group in a task of its own: a panic in DataFusion fails the group, whose
        // queries then run one by one, and never the dashboard.
        let mut runs = tokio::task::JoinSet::new();
        for members in groups.into_values() {
            if members.len() > 1 || members.first().is_some_and(|m| m.positions.len() > 1) {
                let engine = self.clone();
                runs.spawn(async move {
                    let results = engine.run_shared(&members, generation).await;
                    (members, results)
                });
            }
        }
        while let Some(joined) = runs.join_next().await {
            let Ok((members, Ok(results))) = joined else { continue };
            for (member, result) in members.iter().zip(results) {
                for &p in &member.positions {
                    out[p] = Some(result.clone());
                }
            }
        }
        out
    }

    /// `asked` compiled over its default range, with its cache TTL, when a shared plan is the
    /// quickest way to it.
    async fn shareable(&self, asked: &Query) -> Option<(CompiledQuery, Duration)> {
        let catalog = self.catalog();
        let ttl = self.standing(&catalog, asked).ttl;
        if ttl != Duration::ZERO {
            let valid_since = self.inner.definitions.valid_since(asked);
            let now = self.inner.options.clock.now();
            let patchable = || self.inner.cache.holds(asked, now, valid_since) && Maintainable::span_table_of(asked, &catalog).is_some();
            if self.fresh_result(asked, valid_since).is_some() || patchable() {
                return None;
            }
        }
        let query = self.with_default_range(asked).await.ok()?;
        self.check_periods(&query).ok()?;
        let compiled = kpi_formula::compile(&query, catalog.as_ref()).ok()?;
        Some((compiled, ttl))
    }

    /// One plan for `members` (of one shape), run under the first one's lane and the engine's
    /// timeout, its rows split into a result per member and cached.
    async fn run_shared(&self, members: &[Member], generation: u64) -> Result<Vec<KpiResult>, EngineError> {
        let started = Instant::now();
        let first = &members[0].asked;
        let catalog = self.catalog();
        let (_permit, queued) = self.lane_slot(self.standing(&catalog, first).lane).await;
        let work = async {
            let planning = Instant::now();
            let snapshot = Snapshot::new(self.inner.tables.read().unwrap_or_else(|p| p.into_inner()).clone());
            let compiled: Vec<&CompiledQuery> = members.iter().map(|m| &m.compiled).collect();
            let plan = kpi_formula::to_shared_logical_plan(&compiled, &snapshot)?;
            let (tables, read) = snapshot.into_read();
            #[cfg(feature = "postgres")]
            if self.inner.options.pushdown && read.iter().any(|(t, _)| tables[t].remote.is_some()) {
                // Each query goes down to its database as one statement of its own.
                return Err(EngineError::Execution(datafusion::error::DataFusionError::Plan("pushed down one by one".into())));
            }
            let rows: usize = read.iter().map(|(t, _)| tables[t].memory_rows).sum();
            let cluster = self.placement(read.iter().map(|(t, _)| (t.as_str(), &tables[t])))?;
            let small = cluster.is_none() && read.iter().all(|(t, _)| tables[t].in_memory()) && rows <= SMALL_INPUT_ROWS;
            let ctx = self.context_for(cluster, small);
            let physical = self.physical_plan(ctx, plan, small).await.map_err(|e| self.execution_error(e, first))?;
            let planning = planning.elapsed();
            let execution = Instant::now();
            let schema = physical.schema();
            let batches = self.collect_on(cluster, physical, ctx, first).await?;
            Ok::<_, EngineError>((read, schema, batches, planning, execution.elapsed()))
        };
        let (read, schema, batches, planning, execution) = match self.inner.options.timeout {
            Some(limit) => tokio::time::timeout(limit, work)
                .await
                .map_err(|_| EngineError::Timeout { what: "a shared plan".into(), after: limit })??,
            None => work.await?,
        };
        let keys = schema.fields().len() - members.len();
        let now = self.inner.options.clock.now();
        let counters = &self.inner.counters;
        // Every member's result has the keys and its own column as `value`.
        let fields: Vec<Field> =
            schema.fields()[..keys].iter().map(|f| f.as_ref().clone()).chain([Field::new("value", DataType::Float64, true)]).collect();
        let own = Arc::new(Schema::new(fields));
        let mut results = Vec::with_capacity(members.len());
        for (i, member) in members.iter().enumerate() {
            let batches = batches
                .iter()
                .map(|b| {
                    let columns = b.columns()[..keys].iter().cloned().chain([b.column(keys + i).clone()]).collect();
                    RecordBatch::try_new(own.clone(), columns)
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| EngineError::Execution(e.into()))?;
            let result = KpiResult {
                info: self.info_of(&member.asked),
                query: member.asked.clone(),
                range: member.compiled.range(),
                schema: own.clone(),
                batches,
                timing: Timing { queued, planning, execution, total: started.elapsed() },
                cache: CacheOutcome::Full,
            };
            let asked = member.positions.len() as u64;
            Counters::add(&counters.calculations, asked);
            Counters::add(&counters.shared_scans, asked);
            Counters::add(&counters.result_bytes, result.memory_size() as u64);
            if member.ttl != Duration::ZERO {
                Counters::add(&counters.cache_misses, 1);
                // The versions of the tables this query reads, as its own plan would record them.
                let versions: Versions = read.iter().filter(|(t, _)| member.compiled.tables().any(|r| r == t)).cloned().collect();
                let expires = now + chrono::Duration::from_std(member.ttl).unwrap_or(chrono::Duration::MAX);
                let policy = &self.inner.options.cache;
                self.inner.cache.put(member.asked.clone(), Arc::new(result.clone()), (versions, generation), expires, policy, now);
            }
            results.push(result);
        }
        Ok(results)
    }
}
