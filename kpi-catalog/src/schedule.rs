//! Schedules: five-field cron expressions (`minute hour day-of-month month day-of-week`) and
//! their next firing time, in UTC or in any time zone's wall-clock time (daylight saving
//! changes included). KPI definitions carry one for scheduled calculation; the engine runs jobs
//! and reports on them.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};

/// A parsed cron schedule: `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`;
/// month and weekday names (`jan`, `mon`); Sunday is 0 or 7; the shorthands of [`ALIASES`]
/// (`@daily` or `daily`, ...). As in classic cron, when both the
/// day of month and the day of week are restricted, a day matching either fires.
///
/// ```
/// use kpi_catalog::Cron;
/// let every_15 = "*/15 * * * *".parse::<Cron>()?;
/// let t = "2024-01-01T10:07:00Z".parse().unwrap();
/// assert_eq!(every_15.next_after(t).unwrap().to_rfc3339(), "2024-01-01T10:15:00+00:00");
/// let weekdays_at_6 = "0 6 * * mon-fri".parse::<Cron>()?;       // 2024-01-06 is a Saturday
/// let sat = "2024-01-06T12:00:00Z".parse().unwrap();
/// assert_eq!(weekdays_at_6.next_after(sat).unwrap().to_rfc3339(), "2024-01-08T06:00:00+00:00");
/// # Ok::<(), kpi_catalog::CronError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Cron {
    text: String,
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    days_restricted: bool,
    weekdays_restricted: bool,
}

/// Shorthands, as cron and the seeds' batch mode (`"schedule": "daily"`) write them.
pub const ALIASES: [(&[&str], &str); 5] = [
    (&["@hourly", "hourly"], "0 * * * *"),
    (&["@daily", "@midnight", "daily"], "0 0 * * *"),
    (&["@weekly", "weekly"], "0 0 * * 0"),
    (&["@monthly", "monthly"], "0 0 1 * *"),
    (&["@yearly", "@annually", "yearly"], "0 0 1 1 *"),
];

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

fn value(text: &str, names: &[&str], offset: u32) -> Option<u32> {
    text.parse().ok().or_else(|| names.iter().position(|n| n.eq_ignore_ascii_case(text)).map(|i| i as u32 + offset))
}

/// The set of values of one field as a bit mask.
fn field(text: &str, name: &str, min: u32, max: u32, names: &[&str]) -> Result<u64, String> {
    let mut mask = 0u64;
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| *s > 0).ok_or(format!("`{s}` is not a step in the {name} field"))?),
            None => (part, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            let parse = |t: &str| value(t, names, min).ok_or(format!("`{t}` is not a value of the {name} field"));
            (parse(a)?, parse(b)?)
        } else {
            let v = value(range, names, min).ok_or(format!("`{range}` is not a value of the {name} field"))?;
            (v, if part.contains('/') { max } else { v })
        };
        if lo < min || hi > max || lo > hi {
            return Err(format!("`{part}` is outside {min}-{max} in the {name} field"));
        }
        for v in (lo..=hi).step_by(step as usize) {
            mask |= 1 << v;
        }
    }
    Ok(mask)
}

/// Why a text is not a cron schedule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not a cron schedule: {reason} (write five fields: minute hour day-of-month month day-of-week, e.g. `0 6 * * mon-fri`, or @hourly, @daily, @weekly, @monthly, @yearly)"
)]
pub struct CronError {
    /// The text.
    pub text: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FromStr for Cron {
    type Err = CronError;

    fn from_str(text: &str) -> Result<Cron, Self::Err> {
        let invalid = |reason: String| CronError { text: text.to_string(), reason };
        let expanded = ALIASES.iter().find(|(names, _)| names.contains(&text.trim())).map(|(_, cron)| *cron);
        let fields: Vec<&str> = expanded.unwrap_or(text).split_whitespace().collect();
        let [minute, hour, day, month, weekday] = fields[..] else {
            return Err(invalid(format!("it has {} fields", fields.len())));
        };
        let weekdays = field(weekday, "day-of-week", 0, 7, &WEEKDAYS).map_err(invalid)?;
        Ok(Cron {
            text: fields.join(" "),
            minutes: field(minute, "minute", 0, 59, &[]).map_err(invalid)?,
            hours: field(hour, "hour", 0, 23, &[]).map_err(invalid)? as u32,
            days: field(day, "day-of-month", 1, 31, &[]).map_err(invalid)? as u32,
            // Names count from the field's minimum: `jan` is 1, `sun` is 0.
            months: field(month, "month", 1, 12, &MONTHS).map_err(invalid)? as u16,
            // 7 is Sunday too.
            weekdays: ((weekdays | (weekdays >> 7)) & 0x7f) as u8,
            days_restricted: day != "*",
            weekdays_restricted: weekday != "*",
        })
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cron({})", self.text)
    }
}

impl Cron {
    fn day_matches(&self, date: NaiveDate) -> bool {
        if self.months & (1 << date.month()) == 0 {
            return false;
        }
        let day = self.days & (1 << date.day()) != 0;
        let weekday = self.weekdays & (1 << date.weekday().num_days_from_sunday()) != 0;
        match (self.days_restricted, self.weekdays_restricted) {
            (true, true) => day || weekday,
            (true, false) => day,
            (false, true) => weekday,
            (false, false) => true,
        }
    }

