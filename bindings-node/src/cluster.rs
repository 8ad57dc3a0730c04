//! The engine's Ballista cluster: its URL and the connection check.

use napi_derive::napi;
use serde_json::Value;

use crate::engine::Engine;
use crate::errors::{self, guard_async};

#[napi]
impl Engine {
    /// The scheduler calculations run on (`df://host:port`), or `null`.
    #[napi]
    pub fn cluster(&self) -> Option<String> {
        self.core().cluster()
    }

    /// Connects to the scheduler within the connect timeout: `{ url, roundTripMs }`.
    #[napi]
    pub async fn check_cluster(&self) -> napi::Result<Value> {
        guard_async(async {
            let status = self.core().check_cluster().await.map_err(errors::engine)?;
            Ok(serde_json::json!({ "url": status.url, "roundTripMs": status.round_trip.as_secs_f64() * 1e3 }))
        })
        .await
    }
}
