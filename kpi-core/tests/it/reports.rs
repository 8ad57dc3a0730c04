//! Reports through the public API: CSV, JSON and PDF documents of the engine's numbers (the
//! PDF read back by pdftotext and rendered by pdftoppm), ranges relative to the run in a time
//! zone, schedules that fire once at 07:00 local on both daylight saving days, delivery by
//! mail and to a directory, and bad definitions refused.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use kpi_catalog::{Catalog, DemoOptions};
use kpi_core::{Clock, Engine, EngineOptions, MailSettings, ManualClock, ReportSpec};
use kpi_formula::{Grain, Query, TimeRange};

use super::receivers::{SmtpSink, Webhook, eventually};

fn demo_engine(clock: Option<Arc<ManualClock>>) -> Engine {
    let catalog = Catalog::standard();
    let mut options = EngineOptions::default();
    if let Some(clock) = clock {
        options.clock = clock;
    }
    let engine = Engine::with_options(catalog.clone(), options).unwrap();
    let demo = catalog.demo_data(&DemoOptions::new(3_000).with_seed(11).with_range("2024-01-01", "2024-04-01").unwrap()).unwrap();
    engine.register_demo(demo).unwrap();
    engine
}

fn spec(json: &str) -> ReportSpec {
    ReportSpec::from_json(json).unwrap()
}

#[tokio::test]
async fn csv_and_json_carry_the_engines_numbers() {
    let engine = demo_engine(None);
    let report = r#"{"name": "Monthly", "kpis": ["revenue", "perfect_order_rate", "order_count"], "grain": "month", "by": ["orders.region"],
        "range": {"start": "2024-01-01", "end": "2024-04-01"}, "format": "csv"}"#;
    let csv = engine.render_report(&spec(report)).await.unwrap();
    assert_eq!((csv.content_type, csv.filename.as_str()), ("text/csv", "monthly-2024-01-01.csv"));
    let text = String::from_utf8(csv.bytes).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("kpi,name,period,orders.region,value,status"));
    let query = Query::kpi("revenue")
        .with_grain(Grain::Month)
        .by(["orders.region"])
        .with_range(TimeRange::new("2024-01-01T00:00:00Z".parse().unwrap(), "2024-04-01T00:00:00Z".parse().unwrap()).unwrap());
    let rows = engine.calculate(&query).await.unwrap().rows();
    let revenue: Vec<&str> = text.lines().filter(|l| l.starts_with("revenue,")).collect();
    assert_eq!(revenue.len(), rows.len());
    for (line, row) in revenue.iter().zip(&rows) {
        let fields: Vec<&str> = line.split(',').collect();
        assert_eq!(fields[3], row.dimensions[0].to_string());
        assert_eq!(fields[4].parse::<f64>().unwrap(), row.value.unwrap());
        assert!(fields[2].starts_with(&row.period.unwrap().format("%Y-%m-%d").to_string()), "{line}");
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with("perfect_order_rate,") && (l.ends_with(",good") || l.ends_with(",warning") || l.ends_with(",critical")))
    );

    let json = engine.render_report(&spec(&report.replace(r#""format": "csv""#, r#""format": "json""#))).await.unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&json.bytes).unwrap();
    assert_eq!(doc["report"], "Monthly");
    assert_eq!(doc["range"]["start"], "2024-01-01T00:00:00+00:00");
    assert_eq!(doc["kpis"].as_array().unwrap().len(), 3);
    let first = &doc["kpis"][0];
    assert_eq!((first["kpi"].as_str(), first["rows"].as_array().unwrap().len()), (Some("revenue"), rows.len()));
    assert_eq!(first["rows"][0]["value"].as_f64(), rows[0].value);
    assert!(first["rows"][0]["group"]["orders.region"].is_string());
}

#[tokio::test]
async fn a_failing_kpi_fails_alone_in_the_document() {
    let engine = demo_engine(None);
    // `orders.customer.segment` is no dimension of support tickets: that KPI fails, the other renders.
    let report = r#"{"name": "Mixed", "kpis": ["revenue", "ticket_volume"], "grain": "month", "by": ["orders.region"],
        "range": {"start": "2024-01-01", "end": "2024-04-01"}, "format": "json"}"#;
    let doc = engine.render_report(&spec(report)).await.unwrap();
    assert_eq!(doc.failed_kpis.len(), 1);
    assert_eq!(doc.failed_kpis[0].0, "ticket_volume");
    let json: serde_json::Value = serde_json::from_slice(&doc.bytes).unwrap();
    assert!(json["kpis"][0]["error"].is_null());
    assert!(json["kpis"][1]["error"]["code"].is_string());
}

fn pdftotext(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, bytes).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed by scripts/setup.sh");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn a_pdf_reads_back_and_renders() {
    let engine = demo_engine(None);
    let report = r#"{"name": "Operations review", "title": "Operations – Q1 2024", "kpis": ["revenue", "perfect_order_rate", "on_time_delivery_rate"],
        "grain": "week", "by": ["orders.region"], "range": {"start": "2024-01-01", "end": "2024-04-01"}, "format": "pdf", "timezone": "Europe/Berlin"}"#;
    let pdf = engine.render_report(&spec(report)).await.unwrap();
    assert_eq!(pdf.content_type, "application/pdf");
    assert!(pdf.bytes.starts_with(b"%PDF-"));
    let text = pdftotext(&pdf.bytes);
    assert!(text.contains("Operations – Q1 2024"), "{text}");
    assert!(text.contains("Period: 2024-01-01 – 2024-03-31 (Europe/Berlin)"), "{text}");
    for heading in ["Revenue (revenue)", "Perfect Order Fulfillment (perfect_order_rate)", "Period", "Value", "Status"] {
        assert!(text.contains(heading), "{heading} in {text}");
    }
    assert!(text.contains("good") || text.contains("warning") || text.contains("critical"), "{text}");
    assert!(text.contains("Page 1 of"), "{text}");
    // The latest revenue value of one region appears as the table shows it.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, &pdf.bytes).unwrap();
    let out =
        Command::new("pdftoppm").args(["-png", "-r", "50", "-f", "1", "-l", "1"]).arg(&path).arg(dir.path().join("page")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let png =
        std::fs::read_dir(dir.path()).unwrap().filter_map(Result::ok).find(|e| e.path().extension().is_some_and(|x| x == "png")).unwrap();
    let bytes = std::fs::read(png.path()).unwrap();
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000, "{} bytes", bytes.len());
    let info = Command::new("pdfinfo").arg(&path).output().unwrap();
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(info.contains("Pages:") && info.contains("A4") || info.contains("595 x 842"), "{info}");
}

