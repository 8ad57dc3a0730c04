//! Notifiers: where alert events go — webhooks (signed JSON, retried with backoff) and email
//! through an SMTP server. Each notifier delivers from its own queue on its own task, so a dead
//! or slow receiver never holds up calculations, alert judging or other notifiers; an event
//! whose last try failed (or that found the queue full) is kept in the dead-letter list.

mod email;
mod webhook;

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

pub use email::MailSettings;
pub(crate) use email::{MailAttachment, Mailer, mailboxes};
pub use webhook::{SIGNATURE_HEADER, sign_webhook, verify_webhook};

use crate::alerts::{AlertEvent, AlertEventKind, Level};
use crate::error::EngineError;
use crate::option_value::TimeSetting;
use crate::{Clock, Engine};

/// Events waiting per notifier before new ones go to the dead-letter list.
pub const QUEUE_EVENTS: usize = 1_000;
/// Dead letters kept; older ones are dropped first.
pub const DEAD_LETTERS: usize = 1_000;

/// A notifier as a document: `webhook` (a URL) or `email` (addresses), and which events.
///
/// ```
/// use kpi_core::NotifierSpec;
/// let hook = NotifierSpec::from_json(r#"{"name": "ops", "webhook": "https://hooks.example.com/kpi",
///     "secret": "s3cret", "retries": 5, "backoff": "1s", "min_level": "critical"}"#)?;
/// assert_eq!(hook.retries, Some(5));
/// # Ok::<(), kpi_core::EngineError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifierSpec {
    /// The notifier's unique name.
    pub name: String,
    /// A URL to POST events to (`http` or `https`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<String>,
    /// The key of the `X-KPI-Signature` HMAC (webhooks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// More request headers (webhooks).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Mail addresses (email, through [`Engine::set_mail`]'s server).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email: Vec<String>,
    /// Tries after the first (3 when left out; at most 20).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
    /// The wait before the first retry, doubling after each (500 ms; at most a minute a wait).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<TimeSetting>,
    /// How long one try may take (5 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<TimeSetting>,
    /// The lowest level sent (`warning` when left out; `critical` for critical only). A
    /// resolution is sent when the alert it ends was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_level: Option<Level>,
    /// Only these rules' events (all when empty).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
}

impl NotifierSpec {
    /// Reads a notifier document from JSON text.
    pub fn from_json(text: &str) -> Result<NotifierSpec, EngineError> {
        crate::spec::named_text(text, refuse)
    }

    /// Reads a notifier document from a JSON value (an object).
    pub fn from_value(value: serde_json::Value) -> Result<NotifierSpec, EngineError> {
        crate::spec::named_value(value, refuse)
    }
}

fn refuse(name: &str, message: String) -> EngineError {
    EngineError::InvalidAlert { rule: format!("notifier {name}"), message }
}

#[derive(Debug)]
enum Target {
    Webhook(webhook::Webhook),
    Email(Vec<lettre::message::Mailbox>),
}

/// A notifier as [`Engine::notifiers`] lists it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NotifierInfo {
    /// Its document (the secret shown as `***`).
    pub spec: NotifierSpec,
    /// Events delivered.
    pub delivered: u64,
    /// Events that went to the dead-letter list.
    pub failed: u64,
    /// Tries made, retries included.
    pub attempts: u64,
    /// Events waiting in its queue.
    pub queued: usize,
    /// The last failure's message.
    pub last_error: Option<String>,
}

/// An event that could not be delivered.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadLetter {
    /// The notifier.
    pub notifier: String,
    /// Where it was going (a URL without credentials, `smtp://host:port`).
    pub target: String,
    /// The event.
    pub event: AlertEvent,
    /// Tries made.
    pub attempts: u32,
    /// The last failure.
    pub error: String,
    /// When it was given up, on the engine's clock.
    pub at: DateTime<Utc>,
}

impl DeadLetter {
    /// As JSON, with the event as [`AlertEvent::to_json`] writes it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "notifier": self.notifier, "target": self.target, "event": self.event.to_json(),
            "attempts": self.attempts, "error": self.error, "at": self.at.to_rfc3339(),
        })
    }
}

impl Serialize for DeadLetter {
    /// As [`DeadLetter::to_json`] writes it.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

#[derive(Default)]
struct Stats {
    delivered: u64,
    failed: u64,
    attempts: u64,
    last_error: Option<String>,
}

struct Channel {
    spec: NotifierSpec,
    target: Target,
    retries: u32,
    backoff: Duration,
    min_level: Level,
    queue: mpsc::Sender<AlertEvent>,
    stats: Mutex<Stats>,
}

impl Channel {
    fn wants(&self, event: &AlertEvent) -> bool {
        let level = match event.kind {
            AlertEventKind::Fired => event.level,
            AlertEventKind::Resolved => event.previous_level,
        };
        level >= self.min_level && (self.spec.rules.is_empty() || self.spec.rules.contains(&event.rule))
    }

