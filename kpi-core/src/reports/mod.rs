//! Scheduled reports: KPIs over a range relative to the run ("last month", "last 7 days") in
//! an IANA time zone, rendered as CSV, JSON or PDF, and delivered by email as an attachment or
//! written to a directory; runs on a cron schedule read in the report's time zone (daylight
//! saving changes included), each run recorded with its outcome.
//!
//! ```
//! use kpi_catalog::{Catalog, DemoOptions};
//! use kpi_core::{Engine, ReportSpec};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let catalog = Catalog::standard();
//! let engine = Engine::new(catalog.clone())?;
//! engine.register_demo(catalog.demo_data(&DemoOptions::new(500).with_seed(3).with_range("2024-01-01", "2024-03-01")?)?)?;
//! let spec = ReportSpec::from_json(r#"{"name": "weekly", "kpis": ["revenue", "order_count"],
//!     "range": {"start": "2024-01-01", "end": "2024-02-01"}, "format": "csv", "timezone": "Europe/Berlin"}"#)?;
//! let document = engine.render_report(&spec).await?;
//! assert_eq!(document.content_type, "text/csv");
//! assert!(String::from_utf8(document.bytes)?.starts_with("kpi,name,period,value,status\n"));
//! # Ok(()) }
//! ```

mod pdf;
mod render;
mod spec;

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;

pub use render::ReportDocument;
use spec::Destination;
pub use spec::{MAX_REPORT_KPIS, RelativeRange, ReportFormat, ReportRange, ReportSpec};

use crate::Engine;
use crate::error::EngineError;

/// Runs kept per report; older ones are dropped first.
pub const REPORT_RUNS: usize = 100;

/// A report as [`Engine::reports`] lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportInfo {
    /// The id the other calls take.
    pub id: u64,
    /// Its document.
    pub spec: ReportSpec,
    /// When it runs next (`None` without a schedule).
    pub next_run: Option<DateTime<Utc>>,
    /// Its last run.
    pub last_run: Option<ReportRun>,
    /// How many times it ran.
    pub runs: u64,
}

impl ReportInfo {
    /// As JSON: the document's fields with `id`, `next_run`, `last_run` and `runs`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut out = serde_json::to_value(&self.spec).unwrap_or_default();
        out["id"] = self.id.into();
        out["next_run"] = self.next_run.map(|t| t.to_rfc3339()).into();
        out["last_run"] = self.last_run.as_ref().map(ReportRun::to_json).unwrap_or_default();
        out["runs"] = self.runs.into();
        out
    }
}

impl Serialize for ReportInfo {
    /// As [`ReportInfo::to_json`] writes it.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// One run of a report and how it went.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportRun {
    /// The report's id.
    pub report: u64,
    /// When it ran, on the engine's clock.
    pub at: DateTime<Utc>,
    /// The range it covered.
    pub start: DateTime<Utc>,
    /// The range's end, exclusive.
    pub end: DateTime<Utc>,
    /// The document's size.
    pub bytes: usize,
    /// Where it went: mail addresses and written files.
    pub delivered_to: Vec<String>,
    /// KPIs that failed, with their errors (the document shows them too).
    pub failed_kpis: Vec<(String, String)>,
    /// Why the run or a delivery failed; `None` when everything was delivered.
    pub error: Option<String>,
}

impl ReportRun {
    /// Whether it rendered and every delivery succeeded.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }

    /// As JSON, with `ok`.
    pub fn to_json(&self) -> serde_json::Value {
        let failed: Vec<serde_json::Value> = self.failed_kpis.iter().map(|(k, e)| serde_json::json!({"kpi": k, "error": e})).collect();
        serde_json::json!({
            "report": self.report, "at": self.at.to_rfc3339(), "start": self.start.to_rfc3339(), "end": self.end.to_rfc3339(),
            "bytes": self.bytes, "delivered_to": self.delivered_to, "failed_kpis": failed, "ok": self.ok(), "error": self.error,
        })
    }
}

