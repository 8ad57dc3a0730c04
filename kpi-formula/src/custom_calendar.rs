//! Calendars whose months, quarters and years are not the civil ones: retail calendars of
//! whole weeks (4-4-5, 4-5-4, 5-4-4) and calendars read from a table of days.
//!
//! Both become a [`PeriodTable`]: the first day of every month, quarter and year it defines.
//! Periods are found by binary search in it, so the engine's own arithmetic (spines, offsets,
//! windows, streaming) and the plans DataFusion runs use the same boundaries.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{Datelike, Duration, Month, NaiveDate, Weekday};
use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type};

use crate::error::QueryError;
use crate::period::{Calendar, Grain, MAX_REACH_YEARS, MAX_YEAR, MIN_YEAR};

/// How the thirteen weeks of a retail quarter fall into its three months.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WeekPattern {
    /// 4, 4 and 5 weeks.
    FourFourFive,
    /// 4, 5 and 4 weeks (the NRF calendar).
    FourFiveFour,
    /// 5, 4 and 4 weeks.
    FiveFourFour,
}

impl WeekPattern {
    /// Weeks of the three months of a quarter.
    pub fn weeks(self) -> [i64; 3] {
        match self {
            WeekPattern::FourFourFive => [4, 4, 5],
            WeekPattern::FourFiveFour => [4, 5, 4],
            WeekPattern::FiveFourFour => [5, 4, 4],
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            WeekPattern::FourFourFive => "4-4-5",
            WeekPattern::FourFiveFour => "4-5-4",
            WeekPattern::FiveFourFour => "5-4-4",
        }
    }
}

/// Which day ends a retail year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum YearEnd {
    /// The last given weekday of the end month.
    LastOfMonth,
    /// The given weekday nearest the end of the end month (it may fall in the next month's
    /// first three days).
    NearestEndOfMonth,
}

/// A retail (4-4-5) calendar: years of 52 or 53 whole weeks ending on a fixed weekday, each
/// quarter thirteen weeks split into months by a [`WeekPattern`]; a 53rd week goes to the last
/// month. A year is labelled, like a fiscal year, by the period start.
///
/// ```
/// use kpi_formula::custom_calendar::RetailCalendar;
/// let nrf: RetailCalendar = "4-5-4, saturday nearest the end of january".parse()?;
/// assert_eq!(nrf, RetailCalendar::NRF);
/// // The NRF year 2023 ran from 29 January 2023 to 3 February 2024, 53 weeks.
/// assert_eq!(nrf.year_end(2024).to_string(), "2024-02-03");
/// # Ok::<(), kpi_formula::QueryError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RetailCalendar {
    /// Weeks of the months of each quarter.
    pub pattern: WeekPattern,
    /// The weekday the year (and every week) ends on.
    pub last_day: Weekday,
    /// Whether the year ends on the last such weekday of `end_month` or the one nearest its end.
    pub year_end: YearEnd,
    /// The month in which (or near whose end) the year ends.
    pub end_month: Month,
}

impl RetailCalendar {
    /// The National Retail Federation's 4-5-4 calendar: years end on the Saturday nearest the
    /// end of January.
    pub const NRF: RetailCalendar = RetailCalendar {
        pattern: WeekPattern::FourFiveFour,
        last_day: Weekday::Sat,
        year_end: YearEnd::NearestEndOfMonth,
        end_month: Month::January,
    };

    /// The first day of every week.
    pub fn week_start(&self) -> Weekday {
        self.last_day.succ()
    }

    /// The last day of the retail year that ends in (or just after) `end_month` of `year`.
    pub fn year_end(&self, year: i32) -> NaiveDate {
        let next_month = self.end_month.number_from_month() % 12 + 1;
        let next_year = if next_month == 1 { year + 1 } else { year };
        let month_end = NaiveDate::from_ymd_opt(next_year, next_month, 1).and_then(|d| d.pred_opt()).unwrap_or(NaiveDate::MAX);
        let back = (7 + month_end.weekday().num_days_from_monday() - self.last_day.num_days_from_monday()) % 7;
        let last = month_end - Duration::days(i64::from(back));
        match self.year_end {
            YearEnd::NearestEndOfMonth if back > 3 => last + Duration::days(7),
            _ => last,
        }
    }

    /// The calendar's months, quarters and years over the supported years and the reach of
    /// offsets and windows beyond them; built once per calendar and shared.
    pub fn table(&self) -> Arc<PeriodTable> {
        static TABLES: OnceLock<Mutex<HashMap<RetailCalendar, Arc<PeriodTable>>>> = OnceLock::new();
        let mut tables = TABLES.get_or_init(Mutex::default).lock().unwrap_or_else(|e| e.into_inner());
        tables.entry(*self).or_insert_with(|| Arc::new(self.build())).clone()
    }

