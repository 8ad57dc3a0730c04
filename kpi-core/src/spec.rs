//! The query document: one serde shape of a query that Rust, Python keyword arguments, Node
//! objects and the dashboard server's request bodies all map onto, checked by one set of rules.

use std::collections::BTreeMap;

use kpi_formula::custom_calendar::RetailCalendar;
use kpi_formula::{Calendar, EmptyPeriods, Grain, Query, SecurityContext, TimeRange};
use serde::{Deserialize, Serialize};

use crate::error::EngineError;
use crate::option_value::TimeSetting;
use crate::options::CalculateOptions;
use crate::stream::Refresh;

/// A query as a document: what to calculate and how, with every value as text or numbers.
///
/// Unknown fields are refused, so a misspelt option never goes unnoticed. Turn it into a
/// [`Query`] with [`Engine::query`](crate::Engine::query) (which supplies the engine's
/// calendar), or calculate it directly with [`Engine::calculate_spec`](crate::Engine::calculate_spec).
///
/// ```
/// use kpi_core::QuerySpec;
/// let spec = QuerySpec::from_json(r#"{
///     "kpi": "revenue", "grain": "month", "by": ["orders.region"],
///     "start": "2024-01-01", "end": "2025-01-01", "where": "orders.channel = 'web'",
///     "security": { "orders": "orders.region = 'north'" }, "timezone": "Europe/Berlin"
/// }"#)?;
/// let query = spec.to_query(&Default::default())?;
/// assert_eq!(query.calendar.time_zone.name(), "Europe/Berlin");
/// assert_eq!(query.security.filters["orders"], "orders.region = 'north'");
///
/// let typo = QuerySpec::from_json(r#"{ "kpi": "revenue", "grian": "month" }"#).unwrap_err();
/// assert_eq!(typo.code(), "KPI_QUERY");
/// assert!(typo.to_string().contains("unknown field `grian`"));
/// # Ok::<(), kpi_core::EngineError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuerySpec {
    /// A KPI code of the catalog (give this or `formula`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kpi: Option<String>,
    /// An ad-hoc formula (give this or `kpi`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    /// `minute`, `hour`, `day`, `week`, `month`, `quarter` or `year`; none for one value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grain: Option<String>,
    /// Dimension paths such as `orders.region` or `orders.customer.segment`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by: Vec<String>,
    /// The range's start (a date, a local date-time in the query's zone, or RFC 3339), with `end`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// The range's end, exclusive, with `start`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<String>,
    /// A row filter in the formula language, applied to every table the formula aggregates.
    #[serde(rename = "where", default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// Row-level security: a filter per object model that every scan of it carries.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub security: BTreeMap<String, String>,
    /// The IANA time zone of the periods; the engine's by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// The first day of a week (`monday`, `sunday`, ...); the engine's by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub week_start: Option<String>,
    /// The first month of the (fiscal) year and its quarters (`april`, `apr` or `4`); the
    /// engine's by default (January).
    #[serde(default, deserialize_with = "month_text", skip_serializing_if = "Option::is_none")]
    pub fiscal_year_start: Option<String>,
    /// A retail calendar of whole weeks for months, quarters and years: `nrf`, `4-4-5`,
    /// `4-5-4, last saturday of january`, `5-4-4, saturday nearest the end of december`, or
    /// `none` for the civil calendar; the engine's by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retail_calendar: Option<String>,
    /// A calendar table whose columns give each day's month, quarter and year; the engine's
    /// by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_table: Option<crate::CalendarTableSpec>,
    /// `include` (default: every period of the range appears) or `omit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_periods: Option<String>,
    /// For subscriptions: `change` (default), `minute`, `hour`, `day`, or an interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<TimeSetting>,
    /// This calculation's timeout, instead of the engine's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<TimeSetting>,
    /// Calculate afresh instead of answering from the cache (the new result is cached).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bypass_cache: bool,
    /// Read only active data, leaving out rows retention archived.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub active_only: bool,
}

fn invalid(message: impl Into<String>) -> EngineError {
    EngineError::InvalidDocument { document: "query", message: message.into() }
}

