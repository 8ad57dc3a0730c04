//! Keeping calculations apart: a lane of limited concurrency per value chain, so a burst of heavy
//! supply-chain KPIs queues behind itself rather than in front of light CRM ones, and a
//! cancellation handle the caller (or a binding's Ctrl-C handler) can trigger.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

/// Cancels the calculations it was given to. Clones share the same state.
///
/// ```
/// let token = kpi_core::Cancellation::new();
/// let copy = token.clone();
/// copy.cancel();
/// assert!(token.is_cancelled());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Cancellation(Arc<(AtomicBool, Notify)>);

impl Cancellation {
    /// A token not yet cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels: calculations holding this token stop at once with [`EngineError::Cancelled`](crate::EngineError::Cancelled).
    pub fn cancel(&self) {
        self.0.0.store(true, Ordering::SeqCst);
        self.0.1.notify_waiters();
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.0.load(Ordering::SeqCst)
    }

    /// Completes when cancelled.
    pub(crate) async fn cancelled(&self) {
        loop {
            let notified = self.0.1.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// The lane of calculations that are not KPIs of a value chain (ad-hoc formulas).
pub(crate) const AD_HOC_LANE: &str = "ad hoc";

/// A semaphore per lane, created on first use.
pub(crate) struct Lanes {
    permits: usize,
    lanes: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl Lanes {
    pub(crate) fn new(permits: usize) -> Self {
        Lanes { permits: permits.max(1), lanes: Mutex::default() }
    }

    /// A slot in `lane`; `on_wait` runs first if the caller has to wait for it.
    pub(crate) async fn enter(&self, lane: &str, on_wait: impl FnOnce()) -> OwnedSemaphorePermit {
        let semaphore = {
            let mut lanes = self.lanes.lock().unwrap_or_else(|p| p.into_inner());
            lanes.entry(lane.to_string()).or_insert_with(|| Arc::new(Semaphore::new(self.permits))).clone()
        };
        if let Ok(permit) = semaphore.clone().try_acquire_owned() {
            return permit;
        }
        on_wait();
        // invariant: the semaphore is never closed, so acquiring only fails if it were.
        semaphore.acquire_owned().await.expect("lane semaphores are never closed")
    }
}