    fn build(&self) -> PeriodTable {
        let (mut months, mut quarters, mut years) = (Vec::new(), Vec::new(), Vec::new());
        let weeks = self.pattern.weeks();
        for year in (MIN_YEAR - MAX_REACH_YEARS - 1)..=(MAX_YEAR + MAX_REACH_YEARS + 1) {
            let start = self.year_end(year - 1) + Duration::days(1);
            let long = (self.year_end(year) - start).num_days() > 364;
            years.push(start);
            let mut day = start;
            for q in 0..4 {
                quarters.push(day);
                for (m, w) in weeks.iter().enumerate() {
                    months.push(day);
                    let extra = i64::from(long && q == 3 && m == 2);
                    day += Duration::weeks(w + extra);
                }
            }
        }
        let end = self.year_end(MAX_YEAR + MAX_REACH_YEARS + 1) + Duration::days(1);
        PeriodTable::new(self.to_string(), Some(*self), [Some(months), Some(quarters), Some(years)], end)
    }
}

impl fmt::Display for RetailCalendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = weekday_name(self.last_day);
        let month = self.end_month.name().to_lowercase();
        match self.year_end {
            YearEnd::LastOfMonth => write!(f, "{}, last {day} of {month}", self.pattern.as_str()),
            YearEnd::NearestEndOfMonth => write!(f, "{}, {day} nearest the end of {month}", self.pattern.as_str()),
        }
    }
}

fn weekday_name(day: Weekday) -> &'static str {
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"][day.num_days_from_monday() as usize]
}

impl std::str::FromStr for RetailCalendar {
    type Err = QueryError;

    /// `nrf`, or a pattern (`4-4-5`, `4-5-4`, `5-4-4`) optionally followed by the year end:
    /// `, last saturday of december` or `, saturday nearest the end of january`. A bare
    /// pattern ends its years as the NRF calendar does.
    fn from_str(text: &str) -> Result<RetailCalendar, QueryError> {
        let bad = |message: &str| QueryError::BadCalendar { calendar: text.to_string(), message: message.to_string() };
        let usage = "expected `nrf` or `4-4-5`, `4-5-4` or `5-4-4`, optionally with the year end: \
                     `4-4-5, last saturday of december` or `4-4-5, saturday nearest the end of january`";
        let lower = text.to_lowercase().replace(',', " ");
        let words: Vec<&str> = lower.split_whitespace().filter(|w| *w != "the").collect();
        if words == ["nrf"] {
            return Ok(RetailCalendar::NRF);
        }
        let pattern = match words.first() {
            Some(&"4-4-5") => WeekPattern::FourFourFive,
            Some(&"4-5-4") => WeekPattern::FourFiveFour,
            Some(&"5-4-4") => WeekPattern::FiveFourFour,
            _ => return Err(bad(usage)),
        };
        let day = |w: &str| w.parse::<Weekday>().map_err(|_| bad(&format!("unknown day `{w}`; {usage}")));
        let month = |w: &str| Calendar::parse_month(w).map_err(|_| bad(&format!("unknown month `{w}`; {usage}")));
        let (last_day, year_end, end_month) = match words[1..] {
            [] => (RetailCalendar::NRF.last_day, RetailCalendar::NRF.year_end, RetailCalendar::NRF.end_month),
            ["last", d, "of", m] => (day(d)?, YearEnd::LastOfMonth, month(m)?),
            [d, "nearest", "end", "of", m] => (day(d)?, YearEnd::NearestEndOfMonth, month(m)?),
            _ => return Err(bad(usage)),
        };
        Ok(RetailCalendar { pattern, last_day, year_end, end_month })
    }
}

/// Index of a grain in a table's lists, for the grains a table may define.
fn slot(grain: Grain) -> Option<usize> {
    match grain {
        Grain::Month => Some(0),
        Grain::Quarter => Some(1),
        Grain::Year => Some(2),
        _ => None,
    }
}

/// The first day of every month, quarter and year of a calendar (each grain optional: a grain
/// the table leaves out keeps the civil rule), and the first day after the days it covers.
pub struct PeriodTable {
    name: String,
    retail: Option<RetailCalendar>,
    starts: [Option<Vec<NaiveDate>>; 3],
    end: NaiveDate,
    fingerprint: u64,
}

impl PeriodTable {
    fn new(name: String, retail: Option<RetailCalendar>, starts: [Option<Vec<NaiveDate>>; 3], end: NaiveDate) -> PeriodTable {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (&name, &starts, end).hash(&mut hasher);
        PeriodTable { name, retail, starts, end, fingerprint: hasher.finish() }
    }

    /// The retail calendar the table was built from, if any.
    pub fn retail(&self) -> Option<RetailCalendar> {
        self.retail
    }

