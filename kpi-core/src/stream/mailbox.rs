//! One subscriber's mailbox: updates wait here until the subscriber reads them. Publishing never
//! waits for a reader; a newer update of the same period and group replaces an unread one, so a
//! slow subscriber receives the latest values, marked as lagged, in memory bounded by the view's
//! periods × groups.

use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::{Update, Updates};
use crate::EngineError;

#[derive(Default)]
struct Pending {
    /// The view's rows (periods and groups) with an update, in order of first update.
    order: Vec<usize>,
    updates: foldhash::HashMap<usize, Update>,
    lagged: bool,
    error: Option<Arc<EngineError>>,
}

/// Updates published to one subscriber and not yet read.
#[derive(Default)]
pub(crate) struct Mailbox {
    pending: Mutex<Pending>,
    ready: Notify,
}

impl Mailbox {
    /// Adds `updates`, each keyed by its row (period and group) in the view; never blocks on
    /// the reader.
    pub(crate) fn post(&self, updates: impl IntoIterator<Item = (usize, Update)>) {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        let mut any = false;
        for (key, mut update) in updates {
            any = true;
            match p.updates.remove(&key) {
                Some(unread) => {
                    // The reader never saw `unread`: keep the value it last saw as the previous one.
                    update.previous_value = unread.previous_value;
                    p.lagged = true;
                    p.updates.insert(key, update);
                }
                None => {
                    p.order.push(key);
                    p.updates.insert(key, update);
                }
            }
        }
        drop(p);
        if any {
            self.ready.notify_one();
        }
    }

    /// Replaces whatever is unread with `updates` (a fresh snapshot after a redefinition).
    pub(crate) fn replace(&self, updates: impl IntoIterator<Item = (usize, Update)>) {
        *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = Pending::default();
        self.post(updates);
    }

    /// Records a failed refresh for the reader.
    pub(crate) fn post_error(&self, error: Arc<EngineError>) {
        self.pending.lock().unwrap_or_else(|e| e.into_inner()).error = Some(error);
        self.ready.notify_one();
    }

    /// Takes what is pending, if anything.
    pub(crate) fn take(&self) -> Option<Updates> {
        let mut p = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if p.order.is_empty() && p.error.is_none() {
            return None;
        }
        let order = std::mem::take(&mut p.order);
        let mut updates = std::mem::take(&mut p.updates);
        let out = Updates {
            updates: order.into_iter().filter_map(|k| updates.remove(&k)).collect(),
            lagged: std::mem::take(&mut p.lagged),
            error: p.error.take(),
        };
        Some(out)
    }

    /// Waits for updates.
    pub(crate) async fn next(&self) -> Updates {
        loop {
            let notified = self.ready.notified();
            if let Some(updates) = self.take() {
                return updates;
            }
            notified.await;
        }
    }
}
