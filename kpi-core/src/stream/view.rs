//! A maintained view: one query's latest values, shared by every subscriber of that query and
//! refresh, kept while anyone subscribes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, DurationRound, Utc};
use kpi_formula::{Query, Target, TimeRange};
use tokio::sync::watch;

use super::cubes::Maintained;
use super::mailbox::Mailbox;
use super::{Refresh, Update, UpdateKind};
use crate::calculate::Part;
use crate::maintenance::Maintenance;
use crate::patch::touched;
use crate::result::{DimensionValue, KpiResult, Status};
use crate::{Engine, EngineError};

/// The identity of a period and group within a view (dimension values compare bit for bit, so
/// every value, a NaN included, is one group).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct RowKey {
    period: Option<DateTime<Utc>>,
    dimensions: Vec<DimensionValue>,
}

/// What was last published for one period and group.
struct Published {
    key: RowKey,
    value: Option<f64>,
    status: Status,
    revision: u64,
    computed_at: DateTime<Utc>,
}

#[derive(Default)]
struct State {
    /// Bumped when the view's KPI is redefined: a refresh begun before applies nothing.
    epoch: u64,
    /// Where each period and group is in `rows`.
    index: foldhash::HashMap<RowKey, usize>,
    /// In first-published order, so snapshots list periods and groups as results do.
    rows: Vec<Published>,
    /// The periods published.
    periods: std::collections::BTreeSet<DateTime<Utc>>,
    subscribers: HashMap<u64, Arc<Mailbox>>,
    next_subscriber: u64,
}

/// One maintained query.
pub(crate) struct View {
    pub(crate) query: Query,
    pub(crate) refresh: Refresh,
    /// What the view reads and how it follows appends; replaced when its KPI is redefined.
    scope: RwLock<Arc<Scope>>,
    label: String,
    state: Mutex<State>,
    stop: watch::Sender<bool>,
}

/// What a view reads: its tables, and the one table it can recalculate by span, with the
/// version of it the view's values include.
pub(crate) struct Scope {
    /// The tables the query reads, whose watermark says which period is current.
    pub(crate) tables: Vec<String>,
    /// For a query whose periods depend only on their own rows of one table
    /// ([`Maintenance::Spans`]): that table, so a refresh recalculates only the periods appends touched.
    pub(crate) span_table: Option<String>,
    /// The version of `span_table` the view's values include.
    pub(crate) seen: Mutex<u64>,
    /// For a query maintained from partial states, those states.
    pub(crate) maintained: Option<Maintained>,
    /// How the view follows appends.
    pub(crate) maintenance: Maintenance,
}

/// What a refresh has to recalculate.
enum Work {
    /// Nothing the view reads changed.
    Nothing(u64),
    /// Only the periods of this time range, whose event times (the range widened to whole
    /// periods) are `part`, for data up to this version.
    Range(TimeRange, Part, u64),
    /// Everything.
    All,
}

/// Whether two values differ, counting two undefined values as equal.
fn differs(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => !(x == y || (x.is_nan() && y.is_nan())),
        (None, None) => false,
        _ => true,
    }
}

