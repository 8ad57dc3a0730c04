//! A report's content (each KPI's rows with statuses, or its error) and its CSV and JSON forms.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use kpi_catalog::{Direction, Thresholds, Unit};
use kpi_formula::Grain;

use super::spec::{CheckedReport, ReportFormat};
use crate::Engine;
use crate::error::EngineError;
use crate::result::{DimensionValue, Status};

/// A rendered report.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportDocument {
    /// A file name: the report's name and the range's start, with the format's extension.
    pub filename: String,
    /// `text/csv`, `application/json` or `application/pdf`.
    pub content_type: &'static str,
    /// The document.
    pub bytes: Vec<u8>,
    /// The title.
    pub title: String,
    /// The range as people read it (`2024-03-01 – 2024-03-31 (Europe/Berlin)`).
    pub period_label: String,
    /// The range's start.
    pub start: DateTime<Utc>,
    /// The range's end, exclusive.
    pub end: DateTime<Utc>,
    /// KPIs that failed, with their errors.
    pub failed_kpis: Vec<(String, String)>,
}

/// One KPI of a report.
pub(crate) struct Section {
    pub(crate) code: String,
    pub(crate) name: String,
    pub(crate) unit: Unit,
    pub(crate) direction: Direction,
    pub(crate) thresholds: Thresholds,
    pub(crate) rows: Vec<Row>,
    pub(crate) error: Option<EngineError>,
}

/// One period and group of a KPI.
pub(crate) struct Row {
    pub(crate) period: Option<DateTime<Utc>>,
    pub(crate) group: Vec<DimensionValue>,
    pub(crate) value: Option<f64>,
    pub(crate) status: Status,
}

/// What every format is made from.
pub(crate) struct Content {
    pub(crate) title: String,
    pub(crate) period_label: String,
    pub(crate) generated: DateTime<Utc>,
    pub(crate) zone: Tz,
    pub(crate) grain: Option<Grain>,
    pub(crate) by: Vec<String>,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) sections: Vec<Section>,
}

impl Content {
    /// A period's start as people read it in the report's zone.
    pub(crate) fn period_text(&self, period: Option<DateTime<Utc>>) -> String {
        let Some(p) = period else { return "all".into() };
        let local = p.with_timezone(&self.zone);
        match self.grain {
            Some(Grain::Minute | Grain::Hour) => local.format("%Y-%m-%d %H:%M").to_string(),
            Some(Grain::Month) => local.format("%Y-%m").to_string(),
            Some(Grain::Year) => local.format("%Y").to_string(),
            _ => local.format("%Y-%m-%d").to_string(),
        }
    }
}

pub(crate) async fn render(engine: &Engine, report: &CheckedReport, at: DateTime<Utc>) -> Result<ReportDocument, EngineError> {
    let range = report.range_at(at)?;
    let catalog = engine.catalog();
    let calculations = report.spec.kpis.iter().map(|code| async move {
        let result = match report.query(engine, code, range) {
            Ok(query) => engine.calculate(&query).await,
            Err(e) => Err(e),
        };
        (code, result)
    });
    let mut sections = Vec::new();
    for (code, result) in futures::future::join_all(calculations).await {
        let kpi = catalog.kpi(code)?;
        let mut section = Section {
            code: code.clone(),
            name: kpi.name.clone(),
            unit: kpi.unit.clone(),
            direction: kpi.direction,
            thresholds: kpi.thresholds,
            rows: Vec::new(),
            error: None,
        };
        match result {
            Ok(result) => {
                section.rows = result
                    .rows()
                    .into_iter()
                    .map(|r| Row {
                        status: Status::of(r.value, kpi.direction, &kpi.thresholds),
                        period: r.period,
                        group: r.dimensions,
                        value: r.value,
                    })
                    .collect();
            }
            Err(e) => section.error = Some(e),
        }
        sections.push(section);
    }
    let zone = report.zone;
    let last_day = (range.end - chrono::Duration::seconds(1)).with_timezone(&zone);
    let period_label =
        format!("{} – {} ({})", range.start.with_timezone(&zone).format("%Y-%m-%d"), last_day.format("%Y-%m-%d"), zone.name());
    let content = Content {
        title: report.spec.title.clone().unwrap_or_else(|| report.spec.name.clone()),
        period_label,
        generated: at,
        zone,
        grain: report.grain,
        by: report.spec.by.clone(),
        start: range.start,
        end: range.end,
        sections,
    };
    let format = report.spec.format;
    let bytes = match format {
        ReportFormat::Csv => csv(&content).into_bytes(),
        ReportFormat::Json => serde_json::to_vec_pretty(&json(&content)).unwrap_or_default(),
        ReportFormat::Pdf => super::pdf::render(&content),
    };
    let slug: String =
        report.spec.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c.to_ascii_lowercase() } else { '-' }).collect();
    let failed_kpis = content.sections.iter().filter_map(|s| Some((s.code.clone(), s.error.as_ref()?.to_string()))).collect();
    Ok(ReportDocument {
        filename: format!("{}-{}.{}", slug.trim_matches('-'), range.start.with_timezone(&zone).format("%Y-%m-%d"), format.extension()),
        content_type: format.content_type(),
        bytes,
        title: content.title,
        period_label: content.period_label,
        start: range.start,
        end: range.end,
        failed_kpis,
    })
}

