//! Alert rules: what is watched (a KPI by dimension group, or a source) and when it is in
//! breach, with the document shape Python keyword arguments, Node objects and the server's
//! request bodies map onto.

use std::collections::BTreeMap;
use std::time::Duration;

use kpi_catalog::{Catalog, Direction};
use kpi_formula::{Grain, Query};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::option_value::TimeSetting;
use crate::spec::QuerySpec;
use crate::stream::Refresh;

/// How bad a state is; ordered from `Ok` to `Critical`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Not in breach.
    #[default]
    Ok,
    /// Past the warning level.
    Warning,
    /// Past the critical level.
    Critical,
}

impl Level {
    /// `ok`, `warning` or `critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warning => "warning",
            Level::Critical => "critical",
        }
    }
}

/// What a change rule compares the latest period with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeBaseline {
    /// The period before.
    #[default]
    PreviousPeriod,
    /// The same period a year before: 12 months, 4 quarters or 1 year earlier; 52 weeks
    /// earlier for weeks; 364 days earlier (the same weekday) for days, hours and minutes.
    LastYear,
}

/// Which way a change must go to count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeDirection {
    /// A rise or a fall by the percentage.
    #[default]
    Either,
    /// A rise.
    Up,
    /// A fall.
    Down,
}

/// When a rule is in breach.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// The KPI's own thresholds and direction (as [`Status`](crate::Status) judges them).
    Thresholds,
    /// At or above a warning and/or critical value.
    Above {
        /// Warning level.
        warning: Option<f64>,
        /// Critical level.
        critical: Option<f64>,
    },
    /// At or below a warning and/or critical value.
    Below {
        /// Warning level.
        warning: Option<f64>,
        /// Critical level.
        critical: Option<f64>,
    },
    /// A change of the latest period against a baseline of at least a percentage.
    Change {
        /// What the latest period is compared with.
        against: ChangeBaseline,
        /// Which way counts.
        direction: ChangeDirection,
        /// Warning change, in percent.
        warning_pct: Option<f64>,
        /// Critical change, in percent.
        critical_pct: Option<f64>,
    },
    /// No value for this many complete periods (critical).
    NoData {
        /// Periods without a value.
        periods: u32,
    },
    /// A source (object model) that received no data for a duration (critical).
    SourceStale {
        /// The object model.
        source: String,
        /// How long without data.
        after: Duration,
    },
    /// A source whose feed is failing (critical while its polls fail).
    SourceErrors {
        /// The object model.
        source: String,
    },
    /// A source whose last append held rows beyond the allowed lateness (warning until an
    /// append without such rows).
    LateRows {
        /// The object model.
        source: String,
    },
}

impl Condition {
    /// The object model a source rule watches.
    pub fn source(&self) -> Option<&str> {
        match self {
            Condition::SourceStale { source, .. } | Condition::SourceErrors { source } | Condition::LateRows { source } => Some(source),
            _ => None,
        }
    }

    /// The name a rule document gives it (`when`).
    pub fn name(&self) -> &'static str {
        match self {
            Condition::Thresholds => "thresholds",
            Condition::Above { .. } => "above",
            Condition::Below { .. } => "below",
            Condition::Change { .. } => "change",
            Condition::NoData { .. } => "no_data",
            Condition::SourceStale { .. } => "source_stale",
            Condition::SourceErrors { .. } => "source_errors",
            Condition::LateRows { .. } => "late_rows",
        }
    }
}

/// An alert rule, checked: see [`Engine::add_alert_rule`](crate::Engine::add_alert_rule).
#[derive(Clone, Debug, PartialEq)]
pub struct AlertRule {
    /// Its unique name.
    pub name: String,
    /// What it watches: a KPI query by dimension group (`None` for a source rule).
    pub query: Option<Query>,
    /// When it is in breach.
    pub condition: Condition,
    /// How long a breach must last before the alert fires (zero: at once).
    pub for_duration: Duration,
    /// How far back past a threshold a value must come to leave a level, as a fraction of the
    /// threshold (of 1 when the threshold is 0), so a value hovering at it does not flap.
    pub hysteresis: f64,
    /// How the watched query is refreshed.
    pub refresh: Refresh,
    /// The rule's document, as given (for listing and persisting).
    pub spec: AlertRuleSpec,
}

/// The default hysteresis: 1% of the threshold.
pub const DEFAULT_HYSTERESIS: f64 = 0.01;