impl QuerySpec {
    /// A query document of the KPI `code`.
    pub fn kpi(code: impl Into<String>) -> Self {
        QuerySpec { kpi: Some(code.into()), ..Default::default() }
    }

    /// A query document of an ad-hoc formula.
    pub fn formula(text: impl Into<String>) -> Self {
        QuerySpec { formula: Some(text.into()), ..Default::default() }
    }

    /// Reads a query document from JSON text.
    pub fn from_json(text: &str) -> Result<QuerySpec, EngineError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
        QuerySpec::from_value(value)
    }

    /// Reads a query document from a JSON value (an object).
    pub fn from_value(value: serde_json::Value) -> Result<QuerySpec, EngineError> {
        if !value.is_object() {
            return Err(invalid(format!("expected an object with `kpi` or `formula`, got {}", json_type(&value))));
        }
        serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
    }

    /// The calendar: `default` with this document's time zone, week start, fiscal year start
    /// and retail calendar (a calendar table needs the engine's data: [`Engine::query`](crate::Engine::query)).
    pub fn calendar(&self, default: &Calendar) -> Result<Calendar, EngineError> {
        calendar(default, &CalendarText::of_query(self))
    }

    /// The query, with `default` as the calendar where the document sets none.
    pub fn to_query(&self, default: &Calendar) -> Result<Query, EngineError> {
        let mut query = match (&self.kpi, &self.formula) {
            (Some(kpi), None) => Query::kpi(kpi.clone()),
            (None, Some(formula)) => Query::formula(formula.clone()),
            (Some(_), Some(_)) => return Err(invalid("give either `kpi` or `formula`, not both")),
            (None, None) => return Err(invalid("give `kpi` (a KPI code) or `formula` (a formula)")),
        };
        let calendar = self.calendar(default)?;
        query = query.with_calendar(calendar.clone());
        if let Some(grain) = &self.grain {
            query = query.with_grain(Grain::parse(grain).map_err(kpi_formula::FormulaError::from)?);
        }
        if !self.by.is_empty() {
            query = query.by(self.by.iter().cloned());
        }
        match (&self.start, &self.end) {
            (Some(start), Some(end)) => {
                query = query.with_range(TimeRange::parse(start, end, &calendar).map_err(kpi_formula::FormulaError::from)?);
            }
            (None, None) => {}
            _ => return Err(invalid("give both `start` and `end`, or neither")),
        }
        if let Some(filter) = &self.filter {
            query = query.with_filter(filter.clone());
        }
        if !self.security.is_empty() {
            query = query.with_security(SecurityContext { filters: self.security.clone() });
        }
        if let Some(empty) = &self.empty_periods {
            query = query.with_empty_periods(match empty.as_str() {
                "include" => EmptyPeriods::Include,
                "omit" => EmptyPeriods::Omit,
                other => {
                    return Err(EngineError::InvalidOption {
                        option: "empty_periods",
                        message: format!("unknown value `{other}`; use include or omit"),
                    });
                }
            });
        }
        // Options are checked with the query, so a bad one fails before anything runs.
        self.calculate_options()?;
        self.refresh()?;
        Ok(query)
    }

    /// The per-calculation options: timeout, cache bypass, active data only.
    pub fn calculate_options(&self) -> Result<CalculateOptions, EngineError> {
        let mut options = CalculateOptions::default();
        if let Some(t) = &self.timeout {
            options = options.with_timeout(t.duration("timeout")?);
        }
        if self.bypass_cache {
            options = options.bypassing_cache();
        }
        if self.active_only {
            options = options.active_only();
        }
        Ok(options)
    }

    /// The refresh of a subscription: the document's, or [`Refresh::OnChange`].
    pub fn refresh(&self) -> Result<Refresh, EngineError> {
        self.refresh.as_ref().map_or(Ok(Refresh::OnChange), TimeSetting::refresh)
    }
}

