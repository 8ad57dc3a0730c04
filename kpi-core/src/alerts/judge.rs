//! Judging: which level a value (or a source's health) stands at, with hysteresis, and the
//! state of one rule for one dimension group, with its "for" duration.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use kpi_catalog::{Direction, Thresholds};
use kpi_formula::{Calendar, Grain};

use super::rule::{ChangeBaseline, ChangeDirection, Condition, Level};

/// Warning and critical limits where a larger score is worse.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Limits {
    pub(crate) warning: Option<f64>,
    pub(crate) critical: Option<f64>,
}

/// The level of `score` against `limits`. A level held now is left only once the score is
/// back past its limit by the hysteresis margin (a fraction of the limit; of 1 for a limit 0).
pub(crate) fn level_of(score: f64, limits: Limits, current: Level, hysteresis: f64) -> Level {
    let past = |limit: Option<f64>, held: bool| {
        limit.is_some_and(|l| {
            let margin = if !held {
                0.0
            } else if l == 0.0 {
                hysteresis
            } else {
                hysteresis * l.abs()
            };
            score >= l - margin
        })
    };
    if past(limits.critical, current >= Level::Critical) {
        Level::Critical
    } else if past(limits.warning, current >= Level::Warning) {
        Level::Warning
    } else {
        Level::Ok
    }
}

/// What a rule read for a group: the level it points to and what it is based on.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Reading {
    pub(crate) level: Level,
    pub(crate) period: Option<DateTime<Utc>>,
    pub(crate) value: Option<f64>,
    /// The limit passed (or nearest), in the value's terms.
    pub(crate) threshold: Option<f64>,
    /// What the value is, for messages: the KPI's value, a change in percent, periods or
    /// seconds without data, failed polls, late rows.
    pub(crate) measure: &'static str,
}