impl View {
    /// A view of `query` starting from `result`.
    pub(crate) fn new(query: Query, refresh: Refresh, scope: Scope, result: &KpiResult, now: DateTime<Utc>) -> View {
        let label = match &query.target {
            Target::Kpi(code) => code.clone(),
            Target::Formula(text) => text.clone(),
        };
        let view =
            View { query, refresh, scope: RwLock::new(Arc::new(scope)), label, state: Mutex::default(), stop: watch::Sender::new(false) };
        view.apply(result, now, None);
        view
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the view reads now.
    pub(crate) fn scope(&self) -> Arc<Scope> {
        self.scope.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The epoch a refresh starts in (see [`View::apply_in`]).
    fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// After its KPI was redefined: reads as `scope` says from now on, drops every value held,
    /// takes `result` in, and gives every subscriber a fresh snapshot in place of whatever it
    /// had not read.
    pub(crate) fn redefine(&self, scope: Scope, result: &KpiResult, now: DateTime<Utc>, watermark: Option<DateTime<Utc>>) {
        let mut state = self.lock();
        *self.scope.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(scope);
        state.epoch += 1;
        state.index.clear();
        state.rows.clear();
        state.periods.clear();
        self.merge(&mut state, result, now, watermark);
        let snapshot: Vec<(usize, Update)> =
            state.rows.iter().enumerate().map(|(at, p)| self.update(at, p, None, UpdateKind::Snapshot)).collect();
        for mailbox in state.subscribers.values() {
            mailbox.replace(snapshot.iter().cloned());
        }
    }

    fn update(&self, at: usize, p: &Published, previous: Option<f64>, kind: UpdateKind) -> (usize, Update) {
        let update = Update {
            kpi: self.label.clone(),
            period: p.key.period,
            dimensions: p.key.dimensions.clone(),
            value: p.value,
            previous_value: previous,
            status: p.status,
            revision: p.revision,
            computed_at: p.computed_at,
            kind,
        };
        (at, update)
    }

    /// Takes in a new result and publishes what changed to every subscriber. A change to a
    /// period before the current one is a correction; the current period is the one holding
    /// `watermark` (the latest event time of the tables read), or else the result's last.
    pub(crate) fn apply(&self, result: &KpiResult, now: DateTime<Utc>, watermark: Option<DateTime<Utc>>) {
        let mut state = self.lock();
        self.publish(&mut state, result, now, watermark);
    }

    /// [`View::apply`], unless the view was redefined since `epoch` (the result is of the old
    /// definition).
    fn apply_in(&self, epoch: u64, result: &KpiResult, now: DateTime<Utc>, watermark: Option<DateTime<Utc>>) {
        let mut state = self.lock();
        if state.epoch == epoch {
            self.publish(&mut state, result, now, watermark);
        }
    }

    fn publish(&self, state: &mut State, result: &KpiResult, now: DateTime<Utc>, watermark: Option<DateTime<Utc>>) {
        let changed = self.merge(state, result, now, watermark);
        if changed.is_empty() || state.subscribers.is_empty() {
            return;
        }
        let updates: Vec<(usize, Update)> =
            changed.iter().map(|(at, previous, kind)| self.update(*at, &state.rows[*at], *previous, *kind)).collect();
        for mailbox in state.subscribers.values() {
            mailbox.post(updates.iter().cloned());
        }
    }

    /// Takes `result`'s rows into `state`: which rows changed, their previous values and kinds.
    fn merge(
        &self,
        state: &mut State,
        result: &KpiResult,
        now: DateTime<Utc>,
        watermark: Option<DateTime<Utc>>,
    ) -> Vec<(usize, Option<f64>, UpdateKind)> {
        let info = &result.info;
        let rows = result.rows();
        // The periods known: the view's and the result's (which may cover only a few).
        state.periods.extend(rows.iter().filter_map(|r| r.period));
        let latest = watermark.and_then(|w| state.periods.range(..=w).next_back()).or_else(|| state.periods.last()).copied();
        let mut changed = Vec::new();
        for row in rows {
            let key = RowKey { period: row.period, dimensions: row.dimensions };
            let status = Status::of(row.value, info.direction, &info.thresholds);
            let kind = if row.period.is_some() && row.period < latest { UpdateKind::Correction } else { UpdateKind::Change };
            match state.index.get(&key).copied() {
                Some(at) => {
                    let p = &mut state.rows[at];
                    if !differs(p.value, row.value) {
                        continue;
                    }
                    let previous = p.value;
                    p.value = row.value;
                    p.status = status;
                    p.revision += 1;
                    p.computed_at = now;
                    changed.push((at, previous, kind));
                }
                None => {
                    let at = state.rows.len();
                    state.index.insert(key.clone(), at);
                    state.rows.push(Published { key, value: row.value, status, revision: 1, computed_at: now });
                    changed.push((at, None, kind));
                }
            }
        }
        changed
    }

    /// Whether the view has a value for every period and group of `result`.
    fn knows_all(&self, result: &KpiResult) -> bool {
        let state = self.lock();
        result.rows().into_iter().all(|r| state.index.contains_key(&RowKey { period: r.period, dimensions: r.dimensions }))
    }

    /// What changed in the view's span table since the values it holds, read from the table's
    /// log of appends.
    fn work(&self, engine: &Engine) -> Work {
        let scope = self.scope();
        let Some(table) = &scope.span_table else { return Work::All };
        let seen = *scope.seen.lock().unwrap_or_else(|e| e.into_inner());
        let tables = engine.inner.tables.read().unwrap_or_else(|e| e.into_inner());
        let Some(data) = tables.get(table) else { return Work::All };
        if data.version == seen {
            return Work::Nothing(seen);
        }
        let span = match data.changes_since(seen) {
            None => return Work::All,
            Some(None) => return Work::Nothing(data.version),
            Some(Some(span)) => span,
        };
        match touched(&self.query, table, span) {
            None => Work::All,
            // The appends fell outside the view's range.
            Some(None) => Work::Nothing(data.version),
            Some(Some((range, part))) => Work::Range(range, part, data.version),
        }
    }

    fn set_seen(&self, version: u64) {
        *self.scope().seen.lock().unwrap_or_else(|e| e.into_inner()) = version;
    }

    /// The version of the span table now, before a full recalculation reads it.
    fn current_version(&self, engine: &Engine) -> Option<u64> {
        let table = self.scope().span_table.clone()?;
        engine.inner.tables.read().unwrap_or_else(|e| e.into_inner()).get(&table).map(|d| d.version)
    }

    /// Tells every subscriber that a refresh failed; the last values stay.
    pub(crate) fn fail(&self, error: EngineError) {
        let error = Arc::new(error);
        for mailbox in self.lock().subscribers.values() {
            mailbox.post_error(error.clone());
        }
    }

    /// A new subscriber, whose mailbox starts with a snapshot of every period and group.
    pub(crate) fn subscribe(&self) -> (u64, Arc<Mailbox>) {
        let mut state = self.lock();
        let mailbox = Arc::new(Mailbox::default());
        let snapshot: Vec<(usize, Update)> =
            state.rows.iter().enumerate().map(|(at, p)| self.update(at, p, None, UpdateKind::Snapshot)).collect();
        mailbox.post(snapshot);
        let id = state.next_subscriber;
        state.next_subscriber += 1;
        state.subscribers.insert(id, mailbox.clone());
        (id, mailbox)
    }

    /// Removes a subscriber; returns how many remain.
    pub(crate) fn unsubscribe(&self, id: u64) -> usize {
        let mut state = self.lock();
        state.subscribers.remove(&id);
        state.subscribers.len()
    }

    /// How many subscribe.
    pub(crate) fn subscribers(&self) -> usize {
        self.lock().subscribers.len()
    }

    /// Periods × groups held.
    pub(crate) fn size(&self) -> usize {
        self.lock().rows.len()
    }

    /// Stops the refresh task.
    pub(crate) fn stop(&self) {
        self.stop.send_replace(true);
    }
}

/// The next moment a timed refresh is due after `now`.
fn next_refresh(refresh: Refresh, now: DateTime<Utc>) -> DateTime<Utc> {
    let aligned = |unit: chrono::Duration| now.duration_trunc(unit).map_or(now, |t| t) + unit;
    match refresh {
        Refresh::OnChange => now,
        Refresh::Every(d) => now + chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX),
        Refresh::Minute => aligned(chrono::Duration::minutes(1)),
        Refresh::Hour => aligned(chrono::Duration::hours(1)),
        Refresh::Day => aligned(chrono::Duration::days(1)),
    }
}

/// Keeps `view` up to date until it is stopped: on every data change, or at each refresh time
/// after `since` (when the view was calculated). `changes` was taken before the view's first
/// result, so no change in between is missed.
/// Runs [`maintain`]; should it panic, every subscriber gets the failure as an error update
/// and the view leaves the registry (the next subscriber starts a fresh one), rather than
/// everyone waiting for updates that never come.
pub(crate) async fn supervise(engine: Engine, view: Arc<View>, changes: watch::Receiver<u64>, since: DateTime<Utc>) {
    let work = std::panic::AssertUnwindSafe(maintain(engine.clone(), view.clone(), changes, since));
    if let Err(panic) = futures::FutureExt::catch_unwind(work).await {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_string());
        tracing::error!(view = %view.label, %message, "a view's refresh task panicked");
        engine.forget_view(&view);
        view.fail(EngineError::Internal(format!("the refresh of `{}` stopped: {message}", view.label)));
    }
}

