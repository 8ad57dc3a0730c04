//! Webhooks: a JSON body POSTed with an HMAC-SHA256 signature over the timestamp and body
//! (`X-KPI-Signature: t=<unix seconds>,v1=<hex>`, as Stripe signs), so a receiver can check
//! where it came from and refuse replays.

use std::time::Duration;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The signature header's name.
pub const SIGNATURE_HEADER: &str = "X-KPI-Signature";

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    // invariant: HMAC takes keys of any length, so making one cannot fail.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC keys have any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-KPI-Signature` value of `body` sent at `timestamp` (Unix seconds).
///
/// ```
/// use kpi_core::{sign_webhook, verify_webhook};
/// let header = sign_webhook(b"s3cret", 1_700_000_000, br#"{"event":"fired"}"#);
/// assert!(header.starts_with("t=1700000000,v1="));
/// assert!(verify_webhook(b"s3cret", &header, br#"{"event":"fired"}"#, 1_700_000_010, 300));
/// assert!(!verify_webhook(b"other", &header, br#"{"event":"fired"}"#, 1_700_000_010, 300));
/// assert!(!verify_webhook(b"s3cret", &header, br#"{"event":"fired"}"#, 1_700_001_000, 300)); // too old
/// ```
pub fn sign_webhook(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, timestamp, body).finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// Whether `header` signs `body` with `secret` and was made within `tolerance_secs` of `now`
/// (Unix seconds). The comparison takes constant time.
pub fn verify_webhook(secret: &[u8], header: &str, body: &[u8], now: i64, tolerance_secs: i64) -> bool {
    let mut timestamp = None;
    let mut signature = None;
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", s)) => signature = decode_hex(s),
            _ => {}
        }
    }
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else { return false };
    if (now - timestamp).abs() > tolerance_secs {
        return false;
    }
    mac(secret, timestamp, body).verify_slice(&signature).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// A webhook's address and how to call it.
#[derive(Clone, Debug)]
pub(crate) struct Webhook {
    pub(crate) url: reqwest::Url,
    pub(crate) secret: Option<String>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) timeout: Duration,
}

/// Why one try failed, and whether another may succeed.
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) retry: bool,
}

impl Webhook {
    /// The URL without user information or query string, for messages.
    pub(crate) fn shown(&self) -> String {
        let mut url = self.url.clone();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.set_query(None);
        url.to_string()
    }

    /// One POST of `body`; 2xx is success, 429 and 5xx and transport errors may be retried.
    pub(crate) async fn post(&self, client: &reqwest::Client, event: &str, delivery: u64, body: &[u8], now: i64) -> Result<(), Failure> {
        let mut request = client
            .post(self.url.clone())
            .timeout(self.timeout)
            .header("content-type", "application/json")
            .header("user-agent", concat!("kpi-engine/", env!("CARGO_PKG_VERSION")))
            .header("x-kpi-event", event)
            .header("x-kpi-delivery", delivery.to_string());
        if let Some(secret) = &self.secret {
            request = request.header(SIGNATURE_HEADER, sign_webhook(secret.as_bytes(), now, body));
        }
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        match request.body(body.to_vec()).send().await {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => {
                let status = response.status();
                Err(Failure {
                    message: format!("the receiver answered {status}"),
                    retry: status.is_server_error() || status.as_u16() == 429,
                })
            }
            Err(e) if e.is_timeout() => {
                Err(Failure { message: format!("no answer within {}", humantime::format_duration(self.timeout)), retry: true })
            }
            Err(e) => {
                let mut message = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    message = format!("{message}: {s}");
                    source = s.source();
                }
                Err(Failure { message, retry: true })
            }
        }
    }
}
