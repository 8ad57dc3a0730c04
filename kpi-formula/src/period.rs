//! Grains, calendar spans, time ranges and period arithmetic in an IANA time zone.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Datelike, Duration, Month, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;

use crate::custom_calendar::{PeriodTable, RetailCalendar};
use crate::error::QueryError;

/// The size of the periods a query groups by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grain {
    /// One minute.
    Minute,
    /// One hour.
    Hour,
    /// One calendar day in the query's time zone.
    Day,
    /// One week, starting on the calendar's week start.
    Week,
    /// One calendar month.
    Month,
    /// Three months: January, April, July and October start them, or in a fiscal calendar
    /// the fiscal year's first month and every third month after it.
    Quarter,
    /// One calendar year, or a fiscal year starting on the calendar's fiscal year start.
    Year,
}

impl Grain {
    /// All grains, finest first.
    pub const ALL: [Grain; 7] = [Grain::Minute, Grain::Hour, Grain::Day, Grain::Week, Grain::Month, Grain::Quarter, Grain::Year];

    /// The lower-case name, e.g. `month`.
    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Minute => "minute",
            Grain::Hour => "hour",
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::Year => "year",
        }
    }

    /// Parses a grain name, singular or plural, any case (`Month`, `days`).
    pub fn parse(text: &str) -> Result<Grain, QueryError> {
        let lower = text.trim().to_ascii_lowercase();
        let singular = lower.strip_suffix('s').unwrap_or(&lower);
        Grain::ALL.into_iter().find(|g| g.as_str() == singular).ok_or_else(|| QueryError::UnknownGrain {
            found: text.to_string(),
            suggestion: crate::diagnostic::did_you_mean(&lower, Grain::ALL.iter().map(|g| g.as_str())).map(str::to_string),
        })
    }

    /// Length in minutes for fixed-length grains (minute..week), `None` for calendar months.
    fn minutes(self) -> Option<i64> {
        match self {
            Grain::Minute => Some(1),
            Grain::Hour => Some(60),
            Grain::Day => Some(1440),
            Grain::Week => Some(10080),
            _ => None,
        }
    }

    /// How many periods of this grain fit in [`MAX_REACH_YEARS`]: the most an offset such as
    /// `prev(x, n)` may reach back.
    pub fn max_reach(self) -> i64 {
        let years = i64::from(MAX_REACH_YEARS);
        match (self.months(), self.minutes()) {
            (Some(m), _) => years * 12 / m,
            (None, Some(minutes)) => years * 365 * 1440 / minutes,
            (None, None) => years,
        }
    }

    /// Length in months for month-based grains.
    pub(crate) fn months(self) -> Option<i64> {
        match self {
            Grain::Month => Some(1),
            Grain::Quarter => Some(3),
            Grain::Year => Some(12),
            _ => None,
        }
    }
}

impl fmt::Display for Grain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first year a time may fall in: ranges and data outside `MIN_YEAR`..=`MAX_YEAR` are
/// errors. DataFusion's `date_trunc` counts nanoseconds since 1970, which reach only from 1677 to
/// 2262; these years leave room for a window or offset (at most [`MAX_REACH_YEARS`]) beyond a
/// range, so no period arithmetic leaves what chrono and DataFusion can hold.
pub const MIN_YEAR: i32 = 1700;
/// The last year a time may fall in (see [`MIN_YEAR`]).
pub const MAX_YEAR: i32 = 2200;
/// How far a window or an offset such as `prev(x, n)` may reach, in years.
pub const MAX_REACH_YEARS: i32 = 20;

/// The first instant the engine supports: `1700-01-01T00:00:00Z`.
pub fn earliest_supported() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(MIN_YEAR, 1, 1).unwrap_or(NaiveDate::MIN).and_time(NaiveTime::MIN).and_utc()
}

/// The first instant past the supported years: `2201-01-01T00:00:00Z` (a range may end there).
pub fn end_of_supported() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(MAX_YEAR + 1, 1, 1).unwrap_or(NaiveDate::MAX).and_time(NaiveTime::MIN).and_utc()
}

