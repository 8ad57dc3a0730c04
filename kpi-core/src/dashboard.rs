//! Many KPIs at once: a dashboard whose KPIs run concurrently and fail alone, and the comparison
//! of one KPI over two ranges.

use std::time::{Duration, Instant};

use kpi_formula::{Query, TimeRange};
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::engine::Engine;
use crate::error::EngineError;
use crate::result::{Comparison, KpiResult};

/// One KPI of a dashboard: its query, its own outcome, and how long it took.
#[derive(Debug)]
pub struct DashboardItem {
    /// The query.
    pub query: Query,
    /// The result, or why there is none; other items are unaffected either way.
    pub outcome: Result<KpiResult, EngineError>,
    /// From the dashboard's start to this item's end.
    pub elapsed: Duration,
}

/// A dashboard's results in the order of its queries.
#[derive(Debug)]
pub struct Dashboard {
    /// One item per query.
    pub items: Vec<DashboardItem>,
    /// The wall time of the whole dashboard (close to the slowest item, not the sum).
    pub wall: Duration,
}

impl Dashboard {
    /// The items that failed.
    pub fn errors(&self) -> impl Iterator<Item = (&Query, &EngineError)> {
        self.items.iter().filter_map(|i| i.outcome.as_ref().err().map(|e| (&i.query, e)))
    }

    /// As JSON: per item the result (with summaries) or the error's code, kind and message.
    pub fn to_json(&self) -> Value {
        let items: Vec<Value> = self
            .items
            .iter()
            .map(|item| match &item.outcome {
                Ok(r) => json!({ "ok": true, "result": r.to_json(), "elapsed_ms": item.elapsed.as_secs_f64() * 1e3 }),
                Err(e) => json!({
                    "ok": false,
                    "query": crate::calculate::describe(&item.query),
                    "error": e.to_json(),
                    "elapsed_ms": item.elapsed.as_secs_f64() * 1e3,
                }),
            })
            .collect();
        json!({ "items": items, "wall_ms": self.wall.as_secs_f64() * 1e3 })
    }
}

impl Engine {
    /// Calculates every query concurrently, each under its value chain's lane and the engine's
    /// timeout; one query's error or timeout does not affect the others.
    ///
    /// Queries that read the same rows and group them the same way (tables, grain, calendar,
    /// range, dimensions, filter, security) are calculated together as one plan, scanning
    /// each table once for all of them; their results are those they have alone. A query
    /// the cache answers, or one whose shared plan fails, is calculated on its own.
    pub async fn dashboard(&self, queries: &[Query]) -> Dashboard {
        let started = Instant::now();
        let shared = self.calculate_shared(queries).await;
        let mut tasks = JoinSet::new();
        let mut outcomes: Vec<Option<(Result<KpiResult, EngineError>, Duration)>> = (0..queries.len()).map(|_| None).collect();
        for (i, (query, result)) in queries.iter().zip(shared).enumerate() {
            if let Some(result) = result {
                outcomes[i] = Some((Ok(result), started.elapsed()));
                continue;
            }
            let engine = self.clone();
            let query = query.clone();
            tasks.spawn(async move {
                let outcome = engine.calculate(&query).await;
                (i, outcome, started.elapsed())
            });
        }
        while let Some(joined) = tasks.join_next().await {
            // A task only fails to join if it panicked; the item then reports that.
            if let Ok((i, outcome, elapsed)) = joined {
                outcomes[i] = Some((outcome, elapsed));
            }
        }
        let items = queries
            .iter()
            .zip(outcomes)
            .map(|(query, outcome)| {
                let (outcome, elapsed) = outcome.unwrap_or_else(|| {
                    let e = datafusion::error::DataFusionError::Internal("the calculation panicked".into());
                    (Err(EngineError::Execution(e)), started.elapsed())
                });
                DashboardItem { query: query.clone(), outcome, elapsed }
            })
            .collect();
        Dashboard { items, wall: started.elapsed() }
    }

    /// Calculates a batch of queries concurrently; results in the order of the queries.
    pub async fn calculate_batch(&self, queries: &[Query]) -> Vec<Result<KpiResult, EngineError>> {
        self.dashboard(queries).await.items.into_iter().map(|i| i.outcome).collect()
    }

    /// The query's value over `current` and over `previous`, per dimension group, with status
    /// and trend. The query's grain is ignored: each range gives one value per group.
    pub async fn compare(&self, query: &Query, current: TimeRange, previous: TimeRange) -> Result<Comparison, EngineError> {
        let mut q = query.clone();
        q.grain = None;
        let now = q.clone().with_range(current);
        let before = q.with_range(previous);
        let (a, b) = futures::join!(self.calculate(&now), self.calculate(&before));
        Ok(Comparison::of(&a?, &b?, (current, previous)))
    }
}