impl Serialize for ReportRun {
    /// As [`ReportRun::to_json`] writes it.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

struct Entry {
    spec: ReportSpec,
    next_run: Option<DateTime<Utc>>,
    runs: VecDeque<ReportRun>,
    count: u64,
    stop: watch::Sender<bool>,
}

/// An engine's reports.
#[derive(Default)]
pub(crate) struct Reports {
    next_id: Mutex<u64>,
    entries: Mutex<BTreeMap<u64, Entry>>,
}

impl Reports {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn unknown(id: u64) -> EngineError {
    EngineError::InvalidReport { report: id.to_string(), message: "no report has this id".into() }
}

impl Engine {
    /// Adds a report; with a `schedule` it runs from now on at each firing time in its time
    /// zone. Refused with `KPI_REPORT` (unknown KPIs, more than [`MAX_REPORT_KPIS`], a bad
    /// range, format, schedule, time zone or address, recipients without a mail server, a
    /// directory that cannot be written).
    pub async fn add_report(&self, spec: ReportSpec) -> Result<ReportInfo, EngineError> {
        let checked = spec.check(self)?;
        let id = {
            let mut next = self.inner.reports.next_id.lock().unwrap_or_else(|e| e.into_inner());
            *next += 1;
            *next
        };
        let next_run = checked.next_run(self.inner.options.clock.now());
        let (stop, stopped) = watch::channel(false);
        self.inner.reports.lock().insert(id, Entry { spec: checked.spec.clone(), next_run, runs: VecDeque::new(), count: 0, stop });
        if checked.schedule.is_some() {
            tokio::spawn(scheduled(self.clone(), id, stopped));
        }
        Ok(ReportInfo { id, spec: checked.spec, next_run, last_run: None, runs: 0 })
    }

    /// Replaces report `id`'s document (its schedule restarts from now).
    pub async fn update_report(&self, id: u64, spec: ReportSpec) -> Result<ReportInfo, EngineError> {
        let checked = spec.check(self)?;
        let next_run = checked.next_run(self.inner.options.clock.now());
        let (stop, stopped) = watch::channel(false);
        {
            let mut entries = self.inner.reports.lock();
            let entry = entries.get_mut(&id).ok_or_else(|| unknown(id))?;
            entry.stop.send_replace(true);
            entry.spec = checked.spec.clone();
            entry.next_run = next_run;
            entry.stop = stop;
        }
        if checked.schedule.is_some() {
            tokio::spawn(scheduled(self.clone(), id, stopped));
        }
        self.report(id).ok_or_else(|| unknown(id))
    }

    /// Removes report `id` and stops its schedule; whether it existed.
    pub fn remove_report(&self, id: u64) -> bool {
        let entry = self.inner.reports.lock().remove(&id);
        if let Some(entry) = &entry {
            entry.stop.send_replace(true);
        }
        entry.is_some()
    }

    /// The reports, by id.
    pub fn reports(&self) -> Vec<ReportInfo> {
        self.inner.reports.lock().iter().map(|(id, e)| info(*id, e)).collect()
    }

    /// Report `id`.
    pub fn report(&self, id: u64) -> Option<ReportInfo> {
        self.inner.reports.lock().get(&id).map(|e| info(id, e))
    }

    /// Report `id`'s runs, oldest first (at most [`REPORT_RUNS`]).
    pub fn report_runs(&self, id: u64) -> Vec<ReportRun> {
        self.inner.reports.lock().get(&id).map(|e| e.runs.iter().cloned().collect()).unwrap_or_default()
    }

    /// Renders a report document now, without delivering or recording it (a KPI that fails
    /// is shown with its error in the document).
    pub async fn render_report(&self, spec: &ReportSpec) -> Result<ReportDocument, EngineError> {
        let checked = spec.check(self)?;
        render::render(self, &checked, self.inner.options.clock.now()).await
    }

    /// Runs report `id` now: renders it, delivers it to its recipients and directory, and
    /// records the run. The run says what failed; the document is returned with it.
    pub async fn run_report(&self, id: u64) -> Result<(ReportRun, ReportDocument), EngineError> {
        let spec = self.inner.reports.lock().get(&id).map(|e| e.spec.clone()).ok_or_else(|| unknown(id))?;
        let now = self.inner.options.clock.now();
        let (run, document) = self.run_once(id, &spec, now).await?;
        self.record_run(id, run.clone());
        Ok((run, document))
    }

