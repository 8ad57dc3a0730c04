//! Streaming: subscriptions to a query's values, pushed as data arrives or on a refresh
//! schedule.
//!
//! Subscribers of the same query and refresh share one maintained view, and a view exists only
//! while someone subscribes (the seeds' smart publishing). A new subscriber first receives a
//! snapshot of every period and group; after that, each refresh publishes the periods and groups
//! whose value changed, each with its previous value and a revision that counts its changes. A
//! change to a period before the latest one (late or out-of-order rows) is a
//! [`UpdateKind::Correction`].
//!
//! Publishing never waits for a subscriber. Updates a subscriber has not read yet are replaced
//! by newer ones of the same period and group, so a slow subscriber gets the latest values with
//! [`Updates::lagged`] set, and holds at most one update per period and group.
//!
//! A query over one table with a grain and no time intelligence is maintained from partial
//! states per period and dimension group, shared by every view that groups that table the same
//! way and fed by each append in time proportional to its rows (see
//! [`crate::EngineOptions::distinct_counts`] for the accuracy of distinct counts and
//! percentiles). Other queries are recalculated on refresh (through the result cache, so a
//! change to data the query does not read costs nothing). Either way streamed values are those
//! an on-demand calculation over the same data gives.

mod cube;
mod cubes;
mod jobs;
mod mailbox;
mod states;
mod view;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::Stream;
use kpi_formula::Query;
use serde::Serialize;

use crate::maintenance::{Maintainable, Maintenance};
use crate::result::{DimensionValue, Status};
use crate::{Engine, EngineError};
pub(crate) use cubes::{Cubes, Maintained};
pub use jobs::JobInfo;
pub(crate) use jobs::Jobs;
use mailbox::Mailbox;
pub(crate) use view::View;

/// When a subscription's values are refreshed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refresh {
    /// Whenever data it reads changes (appends, registrations).
    OnChange,
    /// Every given interval of the engine's clock.
    Every(Duration),
    /// At the start of every minute (UTC).
    Minute,
    /// At the start of every hour (UTC).
    Hour,
    /// At midnight UTC.
    Day,
}

/// What an update reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateKind {
    /// The value when the subscription started.
    Snapshot,
    /// A new value of the latest period, or a new period or group.
    Change,
    /// A new value of an earlier period: late or out-of-order data.
    Correction,
}

/// A value of one period and dimension group.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Update {
    /// The KPI code, or the formula of an ad-hoc query.
    pub kpi: String,
    /// The period's start, when the query has a grain.
    #[serde(serialize_with = "crate::result::instant")]
    pub period: Option<DateTime<Utc>>,
    /// The dimension values, in the query's order.
    pub dimensions: Vec<DimensionValue>,
    /// The value; `None` where it is undefined.
    pub value: Option<f64>,
    /// The value the subscriber was last given for this period and group, if any.
    pub previous_value: Option<f64>,
    /// The value judged by the KPI's thresholds.
    pub status: Status,
    /// 1 for the first value of the period and group, then one more per change.
    pub revision: u64,
    /// When the value was calculated (the engine's clock).
    #[serde(serialize_with = "crate::result::instant_required")]
    pub computed_at: DateTime<Utc>,
    /// Snapshot, change or correction.
    pub kind: UpdateKind,
}

/// What a subscriber receives at once.
#[derive(Clone, Debug, Serialize)]
pub struct Updates {
    /// The updates, one per period and group.
    pub updates: Vec<Update>,
    /// Whether newer values replaced some this subscriber had not read yet (it reads more
    /// slowly than values change; it still has every latest value).
    pub lagged: bool,
    /// The error of the last refresh, if it failed (the values before it stay); as JSON an
    /// object with its `code`, `kind` and `message`.
    #[serde(serialize_with = "serialize_error")]
    pub error: Option<Arc<EngineError>>,
}

fn serialize_error<S: serde::Serializer>(error: &Option<Arc<EngineError>>, s: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    error.as_deref().map(EngineError::to_json).serialize(s)
}

/// A subscription; dropping it unsubscribes.
///
/// ```
/// use kpi_catalog::{Catalog, DemoOptions};
/// use kpi_core::{Engine, Refresh, UpdateKind};
/// use kpi_formula::{Grain, Query};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let catalog = Catalog::standard();
/// let engine = Engine::new(catalog.clone())?;
/// let demo = catalog.demo_data(&DemoOptions::new(1_000).with_seed(7).with_range("2024-01-01", "2024-03-01")?)?;
/// engine.register_demo(demo)?;
///
/// let mut sub = engine.subscribe(&Query::kpi("revenue").with_grain(Grain::Month), Refresh::OnChange).await?;
/// let first = sub.next().await;
/// assert!(first.updates.iter().all(|u| u.kind == UpdateKind::Snapshot));
///
/// let more = catalog.demo_data(&DemoOptions::new(10).with_seed(8).with_range("2024-02-01", "2024-03-01")?)?;
/// engine.append_batches("orders", more.batches("orders").unwrap().to_vec())?;
/// let next = sub.next().await;                         // February changed
/// assert_eq!(next.updates[0].revision, 2);
/// # Ok(()) }
/// ```
pub struct Subscription {
    id: u64,
    mailbox: Arc<Mailbox>,
    view: Arc<View>,
    engine: Engine,
}