    fn shown(&self, mail: Option<&Mailer>) -> String {
        match &self.target {
            Target::Webhook(hook) => hook.shown(),
            Target::Email(_) => mail.map_or_else(|| "mail (no server configured)".to_string(), Mailer::shown),
        }
    }
}

/// An engine's notifiers, mail server and dead letters.
#[derive(Default)]
pub(crate) struct Notify {
    mail: Arc<RwLock<Option<Mailer>>>,
    channels: Mutex<BTreeMap<String, Arc<Channel>>>,
    dead: Arc<Mutex<VecDeque<DeadLetter>>>,
}

fn bury(dead: &Mutex<VecDeque<DeadLetter>>, letter: DeadLetter) {
    let mut dead = dead.lock().unwrap_or_else(|e| e.into_inner());
    if dead.len() == DEAD_LETTERS {
        dead.pop_front();
    }
    dead.push_back(letter);
}

/// Delivers one notifier's queue until the notifier is removed.
async fn deliver(
    channel: Arc<Channel>,
    mut queue: mpsc::Receiver<AlertEvent>,
    mail: Arc<RwLock<Option<Mailer>>>,
    dead: Arc<Mutex<VecDeque<DeadLetter>>>,
    clock: Arc<dyn Clock>,
) {
    let client = reqwest::Client::builder().connect_timeout(Duration::from_secs(5)).build().unwrap_or_default();
    while let Some(event) = queue.recv().await {
        let mailer = mail.read().unwrap_or_else(|e| e.into_inner()).clone();
        let body = serde_json::to_vec(&event.to_json()).unwrap_or_default();
        let mut attempts = 0u32;
        let mut wait = channel.backoff;
        let outcome = loop {
            attempts += 1;
            channel.stats.lock().unwrap_or_else(|e| e.into_inner()).attempts += 1;
            let tried = match &channel.target {
                Target::Webhook(hook) => {
                    let kind = match event.kind {
                        AlertEventKind::Fired => "alert.fired",
                        AlertEventKind::Resolved => "alert.resolved",
                    };
                    // Receivers check the signature's time against their own clock, not the engine's.
                    hook.post(&client, kind, event.id, &body, Utc::now().timestamp()).await
                }
                Target::Email(to) => match &mailer {
                    Some(m) => {
                        let subject = format!("[KPI {}] {}", event.level.as_str(), event.rule);
                        let text = format!("{}\n\n{}\n", event.message, serde_json::to_string_pretty(&event.to_json()).unwrap_or_default());
                        m.send(to, &subject, text, None).await.map_err(|e| webhook::Failure { message: e.to_string(), retry: true })
                    }
                    None => Err(webhook::Failure { message: "no mail server is configured (set_mail)".into(), retry: false }),
                },
            };
            match tried {
                Ok(()) => break Ok(()),
                Err(f) if f.retry && attempts <= channel.retries => {
                    tokio::time::sleep(wait).await;
                    wait = (wait * 2).min(Duration::from_secs(60));
                }
                Err(f) => break Err(f.message),
            }
        };
        let mut stats = channel.stats.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Ok(()) => stats.delivered += 1,
            Err(error) => {
                stats.failed += 1;
                stats.last_error = Some(error.clone());
                drop(stats);
                let target = channel.shown(mailer.as_ref());
                tracing::warn!(notifier = %channel.spec.name, %target, attempts, %error, "alert event not delivered");
                bury(&dead, DeadLetter { notifier: channel.spec.name.clone(), target, event, attempts, error, at: clock.now() });
            }
        }
    }
}

impl Engine {
    /// Sets the SMTP server email notifiers and reports send through (checked, not
    /// connected to: an unreachable server shows as failed deliveries).
    pub fn set_mail(&self, settings: &MailSettings) -> Result<(), EngineError> {
        let mailer = settings.check()?;
        *self.inner.notify.mail.write().unwrap_or_else(|e| e.into_inner()) = Some(mailer);
        Ok(())
    }