/// An alert rule as a document; unknown fields are refused.
///
/// ```
/// use kpi_core::AlertRuleSpec;
/// let rule = AlertRuleSpec::from_json(r#"{
///     "name": "revenue by region", "kpi": "revenue", "grain": "day", "by": ["orders.region"],
///     "when": "below", "warning": 1000, "critical": 500, "for": "10min", "hysteresis": 0.05
/// }"#)?;
/// assert_eq!(rule.when, "below");
/// let stale = AlertRuleSpec::from_json(r#"{"name": "orders stale", "when": "source_stale", "source": "orders", "after": "15min"}"#)?;
/// assert_eq!(stale.source.as_deref(), Some("orders"));
/// # Ok::<(), kpi_core::EngineError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRuleSpec {
    /// The rule's unique name.
    pub name: String,
    /// `thresholds` (the KPI's own; the default for a KPI), `above`, `below`, `change`,
    /// `no_data`, `source_stale`, `source_errors` or `late_rows`.
    #[serde(default)]
    pub when: String,
    /// The KPI watched (KPI rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpi: Option<String>,
    /// The grain of the watched series (the KPI's default grain, else `day`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grain: Option<String>,
    /// Dimensions: one alert state per group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by: Vec<String>,
    /// A row filter.
    #[serde(rename = "where", default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Row-level security filters per object model.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub security: BTreeMap<String, String>,
    /// Time zone of the periods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Warning level (`above`, `below`), or percent (`change`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<f64>,
    /// Critical level (`above`, `below`), or percent (`change`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub critical: Option<f64>,
    /// `previous_period` (default) or `last_year` (`change`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub against: Option<ChangeBaseline>,
    /// `either` (default), `up` or `down` (`change`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<ChangeDirection>,
    /// Complete periods without a value (`no_data`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub periods: Option<u32>,
    /// The object model watched (source rules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// How long without data (`source_stale`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<TimeSetting>,
    /// How long a breach lasts before the alert fires.
    #[serde(rename = "for", default, skip_serializing_if = "Option::is_none")]
    pub for_duration: Option<TimeSetting>,
    /// Fraction of the threshold a value must come back past to leave a level (0.01).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hysteresis: Option<f64>,
    /// How the watched query is refreshed: `change` (default), `minute`, an interval, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<TimeSetting>,
}

fn refuse(rule: &str, message: String) -> EngineError {
    EngineError::InvalidAlert { rule: rule.to_string(), message }
}

impl AlertRuleSpec {
    /// Reads a rule document from JSON text.
    pub fn from_json(text: &str) -> Result<AlertRuleSpec, EngineError> {
        crate::spec::named_text(text, refuse)
    }

    /// Reads a rule document from a JSON value (an object).
    pub fn from_value(value: serde_json::Value) -> Result<AlertRuleSpec, EngineError> {
        crate::spec::named_value(value, refuse)
    }