/// Judges the latest period of one group's `values` (period start in microseconds, or
/// `i64::MIN` without a grain) under a KPI condition. `None` when there is nothing to judge
/// (no periods, no value, no baseline), which leaves the group's state as it is.
#[allow(clippy::too_many_arguments)]
pub(crate) fn judge_values(
    condition: &Condition,
    kpi: (Direction, Thresholds),
    values: &BTreeMap<i64, Option<f64>>,
    grain: Option<Grain>,
    calendar: &Calendar,
    now: DateTime<Utc>,
    current: Level,
    hysteresis: f64,
) -> Option<Reading> {
    let (&latest, &value) = values.last_key_value()?;
    let period = (latest != i64::MIN).then(|| DateTime::from_timestamp_micros(latest)).flatten();
    let reading = |level, value, threshold, measure| Some(Reading { level, period, value, threshold, measure });
    let bounded = |score: f64, limits: Limits, sign: f64| {
        let level = level_of(score, limits, current, hysteresis);
        let limit = match level {
            Level::Critical => limits.critical,
            Level::Warning => limits.warning,
            Level::Ok => limits.warning.or(limits.critical),
        };
        (level, limit.map(|l| l * sign))
    };
    match condition {
        Condition::Thresholds | Condition::Above { .. } | Condition::Below { .. } => {
            let v = value.filter(|v| v.is_finite())?;
            let (above, warning, critical) = match *condition {
                Condition::Above { warning, critical } => (true, warning, critical),
                Condition::Below { warning, critical } => (false, warning, critical),
                _ => match kpi.0 {
                    Direction::LowerIsBetter => (true, kpi.1.warning, kpi.1.critical),
                    Direction::HigherIsBetter => (false, kpi.1.warning, kpi.1.critical),
                    Direction::Neutral => return None,
                },
            };
            let sign = if above { 1.0 } else { -1.0 };
            let limits = Limits { warning: warning.map(|w| w * sign), critical: critical.map(|c| c * sign) };
            let (level, threshold) = bounded(v * sign, limits, sign);
            reading(level, Some(v), threshold, "value")
        }
        Condition::Change { against, direction, warning_pct, critical_pct } => {
            let v = value.filter(|v| v.is_finite())?;
            let p = period?;
            let before = match against {
                ChangeBaseline::PreviousPeriod => calendar.add_periods(p, grain?, -1),
                ChangeBaseline::LastYear => {
                    let (g, n) = match grain? {
                        Grain::Year => (Grain::Year, 1),
                        Grain::Quarter => (Grain::Quarter, 4),
                        Grain::Month => (Grain::Month, 12),
                        Grain::Week => (Grain::Week, 52),
                        _ => (Grain::Day, 364),
                    };
                    let day = calendar.period_start(p, Grain::Day);
                    calendar.add_periods(day, g, -n) + (p - day)
                }
            };
            let base = (*values.get(&before.timestamp_micros())?).filter(|b| b.is_finite() && *b != 0.0)?;
            let pct = (v - base) / base.abs() * 100.0;
            let score = match direction {
                ChangeDirection::Up => pct,
                ChangeDirection::Down => -pct,
                ChangeDirection::Either => pct.abs(),
            };
            let (level, threshold) = bounded(score, Limits { warning: *warning_pct, critical: *critical_pct }, 1.0);
            reading(level, Some(pct), threshold, "change in percent")
        }
        Condition::NoData { periods } => {
            let grain = grain?;
            let current = calendar.period_start(now, grain);
            let last = values.iter().rev().find(|(_, v)| v.is_some()).map(|(k, _)| *k);
            // The periods after the last one with a value, up to the one running now.
            let since = match last {
                Some(k) => calendar.add_periods(DateTime::from_timestamp_micros(k)?, grain, 1),
                None => DateTime::from_timestamp_micros(*values.first_key_value()?.0)?,
            };
            let breach = calendar.add_periods(since, grain, i64::from(*periods)) <= current;
            let empty = if since >= current { 0 } else { calendar.periods(since, current, grain, 10_001).map_or(10_001, |p| p.len()) };
            let level = if breach { Level::Critical } else { Level::Ok };
            Some(Reading {
                level,
                period: last.and_then(DateTime::from_timestamp_micros),
                value: Some(empty as f64),
                threshold: Some(f64::from(*periods)),
                measure: "periods without data",
            })
        }
        Condition::SourceStale { .. } | Condition::SourceErrors { .. } | Condition::LateRows { .. } => None,
    }
}

/// What is known of a source (object model) for source rules.
#[derive(Clone, Debug, Default)]
pub(crate) struct SourceHealth {
    /// When data last arrived (registration or append), on the engine's clock.
    pub(crate) last_data: Option<DateTime<Utc>>,
    /// Polls of its feed that failed in a row, and the last error.
    pub(crate) failures: u64,
    pub(crate) last_error: Option<String>,
    /// Rows beyond the allowed lateness in its last append.
    pub(crate) late_rows: usize,
}

