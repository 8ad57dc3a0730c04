//! Alerts: rules on KPIs (per dimension group) and on sources, judged as data arrives, with
//! states ok / warning / critical, a "for" duration and hysteresis; events when an alert fires
//! or resolves, kept as history and handed to notifiers ([`crate::notify`]).
//!
//! A KPI rule subscribes to its query like any subscriber, so it is judged from the maintained
//! view on every append, refresh or scheduled run of that query — never by recalculating for
//! the rule — and once a second on the engine's clock for durations and missing data. Source
//! rules are judged when data arrives or a feed polls, and once a second for staleness.
//!
//! ```
//! use kpi_catalog::{Catalog, DemoOptions};
//! use kpi_core::{AlertRuleSpec, Engine, Level};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let catalog = Catalog::standard();
//! let engine = Engine::new(catalog.clone())?;
//! engine.register_demo(catalog.demo_data(&DemoOptions::new(500).with_seed(3).with_range("2024-01-01", "2024-03-01")?)?)?;
//! let mut events = engine.alert_events();
//! engine.add_alert_rule(AlertRuleSpec::from_json(r#"{
//!     "name": "orders", "kpi": "order_count", "grain": "month", "when": "above", "warning": 1, "critical": 2
//! }"#)?).await?;
//! let fired = events.next().await.unwrap();
//! assert_eq!(fired.level, Level::Critical);
//! assert_eq!(engine.alerts()[0].rule, "orders");
//! # Ok(()) }
//! ```

mod event;
mod judge;
mod rule;

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{broadcast, watch};

pub(crate) use event::group_json;
pub use event::{ActiveAlert, AlertEvent, AlertEventKind, AlertRuleInfo};
use judge::{GroupState, Reading, SourceHealth};
pub use rule::{AlertRule, AlertRuleSpec, ChangeBaseline, ChangeDirection, Condition, DEFAULT_HYSTERESIS, Level};

use crate::result::DimensionValue;
use crate::stream::Updates;
use crate::{Engine, EngineError};

/// Events kept as history; older ones are dropped first.
pub const HISTORY_EVENTS: usize = 10_000;
/// How often durations, missing data and stale sources are judged, on the engine's clock.
pub const ALERT_TICK: Duration = Duration::from_secs(1);

struct RuleEntry {
    rule: Arc<AlertRule>,
    labels: Vec<String>,
    added: DateTime<Utc>,
    groups: HashMap<Vec<DimensionValue>, GroupState>,
    evaluations: u64,
    last_error: Option<String>,
    stop: watch::Sender<bool>,
}

#[derive(Default)]
struct State {
    rules: BTreeMap<String, RuleEntry>,
    history: VecDeque<AlertEvent>,
    sources: HashMap<String, SourceHealth>,
}

/// An engine's alert rules, their states and events.
pub(crate) struct Alerts {
    state: Mutex<State>,
    events: broadcast::Sender<AlertEvent>,
    next_event: AtomicU64,
    ticking: AtomicBool,
}

impl Default for Alerts {
    fn default() -> Self {
        Alerts {
            state: Mutex::default(),
            events: broadcast::Sender::new(1024),
            next_event: AtomicU64::new(1),
            ticking: AtomicBool::new(false),
        }
    }
}

/// Events as they happen; see [`Engine::alert_events`].
pub struct AlertEvents {
    receiver: broadcast::Receiver<AlertEvent>,
    missed: u64,
}

