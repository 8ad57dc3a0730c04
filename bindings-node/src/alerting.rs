//! Alerts, notifiers and reports: the core's rule, notifier, mail and report documents in,
//! plain objects (and documents as Buffers) out; alert events as a stream to await.

use std::sync::Arc;
use std::time::Duration;

use kpi_core::{AlertEvents, AlertRuleSpec, MailSettings, NotifierSpec, ReportDocument, ReportSpec};
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::engine::Engine;
use crate::errors::{self, guard, guard_async};

fn json<T: serde::Serialize>(value: &T) -> napi::Result<Value> {
    serde_json::to_value(value).map_err(errors::json_failed)
}

/// A rendered report: its media type, file name and bytes.
#[napi(object)]
pub struct RenderedReport {
    /// `text/csv`, `application/json` or `application/pdf`.
    pub content_type: String,
    /// A file name for it.
    pub filename: String,
    /// The document.
    pub data: Buffer,
    /// The run, for a report run by id (`null` for a rendering).
    pub run: Option<Value>,
}

fn rendered(document: ReportDocument, run: Option<Value>) -> RenderedReport {
    RenderedReport { content_type: document.content_type.to_string(), filename: document.filename, data: document.bytes.into(), run }
}

/// Alert events as they happen; `next` gives the next one.
#[napi]
pub struct AlertStream {
    inner: Arc<Mutex<Option<AlertEvents>>>,
    /// Set by `close`, which also ends a `next` waiting, so no promise is left pending.
    closed: tokio::sync::watch::Sender<bool>,
}

#[napi]
impl AlertStream {
    /// The next event, waiting at most `timeoutMs` (forever when absent); `null` when the time
    /// passed or the stream is closed.
    #[napi]
    pub async fn next(&self, timeout_ms: Option<u32>) -> napi::Result<Option<Value>> {
        let inner = self.inner.clone();
        let mut closed = self.closed.subscribe();
        guard_async(async move {
            if *closed.borrow() {
                return Ok(None);
            }
            let mut guard = inner.lock().await;
            let Some(events) = guard.as_mut() else { return Ok(None) };
            let wait = async {
                match timeout_ms {
                    Some(ms) => tokio::time::timeout(Duration::from_millis(u64::from(ms)), events.next()).await.ok().flatten(),
                    None => events.next().await,
                }
            };
            let event = tokio::select! {
                event = wait => event,
                _ = closed.changed() => None,
            };
            Ok(event.map(|e| e.to_json()))
        })
        .await
    }

    /// Stops the stream; a `next` waiting returns `null`.
    #[napi]
    pub fn close(&self) {
        self.closed.send_replace(true);
        let inner = self.inner.clone();
        napi::bindgen_prelude::spawn(async move {
            inner.lock().await.take();
        });
    }
}

#[napi]
impl Engine {
    /// Adds an alert rule from its document; the rule with its state.
    #[napi]
    pub async fn add_alert_rule(&self, rule: Value) -> napi::Result<Value> {
        guard_async(async {
            let spec = AlertRuleSpec::from_value(rule).map_err(errors::engine)?;
            Ok(self.core().add_alert_rule(spec).await.map_err(errors::engine)?.to_json())
        })
        .await
    }

    /// Removes an alert rule; whether it existed.
    #[napi]
    pub fn remove_alert_rule(&self, name: String) -> bool {
        self.core().remove_alert_rule(&name)
    }

    /// The alert rules with their state.
    #[napi]
    pub fn alert_rules(&self) -> napi::Result<Value> {
        guard(|| json(&self.core().alert_rules()))
    }

    /// The alerts active now, critical first.
    #[napi]
    pub fn alerts(&self) -> napi::Result<Value> {
        guard(|| json(&self.core().alerts()))
    }

    /// The last `limit` alert events, oldest first.
    #[napi]
    pub fn alert_history(&self, limit: Option<u32>) -> napi::Result<Value> {
        guard(|| json(&self.core().alert_history(limit.unwrap_or(100) as usize)))
    }

