//! Option values as users write them — durations, refresh cadences, byte counts — checked in
//! one place, so Rust, Python, Node and the dashboard server accept and refuse the same values
//! with the same [`EngineError::InvalidOption`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::stream::Refresh;

/// The longest duration any option takes: 100 years. Longer values are refused rather than
/// overflowing a clock or a timer.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 366 * 24 * 3600);

/// A duration as a user gives it: a number of seconds (`1.5`), or text with a unit (`"250ms"`,
/// `"30s"`, `"5min"`, `"2h"`, `"7days"`, `"1h 30m"`), as `humantime` reads it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TimeSetting {
    /// Seconds.
    Seconds(f64),
    /// Text with a unit; for a refresh also `change`, `minute`, `hour` or `day`.
    Text(String),
}

impl From<Duration> for TimeSetting {
    fn from(d: Duration) -> Self {
        TimeSetting::Seconds(d.as_secs_f64())
    }
}

impl From<&str> for TimeSetting {
    fn from(text: &str) -> Self {
        TimeSetting::Text(text.to_string())
    }
}

impl TimeSetting {
    /// The duration, checked to be positive and at most [`MAX_DURATION`]; `option` names the
    /// option in the error.
    ///
    /// ```
    /// use std::time::Duration;
    /// use kpi_core::TimeSetting;
    /// assert_eq!(TimeSetting::from("250ms").duration("timeout")?, Duration::from_millis(250));
    /// assert_eq!(TimeSetting::Seconds(1.5).duration("timeout")?, Duration::from_millis(1500));
    /// assert_eq!(TimeSetting::Seconds(-1.0).duration("timeout").unwrap_err().code(), "KPI_OPTION");
    /// # Ok::<(), kpi_core::EngineError>(())
    /// ```
    pub fn duration(&self, option: &'static str) -> Result<Duration, EngineError> {
        self.duration_allowing_zero(option, false)
    }

    /// As [`TimeSetting::duration`], but zero is allowed (a zero TTL turns caching off).
    pub fn duration_or_zero(&self, option: &'static str) -> Result<Duration, EngineError> {
        self.duration_allowing_zero(option, true)
    }

    fn duration_allowing_zero(&self, option: &'static str, zero: bool) -> Result<Duration, EngineError> {
        let invalid = |message: String| EngineError::InvalidOption { option, message };
        let d = match self {
            TimeSetting::Seconds(s) => seconds(*s).map_err(invalid)?,
            TimeSetting::Text(text) => {
                let text = text.trim();
                match text.parse::<f64>() {
                    Ok(s) => seconds(s).map_err(invalid)?,
                    Err(_) => humantime::parse_duration(text).map_err(|e| {
                        invalid(format!("cannot read `{text}` as a duration ({e}); write seconds (1.5) or a number with a unit (250ms, 30s, 5min, 2h, 7days)"))
                    })?,
                }
            }
        };
        if d.is_zero() && !zero {
            return Err(invalid(format!("must be longer than zero, got {}", self.shown())));
        }
        if d > MAX_DURATION {
            return Err(invalid(format!("must be at most 100 years, got {}", self.shown())));
        }
        Ok(d)
    }

    /// A subscription's refresh: `change` (or `on_change`), `minute`, `hour`, `day`, or an
    /// interval (seconds, or text with a unit) of at least a millisecond.
    ///
    /// ```
    /// use std::time::Duration;
    /// use kpi_core::{Refresh, TimeSetting};
    /// assert_eq!(TimeSetting::from("change").refresh()?, Refresh::OnChange);
    /// assert_eq!(TimeSetting::from("500ms").refresh()?, Refresh::Every(Duration::from_millis(500)));
    /// assert_eq!(TimeSetting::from("sometimes").refresh().unwrap_err().code(), "KPI_OPTION");
    /// # Ok::<(), kpi_core::EngineError>(())
    /// ```
    pub fn refresh(&self) -> Result<Refresh, EngineError> {
        if let TimeSetting::Text(text) = self {
            match text.trim() {
                "change" | "on_change" => return Ok(Refresh::OnChange),
                "minute" => return Ok(Refresh::Minute),
                "hour" => return Ok(Refresh::Hour),
                "day" => return Ok(Refresh::Day),
                t if t.parse::<f64>().is_err() && humantime::parse_duration(t).is_err() => {
                    return Err(EngineError::InvalidOption {
                        option: "refresh",
                        message: format!(
                            "unknown refresh `{t}`; use change, minute, hour, day, or an interval (seconds, or 250ms, 30s, 5min)"
                        ),
                    });
                }
                _ => {}
            }
        }
        let every = self.duration("refresh")?;
        if every < Duration::from_millis(1) {
            return Err(EngineError::InvalidOption {
                option: "refresh",
                message: format!("an interval must be at least 1 ms, got {}", self.shown()),
            });
        }
        Ok(Refresh::Every(every))
    }

    fn shown(&self) -> String {
        match self {
            TimeSetting::Seconds(s) => format!("{s} s"),
            TimeSetting::Text(t) => format!("`{t}`"),
        }
    }
}

fn seconds(s: f64) -> Result<Duration, String> {
    if !s.is_finite() || s < 0.0 {
        return Err(format!("must be a positive number of seconds, got {s}"));
    }
    Duration::try_from_secs_f64(s).map_err(|_| format!("{s} seconds is longer than 100 years"))
}

/// A count that must be at least 1 and fit the platform (lanes, partitions).
pub(crate) fn positive_count(option: &'static str, n: u64) -> Result<usize, EngineError> {
    match usize::try_from(n) {
        Ok(0) => Err(EngineError::InvalidOption { option, message: "must be at least 1".into() }),
        Ok(n) => Ok(n),
        Err(_) => Err(EngineError::InvalidOption { option, message: format!("{n} is too large") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_refuse_what_cannot_be_a_timer() {
        for bad in [TimeSetting::Seconds(1e20), TimeSetting::Seconds(f64::NAN), TimeSetting::Seconds(-0.5), TimeSetting::Seconds(0.0)] {
            assert_eq!(bad.duration("timeout").unwrap_err().code(), "KPI_OPTION", "{bad:?}");
        }
        assert!(TimeSetting::from("0s").duration_or_zero("ttl").unwrap().is_zero());
        assert_eq!(TimeSetting::from("1h 30m").duration("timeout").unwrap(), Duration::from_secs(5400));
        assert_eq!(TimeSetting::from("2.5").duration("timeout").unwrap(), Duration::from_millis(2500));
        assert!(TimeSetting::from("200 years").duration("timeout").is_err());
        assert!(TimeSetting::from("soon").duration("timeout").unwrap_err().to_string().contains("`soon`"));
    }

    #[test]
    fn refresh_names_and_intervals() {
        assert_eq!(TimeSetting::from("on_change").refresh().unwrap(), Refresh::OnChange);
        assert_eq!(TimeSetting::from("day").refresh().unwrap(), Refresh::Day);
        assert_eq!(TimeSetting::Seconds(2.0).refresh().unwrap(), Refresh::Every(Duration::from_secs(2)));
        assert!(TimeSetting::Seconds(0.0001).refresh().is_err());
        assert!(TimeSetting::from("weekly").refresh().unwrap_err().to_string().contains("unknown refresh `weekly`"));
    }
}
