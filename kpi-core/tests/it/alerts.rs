//! Alerts through the public API: rules on KPIs by group and on sources, judged as data is
//! appended, with "for" durations on a driven clock and hysteresis; notifiers delivering to a
//! webhook receiver and an SMTP sink started here, with signatures, retries and dead letters.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use kpi_catalog::Catalog;
use kpi_core::{
    AlertEvent, AlertEventKind, AlertEvents, AlertRuleSpec, Engine, EngineOptions, Level, MailSettings, ManualClock, NotifierSpec,
};

use super::receivers::{SmtpSink, Webhook, eventually};
use super::stream::{Event, batch};

pub(crate) fn catalog() -> Catalog {
    Catalog::from_yaml(
        r#"
object_models:
  - code: events
    name: Event
    time_column: at
    columns:
      - { name: at, type: timestamp, nullable: false }
      - { name: region, type: string }
      - { name: user_id, type: int64 }
      - { name: amount, type: float64 }
  - code: visits
    name: Visit
    time_column: at
    columns:
      - { name: at, type: timestamp, nullable: false }
kpis:
  - { code: total, name: Total, formula: sum(events.amount), thresholds: { warning: 50, critical: 20 }, default_grain: minute, dimensions: [events.region] }
  - { code: events, name: Events, formula: count(events), default_grain: minute }
  - { code: spread, name: Spread, formula: max(events.amount) - min(events.amount), direction: neutral }
"#,
    )
    .unwrap()
}

pub(crate) fn clocked(at: &str, events: &[Event], lateness: Option<Duration>) -> (Engine, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(at.parse().unwrap()));
    let options = EngineOptions { clock: clock.clone(), allowed_lateness: lateness, ..Default::default() };
    let engine = Engine::with_options(catalog(), options).unwrap();
    engine.register_batches("events", vec![batch(events)]).unwrap();
    (engine, clock)
}

fn rule(json: &str) -> AlertRuleSpec {
    AlertRuleSpec::from_json(json).unwrap()
}

async fn next(events: &mut AlertEvents) -> AlertEvent {
    tokio::time::timeout(Duration::from_secs(20), events.next()).await.expect("an alert event arrives").unwrap()
}

/// Waits a moment and says whether any event came.
async fn quiet(events: &mut AlertEvents) -> Option<AlertEvent> {
    tokio::time::timeout(Duration::from_millis(400), events.next()).await.ok().flatten()
}