pub(crate) async fn maintain(engine: Engine, view: Arc<View>, mut changes: watch::Receiver<u64>, mut since: DateTime<Utc>) {
    let mut stop = view.stop.subscribe();
    let clock = engine.options().clock.clone();
    loop {
        if *stop.borrow_and_update() {
            return;
        }
        match view.refresh {
            Refresh::OnChange => tokio::select! {
                changed = changes.changed() => if changed.is_err() { return },
                _ = stop.changed() => return,
            },
            timed => {
                let at = next_refresh(timed, since);
                tokio::select! {
                    _ = clock.wait_until(at) => {}
                    _ = stop.changed() => return,
                }
                since = at.max(clock.now());
            }
        }
        if *stop.borrow() {
            return;
        }
        refresh(&engine, &view).await;
    }
}

/// Brings a maintained view up to date from its cube (recalculating when the cube cannot be
/// brought up to date).
async fn refresh_maintained(engine: &Engine, view: &View, scope: &Scope, maintained: &Maintained, epoch: u64) {
    let changes = match maintained.changes(engine, &view.query).await {
        Ok(changes) => Ok(changes),
        Err(e) => {
            tracing::debug!(error = %e, "a maintained view is recalculated");
            engine.calculate(&view.query).await
        }
    };
    match changes {
        Ok(result) => {
            engine.keep_history(&result);
            view.apply_in(epoch, &result, engine.options().clock.now(), engine.watermark(&scope.tables))
        }
        Err(e) => view.fail(e),
    }
}

