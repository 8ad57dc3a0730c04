//! `kpi report run` over files `kpi demo` wrote: a PDF that pdftotext reads back, CSV to
//! standard output, a report document with flags over it, mail to an SMTP sink, bad input.

use std::io::{BufRead, BufReader, Write};

use crate::support::{kpi, workspace};

#[test]
fn a_report_as_pdf_csv_and_from_a_document() {
    let dir = workspace();
    kpi(dir.path(), &["demo", "--out", "data", "--rows", "3000"]).expect(0);
    let run = kpi(
        dir.path(),
        &[
            "report",
            "run",
            "-k",
            "revenue,perfect_order_rate",
            "-g",
            "month",
            "-b",
            "orders.region",
            "--range",
            "2024-01-01,2024-07-01",
            "--title",
            "H1 review",
            "-d",
            "data",
            "-o",
            "h1.pdf",
        ],
    )
    .expect(0);
    assert!(run.stderr.contains("wrote h1.pdf") && run.stderr.contains("2024-01-01 – 2024-06-30 (UTC)"), "{}", run.stderr);
    let pdf = std::fs::read(dir.path().join("h1.pdf")).expect("the PDF");
    assert!(pdf.starts_with(b"%PDF-"));
    if let Ok(out) = std::process::Command::new("pdftotext").arg(dir.path().join("h1.pdf")).arg("-").output() {
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("H1 review") && text.contains("Revenue (revenue)") && text.contains("europe"), "{text}");
    }
    let csv = kpi(
        dir.path(),
        &["report", "run", "-k", "order_count", "-g", "month", "--range", "2024-01-01,2024-04-01", "--format", "csv", "-d", "data"],
    )
    .expect(0)
    .stdout;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "kpi,name,period,value,status");
    assert_eq!(lines.len(), 4, "{csv}");
    std::fs::write(
        dir.path().join("weekly.json"),
        r#"{"name": "Weekly", "kpis": ["revenue"], "grain": "week", "range": {"start": "2024-03-01", "end": "2024-04-01"}, "format": "json"}"#,
    )
    .expect("the document");
    let json = kpi(dir.path(), &["report", "run", "weekly.json", "-d", "data", "--timezone", "Europe/Berlin"]).expect(0).stdout;
    let json: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!((json["report"].as_str(), json["timezone"].as_str()), (Some("Weekly"), Some("Europe/Berlin")));
    assert_eq!(json["kpis"][0]["rows"].as_array().expect("rows").len(), 5);
}

/// An SMTP sink on loopback that keeps one message and answers everything else with 250.
fn smtp_sink() -> (u16, std::thread::JoinHandle<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = listener.local_addr().expect("address").port();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("a connection");
        let mut writer = stream.try_clone().expect("clone");
        let mut reader = BufReader::new(stream);
        writer.write_all(b"220 sink\r\n").expect("greeting");
        let mut data = String::new();
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            let verb = line.to_ascii_uppercase();
            if verb.starts_with("EHLO") || verb.starts_with("HELO") {
                writer.write_all(b"250-sink\r\n250 8BITMIME\r\n").expect("reply");
            } else if verb.starts_with("DATA") {
                writer.write_all(b"354 go on\r\n").expect("reply");
                let mut l = String::new();
                while reader.read_line(&mut l).unwrap_or(0) > 0 && l != ".\r\n" {
                    data.push_str(&l);
                    l.clear();
                }
                writer.write_all(b"250 kept\r\n").expect("reply");
            } else if verb.starts_with("QUIT") {
                let _ = writer.write_all(b"221 bye\r\n");
                break;
            } else {
                writer.write_all(b"250 ok\r\n").expect("reply");
            }
            line.clear();
        }
        data
    });
    (port, handle)
}

#[test]
fn a_report_is_mailed_and_bad_reports_are_clear_errors() {
    let dir = workspace();
    let (port, sink) = smtp_sink();
    let server = format!("127.0.0.1:{port}");
    let run = kpi(
        dir.path(),
        &[
            "report",
            "run",
            "-k",
            "revenue",
            "-g",
            "month",
            "--range",
            "2024-01-01,2024-04-01",
            "--demo",
            "500",
            "--to",
            "ops@example.com",
            "--smtp",
            &server,
            "--smtp-tls",
            "none",
            "--from",
            "kpi@example.com",
        ],
    )
    .expect(0);
    assert!(run.stderr.contains("mailed report-2024-01-01.pdf to ops@example.com"), "{}", run.stderr);
    let mail = sink.join().expect("the sink");
    assert!(mail.contains("Content-Type: application/pdf") && mail.contains("To: ops@example.com"), "{mail}");

    let none = kpi(dir.path(), &["report", "run", "--demo", "100"]).expect(1);
    assert!(none.stderr.contains("no KPIs"), "{}", none.stderr);
    let range = kpi(dir.path(), &["report", "run", "-k", "revenue", "--range", "last_fortnight", "--demo", "100"]).expect(1);
    assert!(range.stderr.contains("is not a range"), "{}", range.stderr);
    let unknown = kpi(dir.path(), &["report", "run", "-k", "revenu", "--demo", "100"]).expect_clear_error();
    assert!(unknown.stderr.contains("[KPI_REPORT]") && unknown.stderr.contains("revenue"), "{}", unknown.stderr);
    let mail = kpi(dir.path(), &["report", "run", "-k", "revenue", "--to", "a@example.com", "--demo", "100"]).expect(1);
    assert!(mail.stderr.contains("--smtp"), "{}", mail.stderr);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let dead = format!("127.0.0.1:{}", closed.local_addr().expect("address").port());
    drop(closed);
    let failed = kpi(
        dir.path(),
        &[
            "report",
            "run",
            "-k",
            "revenue",
            "--demo",
            "100",
            "--to",
            "a@example.com",
            "--smtp",
            &dead,
            "--smtp-tls",
            "none",
            "--from",
            "k@example.com",
        ],
    )
    .expect_clear_error();
    assert!(failed.stderr.contains("[KPI_DELIVERY]") && failed.stderr.contains("smtp://127.0.0.1"), "{}", failed.stderr);
}
