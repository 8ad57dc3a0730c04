//! Subscriptions: updates read one batch at a time, waiting with the GIL released.

use std::sync::Mutex;
use std::time::Duration;

use pyo3::prelude::*;

use crate::engine::run;
use crate::errors::{Outcome, guarded};

/// A subscription to a KPI's values; closing it (or dropping it) unsubscribes.
#[pyclass(module = "kpi_engine._native", frozen)]
pub(crate) struct Subscription {
    inner: Mutex<Option<kpi_core::Subscription>>,
}

impl Subscription {
    pub(crate) fn new(inner: kpi_core::Subscription) -> Subscription {
        Subscription { inner: Mutex::new(Some(inner)) }
    }
}

#[pymethods]
impl Subscription {
    /// The next updates as JSON (`updates`, `lagged`, `error`), waiting at most `timeout`
    /// seconds (forever when `None`); `None` when the time passed or the subscription is closed.
    #[pyo3(signature = (timeout=None))]
    fn next_json(&self, py: Python<'_>, timeout: Option<f64>) -> Outcome<Option<String>> {
        guarded(|| {
            // A wait too long for a timer (or infinite) is a wait without one.
            let wait = match timeout {
                Some(t) if t.is_nan() => {
                    return Err(kpi_core::EngineError::InvalidOption {
                        option: "timeout",
                        message: "must be a number of seconds, got NaN".into(),
                    }
                    .into());
                }
                Some(t) => Duration::try_from_secs_f64(t.max(0.0)).ok(),
                None => None,
            };
            let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            let Some(sub) = guard.as_mut() else { return Ok(None) };
            let updates = run(py, async {
                match wait {
                    Some(wait) => tokio::time::timeout(wait, sub.next()).await.ok(),
                    None => Some(sub.next().await),
                }
            })?;
            updates
                .map(|u| {
                    serde_json::to_string(&u).map_err(|e| kpi_core::EngineError::Internal(format!("could not write JSON: {e}")).into())
                })
                .transpose()
        })
    }

    /// Unsubscribes; later reads give `None`.
    fn close(&self, py: Python<'_>) {
        // Without the GIL: a reader may hold the lock while it waits, and it takes the GIL
        // between waits to check for Ctrl-C.
        let taken = py.detach(|| self.inner.lock().unwrap_or_else(|e| e.into_inner()).take());
        drop(taken);
    }
}

/// A live feed from a PostgreSQL table; stopping it (or dropping it) stops its polls.
#[pyclass(module = "kpi_engine._native", frozen)]
pub(crate) struct Feed {
    inner: Mutex<Option<kpi_core::Feed>>,
}

impl Feed {
    pub(crate) fn new(inner: kpi_core::Feed) -> Feed {
        Feed { inner: Mutex::new(Some(inner)) }
    }
}

#[pymethods]
impl Feed {
    /// What the feed has done, as JSON; `None` once stopped.
    fn status_json(&self) -> Outcome<Option<String>> {
        guarded(|| {
            let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            guard
                .as_ref()
                .map(|f| {
                    serde_json::to_string(&f.status())
                        .map_err(|e| kpi_core::EngineError::Internal(format!("could not write JSON: {e}")).into())
                })
                .transpose()
        })
    }

    /// Stops the feed, waiting for a poll in progress.
    fn stop(&self, py: Python<'_>) -> Outcome<()> {
        guarded(|| {
            let taken = self.inner.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(feed) = taken {
                run(py, feed.stop())?;
            }
            Ok(())
        })
    }
}