    /// A calendar table: one row per day (`date_column`, a date or timestamp), and for each
    /// grain a column whose value names the day's period (a label such as `FY24-Q1`, a number or
    /// the period's first day). A period begins on each day whose value differs from the day
    /// before. The days must follow each other without gaps; every quarter must begin on a
    /// month's first day and every year on a quarter's (or month's) first day.
    pub fn from_batches(
        name: &str,
        batches: &[RecordBatch],
        date_column: &str,
        grains: &[(Grain, &str)],
    ) -> Result<PeriodTable, QueryError> {
        let bad = |message: String| QueryError::BadCalendar { calendar: name.to_string(), message };
        if grains.is_empty() {
            return Err(bad("name at least one of the month, quarter and year columns".into()));
        }
        let mut rows: Vec<(NaiveDate, Vec<String>)> = Vec::new();
        for batch in batches {
            let column = |col: &str| batch.column_by_name(col).ok_or_else(|| bad(format!("the table has no column `{col}`")));
            let days = cast(column(date_column)?, &DataType::Date32)
                .map_err(|e| bad(format!("column `{date_column}` is not a date or timestamp: {e}")))?;
            let days = days.as_primitive::<Date32Type>();
            let mut labels = Vec::new();
            for (grain, col) in grains {
                if slot(*grain).is_none() {
                    return Err(bad(format!("a calendar table defines months, quarters and years, not {grain}s")));
                }
                let text = cast(column(col)?, &DataType::Utf8).map_err(|e| bad(format!("column `{col}` cannot be read as labels: {e}")))?;
                labels.push(text);
            }
            for row in 0..batch.num_rows() {
                let day = days.value_as_date(row).filter(|_| days.is_valid(row));
                let day = day.ok_or_else(|| bad(format!("column `{date_column}` has an empty day")))?;
                let mut values = Vec::new();
                for ((_, col), text) in grains.iter().zip(&labels) {
                    if text.is_null(row) {
                        return Err(bad(format!("column `{col}` is empty on {day}")));
                    }
                    values.push(text.as_string::<i32>().value(row).to_string());
                }
                rows.push((day, values));
            }
        }
        rows.sort_by_key(|(day, _)| *day);
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else { return Err(bad("the table has no rows".into())) };
        let lo = NaiveDate::from_ymd_opt(MIN_YEAR, 1, 1).unwrap_or(NaiveDate::MIN);
        let hi = NaiveDate::from_ymd_opt(MAX_YEAR, 12, 31).unwrap_or(NaiveDate::MAX);
        if first.0 < lo || last.0 > hi {
            return Err(bad(format!("days must lie in the supported years {MIN_YEAR}–{MAX_YEAR}")));
        }
        let mut starts: [Option<Vec<NaiveDate>>; 3] = [None, None, None];
        for (i, (grain, _)) in grains.iter().enumerate() {
            let list = starts[slot(*grain).unwrap_or(0)].get_or_insert_with(Vec::new);
            if !list.is_empty() {
                return Err(bad(format!("two columns for {grain}s")));
            }
            list.push(first.0);
            for pair in rows.windows(2) {
                let ((before, a), (day, b)) = (&pair[0], &pair[1]);
                if *day == *before {
                    return Err(bad(format!("{day} appears twice")));
                }
                if *day != *before + Duration::days(1) {
                    return Err(bad(format!("the days jump from {before} to {day}; a calendar table needs every day")));
                }
                if a[i] != b[i] {
                    list.push(*day);
                }
            }
        }
        let nested = |inner: usize, outer: usize| match (&starts[inner], &starts[outer]) {
            (Some(i), Some(o)) => o.iter().find(|d| i.binary_search(d).is_err()).copied(),
            _ => None,
        };
        for (inner, outer, what) in [(0, 1, "quarter"), (1, 2, "year"), (0, 2, "year")] {
            if let Some(day) = nested(inner, outer) {
                return Err(bad(format!("the {what} starting {day} does not start on a {} boundary", ["month", "quarter"][inner])));
            }
        }
        Ok(PeriodTable::new(name.to_string(), None, starts, last.0 + Duration::days(1)))
    }

    /// The calendar's name: a retail calendar as text, or the table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The first day covered and the first day after the covered days.
    pub fn coverage(&self) -> (NaiveDate, NaiveDate) {
        let first = self.starts.iter().flatten().filter_map(|s| s.first()).min().copied().unwrap_or(self.end);
        (first, self.end)
    }

    /// Whether the table defines periods of `grain`.
    pub fn defines(&self, grain: Grain) -> bool {
        slot(grain).is_some_and(|i| self.starts[i].is_some())
    }

    fn list(&self, grain: Grain) -> Option<&[NaiveDate]> {
        slot(grain).and_then(|i| self.starts[i].as_deref())
    }