impl Subscription {
    /// Waits for the next updates (the first call returns the snapshot).
    pub async fn next(&mut self) -> Updates {
        self.mailbox.next().await
    }

    /// The updates waiting, without waiting.
    pub fn try_next(&mut self) -> Option<Updates> {
        self.mailbox.take()
    }

    /// The subscription as a stream of updates.
    pub fn into_stream(self) -> impl Stream<Item = Updates> + Send {
        futures::stream::unfold(self, |mut sub| async move {
            let updates = sub.next().await;
            Some((updates, sub))
        })
    }

    /// The query.
    pub fn query(&self) -> &Query {
        &self.view.query
    }

    /// The refresh.
    pub fn refresh(&self) -> Refresh {
        self.view.refresh
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if self.view.unsubscribe(self.id) == 0 {
            let mut views = self.engine.inner.views.lock().unwrap_or_else(|e| e.into_inner());
            // A subscribe may have joined between the count and this lock.
            if self.view.subscribers() == 0 {
                remove_view(&mut views, &self.view);
                self.view.stop();
            }
        }
    }
}

/// A view being maintained, as [`Engine::streams`] lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamInfo {
    /// The query.
    pub query: Query,
    /// Its refresh.
    pub refresh: Refresh,
    /// How many subscribe.
    pub subscribers: usize,
    /// Periods × groups it holds.
    pub size: usize,
    /// Whether it is maintained from partial states per period and group, so an append costs
    /// in proportion to its rows; otherwise the periods appends touch are recalculated.
    pub incremental: bool,
    /// How it follows appends: from a cube, by recalculating the periods they touched, or in
    /// full.
    pub maintenance: Maintenance,
}

impl serde::Serialize for StreamInfo {
    /// As [`StreamInfo::to_json`] writes it.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&self.to_json(), s)
    }
}

impl StreamInfo {
    /// As JSON: the query as a [`QuerySpec`](crate::QuerySpec) document.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "query": crate::QuerySpec::from(&self.query),
            "refresh": self.refresh.to_string(),
            "subscribers": self.subscribers,
            "size": self.size,
            "incremental": self.incremental,
            "maintenance": self.maintenance,
        })
    }
}

impl std::fmt::Display for Refresh {
    /// As a query document's `refresh` takes it: `change`, `minute`, `hour`, `day`, or an
    /// interval such as `500ms`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refresh::OnChange => f.write_str("change"),
            Refresh::Minute => f.write_str("minute"),
            Refresh::Hour => f.write_str("hour"),
            Refresh::Day => f.write_str("day"),
            Refresh::Every(d) => write!(f, "{}", humantime::format_duration(*d)),
        }
    }
}

/// What makes two subscriptions share a view: the same query refreshed the same way.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct ViewKey {
    query: Query,
    refresh: Refresh,
}

/// Removes `view` from `views` if it is still the view of its query and refresh.
fn remove_view(views: &mut std::collections::HashMap<ViewKey, Arc<View>>, view: &Arc<View>) {
    let key = ViewKey::new(&view.query, view.refresh);
    if views.get(&key).is_some_and(|v| Arc::ptr_eq(v, view)) {
        views.remove(&key);
    }
}

impl ViewKey {
    fn new(query: &Query, refresh: Refresh) -> ViewKey {
        ViewKey { query: query.clone(), refresh }
    }
}

