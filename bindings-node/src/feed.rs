//! A live feed from a PostgreSQL table, as the `Feed` the JavaScript layer returns.

use std::sync::Arc;

use napi_derive::napi;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::errors::{self, guard_async};

/// A live feed; `stop` ends its polls.
#[napi]
pub struct Feed {
    inner: Arc<Mutex<Option<kpi_core::Feed>>>,
}

impl Feed {
    pub(crate) fn new(feed: kpi_core::Feed) -> Feed {
        Feed { inner: Arc::new(Mutex::new(Some(feed))) }
    }
}

#[napi]
impl Feed {
    /// What the feed has done (`polls`, `rows_appended`, `errors`, `last_error`, `last_poll`,
    /// `position`); `null` once stopped.
    #[napi]
    pub async fn status(&self) -> napi::Result<Option<Value>> {
        let inner = self.inner.clone();
        guard_async(async move {
            let guard = inner.lock().await;
            guard.as_ref().map(|f| serde_json::to_value(f.status()).map_err(errors::json_failed)).transpose()
        })
        .await
    }

    /// Stops the feed, waiting for a poll in progress; nothing is appended after.
    #[napi]
    pub async fn stop(&self) -> napi::Result<()> {
        let inner = self.inner.clone();
        guard_async(async move {
            let taken = inner.lock().await.take();
            if let Some(feed) = taken {
                feed.stop().await;
            }
            Ok(())
        })
        .await
    }
}