/// `instant` if it lies in the supported years (the end of them included), else an error
/// naming `what`.
pub fn check_supported(what: &str, instant: DateTime<Utc>) -> Result<DateTime<Utc>, QueryError> {
    if instant < earliest_supported() || instant > end_of_supported() {
        return Err(QueryError::OutOfRange { what: what.to_string(), time: instant.to_rfc3339() });
    }
    Ok(instant)
}

const MAX_SPAN_MONTHS: i64 = MAX_REACH_YEARS as i64 * 12;

/// A length of calendar time such as `30 days` or `3 months`, as used by `rolling`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CalendarSpan {
    /// How many units.
    pub count: u32,
    /// The unit.
    pub unit: Grain,
}

impl CalendarSpan {
    /// Parses `'<count> <unit>'`, e.g. `30 days`, `1 month`, `12 weeks`.
    pub fn parse(text: &str) -> Result<CalendarSpan, String> {
        let mut parts = text.split_whitespace();
        let (Some(count), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err("a count and a unit, e.g. '30 days' or '3 months'".to_string());
        };
        let count: u32 = count.parse().map_err(|_| format!("a whole number of units, not `{count}`"))?;
        if count == 0 {
            return Err("a span of at least 1 unit".to_string());
        }
        let unit =
            Grain::parse(unit).map_err(|_| format!("a unit (minutes, hours, days, weeks, months, quarters or years), not `{unit}`"))?;
        // Fixed-length units against the shortest months, so no window reaches past the years.
        let months = match (unit.months(), unit.minutes()) {
            (Some(m), _) => i64::from(count) * m,
            (None, Some(minutes)) => i64::from(count) * minutes / (28 * 24 * 60),
            (None, None) => 0,
        };
        if months > MAX_SPAN_MONTHS {
            return Err(format!("a span of at most {MAX_REACH_YEARS} years, not `{text}`"));
        }
        Ok(CalendarSpan { count, unit })
    }

    /// How many periods of `grain` make up this span, if it is a whole number of them.
    pub fn periods_of(self, grain: Grain) -> Option<u32> {
        let n = i64::from(self.count);
        let total = match (self.unit.minutes(), grain.minutes(), self.unit.months(), grain.months()) {
            (Some(s), Some(g), _, _) if (n * s) % g == 0 => (n * s) / g,
            (_, _, Some(s), Some(g)) if (n * s) % g == 0 => (n * s) / g,
            _ => return None,
        };
        u32::try_from(total).ok().filter(|&t| t >= 1)
    }
}

impl fmt::Display for CalendarSpan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}{}", self.count, self.unit, if self.count == 1 { "" } else { "s" })
    }
}

/// Where periods start: the time zone of the calendar, the first day of the week, the first
/// month of the (fiscal) year, and optionally a table of months, quarters and years that are
/// not the civil ones (a retail calendar or a calendar table).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Calendar {
    /// IANA time zone in which days, weeks, months... begin.
    pub time_zone: Tz,
    /// The first day of a week.
    pub week_start: Weekday,
    /// The first month of a year and of its first quarter: January for calendar years, April
    /// for a fiscal year running April to March. A fiscal year is labelled by its start.
    pub fiscal_year_start: Month,
    /// Months, quarters and years from a retail calendar or a calendar table, instead of the
    /// civil ones (and of `fiscal_year_start`) for the grains the table defines.
    pub periods: Option<Arc<PeriodTable>>,
}

impl Default for Calendar {
    /// UTC with ISO weeks (starting Monday) and calendar years.
    fn default() -> Self {
        Calendar::new(Tz::UTC)
    }
}

impl Calendar {
    /// A calendar in `time_zone` with ISO weeks and calendar years.
    pub fn new(time_zone: Tz) -> Self {
        Calendar { time_zone, week_start: Weekday::Mon, fiscal_year_start: Month::January, periods: None }
    }

    /// The same calendar with the months, quarters and years of a retail calendar, and weeks
    /// that start the day after its years end.
    pub fn with_retail(mut self, retail: RetailCalendar) -> Self {
        self.week_start = retail.week_start();
        self.periods = Some(retail.table());
        self
    }

    /// The same calendar with the months, quarters and years a calendar table defines.
    pub fn with_period_table(mut self, table: Arc<PeriodTable>) -> Self {
        self.periods = Some(table);
        self
    }

    /// The table that defines periods of `grain`, if this calendar has one.
    pub(crate) fn table_for(&self, grain: Grain) -> Option<&PeriodTable> {
        self.periods.as_deref().filter(|t| t.defines(grain))
    }

