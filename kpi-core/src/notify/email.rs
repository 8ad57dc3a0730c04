//! Email through an SMTP server (lettre): alert notifications and reports as attachments.

use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::option_value::TimeSetting;

/// The mail server alerts and reports are sent through, as a document.
///
/// ```
/// use kpi_core::MailSettings;
/// let mail = MailSettings::from_json(r#"{"host": "127.0.0.1", "port": 2525, "from": "KPI Engine <kpi@example.com>"}"#)?;
/// assert_eq!(mail.shown(), "smtp://127.0.0.1:2525");
/// # Ok::<(), kpi_core::EngineError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// The SMTP server's host name or address.
    pub host: String,
    /// Its port: 25 (`none`), 587 (`starttls`) or 465 (`tls`) when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// `starttls` (default), `tls`, or `none` (plain text: only for a server on this machine
    /// or a trusted network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
    /// User name, when the server wants one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password, with `username`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// The sender, `Name <address>` or an address.
    pub from: String,
    /// How long to wait for the server (10 s when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<TimeSetting>,
}

fn invalid(message: String) -> EngineError {
    EngineError::InvalidDocument { document: "mail settings", message }
}

/// A checked mail server.
#[derive(Clone, Debug)]
pub(crate) struct Mailer {
    host: String,
    port: u16,
    tls: &'static str,
    credentials: Option<(String, String)>,
    from: Mailbox,
    timeout: Duration,
}

impl MailSettings {
    /// Reads mail settings from JSON text.
    pub fn from_json(text: &str) -> Result<MailSettings, EngineError> {
        crate::spec::settings_text("mail settings", text)
    }

    /// Where mail goes, without credentials: `smtp://host:port`.
    pub fn shown(&self) -> String {
        self.check().map(|m| m.shown()).unwrap_or_else(|_| format!("smtp://{}", self.host))
    }

    pub(crate) fn check(&self) -> Result<Mailer, EngineError> {
        let host = self.host.trim();
        if host.is_empty() {
            return Err(invalid("`host` is empty; name the SMTP server".into()));
        }
        let tls = match self.tls.as_deref().unwrap_or("starttls") {
            "starttls" => "starttls",
            "tls" => "tls",
            "none" => "none",
            other => return Err(invalid(format!("`tls` is `starttls`, `tls` or `none`, not `{other}`"))),
        };
        let port = self.port.unwrap_or(match tls {
            "tls" => 465,
            "starttls" => 587,
            _ => 25,
        });
        let from: Mailbox = self.from.parse().map_err(|e| invalid(format!("`from` is not a mail address ({}): {e}", self.from)))?;
        let credentials = match (&self.username, &self.password) {
            (Some(u), Some(p)) => Some((u.clone(), p.clone())),
            (None, None) => None,
            _ => return Err(invalid("give both `username` and `password`, or neither".into())),
        };
        let timeout = match &self.timeout {
            Some(t) => t.duration("timeout")?,
            None => Duration::from_secs(10),
        };
        Ok(Mailer { host: host.to_string(), port, tls, credentials, from, timeout })
    }
}

/// A file attached to a mail.
pub(crate) struct MailAttachment {
    pub(crate) filename: String,
    pub(crate) content_type: &'static str,
    pub(crate) bytes: Vec<u8>,
}

/// Checks mail addresses.
pub(crate) fn mailboxes(addresses: &[String]) -> Result<Vec<Mailbox>, String> {
    addresses.iter().map(|a| a.parse::<Mailbox>().map_err(|e| format!("`{a}` is not a mail address: {e}"))).collect()
}

impl Mailer {
    pub(crate) fn shown(&self) -> String {
        format!("smtp://{}:{}", self.host, self.port)
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let builder = match self.tls {
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&self.host).map_err(|e| e.to_string())?,
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&self.host).map_err(|e| e.to_string())?,
            _ => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(self.host.clone()),
        };
        let mut builder = builder.port(self.port).timeout(Some(self.timeout));
        if let Some((user, password)) = &self.credentials {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(builder.build())
    }

    /// Sends one mail to `to`; the whole exchange is bounded by the timeout (per step) and
    /// by four times it overall, so a server that accepts and then stalls cannot hold a
    /// sender.
    pub(crate) async fn send(
        &self,
        to: &[Mailbox],
        subject: &str,
        text: String,
        attachment: Option<MailAttachment>,
    ) -> Result<(), EngineError> {
        let fail = |message: String| EngineError::Delivery { target: self.shown(), message };
        if to.is_empty() {
            return Err(fail("no recipients".into()));
        }
        let mut builder = Message::builder().from(self.from.clone()).subject(subject);
        for mailbox in to {
            builder = builder.to(mailbox.clone());
        }
        let message = match attachment {
            Some(file) => {
                let content_type = ContentType::parse(file.content_type).map_err(|e| fail(e.to_string()))?;
                let parts = MultiPart::mixed()
                    .singlepart(SinglePart::plain(text))
                    .singlepart(Attachment::new(file.filename).body(file.bytes, content_type));
                builder.multipart(parts)
            }
            None => builder.body(text),
        }
        .map_err(|e| fail(e.to_string()))?;
        let transport = self.transport().map_err(fail)?;
        match tokio::time::timeout(self.timeout * 4, transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                let mut text = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    text = format!("{text}: {s}");
                    source = s.source();
                }
                Err(fail(text))
            }
            Err(_) => Err(fail(format!("the server did not finish within {}", humantime::format_duration(self.timeout * 4)))),
        }
    }
}