impl From<&Query> for QuerySpec {
    /// The document of a query: times in RFC 3339, the calendar always spelt out.
    fn from(query: &Query) -> QuerySpec {
        let (kpi, formula) = match &query.target {
            kpi_formula::Target::Kpi(code) => (Some(code.clone()), None),
            kpi_formula::Target::Formula(text) => (None, Some(text.clone())),
        };
        let rfc3339 = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        QuerySpec {
            kpi,
            formula,
            grain: query.grain.map(|g| g.as_str().to_string()),
            by: query.dimensions.clone(),
            start: query.range.map(|r| rfc3339(r.start)),
            end: query.range.map(|r| rfc3339(r.end)),
            filter: query.filter.clone(),
            security: query.security.filters.clone(),
            timezone: Some(query.calendar.time_zone.name().to_string()),
            week_start: Some(weekday_name(query.calendar.week_start).to_string()),
            fiscal_year_start: Some(query.calendar.fiscal_year_start.name().to_lowercase()),
            retail_calendar: query.calendar.periods.as_ref().and_then(|t| t.retail()).map(|r| r.to_string()),
            empty_periods: Some(match query.empty_periods {
                EmptyPeriods::Include => "include".to_string(),
                EmptyPeriods::Omit => "omit".to_string(),
            }),
            ..Default::default()
        }
    }
}

fn weekday_name(day: chrono::Weekday) -> &'static str {
    use chrono::Weekday::*;
    match day {
        Mon => "monday",
        Tue => "tuesday",
        Wed => "wednesday",
        Thu => "thursday",
        Fri => "friday",
        Sat => "saturday",
        Sun => "sunday",
    }
}

impl crate::Engine {
    /// The query of a document, with the engine's calendar where the document sets none.
    pub fn query(&self, spec: &QuerySpec) -> Result<Query, EngineError> {
        let mut query = spec.to_query(&self.options().calendar)?;
        if let Some(table) = spec.calendar_table.as_ref().or(self.options().calendar_table.as_ref()) {
            query.calendar = query.calendar.with_period_table(table.period_table(self)?);
        }
        Ok(query)
    }

    /// Calculates a query document, with its own timeout and cache bypass where it sets them.
    pub async fn calculate_spec(&self, spec: &QuerySpec) -> Result<crate::KpiResult, EngineError> {
        let query = self.query(spec)?;
        self.calculate_with(&query, &spec.calculate_options()?).await
    }

    /// Compares a query document's value over `current` (start and end text, read in the
    /// document's calendar) with a baseline, per dimension group: the range just before (as many
    /// months for whole months, else the same length), the same range a year earlier, or
    /// another range.
    pub async fn compare_spec(
        &self,
        spec: &QuerySpec,
        current: (&str, &str),
        previous: Baseline<'_>,
    ) -> Result<crate::Comparison, EngineError> {
        let query = self.query(spec)?;
        let calendar = &query.calendar;
        let read = |(start, end): (&str, &str)| TimeRange::parse(start, end, calendar).map_err(kpi_formula::FormulaError::from);
        let now = read(current)?;
        let before = match previous {
            Baseline::Range(start, end) => read((start, end))?,
            Baseline::PreviousPeriod => match whole_months(calendar, now) {
                // Whole months (a quarter, a year) compare with as many months before.
                Some(months) => TimeRange::new(calendar.add_periods(now.start, kpi_formula::Grain::Month, -months), now.start)
                    .map_err(kpi_formula::FormulaError::from)?,
                None => {
                    let start = now
                        .start
                        .checked_sub_signed(now.end - now.start)
                        .ok_or_else(|| invalid("the range before `current` starts before any time the engine can represent"))?;
                    TimeRange::new(start, now.start).map_err(kpi_formula::FormulaError::from)?
                }
            },
            Baseline::LastYear => {
                let year = kpi_formula::CalendarSpan::parse("1 year").map_err(invalid)?;
                TimeRange::new(calendar.before(now.start, year), calendar.before(now.end, year)).map_err(kpi_formula::FormulaError::from)?
            }
        };
        self.compare(&query, now, before).await
    }