    /// The first firing time strictly after `after`, within the next eight years (`None` for a
    /// schedule that never fires, such as `0 0 31 2 *`).
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.next_after_in(after, &Utc)
    }

    /// The first firing time strictly after `after` with the fields read as wall-clock time in
    /// `zone` (`0 7 * * mon` is 07:00 in Berlin, whatever its offset that day).
    ///
    /// Daylight saving changes: a time that does not exist that day (02:30 when the clocks
    /// jump from 02:00 to 03:00) fires at the first instant after the jump, once; a time that
    /// occurs twice (02:30 when the clocks go back) fires once, at its first occurrence. So a
    /// daily schedule fires exactly once on both change days.
    ///
    /// ```
    /// use kpi_catalog::Cron;
    /// let berlin: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    /// let at_7 = "0 7 * * *".parse::<Cron>()?;
    /// let t = "2026-03-28T12:00:00Z".parse().unwrap();
    /// let sunday = at_7.next_after_in(t, &berlin).unwrap();     // the clocks moved forward that night
    /// assert_eq!(sunday.to_rfc3339(), "2026-03-29T05:00:00+00:00");
    /// # Ok::<(), kpi_catalog::CronError>(())
    /// ```
    pub fn next_after_in<Z: TimeZone>(&self, after: DateTime<Utc>, zone: &Z) -> Option<DateTime<Utc>> {
        let local_after = after.with_timezone(zone).naive_local();
        let start = local_after.with_second(0)?.with_nanosecond(0)? + Duration::minutes(1);
        let mut date = start.date();
        for _ in 0..366 * 8 {
            if self.day_matches(date) {
                let first = if date == start.date() { start.hour() * 60 + start.minute() } else { 0 };
                for minute_of_day in first..24 * 60 {
                    let (h, m) = (minute_of_day / 60, minute_of_day % 60);
                    if self.hours & (1 << h) != 0 && self.minutes & (1 << m) != 0 {
                        let instant = instant_of(zone, date.and_hms_opt(h, m, 0)?)?;
                        // The second pass of a repeated hour maps back before `after`: skip it.
                        if instant > after {
                            return Some(instant);
                        }
                    }
                }
            }
            date = date.succ_opt()?;
        }
        None
    }
}