#[tokio::test]
async fn relative_ranges_follow_the_run_in_the_reports_time_zone() {
    // 2024-03-04 is a Monday; at 06:30 UTC it is 07:30 in Berlin.
    let clock = Arc::new(ManualClock::new("2024-03-04T06:30:00Z".parse().unwrap()));
    let engine = demo_engine(Some(clock));
    let range = |r: &str| {
        let engine = engine.clone();
        let json = format!(r#"{{"name": "r", "kpis": ["revenue"], "range": "{r}", "format": "json", "timezone": "Europe/Berlin"}}"#);
        async move {
            let doc = engine.render_report(&spec(&json)).await.unwrap();
            (doc.start.to_rfc3339(), doc.end.to_rfc3339())
        }
    };
    assert_eq!(range("last_month").await, ("2024-01-31T23:00:00+00:00".into(), "2024-02-29T23:00:00+00:00".into()));
    assert_eq!(range("last_7_days").await, ("2024-02-25T23:00:00+00:00".into(), "2024-03-03T23:00:00+00:00".into()));
    assert_eq!(range("yesterday").await, ("2024-03-02T23:00:00+00:00".into(), "2024-03-03T23:00:00+00:00".into()));
    assert_eq!(range("last_week").await, ("2024-02-25T23:00:00+00:00".into(), "2024-03-03T23:00:00+00:00".into()));
    assert_eq!(range("last_quarter").await, ("2023-09-30T22:00:00+00:00".into(), "2023-12-31T23:00:00+00:00".into()));
    assert_eq!(range("month_to_date").await, ("2024-02-29T23:00:00+00:00".into(), "2024-03-04T06:30:00+00:00".into()));
}

#[tokio::test]
async fn a_schedule_runs_once_at_seven_local_across_both_daylight_saving_changes() {
    let clock = Arc::new(ManualClock::new("2026-03-27T12:00:00Z".parse().unwrap()));
    let engine = demo_engine(Some(clock.clone()));
    let dir = tempfile::tempdir().unwrap();
    let json = format!(
        r#"{{"name": "daily", "kpis": ["order_count"], "range": "yesterday", "format": "csv", "schedule": "0 7 * * *",
            "timezone": "Europe/Berlin", "directory": "{}"}}"#,
        dir.path().display()
    );
    let report = engine.add_report(spec(&json)).await.unwrap();
    assert_eq!(report.next_run.unwrap().to_rfc3339(), "2026-03-28T06:00:00+00:00");
    // Walk the clock an hour at a time over three days around the spring change.
    let mut runs = Vec::new();
    for _ in 0..72 {
        clock.advance(Duration::from_secs(3600));
        // Wait only when a run is due: then it must come, and its successor be set.
        let due = engine.report(report.id).unwrap().next_run.is_some_and(|n| n <= clock.now());
        if due {
            let want = runs.len();
            assert!(
                eventually(10, || engine.report_runs(report.id).len() > want
                    && engine.report(report.id).unwrap().next_run > Some(clock.now()))
                .await
            );
            runs = engine.report_runs(report.id);
        }
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(engine.report_runs(report.id).len(), runs.len(), "no run beyond those due");
    let at: Vec<String> = runs.iter().map(|r| r.at.to_rfc3339()).collect();
    assert_eq!(at, ["2026-03-28T06:00:00+00:00", "2026-03-29T05:00:00+00:00", "2026-03-30T05:00:00+00:00"]);
    assert!(runs.iter().all(|r| r.ok()), "{runs:?}");
    // Each run wrote yesterday's file, named by its local date.
    let mut files: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    files.sort();
    assert_eq!(files, ["daily-2026-03-27.csv", "daily-2026-03-28.csv", "daily-2026-03-29.csv"]);
    assert_eq!(runs[1].start.to_rfc3339(), "2026-03-27T23:00:00+00:00");
    assert_eq!(runs[1].end.to_rfc3339(), "2026-03-28T23:00:00+00:00");
    assert_eq!(runs[2].end.to_rfc3339(), "2026-03-29T22:00:00+00:00", "the 29th had 23 hours");
    assert!(engine.remove_report(report.id));
}

