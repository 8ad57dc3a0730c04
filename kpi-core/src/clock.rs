//! Time as the engine sees it, injectable so that tests drive cache expiry, refresh periods
//! and schedules without sleeping.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

/// A future that completes at a moment of a [`Clock`].
pub type Wait = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A source of the current time, and of waiting for a later one.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> DateTime<Utc>;

    /// Completes once the clock reads `at` or later. The default sleeps on the tokio timer for
    /// the difference from [`Clock::now`].
    fn wait_until(&self, at: DateTime<Utc>) -> Wait {
        let left = (at - self.now()).to_std().unwrap_or(Duration::ZERO);
        Box::pin(tokio::time::sleep(left))
    }
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to.
///
/// ```
/// use std::time::Duration;
/// use kpi_core::{Clock, ManualClock};
/// let clock = ManualClock::new("2024-01-01T00:00:00Z".parse().unwrap());
/// clock.advance(Duration::from_secs(90));
/// assert_eq!(clock.now().to_rfc3339(), "2024-01-01T00:01:30+00:00");
/// ```
///
/// Waits ([`Clock::wait_until`]) complete when the clock is moved past them.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
    moved: watch::Sender<DateTime<Utc>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        ManualClock { now: Mutex::new(start), moved: watch::Sender::new(start) }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        *now += chrono::Duration::from_std(by).unwrap_or(chrono::Duration::MAX);
        self.moved.send_replace(*now);
    }

    /// Sets the clock to `to`.
    pub fn set(&self, to: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = to;
        self.moved.send_replace(to);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wait_until(&self, at: DateTime<Utc>) -> Wait {
        let mut moved = self.moved.subscribe();
        Box::pin(async move {
            // The sender lives as long as the clock; if it is gone, nothing will move it again.
            let _ = moved.wait_for(|now| *now >= at).await;
        })
    }
}