impl AlertEvents {
    /// The next event; `None` once the engine is gone. A reader slower than 1,024 events
    /// skips the oldest (counted in [`AlertEvents::missed`]; the history keeps them).
    pub async fn next(&mut self) -> Option<AlertEvent> {
        loop {
            match self.receiver.recv().await {
                Ok(event) => return Some(event),
                Err(broadcast::error::RecvError::Lagged(n)) => self.missed += n,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// The next event if one is waiting.
    pub fn try_next(&mut self) -> Option<AlertEvent> {
        loop {
            match self.receiver.try_recv() {
                Ok(event) => return Some(event),
                Err(broadcast::error::TryRecvError::Lagged(n)) => self.missed += n,
                Err(_) => return None,
            }
        }
    }

    /// Events skipped because this reader fell behind.
    pub fn missed(&self) -> u64 {
        self.missed
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// A value for a message: whole numbers as they are, others to four decimals.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}").trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn message(rule: &AlertRule, group: &[(String, DimensionValue)], reading: &Reading, level: Level) -> String {
    let what = rule.query.as_ref().map_or_else(
        || format!("source `{}`", rule.condition.source().unwrap_or("?")),
        |q| match &q.target {
            kpi_formula::Target::Kpi(code) => code.clone(),
            kpi_formula::Target::Formula(f) => f.clone(),
        },
    );
    let group = if group.is_empty() {
        String::new()
    } else {
        format!(" for {}", group.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "))
    };
    // Periods as the rule's calendar has them, in its zone.
    let zone = rule.query.as_ref().map_or(chrono_tz::UTC, |q| q.calendar.time_zone);
    let period =
        reading.period.map(|p| format!(" in the period from {}", p.with_timezone(&zone).format("%Y-%m-%d %H:%M"))).unwrap_or_default();
    let value = reading.value.map_or("no value".to_string(), number);
    let limit = reading.threshold.map(|t| format!(" (limit {})", number(t))).unwrap_or_default();
    let state = match level {
        Level::Ok => "back to ok".to_string(),
        l => l.as_str().to_string(),
    };
    format!("{what}{group}{period}: {} {value}, {state}{limit} [{}]", reading.measure, rule.condition.name())
}

impl Alerts {
    /// Judges the groups `keys` names (every group for `None`) of `entry`'s rule at `now`; the
    /// events, which the caller records.
    fn judge(
        &self,
        entry: &mut RuleEntry,
        sources: &HashMap<String, SourceHealth>,
        catalog: &kpi_catalog::Catalog,
        keys: Option<Vec<Vec<DimensionValue>>>,
        now: DateTime<Utc>,
    ) -> Vec<AlertEvent> {
        let rule = entry.rule.clone();
        entry.evaluations += 1;
        let mut events = Vec::new();
        if let Some(source) = rule.condition.source() {
            let health = sources.get(source).cloned().unwrap_or_default();
            let group = entry.groups.entry(Vec::new()).or_default();
            if let Some(reading) = judge::judge_source(&rule.condition, &health, entry.added, now)
                && let Some((before, after)) = group.step(reading.clone(), now, rule.for_duration)
            {
                // A failing feed's alert says why.
                let detail =
                    health.last_error.as_deref().filter(|_| after > Level::Ok && matches!(rule.condition, Condition::SourceErrors { .. }));
                events.push(self.event(&rule, &[], &reading, before, after, now, detail));
            }
            return events;
        }
        let Some(query) = &rule.query else { return events };
        let kpi = match &query.target {
            kpi_formula::Target::Kpi(code) => catalog.kpi(code).ok().map(|k| (k.direction, k.thresholds)),
            kpi_formula::Target::Formula(_) => None,
        };
        let Some(kpi) = kpi else { return events };
        let keys = keys.unwrap_or_else(|| entry.groups.keys().cloned().collect());
        for key in keys {
            let Some(group) = entry.groups.get_mut(&key) else { continue };
            let reading =
                judge::judge_values(&rule.condition, kpi, &group.values, query.grain, &query.calendar, now, group.level, rule.hysteresis);
            let Some(reading) = reading else { continue };
            if let Some((before, after)) = group.step(reading.clone(), now, rule.for_duration) {
                let labeled: Vec<(String, DimensionValue)> = entry.labels.iter().cloned().zip(key.iter().cloned()).collect();
                events.push(self.event(&rule, &labeled, &reading, before, after, now, None));
            }
        }
        events
    }

    #[allow(clippy::too_many_arguments)]
    fn event(
        &self,
        rule: &AlertRule,
        group: &[(String, DimensionValue)],
        reading: &Reading,
        before: Level,
        after: Level,
        now: DateTime<Utc>,
        detail: Option<&str>,
    ) -> AlertEvent {
        let mut text = message(rule, group, reading, after);
        if let Some(detail) = detail {
            text.push_str(&format!(": {detail}"));
        }
        AlertEvent {
            id: self.next_event.fetch_add(1, Ordering::Relaxed),
            kind: if after == Level::Ok { AlertEventKind::Resolved } else { AlertEventKind::Fired },
            rule: rule.name.clone(),
            kpi: rule.query.as_ref().and_then(|q| match &q.target {
                kpi_formula::Target::Kpi(code) => Some(code.clone()),
                kpi_formula::Target::Formula(_) => None,
            }),
            source: rule.condition.source().map(str::to_string),
            level: after,
            previous_level: before,
            group: group.to_vec(),
            period: reading.period,
            value: reading.value,
            threshold: reading.threshold,
            message: text,
            at: now,
        }
    }

    /// Keeps `events` as history and sends them to readers; returns them for the notifiers.
    fn record(&self, state: &mut State, events: Vec<AlertEvent>) -> Vec<AlertEvent> {
        for event in &events {
            if state.history.len() == HISTORY_EVENTS {
                state.history.pop_front();
            }
            state.history.push_back(event.clone());
            // No reader is no error.
            let _ = self.events.send(event.clone());
        }
        events
    }
}

impl Engine {
    /// Adds an alert rule (see [`AlertRuleSpec`] for the document). A KPI rule subscribes to
    /// its query and is judged on every update of it; its first judgement, on the current
    /// values, happens at once. Refused with `KPI_ALERT` (an unknown source, contradicting
    /// thresholds, a name already taken, ...) or the query's own error (an unknown KPI or
    /// dimension).
    pub async fn add_alert_rule(&self, spec: AlertRuleSpec) -> Result<AlertRuleInfo, EngineError> {
        let rule = spec.check(&self.catalog(), |q| self.query(q))?;
        if lock(&self.inner.alerts.state).rules.contains_key(&rule.name) {
            return Err(EngineError::InvalidAlert {
                rule: rule.name,
                message: "a rule of this name exists; remove it first or choose another name".into(),
            });
        }
        let subscription = match &rule.query {
            Some(query) => Some(self.subscribe(query, rule.refresh).await?),
            None => None,
        };
        let labels = subscription.as_ref().map(|s| s.query().dimensions.clone()).unwrap_or_default();
        let (stop, stopped) = watch::channel(false);
        let now = self.inner.options.clock.now();
        let rule = Arc::new(rule);
        let info = {
            let mut state = lock(&self.inner.alerts.state);
            if state.rules.contains_key(&rule.name) {
                return Err(EngineError::InvalidAlert {
                    rule: rule.name.clone(),
                    message: "a rule of this name exists; remove it first or choose another name".into(),
                });
            }
            let entry =
                RuleEntry { rule: rule.clone(), labels, added: now, groups: HashMap::new(), evaluations: 0, last_error: None, stop };
            state.rules.insert(rule.name.clone(), entry);
            AlertRuleInfo { spec: rule.spec.clone(), active: 0, groups: 0, evaluations: 0, last_error: None }
        };
        if let Some(subscription) = subscription {
            tokio::spawn(follow(self.clone(), rule.name.clone(), subscription, stopped));
        } else {
            self.judge_rules(|r| r.name == rule.name);
        }
        self.start_alert_ticks();
        Ok(info)
    }

    /// Removes the rule `name` and its alerts (no resolved events are sent); whether it existed.
    pub fn remove_alert_rule(&self, name: &str) -> bool {
        let entry = lock(&self.inner.alerts.state).rules.remove(name);
        if let Some(entry) = &entry {
            entry.stop.send_replace(true);
        }
        entry.is_some()
    }

    /// The alert rules, by name, with their state.
    pub fn alert_rules(&self) -> Vec<AlertRuleInfo> {
        let state = lock(&self.inner.alerts.state);
        state
            .rules
            .values()
            .map(|e| AlertRuleInfo {
                spec: e.rule.spec.clone(),
                active: e.groups.values().filter(|g| g.level > Level::Ok).count(),
                groups: e.groups.len(),
                evaluations: e.evaluations,
                last_error: e.last_error.clone(),
            })
            .collect()
    }

    /// The alerts active now, critical first, then by rule.
    pub fn alerts(&self) -> Vec<ActiveAlert> {
        let state = lock(&self.inner.alerts.state);
        let mut out = Vec::new();
        for entry in state.rules.values() {
            for (key, group) in &entry.groups {
                if group.level == Level::Ok {
                    continue;
                }
                let labeled: Vec<(String, DimensionValue)> = entry.labels.iter().cloned().zip(key.iter().cloned()).collect();
                let reading = group.last.clone().unwrap_or(Reading {
                    level: group.level,
                    period: None,
                    value: None,
                    threshold: None,
                    measure: "value",
                });
                out.push(ActiveAlert {
                    rule: entry.rule.name.clone(),
                    kpi: entry.rule.spec.kpi.clone(),
                    source: entry.rule.condition.source().map(str::to_string),
                    level: group.level,
                    message: message(&entry.rule, &labeled, &reading, group.level),
                    group: labeled,
                    period: reading.period,
                    value: reading.value,
                    threshold: reading.threshold,
                    since: group.since,
                });
            }
        }
        out.sort_by(|a, b| b.level.cmp(&a.level).then_with(|| a.rule.cmp(&b.rule)).then_with(|| a.message.cmp(&b.message)));
        out
    }

    /// The last `limit` alert events, oldest first (at most [`HISTORY_EVENTS`] are kept).
    pub fn alert_history(&self, limit: usize) -> Vec<AlertEvent> {
        let state = lock(&self.inner.alerts.state);
        state.history.iter().skip(state.history.len().saturating_sub(limit)).cloned().collect()
    }

    /// Alert events from now on, as they happen.
    pub fn alert_events(&self) -> AlertEvents {
        AlertEvents { receiver: self.inner.alerts.events.subscribe(), missed: 0 }
    }

    /// Judges every rule now, on its latest values and the engine's clock (what the
    /// once-a-second tick does); the events it caused.
    pub fn evaluate_alerts(&self) -> Vec<AlertEvent> {
        self.judge_rules(|_| true)
    }

    fn judge_rules(&self, which: impl Fn(&AlertRule) -> bool) -> Vec<AlertEvent> {
        self.judge_groups(which, |_| None)
    }

    /// Judges the rules `which` picks, each on the groups `groups` names (all for `None`).
    fn judge_groups(
        &self,
        which: impl Fn(&AlertRule) -> bool,
        groups: impl Fn(&RuleEntry) -> Option<Vec<Vec<DimensionValue>>>,
    ) -> Vec<AlertEvent> {
        let alerts = &self.inner.alerts;
        let catalog = self.catalog();
        let now = self.inner.options.clock.now();
        let events = {
            let mut state = lock(&alerts.state);
            let State { rules, sources, .. } = &mut *state;
            let mut events = Vec::new();
            for entry in rules.values_mut().filter(|e| which(&e.rule)) {
                let keys = groups(entry);
                if keys.as_ref().is_some_and(Vec::is_empty) {
                    continue;
                }
                events.extend(alerts.judge(entry, sources, &catalog, keys, now));
            }
            alerts.record(&mut state, events)
        };
        self.notify(&events);
        events
    }

    /// What time alone can change: stale sources, missing data, and groups waiting out a
    /// rule's `for` (a value rule's other groups change only with their values).
    fn judge_due(&self) -> Vec<AlertEvent> {
        let timed = |r: &AlertRule| !matches!(r.condition, Condition::SourceErrors { .. } | Condition::LateRows { .. });
        self.judge_groups(timed, |entry| match entry.rule.condition {
            Condition::NoData { .. } | Condition::SourceStale { .. } => None,
            _ => Some(entry.groups.iter().filter(|(_, g)| g.pending_since.is_some()).map(|(k, _)| k.clone()).collect()),
        })
    }

    /// Takes a view's updates into the rule `name`'s groups and judges the groups they touched.
    fn observe(&self, name: &str, updates: Updates) {
        let alerts = &self.inner.alerts;
        let catalog = self.catalog();
        let now = self.inner.options.clock.now();
        let events = {
            let mut state = lock(&alerts.state);
            let State { rules, sources, .. } = &mut *state;
            let Some(entry) = rules.get_mut(name) else { return };
            entry.last_error = updates.error.as_ref().map(|e| e.to_string());
            let mut touched: Vec<Vec<DimensionValue>> = Vec::new();
            for update in updates.updates {
                let period = update.period.map_or(i64::MIN, |p| p.timestamp_micros());
                let group = entry.groups.entry(update.dimensions.clone()).or_default();
                group.values.insert(period, update.value);
                if !touched.contains(&update.dimensions) {
                    touched.push(update.dimensions);
                }
            }
            if touched.is_empty() {
                return;
            }
            let events = alerts.judge(entry, sources, &catalog, Some(touched), now);
            alerts.record(&mut state, events)
        };
        self.notify(&events);
    }

    /// Records what a source did and judges the rules watching it.
    pub(crate) fn source_health(&self, model: &str, change: impl FnOnce(&mut SourceHealthUpdate<'_>)) {
        let now = self.inner.options.clock.now();
        {
            let mut state = lock(&self.inner.alerts.state);
            let health = state.sources.entry(model.to_string()).or_default();
            change(&mut SourceHealthUpdate { health, now });
            if !state.rules.values().any(|e| e.rule.condition.source() == Some(model)) {
                return;
            }
        }
        self.judge_rules(|r| r.condition.source() == Some(model));
    }

    /// Starts the once-a-second judging of durations, missing data and stale sources.
    fn start_alert_ticks(&self) {
        if self.inner.alerts.ticking.swap(true, Ordering::SeqCst) {
            return;
        }
        // The task holds the engine weakly: it ends when the engine is dropped.
        let weak = Arc::downgrade(&self.inner);
        let clock = self.inner.options.clock.clone();
        // The first tick is fixed now, so a clock that moves before the task first runs
        // still wakes it.
        let mut next = clock.now() + ALERT_TICK;
        tokio::spawn(async move {
            loop {
                clock.wait_until(next).await;
                next = clock.now() + ALERT_TICK;
                let Some(inner) = weak.upgrade() else { return };
                Engine { inner }.judge_due();
            }
        });
    }
}

/// A change to what is known of a source.
pub(crate) struct SourceHealthUpdate<'a> {
    health: &'a mut SourceHealth,
    now: DateTime<Utc>,
}

impl SourceHealthUpdate<'_> {
    /// Data arrived, with `late_rows` rows beyond the allowed lateness.
    pub(crate) fn data(&mut self, late_rows: usize) {
        self.health.last_data = Some(self.now);
        self.health.late_rows = late_rows;
    }

    /// A poll of its feed failed.
    pub(crate) fn failed(&mut self, error: &str) {
        self.health.failures += 1;
        self.health.last_error = Some(error.to_string());
    }

    /// A poll of its feed succeeded.
    pub(crate) fn polled(&mut self) {
        self.health.failures = 0;
    }
}

/// Feeds a rule's view updates into its groups until the rule is removed.
async fn follow(engine: Engine, name: String, mut subscription: crate::Subscription, mut stopped: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            updates = subscription.next() => engine.observe(&name, updates),
            _ = stopped.changed() => return,
        }
    }
}