    /// The same calendar with years (and their quarters) starting in `month`.
    pub fn with_fiscal_year_start(mut self, month: Month) -> Self {
        self.fiscal_year_start = month;
        self
    }

    /// Parses a month name (`april`, `Apr`) or number (`4`) as a fiscal year start.
    pub fn parse_month(text: &str) -> Result<Month, QueryError> {
        let t = text.trim();
        let by_number = t.parse::<u8>().ok().and_then(|n| Month::try_from(n).ok());
        by_number.or_else(|| t.parse::<Month>().ok()).ok_or_else(|| QueryError::UnknownMonth(text.to_string()))
    }

    /// How many months the start of the period of `grain` lies before the start of the
    /// calendar month `month0` (0 = January): its place in its quarter or (fiscal) year.
    fn months_into(&self, grain: Grain, month0: u32) -> u32 {
        let from_start = (month0 + 12 - self.fiscal_year_start.number_from_month() + 1) % 12;
        match grain {
            Grain::Quarter => from_start % 3,
            Grain::Year => from_start,
            _ => 0,
        }
    }

    /// Parses an IANA zone name such as `Europe/Berlin`.
    pub fn parse_time_zone(name: &str) -> Result<Tz, QueryError> {
        name.parse::<Tz>().map_err(|_| QueryError::UnknownTimeZone(name.to_string()))
    }

    /// The same calendar with weeks starting on `day`.
    pub fn with_week_start(mut self, day: Weekday) -> Self {
        self.week_start = day;
        self
    }

    /// The start of the period of `grain` that contains `instant`.
    pub fn period_start(&self, instant: DateTime<Utc>, grain: Grain) -> DateTime<Utc> {
        let local = instant.with_timezone(&self.time_zone);
        let naive = local.naive_local();
        match grain {
            // Sub-day periods keep the offset of the instant itself, so an hour that occurs twice
            // when clocks go back is two periods, as in `date_trunc`.
            Grain::Minute | Grain::Hour => {
                let floored = if grain == Grain::Minute {
                    naive.with_second(0).and_then(|t| t.with_nanosecond(0))
                } else {
                    naive.with_minute(0).and_then(|t| t.with_second(0)).and_then(|t| t.with_nanosecond(0))
                }
                .unwrap_or(naive);
                let offset = instant - naive.and_utc();
                let start = floored.and_utc().checked_add_signed(offset).unwrap_or(instant);
                if start <= instant { start } else { self.to_instant(floored) }
            }
            _ => self.to_instant(self.floor_naive(naive.date(), grain)),
        }
    }

    pub(crate) fn floor_naive(&self, date: NaiveDate, grain: Grain) -> NaiveDateTime {
        if let Some(day) = self.table_for(grain).and_then(|t| t.floor(date, grain)) {
            return day.and_time(NaiveTime::MIN);
        }
        let day = match grain {
            Grain::Week => {
                let back = (7 + date.weekday().num_days_from_monday() - self.week_start.num_days_from_monday()) % 7;
                date.checked_sub_signed(Duration::days(i64::from(back))).unwrap_or(date)
            }
            Grain::Month | Grain::Quarter | Grain::Year => {
                let total = date.year() * 12 + date.month0() as i32 - self.months_into(grain, date.month0()) as i32;
                NaiveDate::from_ymd_opt(total.div_euclid(12), total.rem_euclid(12) as u32 + 1, 1).unwrap_or(date)
            }
            _ => date,
        };
        day.and_time(NaiveTime::MIN)
    }

    /// The instant of a wall-clock time: the earlier one when it occurs twice, the first valid
    /// time after it when it falls in a gap (clocks going forward).
    pub fn to_instant(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let mut probe = local;
        for _ in 0..(4 * 60) {
            if let Some(t) = self.time_zone.from_local_datetime(&probe).earliest() {
                return t.with_timezone(&Utc);
            }
            let Some(next) = probe.checked_add_signed(Duration::minutes(1)) else { break };
            probe = next;
        }
        local.and_utc()
    }

    /// The wall-clock time of an instant in this calendar's zone.
    pub fn to_local(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        instant.with_timezone(&self.time_zone).naive_local()
    }