#[tokio::test]
async fn a_report_is_mailed_as_an_attachment_and_failures_are_recorded() {
    let sink = SmtpSink::start().await;
    let engine = demo_engine(None);
    let json = r#"{"name": "Weekly PDF", "kpis": ["revenue"], "grain": "week", "range": {"start": "2024-01-01", "end": "2024-02-01"},
        "format": "pdf", "recipients": ["ops@example.com"]}"#;
    let refused = engine.add_report(spec(json)).await.unwrap_err();
    assert!(refused.to_string().contains("no mail server"), "{refused}");
    let mail = format!(r#"{{"host": "127.0.0.1", "port": {}, "tls": "none", "from": "reports@example.com"}}"#, sink.port);
    engine.set_mail(&MailSettings::from_json(&mail).unwrap()).unwrap();
    let report = engine.add_report(spec(json)).await.unwrap();
    let (run, document) = engine.run_report(report.id).await.unwrap();
    assert!(run.ok(), "{run:?}");
    assert_eq!(run.delivered_to, ["ops@example.com"]);
    assert!(document.bytes.starts_with(b"%PDF"));
    assert!(eventually(5, || sink.received().len() == 1).await);
    let data = &sink.received()[0].data;
    assert!(data.contains("Content-Type: application/pdf"), "{data}");
    assert!(data.contains("filename=\"weekly-pdf-2024-01-01.pdf\""), "{data}");
    assert!(data.contains("Subject: Weekly PDF"), "{data}");

    // The mail server goes away: the run is recorded as failed, with the reason.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    engine
        .set_mail(
            &MailSettings::from_json(&format!(
                r#"{{"host": "127.0.0.1", "port": {port}, "tls": "none", "from": "r@example.com", "timeout": "2s"}}"#
            ))
            .unwrap(),
        )
        .unwrap();
    let (failed, _) = engine.run_report(report.id).await.unwrap();
    assert!(!failed.ok());
    assert!(failed.error.as_deref().unwrap().contains("smtp://127.0.0.1"), "{failed:?}");
    let runs = engine.report_runs(report.id);
    assert_eq!(runs.len(), 2);
    assert_eq!(engine.report(report.id).unwrap().runs, 2);
    assert_eq!(engine.reports()[0].to_json()["last_run"]["ok"], false);
}