/// The instant of the wall-clock time `local` in `zone`: the first of two when the clocks went
/// back, the end of the gap when they jumped forward over it.
fn instant_of<Z: TimeZone>(zone: &Z, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    // Gaps are at most a few hours (26 h in the rarest historical zone changes).
    for minutes in 0..27 * 60 {
        match zone.from_local_datetime(&(local + Duration::minutes(minutes))) {
            LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, _) => return Some(first.with_timezone(&Utc)),
            LocalResult::None => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn next(cron: &str, after: &str) -> String {
        cron.parse::<Cron>().unwrap().next_after(after.parse().unwrap()).map_or("never".into(), |t| t.to_rfc3339())
    }

    #[test]
    fn fires_at_the_next_match() {
        assert_eq!(next("* * * * *", "2024-01-01T10:07:30Z"), "2024-01-01T10:08:00+00:00");
        assert_eq!(next("0 0 * * *", "2024-01-01T00:00:00Z"), "2024-01-02T00:00:00+00:00");
        assert_eq!(next("30 9 1 * *", "2024-01-15T00:00:00Z"), "2024-02-01T09:30:00+00:00");
        assert_eq!(next("0 0 29 feb *", "2024-03-01T00:00:00Z"), "2028-02-29T00:00:00+00:00");
        assert_eq!(next("0 12 * * 7", "2024-01-01T00:00:00Z"), "2024-01-07T12:00:00+00:00");
        assert_eq!(next("0 0 1 * mon", "2024-01-02T00:00:00Z"), "2024-01-08T00:00:00+00:00");
        assert_eq!(next("5-10/5 1,2 * * *", "2024-01-01T01:06:00Z"), "2024-01-01T01:10:00+00:00");
        assert_eq!(next("0 0 31 2 *", "2024-01-01T00:00:00Z"), "never");
        assert_eq!(next("daily", "2024-01-01T10:00:00Z"), "2024-01-02T00:00:00+00:00");
        assert_eq!(next("@weekly", "2024-01-01T10:00:00Z"), "2024-01-07T00:00:00+00:00");
        assert_eq!(next("@monthly", "2024-01-01T10:00:00Z"), "2024-02-01T00:00:00+00:00");
    }

    fn local_runs(cron: &str, zone: &str, from: &str, to: &str) -> Vec<String> {
        let zone: chrono_tz::Tz = zone.parse().unwrap();
        let cron = cron.parse::<Cron>().unwrap();
        let (mut t, to) = (from.parse::<DateTime<Utc>>().unwrap(), to.parse::<DateTime<Utc>>().unwrap());
        let mut runs = Vec::new();
        while let Some(next) = cron.next_after_in(t, &zone).filter(|n| *n < to) {
            runs.push(format!("{} {}", next.to_rfc3339(), next.with_timezone(&zone).format("%H:%M%:z")));
            t = next;
        }
        runs
    }

    #[test]
    fn a_daily_local_time_fires_once_on_both_daylight_saving_changes() {
        // Berlin: 2026-03-29 02:00 -> 03:00 (CET -> CEST), 2026-10-25 03:00 -> 02:00 (CEST -> CET).
        let spring = local_runs("0 7 * * *", "Europe/Berlin", "2026-03-27T12:00:00Z", "2026-03-31T00:00:00Z");
        assert_eq!(
            spring,
            ["2026-03-28T06:00:00+00:00 07:00+01:00", "2026-03-29T05:00:00+00:00 07:00+02:00", "2026-03-30T05:00:00+00:00 07:00+02:00"]
        );
        let autumn = local_runs("0 7 * * *", "Europe/Berlin", "2026-10-23T12:00:00Z", "2026-10-27T00:00:00Z");
        assert_eq!(
            autumn,
            ["2026-10-24T05:00:00+00:00 07:00+02:00", "2026-10-25T06:00:00+00:00 07:00+01:00", "2026-10-26T06:00:00+00:00 07:00+01:00"]
        );
        // Monday 07:00 for a Berlin team is not 07:00 UTC.
        assert_eq!(
            local_runs("0 7 * * 1", "Europe/Berlin", "2026-01-01T00:00:00Z", "2026-01-06T00:00:00Z"),
            ["2026-01-05T06:00:00+00:00 07:00+01:00"]
        );
    }

    #[test]
    fn times_inside_the_changes_fire_once() {
        // 02:30 does not exist on 29 March: it fires when the gap ends, once.
        let spring = local_runs("30 2 * * *", "Europe/Berlin", "2026-03-28T12:00:00Z", "2026-03-30T12:00:00Z");
        assert_eq!(spring, ["2026-03-29T01:00:00+00:00 03:00+02:00", "2026-03-30T00:30:00+00:00 02:30+02:00"]);
        // 02:30 happens twice on 25 October: it fires at the first, not again an hour later.
        let autumn = local_runs("30 2 * * *", "Europe/Berlin", "2026-10-24T12:00:00Z", "2026-10-26T12:00:00Z");
        assert_eq!(autumn, ["2026-10-25T00:30:00+00:00 02:30+02:00", "2026-10-26T01:30:00+00:00 02:30+01:00"]);
        // Every 15 minutes across the gap: no run is doubled or goes backwards.
        let quarter = local_runs("*/15 * * * *", "America/New_York", "2026-03-08T06:00:00Z", "2026-03-08T08:00:00Z");
        assert_eq!(quarter.len(), 7, "{quarter:?}");
        assert_eq!(quarter[3], "2026-03-08T07:00:00+00:00 03:00-04:00");
        // A schedule asked inside the repeated hour does not repeat its first pass.
        let inside = local_runs("*/30 * * * *", "Europe/Berlin", "2026-10-25T01:10:00Z", "2026-10-25T02:10:00Z");
        assert_eq!(inside, ["2026-10-25T02:00:00+00:00 03:00+01:00"]);
    }

    #[test]
    fn refuses_what_is_not_cron() {
        for bad in ["", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "*/0 * * * *", "5-1 * * * *", "* * * foo *", "a b c d e"] {
            let err = bad.parse::<Cron>().unwrap_err();
            assert!(err.to_string().contains("is not a cron schedule"), "{bad}: {err}");
        }
    }
}