    /// The start of the period `n` periods after (or before, for negative `n`) the period starting at `start`.
    ///
    /// Saturates at the first and last instants chrono can hold; times in the supported years
    /// ([`MIN_YEAR`]..=[`MAX_YEAR`]) moved by at most [`MAX_REACH_YEARS`] never get there.
    pub fn add_periods(&self, start: DateTime<Utc>, grain: Grain, n: i64) -> DateTime<Utc> {
        let limit = if n < 0 { DateTime::<Utc>::MIN_UTC } else { DateTime::<Utc>::MAX_UTC };
        let shifted = |unit: i64| Duration::try_minutes(n.saturating_mul(unit)).and_then(|d| start.checked_add_signed(d));
        match grain {
            Grain::Minute => shifted(1).unwrap_or(limit),
            Grain::Hour => shifted(60).unwrap_or(limit),
            _ if self.table_for(grain).is_some() => {
                let day = self.table_for(grain).and_then(|t| t.shift(self.to_local(start).date(), grain, n));
                day.map_or(limit, |d| self.to_instant(d.and_time(NaiveTime::MIN)))
            }
            _ => {
                let local = self.to_local(start).date();
                let date_limit = if n < 0 { NaiveDate::MIN } else { NaiveDate::MAX };
                let days = |d: i64| Duration::try_days(n.saturating_mul(d)).and_then(|d| local.checked_add_signed(d)).unwrap_or(date_limit);
                let date = match grain {
                    Grain::Day => days(1),
                    Grain::Week => days(7),
                    _ => {
                        let months = n.saturating_mul(grain.months().unwrap_or(1));
                        let total = (i64::from(local.year()) * 12 + i64::from(local.month0())).saturating_add(months);
                        i32::try_from(total.div_euclid(12))
                            .ok()
                            .and_then(|year| NaiveDate::from_ymd_opt(year, total.rem_euclid(12) as u32 + 1, 1))
                            .unwrap_or(date_limit)
                    }
                };
                self.to_instant(self.floor_naive(date, grain))
            }
        }
    }

    /// `instant` moved back by `span` on the wall clock: minutes and hours as durations, days
    /// and weeks keeping the local time, months keeping the day (clamped to the month's last
    /// day: 31 March less a month is 28 or 29 February). Months, quarters and years of a
    /// calendar table keep the time since their start, clamped to the earlier period's length.
    /// Saturates like [`Calendar::add_periods`].
    pub fn before(&self, instant: DateTime<Utc>, span: CalendarSpan) -> DateTime<Utc> {
        let n = i64::from(span.count);
        let by_minutes =
            |unit: i64| Duration::try_minutes(n * unit).and_then(|d| instant.checked_sub_signed(d)).unwrap_or(DateTime::<Utc>::MIN_UTC);
        let local = self.to_local(instant);
        let date = local.date();
        let moved = match span.unit {
            Grain::Minute => return by_minutes(1),
            Grain::Hour => return by_minutes(60),
            Grain::Day => date.checked_sub_signed(Duration::days(n)),
            Grain::Week => date.checked_sub_signed(Duration::days(7 * n)),
            // Table months keep the time since their start, clamped to the shorter month.
            unit if self.table_for(unit).is_some() => {
                let start = self.period_start(instant, unit);
                let to = self.add_periods(start, unit, -n);
                return (to + (instant - start)).min(self.add_periods(to, unit, 1));
            }
            unit => {
                let months = n * unit.months().unwrap_or(1);
                let total = i64::from(date.year()) * 12 + i64::from(date.month0()) - months;
                i32::try_from(total.div_euclid(12)).ok().and_then(|year| {
                    let month = total.rem_euclid(12) as u32 + 1;
                    (0..4).find_map(|back| NaiveDate::from_ymd_opt(year, month, date.day().saturating_sub(back)))
                })
            }
        };
        moved.map_or(DateTime::<Utc>::MIN_UTC, |d| self.to_instant(d.and_time(local.time())))
    }