/// Judges a source rule; `watched_since` stands for the last data of a source that never had any.
pub(crate) fn judge_source(
    condition: &Condition,
    health: &SourceHealth,
    watched_since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<Reading> {
    let reading = |level, value: f64, threshold, measure| Some(Reading { level, period: None, value: Some(value), threshold, measure });
    match condition {
        Condition::SourceStale { after, .. } => {
            let since = health.last_data.unwrap_or(watched_since);
            let quiet = (now - since).to_std().unwrap_or_default();
            let level = if quiet >= *after { Level::Critical } else { Level::Ok };
            reading(level, quiet.as_secs_f64(), Some(after.as_secs_f64()), "seconds without data")
        }
        Condition::SourceErrors { .. } => {
            let level = if health.failures > 0 { Level::Critical } else { Level::Ok };
            reading(level, health.failures as f64, Some(1.0), "failed polls in a row")
        }
        Condition::LateRows { .. } => {
            let level = if health.late_rows > 0 { Level::Warning } else { Level::Ok };
            reading(level, health.late_rows as f64, Some(1.0), "rows beyond the allowed lateness")
        }
        _ => None,
    }
}

/// The alert state of one rule for one group.
#[derive(Clone, Debug, Default)]
pub(crate) struct GroupState {
    /// The group's values by period, as the rule's view published them.
    pub(crate) values: BTreeMap<i64, Option<f64>>,
    /// The level fired (`Ok` when no alert is active).
    pub(crate) level: Level,
    /// Since when that level holds.
    pub(crate) since: Option<DateTime<Utc>>,
    /// Since when a worse level has been read, while it waits out the rule's "for".
    pub(crate) pending_since: Option<DateTime<Utc>>,
    /// The last reading.
    pub(crate) last: Option<Reading>,
}

impl GroupState {
    /// Moves to `reading`'s level as the rule says: a worse level once it has lasted
    /// `for_duration`, a better one at once (hysteresis already keeps it from flapping).
    /// The levels before and after, when it moved.
    pub(crate) fn step(&mut self, reading: Reading, now: DateTime<Utc>, for_duration: Duration) -> Option<(Level, Level)> {
        let target = reading.level;
        self.last = Some(reading);
        let before = self.level;
        if target > self.level {
            let since = *self.pending_since.get_or_insert(now);
            if (now - since).to_std().unwrap_or_default() < for_duration {
                return None;
            }
        } else if target == self.level {
            self.pending_since = None;
            return None;
        }
        self.pending_since = None;
        self.level = target;
        self.since = Some(now);
        Some((before, target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn reading(level: Level) -> Reading {
        Reading { level, period: None, value: Some(1.0), threshold: None, measure: "value" }
    }

    #[test]
    fn hysteresis_keeps_a_hovering_value_from_flapping() {
        let limits = Limits { warning: Some(100.0), critical: Some(200.0) };
        assert_eq!(level_of(99.0, limits, Level::Ok, 0.05), Level::Ok);
        assert_eq!(level_of(100.0, limits, Level::Ok, 0.05), Level::Warning);
        // Held at warning: 96 is within 5% of 100, so it stays.
        assert_eq!(level_of(96.0, limits, Level::Warning, 0.05), Level::Warning);
        assert_eq!(level_of(94.9, limits, Level::Warning, 0.05), Level::Ok);
        assert_eq!(level_of(195.0, limits, Level::Critical, 0.05), Level::Critical);
        assert_eq!(level_of(189.0, limits, Level::Critical, 0.05), Level::Warning);
        // A limit of zero: the margin is the fraction itself.
        let zero = Limits { warning: Some(0.0), critical: None };
        assert_eq!(level_of(-0.04, zero, Level::Warning, 0.05), Level::Warning);
        assert_eq!(level_of(-0.06, zero, Level::Warning, 0.05), Level::Ok);
    }

    #[test]
    fn a_breach_fires_after_its_duration_and_resolves_at_once() {
        let mut g = GroupState::default();
        let wait = Duration::from_secs(60);
        assert_eq!(g.step(reading(Level::Warning), t("2024-01-01T00:00:00Z"), wait), None);
        assert_eq!(g.step(reading(Level::Critical), t("2024-01-01T00:00:30Z"), wait), None);
        assert_eq!(g.step(reading(Level::Critical), t("2024-01-01T00:01:00Z"), wait), Some((Level::Ok, Level::Critical)));
        assert_eq!(g.step(reading(Level::Critical), t("2024-01-01T00:02:00Z"), wait), None);
        assert_eq!(g.step(reading(Level::Warning), t("2024-01-01T00:03:00Z"), wait), Some((Level::Critical, Level::Warning)));
        assert_eq!(g.step(reading(Level::Ok), t("2024-01-01T00:04:00Z"), wait), Some((Level::Warning, Level::Ok)));
        // A breach that ends before its duration never fires.
        assert_eq!(g.step(reading(Level::Warning), t("2024-01-01T00:05:00Z"), wait), None);
        assert_eq!(g.step(reading(Level::Ok), t("2024-01-01T00:05:30Z"), wait), None);
        assert_eq!(g.step(reading(Level::Warning), t("2024-01-01T00:05:45Z"), wait), None);
        assert_eq!(g.pending_since, Some(t("2024-01-01T00:05:45Z")));
    }
}