    /// Subscribes to a query document at its refresh ([`Refresh::OnChange`] by default).
    pub async fn subscribe_spec(&self, spec: &QuerySpec) -> Result<crate::Subscription, EngineError> {
        let query = self.query(spec)?;
        self.subscribe(&query, spec.refresh()?).await
    }
}

/// How many months `range` spans when it starts and ends at month starts of `calendar`.
fn whole_months(calendar: &kpi_formula::Calendar, range: TimeRange) -> Option<i64> {
    use kpi_formula::Grain;
    let at_start = |t| calendar.period_start(t, Grain::Month) == t;
    if !(at_start(range.start) && at_start(range.end)) {
        return None;
    }
    let (a, b) = (calendar.to_local(range.start), calendar.to_local(range.end));
    use chrono::Datelike;
    Some((i64::from(b.year()) - i64::from(a.year())) * 12 + i64::from(b.month()) - i64::from(a.month()))
}

/// What a comparison compares its current range with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Baseline<'a> {
    /// The range just before: as many months when the current range is whole months, else the
    /// same length (period over period).
    PreviousPeriod,
    /// The same range a year earlier on the calendar's wall clock.
    LastYear,
    /// Another range: start and end text.
    Range(&'a str, &'a str),
}

impl<'a> Baseline<'a> {
    /// The baseline named `previous_period` or `last_year`.
    ///
    /// ```
    /// use kpi_core::Baseline;
    /// assert_eq!(Baseline::parse("last_year")?, Baseline::LastYear);
    /// assert_eq!(Baseline::parse("yesterday").unwrap_err().code(), "KPI_QUERY");
    /// # Ok::<(), kpi_core::EngineError>(())
    /// ```
    pub fn parse(name: &str) -> Result<Baseline<'a>, EngineError> {
        match name {
            "previous_period" => Ok(Baseline::PreviousPeriod),
            "last_year" => Ok(Baseline::LastYear),
            other => Err(invalid(format!("`{other}` is not a baseline: use previous_period, last_year, or a [start, end] range"))),
        }
    }
}

/// The calendar fields of a query or settings document, as written.
#[derive(Default)]
pub(crate) struct CalendarText<'a> {
    pub(crate) timezone: Option<&'a str>,
    pub(crate) week_start: Option<&'a str>,
    pub(crate) fiscal_year_start: Option<&'a str>,
    pub(crate) retail_calendar: Option<&'a str>,
}

impl<'a> CalendarText<'a> {
    fn of_query(spec: &'a QuerySpec) -> Self {
        CalendarText {
            timezone: spec.timezone.as_deref(),
            week_start: spec.week_start.as_deref(),
            fiscal_year_start: spec.fiscal_year_start.as_deref(),
            retail_calendar: spec.retail_calendar.as_deref(),
        }
    }
}

/// `default` with a time zone, week start, fiscal year start and retail calendar as
/// documents write them.
pub(crate) fn calendar(default: &Calendar, text: &CalendarText<'_>) -> Result<Calendar, EngineError> {
    let mut calendar = default.clone();
    if let Some(zone) = text.timezone {
        calendar.time_zone = Calendar::parse_time_zone(zone).map_err(kpi_formula::FormulaError::from)?;
    }
    let retail = match text.retail_calendar.map(str::trim) {
        Some("none") => {
            calendar.periods = None;
            None
        }
        Some(retail) => {
            let retail: RetailCalendar = retail.parse().map_err(kpi_formula::FormulaError::from)?;
            calendar = calendar.with_retail(retail);
            Some(retail)
        }
        None => calendar.periods.as_ref().and_then(|t| t.retail()),
    };
    if let Some(day) = text.week_start {
        let day: chrono::Weekday = day.trim().parse().map_err(|_| EngineError::InvalidOption {
            option: "week_start",
            message: format!("unknown day `{day}`; use monday, tuesday, ..., sunday"),
        })?;
        if let Some(r) = retail.filter(|r| r.week_start() != day) {
            return Err(EngineError::InvalidOption {
                option: "week_start",
                message: format!(
                    "the retail calendar `{r}` has weeks starting on {}, the day after its years end; leave out week_start",
                    weekday_name(r.week_start())
                ),
            });
        }
        calendar.week_start = day;
    }
    if let Some(month) = text.fiscal_year_start {
        let month = Calendar::parse_month(month).map_err(kpi_formula::FormulaError::from)?;
        if let Some(r) = retail.filter(|_| month != chrono::Month::January) {
            return Err(EngineError::InvalidOption {
                option: "fiscal_year_start",
                message: format!("the retail calendar `{r}` sets where its years start; leave out fiscal_year_start"),
            });
        }
        calendar.fiscal_year_start = month;
    }
    Ok(calendar)
}