    /// Judges every rule now; the events that caused.
    #[napi]
    pub async fn evaluate_alerts(&self) -> napi::Result<Value> {
        guard_async(async { json(&self.core().evaluate_alerts()) }).await
    }

    /// Alert events from now on.
    #[napi]
    pub fn alert_events(&self) -> AlertStream {
        AlertStream { inner: Arc::new(Mutex::new(Some(self.core().alert_events()))), closed: tokio::sync::watch::Sender::new(false) }
    }

    /// Sets the SMTP server (`host`, `port`, `tls`, `username`, `password`, `from`, `timeout`).
    #[napi]
    pub fn set_mail(&self, settings: Value) -> napi::Result<()> {
        guard(|| {
            let settings = MailSettings::from_json(&settings.to_string()).map_err(errors::engine)?;
            self.core().set_mail(&settings).map_err(errors::engine)
        })
    }

    /// Adds a notifier (`webhook` or `email`, ...); it with its counts.
    #[napi]
    pub async fn add_notifier(&self, notifier: Value) -> napi::Result<Value> {
        guard_async(async {
            let spec = NotifierSpec::from_value(notifier).map_err(errors::engine)?;
            json(&self.core().add_notifier(spec).await.map_err(errors::engine)?)
        })
        .await
    }

    /// Removes a notifier; whether it existed.
    #[napi]
    pub fn remove_notifier(&self, name: String) -> bool {
        self.core().remove_notifier(&name)
    }

    /// The notifiers with their delivery counts.
    #[napi]
    pub fn notifiers(&self) -> napi::Result<Value> {
        guard(|| json(&self.core().notifiers()))
    }

    /// Events no try could deliver.
    #[napi]
    pub fn dead_letters(&self) -> napi::Result<Value> {
        guard(|| json(&self.core().dead_letters()))
    }

    /// Adds a report from its document; the report with its `id`.
    #[napi]
    pub async fn add_report(&self, report: Value) -> napi::Result<Value> {
        guard_async(async {
            let spec = ReportSpec::from_value(report).map_err(errors::engine)?;
            Ok(self.core().add_report(spec).await.map_err(errors::engine)?.to_json())
        })
        .await
    }

    /// Replaces report `id`'s document.
    #[napi]
    pub async fn update_report(&self, id: u32, report: Value) -> napi::Result<Value> {
        guard_async(async {
            let spec = ReportSpec::from_value(report).map_err(errors::engine)?;
            Ok(self.core().update_report(u64::from(id), spec).await.map_err(errors::engine)?.to_json())
        })
        .await
    }

    /// Removes a report; whether it existed.
    #[napi]
    pub fn remove_report(&self, id: u32) -> bool {
        self.core().remove_report(u64::from(id))
    }

    /// The reports.
    #[napi]
    pub fn reports(&self) -> napi::Result<Value> {
        guard(|| json(&self.core().reports()))
    }

    /// Report `id`, or `null`.
    #[napi]
    pub fn report(&self, id: u32) -> Option<Value> {
        self.core().report(u64::from(id)).map(|r| r.to_json())
    }

    /// Report `id`'s runs, oldest first.
    #[napi]
    pub fn report_runs(&self, id: u32) -> napi::Result<Value> {
        guard(|| json(&self.core().report_runs(u64::from(id))))
    }

    /// Runs report `id` now, delivering it; the document with the run.
    #[napi]
    pub async fn run_report(&self, id: u32) -> napi::Result<RenderedReport> {
        guard_async(async {
            let (run, document) = self.core().run_report(u64::from(id)).await.map_err(errors::engine)?;
            Ok(rendered(document, Some(run.to_json())))
        })
        .await
    }

    /// Renders a report document now, without keeping or delivering it.
    #[napi]
    pub async fn render_report(&self, report: Value) -> napi::Result<RenderedReport> {
        guard_async(async {
            let spec = ReportSpec::from_value(report).map_err(errors::engine)?;
            Ok(rendered(self.core().render_report(&spec).await.map_err(errors::engine)?, None))
        })
        .await
    }
}
