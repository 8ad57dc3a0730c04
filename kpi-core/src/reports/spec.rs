//! The report document and its checks: KPIs, grain, dimensions, filter, a range relative to
//! the run, a format, a schedule in a time zone, recipients and a directory.

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use kpi_catalog::Cron;
use kpi_formula::{Calendar, Grain, Query, TimeRange};
use serde::{Deserialize, Serialize};

use crate::Engine;
use crate::error::EngineError;
use crate::spec::QuerySpec;

/// The most KPIs one report may name.
pub const MAX_REPORT_KPIS: usize = 200;

/// A range relative to the run, in the report's time zone; whole days, weeks, months...
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelativeRange {
    /// The day before the run's day.
    Yesterday,
    /// The seven whole days before the run's day.
    #[serde(rename = "last_7_days")]
    Last7Days,
    /// The thirty whole days before the run's day.
    #[serde(rename = "last_30_days")]
    Last30Days,
    /// The whole week before the run's week (the engine's week start).
    LastWeek,
    /// The month before the run's month.
    LastMonth,
    /// The quarter before the run's quarter.
    LastQuarter,
    /// The year before the run's year.
    LastYear,
    /// From the start of the run's month to the run.
    MonthToDate,
    /// From the start of the run's year to the run.
    YearToDate,
}

/// A report's range: relative to the run, or fixed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReportRange {
    /// `last_month`, `last_7_days`, ...
    Relative(RelativeRange),
    /// Fixed dates or instants (`end` exclusive), read in the report's time zone.
    Fixed {
        /// First day or instant.
        start: String,
        /// The end, exclusive.
        end: String,
    },
}

impl Default for ReportRange {
    fn default() -> Self {
        ReportRange::Relative(RelativeRange::LastMonth)
    }
}

/// A report's format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportFormat {
    /// One row per KPI, period and group (`text/csv`).
    Csv,
    /// The KPIs with their rows, statuses and errors (`application/json`).
    Json,
    /// A document for people: a table per KPI with status colours and a chart of each series
    /// (`application/pdf`).
    #[default]
    Pdf,
}

impl ReportFormat {
    /// The media type.
    pub fn content_type(self) -> &'static str {
        match self {
            ReportFormat::Csv => "text/csv",
            ReportFormat::Json => "application/json",
            ReportFormat::Pdf => "application/pdf",
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ReportFormat::Csv => "csv",
            ReportFormat::Json => "json",
            ReportFormat::Pdf => "pdf",
        }
    }
}

/// A report as a document; unknown fields are refused.
///
/// ```
/// use kpi_core::{ReportFormat, ReportSpec};
/// let spec = ReportSpec::from_json(r#"{"name": "Weekly operations", "kpis": ["revenue", "perfect_order_rate"],
///     "grain": "day", "by": ["orders.region"], "range": "last_7_days", "format": "pdf",
///     "schedule": "0 7 * * mon", "timezone": "Europe/Berlin", "recipients": ["ops@example.com"]}"#)?;
/// assert_eq!(spec.format, ReportFormat::Pdf);
/// # Ok::<(), kpi_core::EngineError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportSpec {
    /// The report's name (its title unless `title` is given).
    pub name: String,
    /// A title for the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// KPI codes, in the document's order.
    pub kpis: Vec<String>,
    /// The grain of the series (`day` when left out; `none` for one value per KPI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grain: Option<String>,
    /// Dimensions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by: Vec<String>,
    /// A row filter.
    #[serde(rename = "where", default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Row-level security filters per object model.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub security: BTreeMap<String, String>,
    /// The range (`last_month` when left out).
    #[serde(default)]
    pub range: ReportRange,
    /// `csv`, `json` or `pdf` (the default).
    #[serde(default)]
    pub format: ReportFormat,
    /// A five-field cron schedule read in `timezone`; none to run only when asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// The IANA time zone of the schedule, the range and the periods (the engine's by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Mail addresses the document is sent to as an attachment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipients: Vec<String>,
    /// Where the document is written as `<name>-<start>.<ext>`: a local directory, or an
    /// object store URL (`s3://bucket/reports/`, `gs://`, `az://`, `https://`), with
    /// credentials from the usual environment variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory: Option<String>,
}

fn refuse(report: &str, message: String) -> EngineError {
    EngineError::InvalidReport { report: report.to_string(), message }
}

/// A report checked against an engine.
pub(crate) struct CheckedReport {
    pub(crate) spec: ReportSpec,
    pub(crate) grain: Option<Grain>,
    pub(crate) calendar: Calendar,
    pub(crate) zone: Tz,
    pub(crate) schedule: Option<Cron>,
    pub(crate) recipients: Vec<lettre::message::Mailbox>,
    pub(crate) directory: Option<Destination>,
}

/// Where a report's document is written.
#[derive(Clone, Debug)]
pub(crate) enum Destination {
    /// A local directory.
    Directory(PathBuf),
    /// An object store URL (a "directory" in it).
    #[cfg(feature = "object-stores")]
    Store(String),
}

impl Destination {
    /// The destination `text` names, checked: a directory is created and written to once, a
    /// store URL must have a store this build can write.
    fn of(text: &str) -> Result<Destination, String> {
        match crate::DataLocation::parse(text) {
            crate::DataLocation::Path(dir) => {
                probe_directory(&dir).map_err(|e| format!("cannot write to the directory {}: {e}", dir.display()))?;
                Ok(Destination::Directory(dir))
            }
            crate::DataLocation::Url(url) => {
                #[cfg(feature = "object-stores")]
                {
                    crate::files::stores::check(&url)
                        .map_err(|e| format!("cannot write to {}: {e}", crate::DataLocation::Url(url.clone())))?;
                    Ok(Destination::Store(url))
                }
                #[cfg(not(feature = "object-stores"))]
                Err(format!(
                    "cannot write to {url}: this build writes reports to local directories only (the `object-stores` feature is off)"
                ))
            }
        }
    }
}