    /// Period starts from the period containing `from` up to (excluding) `to`, at most `limit` of them.
    pub fn periods(&self, from: DateTime<Utc>, to: DateTime<Utc>, grain: Grain, limit: usize) -> Result<Vec<DateTime<Utc>>, QueryError> {
        let mut out = Vec::new();
        let mut p = self.period_start(from, grain);
        while p < to {
            if out.len() == limit {
                return Err(QueryError::TooManyPeriods { grain, limit });
            }
            out.push(p);
            let next = self.add_periods(p, grain, 1);
            if next <= p {
                break;
            }
            p = next;
        }
        Ok(out)
    }
}

/// A half-open time range `[start, end)` of instants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeRange {
    /// First instant included.
    pub start: DateTime<Utc>,
    /// First instant excluded.
    pub end: DateTime<Utc>,
}

impl TimeRange {
    /// The range `[start, end)`; `start` must be before `end`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<TimeRange, QueryError> {
        check_supported("start", start)?;
        check_supported("end", end)?;
        if start >= end {
            return Err(QueryError::EmptyRange { start: start.to_rfc3339(), end: end.to_rfc3339() });
        }
        Ok(TimeRange { start, end })
    }

    /// Parses two bounds: dates (`2024-01-01`) and date-times without offset are wall-clock
    /// times in `calendar`'s zone; RFC 3339 times with an offset (`2024-01-01T00:00:00Z`) are absolute.
    pub fn parse(start: &str, end: &str, calendar: &Calendar) -> Result<TimeRange, QueryError> {
        TimeRange::new(parse_instant(start, calendar)?, parse_instant(end, calendar)?)
    }

    /// The range widened to whole periods of `grain`.
    pub fn align(&self, calendar: &Calendar, grain: Grain) -> TimeRange {
        let start = calendar.period_start(self.start, grain);
        let last = calendar.period_start(self.end - Duration::nanoseconds(1), grain);
        TimeRange { start, end: calendar.add_periods(last, grain, 1) }
    }
}

/// Parses one time bound (see [`TimeRange::parse`]).
pub fn parse_instant(text: &str, calendar: &Calendar) -> Result<DateTime<Utc>, QueryError> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    parse_local(t).map(|local| calendar.to_instant(local)).ok_or_else(|| QueryError::BadTime(text.to_string()))
}