/// A month as documents write it: a name, or its number (`4`) as JSON numbers come from
/// Python and Node; kept as text for [`Calendar::parse_month`].
pub(crate) fn month_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Month {
        Number(u64),
        Name(String),
    }
    Ok(Option::<Month>::deserialize(deserializer)?.map(|m| match m {
        Month::Number(n) => n.to_string(),
        Month::Name(name) => name,
    }))
}

/// A settings `document` (engine, feed or forecast settings) from a JSON value: an object, or
/// `null` for the defaults.
pub(crate) fn settings_document<T: serde::de::DeserializeOwned + Default>(
    document: &'static str,
    value: serde_json::Value,
) -> Result<T, EngineError> {
    let invalid = |message: String| EngineError::InvalidDocument { document, message };
    match value {
        serde_json::Value::Null => Ok(T::default()),
        serde_json::Value::Object(_) => serde_json::from_value(value).map_err(|e| invalid(e.to_string())),
        other => Err(invalid(format!("expected an object, got {}", json_type(&other)))),
    }
}

/// [`settings_document`] from JSON text.
pub(crate) fn settings_text<T: serde::de::DeserializeOwned + Default>(document: &'static str, text: &str) -> Result<T, EngineError> {
    let value = serde_json::from_str(text).map_err(|e| EngineError::InvalidDocument { document, message: format!("not JSON: {e}") })?;
    settings_document(document, value)
}

/// A document with a `name` (an alert rule, notifier or report) from JSON text; `refuse`
/// makes the error of the document named so (`?` before a name is known).
pub(crate) fn named_text<T: serde::de::DeserializeOwned>(text: &str, refuse: fn(&str, String) -> EngineError) -> Result<T, EngineError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| refuse("?", format!("not JSON: {e}")))?;
    named_value(value, refuse)
}

/// A document with a `name` from a JSON value, which must be an object.
pub(crate) fn named_value<T: serde::de::DeserializeOwned>(
    value: serde_json::Value,
    refuse: fn(&str, String) -> EngineError,
) -> Result<T, EngineError> {
    let name = value.get("name").and_then(|n| n.as_str()).unwrap_or("?").to_string();
    if !value.is_object() {
        return Err(refuse(&name, format!("expected an object, got {}", json_type(&value))));
    }
    serde_json::from_value(value).map_err(|e| refuse(&name, e.to_string()))
}

