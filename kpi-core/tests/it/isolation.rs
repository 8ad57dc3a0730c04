//! Timeouts, cancellation, lanes per value chain and the memory limit.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use kpi_core::{CalculateOptions, Cancellation, Engine, EngineError, EngineOptions};
use kpi_formula::{Grain, Query};
use tokio::sync::Semaphore;

use crate::support::{demo, engine_with};

/// A table whose scans wait until the gate opens: a stand-in for a slow warehouse.
#[derive(Debug)]
struct Gated {
    inner: MemTable,
    gate: Arc<Semaphore>,
}

#[async_trait]
impl TableProvider for Gated {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }
    fn table_type(&self) -> TableType {
        TableType::Base
    }
    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        drop(self.gate.acquire().await);
        self.inner.scan(state, projection, filters, limit).await
    }
}

/// An engine whose `tickets` (support value chain) wait behind a gate.
fn gated(options: EngineOptions) -> (Engine, Arc<Semaphore>) {
    let engine = engine_with(options);
    let gate = Arc::new(Semaphore::new(0));
    let tickets = demo().batches("tickets").unwrap().to_vec();
    let inner = MemTable::try_new(tickets[0].schema(), vec![tickets]).unwrap();
    engine.register_table("tickets", Arc::new(Gated { inner, gate: gate.clone() })).unwrap();
    (engine, gate)
}

fn tickets() -> Query {
    Query::kpi("ticket_volume").with_grain(Grain::Month)
}

#[tokio::test]
async fn a_calculation_past_its_timeout_is_stopped() {
    let (engine, _gate) = gated(EngineOptions::default().with_timeout(Duration::from_secs(30)));
    let options = CalculateOptions::default().with_timeout(Duration::from_millis(100));
    let err = engine.calculate_with(&tickets(), &options).await.unwrap_err();
    assert!(matches!(err, EngineError::Timeout { .. }), "{err:?}");
    assert!(err.to_string().contains("100 ms"), "{err}");
    assert_eq!((engine.metrics().timeouts, engine.metrics().errors), (1, 1));
}

#[tokio::test]
async fn a_calculation_can_be_cancelled() {
    let (engine, _gate) = gated(EngineOptions::default());
    let token = Cancellation::new();
    let task = {
        let (engine, token) = (engine.clone(), token.clone());
        tokio::spawn(async move { engine.calculate_with(&tickets(), &CalculateOptions::default().with_cancellation(token)).await })
    };
    tokio::task::yield_now().await;
    token.cancel();
    let err = task.await.unwrap().unwrap_err();
    assert_eq!(err.code(), "KPI_CANCELLED", "{err}");
    assert_eq!(engine.metrics().cancellations, 1);
}

#[tokio::test]
async fn a_blocked_value_chain_does_not_hold_up_another() {
    let (engine, gate) = gated(EngineOptions::default().with_lane_concurrency(1));
    // Two support KPIs, and the first once more: that one joins the first in flight.
    let slow: Vec<_> = [tickets(), tickets().with_grain(Grain::Week), tickets()]
        .into_iter()
        .map(|q| {
            let engine = engine.clone();
            tokio::spawn(async move { engine.calculate(&q).await })
        })
        .collect();
    // Support's single slot is held by a calculation waiting on the gate; sales is free.
    let revenue = tokio::time::timeout(Duration::from_secs(20), engine.calculate(&Query::kpi("revenue").with_grain(Grain::Month))).await;
    assert!(revenue.expect("revenue was held up").is_ok());
    for _ in 0..200 {
        if engine.metrics().queued >= 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(engine.metrics().queued >= 1, "the other support KPIs wait for the lane");
    gate.add_permits(Semaphore::MAX_PERMITS / 2);
    for task in slow {
        assert!(task.await.unwrap().is_ok());
    }
    // The third took the first's result, in flight or from the cache.
    assert_eq!(engine.metrics().shared + engine.metrics().cache_hits, 1, "{:?}", engine.metrics());
}

#[tokio::test]
async fn exceeding_the_memory_limit_is_a_clear_error() {
    let engine = engine_with(EngineOptions::default().with_memory_limit(16 * 1024));
    let q = Query::formula("count_distinct(order_lines.product_id) / count_distinct(order_lines.order_id)")
        .with_grain(Grain::Day)
        .by(["order_lines.order.region", "order_lines.order.channel"]);
    let err = engine.calculate(&q).await.unwrap_err();
    assert!(matches!(&err, EngineError::MemoryLimit { limit: 16384, .. }), "{err:?}");
    assert!(err.to_string().contains("memory_limit"), "{err}");
}