impl Engine {
    /// Subscribes to `query`, refreshed as `refresh` says. The query is calculated first, so a
    /// bad query is an error here; later failures arrive as [`Updates::error`].
    pub async fn subscribe(&self, query: &Query, refresh: Refresh) -> Result<Subscription, EngineError> {
        if let Refresh::Every(d) = refresh
            && d.is_zero()
        {
            return Err(EngineError::InvalidOption { option: "refresh", message: "a refresh interval must be longer than zero".into() });
        }
        let key = ViewKey::new(query, refresh);
        // Joining a view happens under the registry lock, which the last unsubscriber also
        // holds while it stops a view, so nobody joins a stopped view.
        let join = |view: &Arc<View>| {
            let (id, mailbox) = view.subscribe();
            Subscription { id, mailbox, view: view.clone(), engine: self.clone() }
        };
        if let Some(view) = self.inner.views.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(join(view));
        }
        let changes = self.inner.changes.subscribe();
        let (scope, result) = self.view_scope(query).await?;
        let now = self.inner.options.clock.now();
        self.keep_history(&result);
        let fresh = Arc::new(View::new(query.clone(), refresh, scope, &result, now));
        let mut views = self.inner.views.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(raced) = views.get(&key) {
            return Ok(join(raced));
        }
        views.insert(key, fresh.clone());
        tokio::spawn(view::supervise(self.clone(), fresh.clone(), changes, now));
        Ok(join(&fresh))
    }

    /// What a view of `query` reads and how it follows appends, with its first result.
    async fn view_scope(&self, query: &Query) -> Result<(view::Scope, crate::KpiResult), EngineError> {
        // A formula that does not resolve fails in the calculation below, with its diagnostics.
        let maintainable = Maintainable::of(query, &self.catalog());
        // The version before the first calculation: appends after it are refreshed again.
        let seen = maintainable
            .span_table
            .as_ref()
            .and_then(|t| Some(self.inner.tables.read().unwrap_or_else(|e| e.into_inner()).get(t)?.version));
        let maintained = match &maintainable.cube {
            Some(plan) => cubes::Maintained::start(self, plan).await,
            None => None,
        };
        let result = match &maintained {
            Some(m) => m.changes(self, query).await?,
            None => self.calculate(query).await?,
        };
        let maintenance = maintainable.method(maintained.is_some());
        let Maintainable { tables, span_table, .. } = maintainable;
        let seen = std::sync::Mutex::new(seen.unwrap_or(0));
        Ok((view::Scope { tables, span_table, seen, maintained, maintenance }, result))
    }

    /// Brings the views `depends` picks up to date after a definition change: each is
    /// recalculated under the new definitions and its subscribers get a fresh snapshot; a view
    /// whose query no longer calculates (its KPI was removed) tells its subscribers why and
    /// ends. How many views that was.
    pub(crate) async fn redefine_views(&self, depends: impl Fn(&Query) -> bool) -> usize {
        let views: Vec<Arc<View>> =
            self.inner.views.lock().unwrap_or_else(|e| e.into_inner()).values().filter(|v| depends(&v.query)).cloned().collect();
        for view in &views {
            match self.view_scope(&view.query).await {
                Ok((scope, result)) => {
                    let watermark = self.watermark(&scope.tables);
                    view.redefine(scope, &result, self.inner.options.clock.now(), watermark);
                }
                Err(e) => {
                    self.forget_view(view);
                    view.fail(e);
                    view.stop();
                }
            }
        }
        views.len()
    }

    /// Recalculates every live view of the KPI `code` now, past the cache, and publishes what
    /// changed to their subscribers (a manual trigger); how many views there were.
    pub async fn trigger(&self, code: &str) -> Result<usize, EngineError> {
        self.catalog().kpi(code)?;
        let views: Vec<Arc<View>> = self
            .inner
            .views
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter(|v| matches!(&v.query.target, kpi_formula::Target::Kpi(c) if c == code))
            .cloned()
            .collect();
        let fresh = crate::CalculateOptions { bypass_cache: true, ..Default::default() };
        for view in &views {
            match self.calculate_with(&view.query, &fresh).await {
                Ok(result) => {
                    self.keep_history(&result);
                    view.apply(&result, self.inner.options.clock.now(), self.watermark(&view.scope().tables))
                }
                Err(e) => view.fail(e),
            }
        }
        Ok(views.len())
    }

    /// Drops `view` from the registry, if it is still the view of its query and refresh.
    pub(crate) fn forget_view(&self, view: &Arc<View>) {
        remove_view(&mut self.inner.views.lock().unwrap_or_else(|e| e.into_inner()), view);
    }

    /// Publishes `result` of `query` to the subscribers of that query, whatever their refresh.
    pub(crate) fn publish(&self, query: &Query, result: &crate::KpiResult) {
        let views: Vec<Arc<View>> =
            self.inner.views.lock().unwrap_or_else(|e| e.into_inner()).values().filter(|v| v.query == *query).cloned().collect();
        let now = self.inner.options.clock.now();
        self.keep_history(result);
        for view in views {
            view.apply(result, now, self.watermark(&view.scope().tables));
        }
    }

    /// The latest event time among `tables`, as far as appends and registrations in memory
    /// have shown it.
    pub(crate) fn watermark(&self, tables: &[String]) -> Option<DateTime<Utc>> {
        let registered = self.inner.tables.read().unwrap_or_else(|e| e.into_inner());
        tables.iter().filter_map(|t| registered.get(t)?.watermark).max().and_then(DateTime::from_timestamp_micros)
    }

    /// The views being maintained for subscribers.
    pub fn streams(&self) -> Vec<StreamInfo> {
        let views = self.inner.views.lock().unwrap_or_else(|e| e.into_inner());
        views
            .values()
            .map(|v| StreamInfo {
                query: v.query.clone(),
                refresh: v.refresh,
                subscribers: v.subscribers(),
                size: v.size(),
                incremental: v.scope().maintenance == Maintenance::Cube,
                maintenance: v.scope().maintenance,
            })
            .collect()
    }
}