    /// The checked rule, against `catalog`; `query_of` turns the watched query's document into
    /// a query with the engine's calendar.
    pub(crate) fn check(
        &self,
        catalog: &Catalog,
        query_of: impl Fn(&QuerySpec) -> Result<Query, EngineError>,
    ) -> Result<AlertRule, EngineError> {
        let name = self.name.trim();
        let bad = |message: String| refuse(name, message);
        if name.is_empty() || name.len() > 200 {
            return Err(refuse(&self.name, "give the rule a name of 1 to 200 characters".into()));
        }
        let when = match (self.when.trim(), &self.kpi, &self.source) {
            ("", Some(_), _) => "thresholds",
            ("", None, Some(_)) => return Err(bad("say `when`: source_stale, source_errors or late_rows".into())),
            ("", None, None) => return Err(bad("give `kpi` (a KPI rule) or `source` with `when` (a source rule)".into())),
            (w, _, _) => w,
        };
        let number = |field: &str, v: Option<f64>| match v {
            Some(x) if !x.is_finite() => Err(bad(format!("`{field}` must be a finite number, not {x}"))),
            _ => Ok(v),
        };
        let (warning, critical) = (number("warning", self.warning)?, number("critical", self.critical)?);
        let levels_needed = |what: &str| {
            if warning.is_none() && critical.is_none() { Err(bad(format!("`{what}` needs `warning`, `critical` or both"))) } else { Ok(()) }
        };
        let duration = |field: &'static str, v: &Option<TimeSetting>| v.as_ref().map(|t| t.duration_or_zero(field)).transpose();
        let for_duration = duration("for", &self.for_duration).map_err(|e| bad(e.to_string()))?.unwrap_or_default();
        let hysteresis = self.hysteresis.unwrap_or(DEFAULT_HYSTERESIS);
        if !(0.0..=1.0).contains(&hysteresis) {
            return Err(bad(format!("`hysteresis` is a fraction of the threshold between 0 and 1, not {hysteresis}")));
        }
        let only = |fields: &[(&str, bool)]| match fields.iter().find(|(_, given)| *given) {
            Some((field, _)) => Err(bad(format!("`{field}` does not apply to a `{when}` rule"))),
            None => Ok(()),
        };
        let source_rule = matches!(when, "source_stale" | "source_errors" | "late_rows");
        if source_rule {
            only(&[
                ("kpi", self.kpi.is_some()),
                ("grain", self.grain.is_some()),
                ("by", !self.by.is_empty()),
                ("where", self.filter.is_some()),
                ("warning", warning.is_some()),
                ("critical", critical.is_some()),
                ("against", self.against.is_some()),
                ("direction", self.direction.is_some()),
                ("periods", self.periods.is_some()),
                ("security", !self.security.is_empty()),
                ("timezone", self.timezone.is_some()),
                ("refresh", self.refresh.is_some()),
            ])?;
            if when != "source_stale" && self.after.is_some() {
                return Err(bad(format!("`after` applies to `source_stale` rules, not `{when}`")));
            }
            let source = self.source.clone().ok_or_else(|| bad(format!("a `{when}` rule needs `source`: the object model watched")))?;
            if catalog.object_model(&source).is_err() {
                let hint = kpi_formula::diagnostic::did_you_mean(&source, catalog.object_models().map(|m| m.code.as_str()))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(bad(format!("unknown source `{source}`{hint}; name an object model of the catalog")));
            }
            let condition = match when {
                "source_stale" => {
                    let after = duration("after", &self.after)
                        .map_err(|e| bad(e.to_string()))?
                        .filter(|d| !d.is_zero())
                        .ok_or_else(|| bad("a `source_stale` rule needs `after`: how long without data, such as \"15min\"".into()))?;
                    Condition::SourceStale { source, after }
                }
                "source_errors" => Condition::SourceErrors { source },
                _ => Condition::LateRows { source },
            };
            let spec = AlertRuleSpec { name: name.to_string(), when: when.to_string(), ..self.clone() };
            return Ok(AlertRule {
                name: name.to_string(),
                query: None,
                condition,
                for_duration,
                hysteresis,
                refresh: Refresh::OnChange,
                spec,
            });
        }
        only(&[("source", self.source.is_some()), ("after", self.after.is_some())])?;
        let code = self.kpi.clone().ok_or_else(|| bad(format!("a `{when}` rule needs `kpi`")))?;
        let kpi = catalog.kpi(&code)?;
        let condition = match when {
            "thresholds" => {
                only(&[("warning", warning.is_some()), ("critical", critical.is_some())])?;
                let t = &kpi.thresholds;
                if (t.warning.is_none() && t.critical.is_none()) || kpi.direction == Direction::Neutral {
                    return Err(bad(format!(
                        "KPI `{code}` has no thresholds with a direction to judge them by; write `when: above` or `below` with levels"
                    )));
                }
                Condition::Thresholds
            }
            "above" | "below" => {
                levels_needed(when)?;
                if let (Some(w), Some(c)) = (warning, critical) {
                    let contradicts = if when == "above" { c < w } else { c > w };
                    if contradicts {
                        let side = if when == "above" { "at or above" } else { "at or below" };
                        return Err(bad(format!("contradicting thresholds: for `{when}`, critical ({c}) must be {side} warning ({w})")));
                    }
                }
                if when == "above" { Condition::Above { warning, critical } } else { Condition::Below { warning, critical } }
            }
            "change" => {
                levels_needed("change")?;
                for (field, v) in [("warning", warning), ("critical", critical)] {
                    if v.is_some_and(|v| v <= 0.0) {
                        return Err(bad(format!("`{field}` of a `change` rule is a percentage above 0")));
                    }
                }
                if let (Some(w), Some(c)) = (warning, critical)
                    && c < w
                {
                    return Err(bad(format!("contradicting thresholds: critical ({c}%) must be at or above warning ({w}%)")));
                }
                Condition::Change {
                    against: self.against.unwrap_or_default(),
                    direction: self.direction.unwrap_or_default(),
                    warning_pct: warning,
                    critical_pct: critical,
                }
            }
            "no_data" => {
                only(&[("warning", warning.is_some()), ("critical", critical.is_some())])?;
                let periods = self.periods.unwrap_or(1);
                if !(1..=10_000).contains(&periods) {
                    return Err(bad(format!("`periods` is between 1 and 10000, not {periods}")));
                }
                Condition::NoData { periods }
            }
            other => {
                return Err(bad(format!(
                    "unknown `when` `{other}`; one of thresholds, above, below, change, no_data, source_stale, source_errors, late_rows"
                )));
            }
        };
        if !matches!(condition, Condition::Change { .. }) && (self.against.is_some() || self.direction.is_some()) {
            return Err(bad(format!("`against` and `direction` apply to `change` rules, not `{when}`")));
        }
        if !matches!(condition, Condition::NoData { .. }) && self.periods.is_some() {
            return Err(bad(format!("`periods` applies to `no_data` rules, not `{when}`")));
        }
        let grain = match &self.grain {
            Some(g) => g.clone(),
            None => kpi.default_grain.unwrap_or(Grain::Day).as_str().to_string(),
        };
        let spec = QuerySpec {
            kpi: Some(code),
            grain: Some(grain),
            by: self.by.clone(),
            filter: self.filter.clone(),
            security: self.security.clone(),
            timezone: self.timezone.clone(),
            refresh: self.refresh.clone(),
            ..Default::default()
        };
        let query = query_of(&spec).map_err(|e| bad(e.to_string()))?;
        let refresh = spec.refresh().map_err(|e| bad(e.to_string()))?;
        let spec = AlertRuleSpec { name: name.to_string(), when: when.to_string(), ..self.clone() };
        Ok(AlertRule { name: name.to_string(), query: Some(query), condition, for_duration, hysteresis, refresh, spec })
    }
}