    /// The first day of the period of `grain` holding `day` (clamped to the covered days), or
    /// `None` when the table does not define `grain`.
    pub fn floor(&self, day: NaiveDate, grain: Grain) -> Option<NaiveDate> {
        let list = self.list(grain)?;
        let at = list.partition_point(|s| *s <= day);
        Some(list[at.saturating_sub(1)])
    }

    /// The first day of the period `n` periods after the one starting on (or holding) `day`;
    /// past either end of the table, its first day or the day after its last.
    pub fn shift(&self, day: NaiveDate, grain: Grain, n: i64) -> Option<NaiveDate> {
        let list = self.list(grain)?;
        let at = list.partition_point(|s| *s <= day).saturating_sub(1) as i64;
        let to = at.saturating_add(n);
        Some(match usize::try_from(to) {
            Err(_) => list[0],
            Ok(i) => list.get(i).copied().unwrap_or(self.end),
        })
    }

    /// What the table is made of: its name, the retail calendar it was built from, the
    /// starts of months, quarters and years, and the day after its last.
    pub(crate) fn parts(&self) -> (&str, Option<RetailCalendar>, &[Option<Vec<NaiveDate>>; 3], NaiveDate) {
        (&self.name, self.retail, &self.starts, self.end)
    }

    /// A calendar table from the parts [`PeriodTable::parts`] gives.
    pub(crate) fn from_parts(name: String, starts: [Option<Vec<NaiveDate>>; 3], end: NaiveDate) -> PeriodTable {
        PeriodTable::new(name, None, starts, end)
    }

    /// A hash of the table's content (two tables with the same one are the same table).
    pub(crate) fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The period starts of `grain` as wall-clock days (the day after the last appended).
    pub(crate) fn days(&self, grain: Grain) -> Vec<NaiveDate> {
        self.list(grain).unwrap_or(&[]).iter().copied().chain([self.end]).collect()
    }
}

impl fmt::Debug for PeriodTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (first, end) = self.coverage();
        f.debug_struct("PeriodTable").field("name", &self.name).field("first", &first).field("end", &end).finish()
    }
}

impl PartialEq for PeriodTable {
    fn eq(&self, other: &PeriodTable) -> bool {
        self.fingerprint == other.fingerprint && self.name == other.name && self.end == other.end && self.starts == other.starts
    }
}

impl Eq for PeriodTable {}

impl Hash for PeriodTable {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.fingerprint.hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn nrf_years_and_months() {
        let nrf = RetailCalendar::NRF;
        // NRF fiscal 2023 began 29 January 2023 and had 53 weeks; fiscal 2024 began 4 February 2024.
        assert_eq!(nrf.year_end(2023), day("2023-01-28"));
        assert_eq!(nrf.year_end(2024), day("2024-02-03"));
        assert_eq!(nrf.year_end(2025), day("2025-02-01"));
        let table = nrf.table();
        assert!(Arc::ptr_eq(&table, &nrf.table()));
        assert_eq!(table.floor(day("2024-02-03"), Grain::Year), Some(day("2023-01-29")));
        assert_eq!(table.floor(day("2024-02-04"), Grain::Year), Some(day("2024-02-04")));
        // 4-5-4: February 4 weeks, March 5, April 4.
        assert_eq!(table.shift(day("2024-02-04"), Grain::Month, 1), Some(day("2024-03-03")));
        assert_eq!(table.shift(day("2024-02-04"), Grain::Month, 2), Some(day("2024-04-07")));
        assert_eq!(table.shift(day("2024-02-04"), Grain::Quarter, 1), Some(day("2024-05-05")));
        // The 53rd week of 2023 went to its last month (January 2024: 5 + 1 weeks).
        assert_eq!(table.floor(day("2024-02-03"), Grain::Month), Some(day("2023-12-31")));
        assert_eq!(table.shift(day("2023-12-31"), Grain::Month, -1), Some(day("2023-11-26")));
    }

    #[test]
    fn last_weekday_of_month() {
        let r: RetailCalendar = "4-4-5, last saturday of december".parse().unwrap();
        assert_eq!(r.year_end(2024), day("2024-12-28"));
        assert_eq!(r.week_start(), Weekday::Sun);
        assert_eq!(r.to_string().parse::<RetailCalendar>().unwrap(), r);
        assert_eq!(RetailCalendar::NRF.to_string().parse::<RetailCalendar>().unwrap(), RetailCalendar::NRF);
        for bad in ["", "4-4-4", "4-4-5 last funday of december", "4-4-5, last saturday of smarch", "4-4-5 saturday"] {
            assert!(matches!(bad.parse::<RetailCalendar>(), Err(QueryError::BadCalendar { .. })), "{bad}");
        }
    }
}