    async fn run_once(&self, id: u64, spec: &ReportSpec, at: DateTime<Utc>) -> Result<(ReportRun, ReportDocument), EngineError> {
        let checked = spec.check(self)?;
        let document = render::render(self, &checked, at).await?;
        let mut run = ReportRun {
            report: id,
            at,
            start: document.start,
            end: document.end,
            bytes: document.bytes.len(),
            delivered_to: Vec::new(),
            failed_kpis: document.failed_kpis.clone(),
            error: None,
        };
        let mut errors = Vec::new();
        match &checked.directory {
            Some(Destination::Directory(dir)) => match write_file(dir, &document.filename, &document.bytes) {
                Ok(path) => run.delivered_to.push(path.display().to_string()),
                Err(e) => errors.push(e.to_string()),
            },
            #[cfg(feature = "object-stores")]
            Some(Destination::Store(url)) => match crate::files::stores::put(url, &document.filename, document.bytes.clone()).await {
                Ok(object) => run.delivered_to.push(crate::DataLocation::Url(object).to_string()),
                Err(e) => {
                    errors.push(EngineError::Delivery { target: crate::DataLocation::Url(url.clone()).to_string(), message: e }.to_string())
                }
            },
            None => {}
        }
        if !checked.recipients.is_empty() {
            match self.mailer() {
                Some(mailer) => {
                    let subject = format!("{} — {}", document.title, document.period_label);
                    let text =
                        format!("{}\n{}\n\nThe report is attached ({}).\n", document.title, document.period_label, document.filename);
                    let attachment = crate::notify::MailAttachment {
                        filename: document.filename.clone(),
                        content_type: document.content_type,
                        bytes: document.bytes.clone(),
                    };
                    match mailer.send(&checked.recipients, &subject, text, Some(attachment)).await {
                        Ok(()) => run.delivered_to.extend(spec.recipients.iter().cloned()),
                        Err(e) => errors.push(e.to_string()),
                    }
                }
                None => errors.push("no mail server is set (set_mail)".into()),
            }
        }
        if !errors.is_empty() {
            run.error = Some(errors.join("; "));
        }
        Ok((run, document))
    }

    fn record_run(&self, id: u64, run: ReportRun) {
        if let Some(entry) = self.inner.reports.lock().get_mut(&id) {
            if entry.runs.len() == REPORT_RUNS {
                entry.runs.pop_front();
            }
            entry.runs.push_back(run);
            entry.count += 1;
        }
    }
}

fn info(id: u64, e: &Entry) -> ReportInfo {
    ReportInfo { id, spec: e.spec.clone(), next_run: e.next_run, last_run: e.runs.back().cloned(), runs: e.count }
}

/// Writes `bytes` as `dir/filename` durably: a unique temporary file, fsync, rename.
fn write_file(dir: &std::path::Path, filename: &str, bytes: &[u8]) -> Result<PathBuf, EngineError> {
    use std::io::Write;
    let fail = |e: std::io::Error| EngineError::Delivery { target: dir.display().to_string(), message: e.to_string() };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let path = dir.join(filename);
    let fresh = dir.join(format!(".{filename}.{}.tmp", std::process::id()));
    let mut file = std::fs::File::create(&fresh).map_err(fail)?;
    file.write_all(bytes).and_then(|_| file.sync_all()).map_err(fail)?;
    std::fs::rename(&fresh, &path).map_err(fail)?;
    Ok(path)
}

/// Runs report `id` at each firing time until it is removed or replaced.
async fn scheduled(engine: Engine, id: u64, mut stopped: watch::Receiver<bool>) {
    let clock = engine.inner.options.clock.clone();
    loop {
        let Some((at, spec)) = engine.inner.reports.lock().get(&id).and_then(|e| Some((e.next_run?, e.spec.clone()))) else { return };
        tokio::select! {
            _ = clock.wait_until(at) => {}
            _ = stopped.changed() => return,
        }
        if *stopped.borrow() {
            return;
        }
        let run = match engine.run_once(id, &spec, at).await {
            Ok((run, _)) => run,
            Err(e) => ReportRun {
                report: id,
                at,
                start: at,
                end: at,
                bytes: 0,
                delivered_to: Vec::new(),
                failed_kpis: Vec::new(),
                error: Some(e.to_string()),
            },
        };
        if let Some(error) = &run.error {
            tracing::warn!(report = id, %error, "report run failed");
        }
        engine.record_run(id, run);
        let next = spec.check(&engine).ok().and_then(|c| c.next_run(at.max(clock.now())));
        match engine.inner.reports.lock().get_mut(&id) {
            Some(entry) if !*stopped.borrow() => entry.next_run = next,
            _ => return,
        }
    }
}
