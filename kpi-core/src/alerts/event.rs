//! What alerting reports: events when an alert fires or resolves, the alerts active now, and
//! the rules with their state.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::rule::{AlertRuleSpec, Level};
use crate::result::DimensionValue;

/// Whether an alert started (or changed level) or ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertEventKind {
    /// The group entered a warning or critical level, or moved between them.
    Fired,
    /// The group is back to ok.
    Resolved,
}

/// An alert firing or resolving for one rule and dimension group.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertEvent {
    /// Counts the engine's events from 1.
    pub id: u64,
    /// Fired or resolved.
    pub kind: AlertEventKind,
    /// The rule's name.
    pub rule: String,
    /// The KPI watched (KPI rules).
    pub kpi: Option<String>,
    /// The object model watched (source rules).
    pub source: Option<String>,
    /// The level now (`Ok` when resolved).
    pub level: Level,
    /// The level before.
    pub previous_level: Level,
    /// The dimension group, as (dimension, value) pairs in the rule's order.
    pub group: Vec<(String, DimensionValue)>,
    /// The period judged (KPI rules with a grain).
    pub period: Option<DateTime<Utc>>,
    /// The value judged: the KPI's value, a change in percent, periods or seconds without
    /// data, failed polls or late rows, as `message` says.
    pub value: Option<f64>,
    /// The limit passed (or, when resolved, the one it came back under).
    pub threshold: Option<f64>,
    /// A sentence for people.
    pub message: String,
    /// When it happened, on the engine's clock.
    pub at: DateTime<Utc>,
}

pub(crate) fn group_json(group: &[(String, DimensionValue)]) -> serde_json::Value {
    let map: serde_json::Map<String, serde_json::Value> =
        group.iter().map(|(k, v)| (k.clone(), serde_json::to_value(v).unwrap_or(serde_json::Value::Null))).collect();
    serde_json::Value::Object(map)
}

fn rfc3339(t: Option<DateTime<Utc>>) -> serde_json::Value {
    t.map_or(serde_json::Value::Null, |t| t.to_rfc3339().into())
}

impl AlertEvent {
    /// As JSON: `id`, `event` (`fired` or `resolved`), `rule`, `kpi`, `source`, `level`,
    /// `previous_level`, `group` (an object of dimension values), `period`, `value`,
    /// `threshold`, `message`, `at`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "event": self.kind,
            "rule": self.rule,
            "kpi": self.kpi,
            "source": self.source,
            "level": self.level,
            "previous_level": self.previous_level,
            "group": group_json(&self.group),
            "period": rfc3339(self.period),
            "value": self.value,
            "threshold": self.threshold,
            "message": self.message,
            "at": self.at.to_rfc3339(),
        })
    }
}

impl Serialize for AlertEvent {
    /// As [`AlertEvent::to_json`] writes it.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// An alert active now: a rule and group at a warning or critical level.
#[derive(Clone, Debug, PartialEq)]
pub struct ActiveAlert {
    /// The rule's name.
    pub rule: String,
    /// The KPI watched (KPI rules).
    pub kpi: Option<String>,
    /// The object model watched (source rules).
    pub source: Option<String>,
    /// Warning or critical.
    pub level: Level,
    /// The dimension group.
    pub group: Vec<(String, DimensionValue)>,
    /// The period last judged.
    pub period: Option<DateTime<Utc>>,
    /// The value last judged.
    pub value: Option<f64>,
    /// The limit passed.
    pub threshold: Option<f64>,
    /// Since when it is at this level.
    pub since: Option<DateTime<Utc>>,
    /// A sentence for people.
    pub message: String,
}

impl ActiveAlert {
    /// As JSON, with the fields' names.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "rule": self.rule,
            "kpi": self.kpi,
            "source": self.source,
            "level": self.level,
            "group": group_json(&self.group),
            "period": rfc3339(self.period),
            "value": self.value,
            "threshold": self.threshold,
            "since": rfc3339(self.since),
            "message": self.message,
        })
    }
}

impl Serialize for ActiveAlert {
    /// As [`ActiveAlert::to_json`] writes it.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

/// A rule as [`Engine::alert_rules`](crate::Engine::alert_rules) lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRuleInfo {
    /// The rule's document.
    pub spec: AlertRuleSpec,
    /// Groups at a warning or critical level now.
    pub active: usize,
    /// Groups it keeps a state for.
    pub groups: usize,
    /// Times it judged its groups.
    pub evaluations: u64,
    /// The error of the last refresh of its query, if it failed.
    pub last_error: Option<String>,
}

impl AlertRuleInfo {
    /// As JSON: the rule document's fields and `active`, `groups`, `evaluations`, `last_error`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut out = serde_json::to_value(&self.spec).unwrap_or_default();
        out["active"] = self.active.into();
        out["groups"] = self.groups.into();
        out["evaluations"] = self.evaluations.into();
        out["last_error"] = self.last_error.clone().into();
        out
    }
}

impl Serialize for AlertRuleInfo {
    /// As [`AlertRuleInfo::to_json`] writes it.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}