/// Parses a wall-clock date or date-time without offset.
pub fn parse_local(text: &str) -> Option<NaiveDateTime> {
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(d.and_time(NaiveTime::MIN));
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn spans_in_periods() {
        let s = CalendarSpan::parse("30 days").unwrap();
        assert_eq!(s.periods_of(Grain::Day), Some(30));
        assert_eq!(s.periods_of(Grain::Hour), Some(720));
        assert_eq!(s.periods_of(Grain::Month), None);
        assert_eq!(CalendarSpan::parse("1 year").unwrap().periods_of(Grain::Quarter), Some(4));
        assert_eq!(CalendarSpan::parse("2 weeks").unwrap().periods_of(Grain::Week), Some(2));
        assert_eq!(CalendarSpan::parse("1 day").unwrap().periods_of(Grain::Week), None);
        let (cal, at) = (Calendar::default(), utc);
        let span = |s: &str| CalendarSpan::parse(s).unwrap();
        assert_eq!(cal.before(at("2024-03-31T00:00:00Z"), span("1 month")), at("2024-02-29T00:00:00Z"));
        assert_eq!(cal.before(at("2024-03-16T00:00:00Z"), span("2 months")), at("2024-01-16T00:00:00Z"));
        assert_eq!(cal.before(at("2024-03-01T00:00:00Z"), span("30 days")), at("2024-01-31T00:00:00Z"));
        assert_eq!(cal.before(at("2024-03-01T06:00:00Z"), span("90 minutes")), at("2024-03-01T04:30:00Z"));
        assert!(CalendarSpan::parse("days").is_err());
        assert!(CalendarSpan::parse("0 days").is_err());
        assert!(CalendarSpan::parse("3 fortnights").is_err());
    }

    #[test]
    fn grain_names() {
        assert_eq!(Grain::parse("Months").unwrap(), Grain::Month);
        let e = Grain::parse("mnth").unwrap_err();
        assert!(e.to_string().contains("month"), "{e}");
    }

    #[test]
    fn periods_follow_the_local_calendar_across_dst() {
        let berlin = Calendar::new(chrono_tz::Europe::Berlin);
        // 2024-03-31 has 23 hours in Berlin.
        let start = berlin.period_start(utc("2024-03-31T12:00:00Z"), Grain::Day);
        assert_eq!(start, utc("2024-03-30T23:00:00Z"));
        assert_eq!(berlin.add_periods(start, Grain::Day, 1), utc("2024-03-31T22:00:00Z"));
        let month = berlin.period_start(utc("2024-04-15T00:00:00Z"), Grain::Month);
        assert_eq!(month, utc("2024-03-31T22:00:00Z"));
        assert_eq!(berlin.add_periods(month, Grain::Month, -2), utc("2024-01-31T23:00:00Z"));
        // The repeated hour on 2024-10-27 is two distinct hourly periods.
        let a = berlin.period_start(utc("2024-10-27T00:30:00Z"), Grain::Hour);
        let b = berlin.period_start(utc("2024-10-27T01:30:00Z"), Grain::Hour);
        assert_eq!((a, b), (utc("2024-10-27T00:00:00Z"), utc("2024-10-27T01:00:00Z")));
    }

    #[test]
    fn weeks_start_where_asked() {
        let sunday = Calendar::default().with_week_start(Weekday::Sun);
        // 2024-01-03 is a Wednesday; its Sunday-week starts 2023-12-31.
        assert_eq!(sunday.period_start(utc("2024-01-03T10:00:00Z"), Grain::Week), utc("2023-12-31T00:00:00Z"));
        assert_eq!(Calendar::default().period_start(utc("2024-01-03T10:00:00Z"), Grain::Week), utc("2024-01-01T00:00:00Z"));
    }

    #[test]
    fn fiscal_years_start_in_their_month() {
        let april = Calendar::default().with_fiscal_year_start(Month::April);
        assert_eq!(april.period_start(utc("2024-03-15T10:00:00Z"), Grain::Year), utc("2023-04-01T00:00:00Z"));
        assert_eq!(april.period_start(utc("2024-04-01T00:00:00Z"), Grain::Year), utc("2024-04-01T00:00:00Z"));
        assert_eq!(april.period_start(utc("2024-03-15T10:00:00Z"), Grain::Quarter), utc("2024-01-01T00:00:00Z"));
        let july = Calendar::default().with_fiscal_year_start(Month::July);
        assert_eq!(july.period_start(utc("2024-06-30T00:00:00Z"), Grain::Year), utc("2023-07-01T00:00:00Z"));
        let feb = Calendar::default().with_fiscal_year_start(Month::February);
        assert_eq!(feb.period_start(utc("2024-01-31T00:00:00Z"), Grain::Quarter), utc("2023-11-01T00:00:00Z"));
        assert_eq!(feb.add_periods(utc("2023-11-01T00:00:00Z"), Grain::Quarter, 1), utc("2024-02-01T00:00:00Z"));
        assert_eq!(feb.add_periods(utc("2023-02-01T00:00:00Z"), Grain::Year, -1), utc("2022-02-01T00:00:00Z"));
        assert_eq!(Calendar::parse_month("4").unwrap(), Month::April);
        assert_eq!(Calendar::parse_month("Apr").unwrap(), Month::April);
        assert_eq!(Calendar::parse_month(" october").unwrap(), Month::October);
        assert!(Calendar::parse_month("13").is_err());
        assert!(Calendar::parse_month("smarch").is_err());
    }

    #[test]
    fn ranges_parse_and_align() {
        let cal = Calendar::new(chrono_tz::America::New_York);
        let r = TimeRange::parse("2024-01-15", "2024-03-01T00:00:00Z", &cal).unwrap();
        assert_eq!(r.start, utc("2024-01-15T05:00:00Z"));
        let a = r.align(&cal, Grain::Month);
        assert_eq!(a.start, utc("2024-01-01T05:00:00Z"));
        assert_eq!(a.end, utc("2024-03-01T05:00:00Z"));
        assert!(TimeRange::parse("2024-02-01", "2024-01-01", &cal).is_err());
        assert!(TimeRange::parse("yesterday", "2024-01-01", &cal).is_err());
        assert_eq!(cal.periods(r.start, r.end, Grain::Month, 10).unwrap().len(), 2);
        assert_eq!(cal.periods(a.start, a.end, Grain::Month, 10).unwrap().len(), 2);
        assert!(cal.periods(r.start, r.end, Grain::Minute, 10).is_err());
    }
}