/// Brings `view` up to date: from its partial states when it has them; else by recalculating
/// only the periods appends touched when it can (a new period or group among them means
/// everything is recalculated), else everything.
async fn refresh(engine: &Engine, view: &View) {
    let epoch = view.epoch();
    let scope = view.scope();
    if let Some(maintained) = &scope.maintained {
        return refresh_maintained(engine, view, &scope, maintained, epoch).await;
    }
    let clock = engine.options().clock.clone();
    match view.work(engine) {
        Work::Nothing(version) => return view.set_seen(version),
        Work::Range(range, part, version) => {
            let query = view.query.clone().with_range(range);
            match engine.calculate_part(&query, &crate::CalculateOptions::default(), Some(&part)).await {
                Ok(result) if view.knows_all(&result) => {
                    engine.keep_history(&result);
                    view.apply_in(epoch, &result, clock.now(), engine.watermark(&scope.tables));
                    return view.set_seen(version);
                }
                Ok(_) => {}
                Err(e) => return view.fail(e),
            }
        }
        Work::All => {}
    }
    let version = view.current_version(engine);
    match engine.calculate(&view.query).await {
        Ok(result) => {
            engine.keep_history(&result);
            view.apply_in(epoch, &result, clock.now(), engine.watermark(&scope.tables));
            if let Some(version) = version {
                view.set_seen(version);
            }
        }
        Err(e) => view.fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_align_to_the_clock() {
        let now: DateTime<Utc> = "2024-03-05T10:20:30Z".parse().unwrap();
        assert_eq!(next_refresh(Refresh::Minute, now).to_rfc3339(), "2024-03-05T10:21:00+00:00");
        assert_eq!(next_refresh(Refresh::Hour, now).to_rfc3339(), "2024-03-05T11:00:00+00:00");
        assert_eq!(next_refresh(Refresh::Day, now).to_rfc3339(), "2024-03-06T00:00:00+00:00");
        assert_eq!(next_refresh(Refresh::Every(std::time::Duration::from_secs(5)), now).to_rfc3339(), "2024-03-05T10:20:35+00:00");
    }
}