pub(crate) fn json_type(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> EngineError {
        QuerySpec::from_json(json).and_then(|s| s.to_query(&Calendar::default())).unwrap_err()
    }

    #[test]
    fn bad_documents_are_query_errors_naming_the_field() {
        let cases = [
            (r#"{"kpi": "revenue", "by": 3}"#, "invalid type: integer `3`, expected a sequence"),
            (r#"{"kpi": "revenue", "colour": "red"}"#, "unknown field `colour`"),
            (r#"{"grain": "month"}"#, "give `kpi`"),
            (r#"{"kpi": "a", "formula": "count(orders)"}"#, "not both"),
            (r#"{"kpi": "a", "start": "2024-01-01"}"#, "both `start` and `end`"),
            (r#"[1, 2]"#, "got an array"),
        ];
        for (json, expected) in cases {
            let e = err(json);
            assert_eq!(e.code(), "KPI_QUERY", "{json}: {e}");
            assert!(e.to_string().contains(expected), "{json}: {e}");
        }
    }

    #[test]
    fn bad_options_are_option_errors() {
        for json in [
            r#"{"kpi": "a", "timeout": 0}"#,
            r#"{"kpi": "a", "timeout": -3}"#,
            r#"{"kpi": "a", "refresh": "weekly"}"#,
            r#"{"kpi": "a", "week_start": "someday"}"#,
            r#"{"kpi": "a", "empty_periods": "skip"}"#,
        ] {
            assert_eq!(err(json).code(), "KPI_OPTION", "{json}");
        }
        assert_eq!(err(r#"{"kpi": "a", "grain": "fortnight"}"#).code(), "KPI_QUERY");
        assert_eq!(err(r#"{"kpi": "a", "timezone": "Mars/Olympus"}"#).code(), "KPI_QUERY");
        assert_eq!(err(r#"{"kpi": "a", "fiscal_year_start": "smarch"}"#).code(), "KPI_QUERY");
        assert_eq!(err(r#"{"kpi": "a", "fiscal_year_start": 13}"#).code(), "KPI_QUERY");
        assert_eq!(err(r#"{"kpi": "a", "fiscal_year_start": [4]}"#).code(), "KPI_QUERY");
        assert_eq!(err(r#"{"kpi": "a", "retail_calendar": "4-4-4"}"#).code(), "KPI_QUERY");
        assert_eq!(err(r#"{"kpi": "a", "retail_calendar": "nrf", "week_start": "monday"}"#).code(), "KPI_OPTION");
        assert_eq!(err(r#"{"kpi": "a", "retail_calendar": "nrf", "fiscal_year_start": "april"}"#).code(), "KPI_OPTION");
        assert_eq!(err(r#"{"kpi": "a", "calendar_table": {"table": "c"}}"#).code(), "KPI_QUERY");
    }

    #[test]
    fn a_retail_calendar_round_trips_and_none_turns_it_off() {
        let spec = QuerySpec::from_json(r#"{"kpi": "a", "grain": "month", "retail_calendar": "NRF", "week_start": "sunday"}"#).unwrap();
        let q = spec.to_query(&Calendar::default()).unwrap();
        assert_eq!(q.calendar.periods.as_ref().and_then(|t| t.retail()), Some(RetailCalendar::NRF));
        assert_eq!(QuerySpec::from(&q).to_query(&Calendar::default()).unwrap(), q);
        let civil = QuerySpec { retail_calendar: Some("none".into()), ..QuerySpec::kpi("a") };
        assert_eq!(civil.to_query(&q.calendar).unwrap().calendar.periods, None);
    }

    #[test]
    fn a_document_maps_field_by_field() {
        let spec = QuerySpec::from_json(
            r#"{"formula": "count(orders)", "grain": "week", "week_start": "sunday", "empty_periods": "omit", "timeout": "2s", "bypass_cache": true}"#,
        )
        .unwrap();
        let q = spec.to_query(&Calendar::default()).unwrap();
        assert_eq!(q.target, kpi_formula::Target::Formula("count(orders)".into()));
        assert_eq!(q.calendar.week_start, chrono::Weekday::Sun);
        assert_eq!(q.empty_periods, EmptyPeriods::Omit);
        let options = spec.calculate_options().unwrap();
        assert_eq!(options.timeout, Some(std::time::Duration::from_secs(2)));
        assert!(options.bypass_cache);
        // A round trip keeps the document, and a query's document gives the same query.
        assert_eq!(QuerySpec::from_value(serde_json::to_value(&spec).unwrap()).unwrap(), spec);
        let ranged = QuerySpec {
            start: Some("2024-01-01".into()),
            end: Some("2024-02-01T12:00:00".into()),
            timezone: Some("Europe/Berlin".into()),
            fiscal_year_start: Some("Apr".into()),
            ..spec
        };
        let q = ranged.to_query(&Calendar::default()).unwrap();
        assert_eq!(q.calendar.fiscal_year_start, chrono::Month::April);
        assert_eq!(QuerySpec::from(&q).to_query(&Calendar::default()).unwrap(), q);
    }
}