    /// The mail server set, if any.
    pub(crate) fn mailer(&self) -> Option<Mailer> {
        self.inner.notify.mail.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Adds a notifier: alert events that match it are delivered from now on, from its own
    /// queue. Refused with `KPI_ALERT` for a bad URL or address, a name taken, or neither or
    /// both of `webhook` and `email`.
    pub async fn add_notifier(&self, spec: NotifierSpec) -> Result<NotifierInfo, EngineError> {
        let name = spec.name.trim().to_string();
        let bad = |m: String| refuse(&name, m);
        if name.is_empty() || name.len() > 200 {
            return Err(refuse(&spec.name, "give the notifier a name of 1 to 200 characters".into()));
        }
        let target = match (&spec.webhook, spec.email.is_empty()) {
            (Some(url), true) => {
                let url: reqwest::Url = url.parse().map_err(|e| bad(format!("`webhook` is not a URL ({e})")))?;
                if !matches!(url.scheme(), "http" | "https") {
                    return Err(bad(format!("`webhook` must be an http or https URL, not {}:", url.scheme())));
                }
                let timeout = match &spec.timeout {
                    Some(t) => t.duration("timeout").map_err(|e| bad(e.to_string()))?,
                    None => Duration::from_secs(5),
                };
                let headers = spec.headers.iter().map(|(k, v)| (k.clone(), v.clone())).collect::<Vec<_>>();
                for (k, v) in &headers {
                    if reqwest::header::HeaderName::from_bytes(k.as_bytes()).is_err() || reqwest::header::HeaderValue::from_str(v).is_err()
                    {
                        return Err(bad(format!("header `{k}` is not a valid HTTP header")));
                    }
                }
                Target::Webhook(webhook::Webhook { url, secret: spec.secret.clone(), headers, timeout })
            }
            (None, false) => {
                if spec.secret.is_some() || !spec.headers.is_empty() {
                    return Err(bad("`secret` and `headers` apply to webhooks".into()));
                }
                if self.mailer().is_none() {
                    return Err(bad("no mail server is set; call set_mail first".into()));
                }
                Target::Email(mailboxes(&spec.email).map_err(bad)?)
            }
            (Some(_), false) => return Err(bad("give `webhook` or `email`, not both (add two notifiers)".into())),
            (None, true) => return Err(bad("give `webhook` (a URL) or `email` (addresses)".into())),
        };
        let retries = spec.retries.unwrap_or(3);
        if retries > 20 {
            return Err(bad(format!("`retries` is at most 20, not {retries}")));
        }
        let backoff = match &spec.backoff {
            Some(t) => t.duration_or_zero("backoff").map_err(|e| bad(e.to_string()))?.min(Duration::from_secs(60)),
            None => Duration::from_millis(500),
        };
        let (queue, receiver) = mpsc::channel(QUEUE_EVENTS);
        let mut shown = spec.clone();
        shown.name = name.clone();
        if shown.secret.is_some() {
            shown.secret = Some("***".into());
        }
        let channel = Arc::new(Channel {
            spec: shown,
            target,
            retries,
            backoff,
            min_level: spec.min_level.unwrap_or(Level::Warning).max(Level::Warning),
            queue,
            stats: Mutex::default(),
        });
        {
            let mut channels = self.inner.notify.channels.lock().unwrap_or_else(|e| e.into_inner());
            if channels.contains_key(&name) {
                return Err(bad("a notifier of this name exists; remove it first or choose another name".into()));
            }
            channels.insert(name, channel.clone());
        }
        let notify = &self.inner.notify;
        tokio::spawn(deliver(channel.clone(), receiver, notify.mail.clone(), notify.dead.clone(), self.inner.options.clock.clone()));
        Ok(info(&channel))
    }

    /// Removes a notifier (events in its queue are still delivered); whether it existed.
    pub fn remove_notifier(&self, name: &str) -> bool {
        self.inner.notify.channels.lock().unwrap_or_else(|e| e.into_inner()).remove(name).is_some()
    }

    /// The notifiers, by name, with their delivery counts.
    pub fn notifiers(&self) -> Vec<NotifierInfo> {
        self.inner.notify.channels.lock().unwrap_or_else(|e| e.into_inner()).values().map(|c| info(c)).collect()
    }

    /// Events that could not be delivered, oldest first (at most [`DEAD_LETTERS`]).
    pub fn dead_letters(&self) -> Vec<DeadLetter> {
        self.inner.notify.dead.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }

    /// Queues `events` for the notifiers that want them; never waits.
    pub(crate) fn notify(&self, events: &[AlertEvent]) {
        if events.is_empty() {
            return;
        }
        let channels: Vec<Arc<Channel>> = self.inner.notify.channels.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        for channel in channels {
            for event in events.iter().filter(|e| channel.wants(e)) {
                if let Err(e) = channel.queue.try_send(event.clone()) {
                    let mut stats = channel.stats.lock().unwrap_or_else(|e| e.into_inner());
                    stats.failed += 1;
                    stats.last_error = Some(format!("queue full ({QUEUE_EVENTS} events waiting)"));
                    drop(stats);
                    let event = match e {
                        mpsc::error::TrySendError::Full(ev) | mpsc::error::TrySendError::Closed(ev) => ev,
                    };
                    bury(
                        &self.inner.notify.dead,
                        DeadLetter {
                            notifier: channel.spec.name.clone(),
                            target: channel.shown(self.mailer().as_ref()),
                            event,
                            attempts: 0,
                            error: format!("the notifier's queue was full ({QUEUE_EVENTS} events waiting)"),
                            at: self.inner.options.clock.now(),
                        },
                    );
                }
            }
        }
    }
}

fn info(channel: &Channel) -> NotifierInfo {
    let stats = channel.stats.lock().unwrap_or_else(|e| e.into_inner());
    NotifierInfo {
        spec: channel.spec.clone(),
        delivered: stats.delivered,
        failed: stats.failed,
        attempts: stats.attempts,
        queued: QUEUE_EVENTS - channel.queue.capacity(),
        last_error: stats.last_error.clone(),
    }
}
