//! Subscriptions: updates read one batch at a time, waiting with the GIL released.

use std::sync::Mutex;
use std::time::Duration;

use kpi_core::Refresh;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::engine::run;

/// A refresh from Python: `"change"`, `"minute"`, `"hour"`, `"day"`, or seconds.
pub(crate) fn refresh(value: &Bound<'_, PyAny>) -> PyResult<Refresh> {
    if let Ok(seconds) = value.extract::<f64>() {
        if !(seconds.is_finite() && seconds > 0.0) {
            return Err(crate::errors::QueryError::new_err("a refresh interval must be a positive number of seconds"));
        }
        return Ok(Refresh::Every(Duration::from_secs_f64(seconds)));
    }
    let text: String = value.extract()?;
    match text.as_str() {
        "change" | "on_change" => Ok(Refresh::OnChange),
        "minute" => Ok(Refresh::Minute),
        "hour" => Ok(Refresh::Hour),
        "day" => Ok(Refresh::Day),
        other => Err(PyValueError::new_err(format!(
            "unknown refresh `{other}`: use \"change\", \"minute\", \"hour\", \"day\" or a number of seconds"
        ))),
    }
}

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
    fn next_json(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<String>> {
        let wait = timeout.map(|t| Duration::from_secs_f64(t.max(0.0)));
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let Some(sub) = guard.as_mut() else { return Ok(None) };
        let updates = run(py, async {
            match wait {
                Some(wait) => tokio::time::timeout(wait, sub.next()).await.ok(),
                None => Some(sub.next().await),
            }
        })?;
        updates.map(|u| serde_json::to_string(&u).map_err(|e| crate::errors::KpiError::new_err(e.to_string()))).transpose()
    }

    /// Unsubscribes; later reads give `None`.
    fn close(&self, py: Python<'_>) {
        // Without the GIL: a reader may hold the lock while it waits, and it takes the GIL
        // between waits to check for Ctrl-C.
        let taken = py.detach(|| self.inner.lock().unwrap_or_else(|e| e.into_inner()).take());
        drop(taken);
    }
}