#[tokio::test]
async fn bad_reports_are_refused_with_the_reason() {
    let engine = demo_engine(None);
    let refused = |json: String| {
        let engine = engine.clone();
        async move {
            match ReportSpec::from_json(&json) {
                Ok(spec) => engine.add_report(spec).await.unwrap_err(),
                Err(e) => e,
            }
        }
    };
    let e = refused(r#"{"name": "r", "kpis": ["revenu"]}"#.into()).await;
    assert_eq!((e.code(), e.kind().as_str()), ("KPI_REPORT", "query"));
    assert!(e.to_string().contains("revenue"), "{e}");
    let many: Vec<String> = (0..10_000).map(|i| format!("\"k{i}\"")).collect();
    let e = refused(format!(r#"{{"name": "r", "kpis": [{}]}}"#, many.join(","))).await;
    assert!(e.to_string().contains("10000 KPIs is more than a report may name"), "{e}");
    let e = refused(r#"{"name": "r", "kpis": ["revenue"], "schedule": "0 25 * * *"}"#.into()).await;
    assert!(e.to_string().contains("is not a cron schedule"), "{e}");
    let e = refused(r#"{"name": "r", "kpis": ["revenue"], "timezone": "Mars/Olympus"}"#.into()).await;
    assert!(e.to_string().contains("Mars/Olympus"), "{e}");
    let e = refused(r#"{"name": "r", "kpis": ["revenue"], "range": "last_fortnight"}"#.into()).await;
    assert_eq!(e.code(), "KPI_REPORT");
    let e = refused(r#"{"name": "r", "kpis": ["revenue"], "format": "docx"}"#.into()).await;
    assert!(e.to_string().contains("docx"), "{e}");
    let e = refused(r#"{"name": "r", "kpis": ["revenue"], "directory": "/proc/kpi-reports"}"#.into()).await;
    assert!(e.to_string().contains("cannot write to the directory"), "{e}");
    let e = refused(r#"{"name": "r", "kpis": ["revenue", "revenue"]}"#.into()).await;
    assert!(e.to_string().contains("named twice"), "{e}");
    let e = refused(r#"{"name": "r", "kpis": []}"#.into()).await;
    assert!(e.to_string().contains("empty"), "{e}");
    let e = engine.run_report(99).await.unwrap_err();
    assert_eq!(e.code(), "KPI_REPORT");
    assert!(engine.reports().is_empty());
}

#[tokio::test]
async fn a_report_is_written_to_an_object_store() {
    // A web server that takes PUTs stands in for the store (object_store's HTTP store).
    let store = Webhook::start(&[], false).await;
    let base = store.url.trim_end_matches("/hook").to_string();
    let engine = demo_engine(None);
    let json = format!(
        r#"{{"name": "Store", "kpis": ["order_count"], "grain": "month", "range": {{"start": "2024-01-01", "end": "2024-04-01"}},
            "format": "csv", "directory": "{base}/reports/monthly/"}}"#
    );
    let report = engine.add_report(spec(&json)).await.unwrap();
    let (run, document) = engine.run_report(report.id).await.unwrap();
    assert!(run.ok(), "{run:?}");
    assert_eq!(run.delivered_to, [format!("{base}/reports/monthly/store-2024-01-01.csv")]);
    let put = store.received().into_iter().find(|r| r.path.ends_with(".csv")).expect("the object was put");
    assert_eq!(put.path, "/reports/monthly/store-2024-01-01.csv");
    assert_eq!(put.body, document.bytes);
    let e = engine.add_report(spec(r#"{"name": "r", "kpis": ["revenue"], "directory": "ftp://example.com/reports/"}"#)).await.unwrap_err();
    assert!(e.to_string().contains("unsupported URL scheme"), "{e}");
}