fn append(engine: &Engine, events: &[Event]) {
    engine.append_batches("events", vec![batch(events)]).unwrap();
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[tokio::test]
async fn a_rule_fires_escalates_and_resolves_with_hysteresis() {
    let (engine, _clock) = clocked("2024-01-01T00:10:00Z", &[(5, Some("eu"), Some(1), Some(50.0))], None);
    let mut events = engine.alert_events();
    engine
        .add_alert_rule(rule(
            r#"{"name": "big", "kpi": "total", "grain": "minute", "when": "above", "warning": 100, "critical": 200, "hysteresis": 0.1}"#,
        ))
        .await
        .unwrap();
    assert!(quiet(&mut events).await.is_none(), "50 is below both levels");
    append(&engine, &[(6, Some("eu"), Some(1), Some(160.0))]); // 210
    let fired = next(&mut events).await;
    assert_eq!(
        (fired.kind, fired.level, fired.previous_level, fired.value),
        (AlertEventKind::Fired, Level::Critical, Level::Ok, Some(210.0))
    );
    assert_eq!((fired.threshold, fired.period), (Some(200.0), Some(t("2024-01-01T00:00:00Z"))));
    assert!(fired.message.contains("total") && fired.message.contains("210"), "{}", fired.message);
    append(&engine, &[(7, Some("eu"), Some(1), Some(-15.0))]); // 195: within 10% of 200, stays critical
    assert!(quiet(&mut events).await.is_none());
    append(&engine, &[(8, Some("eu"), Some(1), Some(-20.0))]); // 175
    let warning = next(&mut events).await;
    assert_eq!((warning.kind, warning.level, warning.previous_level), (AlertEventKind::Fired, Level::Warning, Level::Critical));
    append(&engine, &[(9, Some("eu"), Some(1), Some(-80.0))]); // 95: hovering just under 100 stays a warning
    assert!(quiet(&mut events).await.is_none());
    assert_eq!(engine.alerts().len(), 1);
    assert_eq!(engine.alerts()[0].level, Level::Warning);
    append(&engine, &[(10, Some("eu"), Some(1), Some(-10.0))]); // 85
    let resolved = next(&mut events).await;
    assert_eq!((resolved.kind, resolved.level, resolved.previous_level), (AlertEventKind::Resolved, Level::Ok, Level::Warning));
    assert!(engine.alerts().is_empty());
    let history: Vec<(AlertEventKind, Level)> = engine.alert_history(10).iter().map(|e| (e.kind, e.level)).collect();
    assert_eq!(
        history,
        [(AlertEventKind::Fired, Level::Critical), (AlertEventKind::Fired, Level::Warning), (AlertEventKind::Resolved, Level::Ok)]
    );
    let info = &engine.alert_rules()[0];
    assert_eq!((info.active, info.groups), (0, 1));
    assert!(info.evaluations >= 5);
}

#[tokio::test]
async fn the_kpis_thresholds_judge_each_group_on_its_own() {
    let rows = [(5, Some("eu"), Some(1), Some(60.0)), (6, Some("us"), Some(2), Some(60.0))];
    let (engine, _clock) = clocked("2024-01-01T00:10:00Z", &rows, None);
    let mut events = engine.alert_events();
    engine.add_alert_rule(rule(r#"{"name": "total by region", "kpi": "total", "by": ["events.region"]}"#)).await.unwrap();
    assert!(quiet(&mut events).await.is_none());
    // Higher is better: us at 15 is at or below the critical level 20; eu stays good.
    append(&engine, &[(70, Some("us"), Some(2), Some(15.0)), (71, Some("eu"), Some(1), Some(80.0))]);
    let fired = next(&mut events).await;
    assert_eq!(fired.level, Level::Critical);
    assert_eq!(fired.group, [("events.region".to_string(), kpi_core::DimensionValue::Text("us".into()))]);
    assert!(quiet(&mut events).await.is_none(), "eu is fine");
    let active = engine.alerts();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].to_json()["group"], serde_json::json!({"events.region": "us"}));
    assert_eq!(active[0].to_json()["level"], "critical");
}

#[tokio::test]
async fn a_breach_fires_only_after_its_duration_on_the_engines_clock() {
    let (engine, clock) = clocked("2024-01-01T00:10:00Z", &[(5, None, None, Some(10.0))], None);
    let mut events = engine.alert_events();
    engine.add_alert_rule(rule(r#"{"name": "slow", "kpi": "events", "when": "above", "critical": 2, "for": "5min"}"#)).await.unwrap();
    append(&engine, &[(6, None, None, Some(1.0)), (7, None, None, Some(1.0))]);
    assert!(quiet(&mut events).await.is_none(), "pending, not fired");
    clock.advance(Duration::from_secs(4 * 60));
    assert!(quiet(&mut events).await.is_none(), "four minutes are not five");
    clock.advance(Duration::from_secs(61));
    let fired = next(&mut events).await;
    assert_eq!((fired.level, fired.value), (Level::Critical, Some(3.0)));
    assert_eq!(fired.at, t("2024-01-01T00:15:01Z"));
}

#[tokio::test]
async fn change_and_missing_data_rules() {
    let rows = [(5, None, None, Some(100.0)), (65, None, None, Some(100.0))];
    let (engine, clock) = clocked("2024-01-01T00:02:30Z", &rows, None);
    let mut events = engine.alert_events();
    engine
        .add_alert_rule(rule(
            r#"{"name": "jump", "kpi": "total", "grain": "minute", "when": "change", "direction": "up", "warning": 25, "critical": 50}"#,
        ))
        .await
        .unwrap();
    engine
        .add_alert_rule(rule(r#"{"name": "silence", "kpi": "events", "grain": "minute", "when": "no_data", "periods": 2}"#))
        .await
        .unwrap();
    assert!(quiet(&mut events).await.is_none());
    append(&engine, &[(66, None, None, Some(60.0))]); // minute 1: 160 against 100
    let jump = next(&mut events).await;
    assert_eq!((jump.rule.as_str(), jump.level), ("jump", Level::Critical));
    assert!((jump.value.unwrap() - 60.0).abs() < 1e-9);
    // The last data is in minute 1; at 00:04:10 minutes 2 and 3 have passed without any.
    clock.set(t("2024-01-01T00:04:10Z"));
    let silence = next(&mut events).await;
    assert_eq!((silence.rule.as_str(), silence.level, silence.value), ("silence", Level::Critical, Some(2.0)));
    append(&engine, &[(250, None, None, Some(1.0))]); // minute 4
    let back = next(&mut events).await;
    assert_eq!((back.rule.as_str(), back.kind), ("silence", AlertEventKind::Resolved));
}

#[tokio::test]
async fn sources_alert_when_stale_or_late() {
    let (engine, clock) = clocked("2024-01-01T00:10:00Z", &[(600, None, None, Some(1.0))], Some(Duration::from_secs(60)));
    let mut events = engine.alert_events();
    engine.add_alert_rule(rule(r#"{"name": "events stale", "when": "source_stale", "source": "events", "after": "10min"}"#)).await.unwrap();
    engine.add_alert_rule(rule(r#"{"name": "events late", "when": "late_rows", "source": "events"}"#)).await.unwrap();
    clock.advance(Duration::from_secs(11 * 60));
    let stale = next(&mut events).await;
    assert_eq!((stale.rule.as_str(), stale.level, stale.source.as_deref()), ("events stale", Level::Critical, Some("events")));
    // A row ten minutes behind the latest event time is beyond the minute allowed.
    append(&engine, &[(0, None, None, Some(1.0))]);
    let mut got: Vec<(String, AlertEventKind)> = vec![];
    for _ in 0..2 {
        let e = next(&mut events).await;
        got.push((e.rule, e.kind));
    }
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, [("events late".into(), AlertEventKind::Fired), ("events stale".into(), AlertEventKind::Resolved)]);
    append(&engine, &[(601, None, None, Some(1.0))]);
    let on_time = next(&mut events).await;
    assert_eq!((on_time.rule.as_str(), on_time.kind), ("events late", AlertEventKind::Resolved));
}

#[tokio::test]
async fn bad_rules_are_refused_with_the_reason() {
    let (engine, _clock) = clocked("2024-01-01T00:10:00Z", &[(5, None, None, Some(1.0))], None);
    let refused = |json: &'static str| {
        let engine = engine.clone();
        async move {
            match AlertRuleSpec::from_json(json) {
                Ok(spec) => engine.add_alert_rule(spec).await.unwrap_err(),
                Err(e) => e,
            }
        }
    };
    let e = refused(r#"{"name": "x", "kpi": "totl", "when": "above", "warning": 1}"#).await;
    assert_eq!(e.code(), "KPI_CATALOG");
    assert!(e.to_string().contains("total"), "did you mean: {e}");
    let e = refused(r#"{"name": "x", "kpi": "total", "when": "above", "warning": 10, "critical": 5}"#).await;
    assert_eq!((e.code(), e.kind().as_str()), ("KPI_ALERT", "query"));
    assert!(e.to_string().contains("contradicting thresholds"), "{e}");
    let e = refused(r#"{"name": "x", "kpi": "total", "when": "below", "warning": 10, "critical": 50}"#).await;
    assert!(e.to_string().contains("critical (50) must be at or below warning (10)"), "{e}");
    let e = refused(r#"{"name": "x", "kpi": "spread"}"#).await;
    assert!(e.to_string().contains("no thresholds"), "{e}");
    let e = refused(r#"{"name": "x", "when": "source_stale", "source": "evnts", "after": "1min"}"#).await;
    assert!(e.to_string().contains("did you mean `events`"), "{e}");
    let e = refused(r#"{"name": "x", "when": "source_stale", "source": "events"}"#).await;
    assert!(e.to_string().contains("needs `after`"), "{e}");
    let e = refused(r#"{"name": "x", "when": "late_rows", "source": "events", "after": "1min"}"#).await;
    assert!(e.to_string().contains("`after` applies to `source_stale` rules"), "{e}");
    let e = refused(r#"{"name": "x", "when": "source_errors", "source": "events", "warning": 1}"#).await;
    assert!(e.to_string().contains("`warning` does not apply to a `source_errors` rule"), "{e}");
    let e = refused(r#"{"name": "x", "kpi": "total", "when": "above", "warning": 1, "periods": 3}"#).await;
    assert!(e.to_string().contains("`periods` applies to `no_data` rules"), "{e}");
    let e = refused(r#"{"name": "x", "kpi": "total", "when": "sideways"}"#).await;
    assert!(e.to_string().contains("unknown `when`"), "{e}");
    let e = refused(r#"{"name": "x", "kpi": "total", "hysteresis": 3}"#).await;
    assert!(e.to_string().contains("hysteresis"), "{e}");
    let e = refused(r#"{"name": "x", "kpi": "total", "by": ["events.nope"]}"#).await;
    assert_eq!(e.code(), "KPI_FORMULA");
    assert!(e.to_string().contains("events.nope"), "{e}");
    let e = refused(r#"{"name": "x", "kpi": "total", "for": "-5min"}"#).await;
    assert_eq!(e.code(), "KPI_ALERT");
    let e = refused(r#"{"name": "x", "kpi": "total", "colour": "red"}"#).await;
    assert!(e.to_string().contains("unknown field `colour`"), "{e}");
    engine.add_alert_rule(rule(r#"{"name": "once", "kpi": "total"}"#)).await.unwrap();
    let e = refused(r#"{"name": "once", "kpi": "events", "when": "above", "warning": 1}"#).await;
    assert!(e.to_string().contains("exists"), "{e}");
    assert!(engine.remove_alert_rule("once"));
    assert!(!engine.remove_alert_rule("once"));
    assert!(engine.alert_rules().is_empty());
}

/// Adds a rule that is critical from the start (two events, critical at one or more).
async fn firing_rule(engine: &Engine) {
    engine.add_alert_rule(rule(r#"{"name": "always", "kpi": "events", "grain": "minute", "when": "above", "critical": 1}"#)).await.unwrap();
}

#[tokio::test]
async fn a_webhook_gets_signed_events_and_retries_until_it_answers() {
    let receiver = Webhook::start(&[500, 503], false).await;
    let (engine, _clock) = clocked("2024-01-01T00:10:00Z", &[(5, None, None, Some(1.0))], None);
    let spec = format!(
        r#"{{"name": "hook", "webhook": "{}", "secret": "s3cret", "retries": 3, "backoff": "10ms", "headers": {{"x-team": "ops"}}}}"#,
        receiver.url
    );
    let added = engine.add_notifier(NotifierSpec::from_json(&spec).unwrap()).await.unwrap();
    assert_eq!(added.spec.secret.as_deref(), Some("***"), "the secret is not shown back");
    firing_rule(&engine).await;
    assert!(eventually(20, || engine.notifiers()[0].delivered == 1).await, "{:?}", engine.notifiers());
    let requests = receiver.received();
    assert_eq!(requests.len(), 3, "two failures and a success");
    for r in &requests {
        assert_eq!((r.path.as_str(), r.header("x-kpi-event"), r.header("x-team")), ("/hook", Some("alert.fired"), Some("ops")));
        assert_eq!(r.header("content-type"), Some("application/json"));
        let signature = r.header("x-kpi-signature").unwrap();
        assert!(kpi_core::verify_webhook(b"s3cret", signature, &r.body, Utc::now().timestamp(), 3600), "{signature}");
        assert!(!kpi_core::verify_webhook(b"wrong", signature, &r.body, Utc::now().timestamp(), 3600));
    }
    let body = requests[2].json();
    assert_eq!((body["event"].as_str(), body["rule"].as_str(), body["level"].as_str()), (Some("fired"), Some("always"), Some("critical")));
    assert_eq!(body["kpi"], "events");
    let info = &engine.notifiers()[0];
    assert_eq!((info.delivered, info.failed, info.attempts), (1, 0, 3));
    assert!(engine.dead_letters().is_empty());
}

#[tokio::test]
async fn dead_and_hanging_receivers_end_in_dead_letters_and_never_block() {
    let hanging = Webhook::start(&[], true).await;
    let refusing = Webhook::start(&[404], false).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    let (engine, _clock) = clocked("2024-01-01T00:10:00Z", &[(5, None, None, Some(1.0))], None);
    for (name, url) in [("hanging", hanging.url.as_str()), ("refusing", refusing.url.as_str()), ("closed", closed_url.as_str())] {
        let spec = format!(r#"{{"name": "{name}", "webhook": "{url}", "retries": 1, "backoff": "10ms", "timeout": "300ms"}}"#);
        engine.add_notifier(NotifierSpec::from_json(&spec).unwrap()).await.unwrap();
    }
    firing_rule(&engine).await;
    // Calculations go on while the receivers hang.
    let started = std::time::Instant::now();
    engine.calculate(&kpi_formula::Query::kpi("events").with_grain(kpi_formula::Grain::Minute)).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(eventually(20, || engine.dead_letters().len() == 3).await, "{:?}", engine.dead_letters());
    let mut dead: Vec<(String, u32)> = engine.dead_letters().iter().map(|d| (d.notifier.clone(), d.attempts)).collect();
    dead.sort();
    // A 404 is not retried; the others are tried twice.
    assert_eq!(dead, [("closed".into(), 2), ("hanging".into(), 2), ("refusing".into(), 1)]);
    let letters = engine.dead_letters();
    let hung = letters.iter().find(|d| d.notifier == "hanging").unwrap();
    assert!(hung.error.contains("no answer within 300ms"), "{}", hung.error);
    assert_eq!(hung.event.rule, "always");
    assert!(letters.iter().find(|d| d.notifier == "refusing").unwrap().error.contains("404"));
    assert_eq!(hung.to_json()["event"]["level"], "critical");
}

#[tokio::test]
async fn email_notifications_reach_an_smtp_server() {
    let sink = SmtpSink::start().await;
    let (engine, _clock) = clocked("2024-01-01T00:10:00Z", &[(5, None, None, Some(1.0))], None);
    let e = engine.add_notifier(NotifierSpec::from_json(r#"{"name": "mail", "email": ["ops@example.com"]}"#).unwrap()).await.unwrap_err();
    assert!(e.to_string().contains("set_mail"), "{e}");
    let mail = format!(r#"{{"host": "127.0.0.1", "port": {}, "tls": "none", "from": "KPI Engine <kpi@example.com>"}}"#, sink.port);
    engine.set_mail(&MailSettings::from_json(&mail).unwrap()).unwrap();
    let e = engine.add_notifier(NotifierSpec::from_json(r#"{"name": "mail", "email": ["not an address"]}"#).unwrap()).await.unwrap_err();
    assert_eq!(e.code(), "KPI_ALERT");
    engine
        .add_notifier(
            NotifierSpec::from_json(
                r#"{"name": "mail", "email": ["ops@example.com", "Lead <lead@example.com>"], "min_level": "critical"}"#,
            )
            .unwrap(),
        )
        .await
        .unwrap();
    firing_rule(&engine).await;
    assert!(eventually(20, || !sink.received().is_empty()).await);
    let mail = &sink.received()[0];
    assert_eq!(mail.from, "<kpi@example.com>");
    assert_eq!(mail.to, ["<ops@example.com>", "<lead@example.com>"]);
    assert!(mail.data.contains("Subject: [KPI critical] always"), "{}", mail.data);
    assert!(mail.data.contains("events"), "{}", mail.data);
}

#[tokio::test]
async fn an_unreachable_mail_server_is_a_recorded_failure() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (engine, _clock) = clocked("2024-01-01T00:10:00Z", &[(5, None, None, Some(1.0))], None);
    let mail = format!(r#"{{"host": "127.0.0.1", "port": {port}, "tls": "none", "from": "kpi@example.com", "timeout": "2s"}}"#);
    engine.set_mail(&MailSettings::from_json(&mail).unwrap()).unwrap();
    engine.add_notifier(NotifierSpec::from_json(r#"{"name": "mail", "email": ["ops@example.com"], "retries": 0}"#).unwrap()).await.unwrap();
    firing_rule(&engine).await;
    assert!(eventually(20, || engine.dead_letters().len() == 1).await);
    let dead = &engine.dead_letters()[0];
    assert!(dead.target.starts_with("smtp://127.0.0.1:"), "{}", dead.target);
    assert!(dead.error.contains("KPI_DELIVERY") || dead.error.contains("cannot deliver"), "{}", dead.error);
    let bad = MailSettings::from_json(r#"{"host": "", "from": "kpi@example.com"}"#).unwrap();
    assert!(engine.set_mail(&bad).unwrap_err().to_string().contains("host"));
}