impl ReportSpec {
    /// Reads a report document from JSON text.
    pub fn from_json(text: &str) -> Result<ReportSpec, EngineError> {
        crate::spec::named_text(text, refuse)
    }

    /// Reads a report document from a JSON value (an object).
    pub fn from_value(value: serde_json::Value) -> Result<ReportSpec, EngineError> {
        crate::spec::named_value(value, refuse)
    }

    /// The query document of `kpi` over `range`.
    fn query_spec(&self, kpi: &str, grain: Option<Grain>) -> QuerySpec {
        QuerySpec {
            kpi: Some(kpi.to_string()),
            grain: grain.map(|g| g.as_str().to_string()),
            by: self.by.clone(),
            filter: self.filter.clone(),
            security: self.security.clone(),
            timezone: self.timezone.clone(),
            ..Default::default()
        }
    }

    pub(crate) fn check(&self, engine: &Engine) -> Result<CheckedReport, EngineError> {
        let name = self.name.trim();
        let bad = |m: String| refuse(name, m);
        if name.is_empty() || name.len() > 200 {
            return Err(refuse(&self.name, "give the report a name of 1 to 200 characters".into()));
        }
        if self.kpis.is_empty() {
            return Err(bad("`kpis` is empty; name the KPIs to report".into()));
        }
        if self.kpis.len() > MAX_REPORT_KPIS {
            return Err(bad(format!(
                "{} KPIs is more than a report may name ({MAX_REPORT_KPIS}); split it into several reports",
                self.kpis.len()
            )));
        }
        let grain = match self.grain.as_deref().unwrap_or("day") {
            "none" => None,
            g => Some(Grain::parse(g).map_err(|e| bad(e.to_string()))?),
        };
        let catalog = engine.catalog();
        let mut seen = std::collections::HashSet::new();
        for kpi in &self.kpis {
            catalog.kpi(kpi).map_err(|e| bad(e.to_string()))?;
            if !seen.insert(kpi) {
                return Err(bad(format!("KPI `{kpi}` is named twice")));
            }
        }
        // The first KPI's query checks dimensions, filter, security and time zone once.
        let query = engine.query(&self.query_spec(&self.kpis[0], grain)).map_err(|e| bad(e.to_string()))?;
        let calendar = query.calendar.clone();
        let zone = calendar.time_zone;
        let schedule = match &self.schedule {
            Some(text) => Some(text.parse::<Cron>().map_err(|e| bad(e.to_string()))?),
            None => None,
        };
        let recipients = crate::notify::mailboxes(&self.recipients).map_err(bad)?;
        if !recipients.is_empty() && engine.mailer().is_none() {
            return Err(bad("the report has recipients but no mail server is set; call set_mail first".into()));
        }
        let directory = self.directory.as_deref().map(Destination::of).transpose().map_err(bad)?;
        if let ReportRange::Fixed { start, end } = &self.range {
            TimeRange::parse(start, end, &calendar).map_err(|e| bad(e.to_string()))?;
        }
        let spec = ReportSpec { name: name.to_string(), ..self.clone() };
        Ok(CheckedReport { spec, grain, calendar, zone, schedule, recipients, directory })
    }
}

/// Creates `dir` if needed and checks a file can be written there.
fn probe_directory(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let probe = dir.join(format!(".kpi-report-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
}

impl CheckedReport {
    /// The next run after `now`, in the report's time zone.
    pub(crate) fn next_run(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule.as_ref()?.next_after_in(now, &self.zone)
    }

    /// The range a run at `at` covers.
    pub(crate) fn range_at(&self, at: DateTime<Utc>) -> Result<TimeRange, EngineError> {
        let c = &self.calendar;
        let whole = |g: Grain, back: i64| {
            let this = c.period_start(at, g);
            (c.add_periods(this, g, -back), this)
        };
        let (start, end) = match &self.spec.range {
            ReportRange::Fixed { start, end } => {
                return TimeRange::parse(start, end, c).map_err(|e| refuse(&self.spec.name, e.to_string()));
            }
            ReportRange::Relative(r) => match r {
                RelativeRange::Yesterday => whole(Grain::Day, 1),
                RelativeRange::Last7Days => whole(Grain::Day, 7),
                RelativeRange::Last30Days => whole(Grain::Day, 30),
                RelativeRange::LastWeek => whole(Grain::Week, 1),
                RelativeRange::LastMonth => whole(Grain::Month, 1),
                RelativeRange::LastQuarter => whole(Grain::Quarter, 1),
                RelativeRange::LastYear => whole(Grain::Year, 1),
                RelativeRange::MonthToDate => (c.period_start(at, Grain::Month), at),
                RelativeRange::YearToDate => (c.period_start(at, Grain::Year), at),
            },
        };
        // A run at the very start of a month has an empty month-to-date: cover one second.
        let end = if end <= start { start + chrono::Duration::seconds(1) } else { end };
        TimeRange::new(start, end).map_err(|e| refuse(&self.spec.name, e.to_string()))
    }

    /// The query of `kpi` over `range`.
    pub(crate) fn query(&self, engine: &Engine, kpi: &str, range: TimeRange) -> Result<Query, EngineError> {
        Ok(engine.query(&self.spec.query_spec(kpi, self.grain))?.with_range(range))
    }
}