fn status_text(status: Status) -> &'static str {
    match status {
        Status::Good => "good",
        Status::Warning => "warning",
        Status::Critical => "critical",
        Status::NotRated => "not_rated",
        Status::NoData => "no_data",
    }
}

/// A CSV field, quoted when it must be (RFC 4180), and never read as a formula by a
/// spreadsheet.
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) && text.parse::<f64>().is_err() { format!("'{text}") } else { text.to_string() };
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

fn value_text(value: Option<f64>) -> String {
    value.filter(|v| v.is_finite()).map(|v| v.to_string()).unwrap_or_default()
}

/// `kpi,name,period,<dimensions>,value,status`: one row per KPI, period and group; a failed
/// KPI is one row with an empty value and the status `error: <message>`.
fn csv(content: &Content) -> String {
    let mut out = String::from("kpi,name,period,");
    for d in &content.by {
        out.push_str(&field(d));
        out.push(',');
    }
    out.push_str("value,status\n");
    for s in &content.sections {
        if let Some(e) = &s.error {
            let empty = ",".repeat(content.by.len());
            out.push_str(&format!("{},{},,{empty},{}\n", field(&s.code), field(&s.name), field(&format!("error: {e}"))));
            continue;
        }
        for r in &s.rows {
            let period = r.period.map(|p| p.with_timezone(&content.zone).to_rfc3339()).unwrap_or_default();
            out.push_str(&format!("{},{},{},", field(&s.code), field(&s.name), period));
            for g in &r.group {
                out.push_str(&field(&g.to_string()));
                out.push(',');
            }
            out.push_str(&format!("{},{}\n", value_text(r.value), status_text(r.status)));
        }
    }
    out
}

fn json(content: &Content) -> serde_json::Value {
    let kpis: Vec<serde_json::Value> = content
        .sections
        .iter()
        .map(|s| {
            let rows: Vec<serde_json::Value> = s
                .rows
                .iter()
                .map(|r| {
                    let group: Vec<(String, DimensionValue)> = content.by.iter().cloned().zip(r.group.iter().cloned()).collect();
                    serde_json::json!({
                        "period": r.period.map(|p| p.with_timezone(&content.zone).to_rfc3339()),
                        "group": crate::alerts::group_json(&group),
                        "value": r.value.filter(|v| v.is_finite()),
                        "status": status_text(r.status),
                    })
                })
                .collect();
            serde_json::json!({
                "kpi": s.code, "name": s.name, "unit": s.unit.to_string(), "direction": s.direction,
                "thresholds": s.thresholds, "rows": rows, "error": s.error.as_ref().map(EngineError::to_json),
            })
        })
        .collect();
    serde_json::json!({
        "report": content.title,
        "generated_at": content.generated.to_rfc3339(),
        "timezone": content.zone.name(),
        "grain": content.grain.map(|g| g.as_str()),
        "by": content.by,
        "range": { "start": content.start.with_timezone(&content.zone).to_rfc3339(), "end": content.end.with_timezone(&content.zone).to_rfc3339() },
        "kpis": kpis,
    })
}
