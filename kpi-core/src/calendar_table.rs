//! Calendar tables named in query and settings documents: an object model of the catalog with
//! one row per day whose columns give each day's month, quarter and year.

use std::sync::Arc;

use kpi_formula::Grain;
use kpi_formula::custom_calendar::PeriodTable;
use serde::{Deserialize, Serialize};

use crate::engine::Engine;
use crate::error::EngineError;

/// Which registered object model is the calendar table and which of its columns hold the day
/// and the periods; each period column holds a label (`FY24-P01`), a number or the period's
/// first day, and a new period begins where the value changes. Grains left out keep the civil
/// calendar.
///
/// ```
/// use kpi_core::CalendarTableSpec;
/// let spec: CalendarTableSpec = serde_json::from_str(r#"{"table": "fiscal_calendar", "date": "day", "month": "period"}"#).unwrap();
/// assert_eq!(spec.month.as_deref(), Some("period"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarTableSpec {
    /// The object model whose registered rows are the days.
    pub table: String,
    /// Its date (or timestamp) column.
    pub date: String,
    /// The column naming each day's month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    /// The column naming each day's quarter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarter: Option<String>,
    /// The column naming each day's year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<String>,
}

impl CalendarTableSpec {
    /// The periods of the table as registered in `engine` (its rows must be in memory).
    pub fn period_table(&self, engine: &Engine) -> Result<Arc<PeriodTable>, EngineError> {
        let invalid = |message: String| EngineError::InvalidOption { option: "calendar_table", message };
        let batches = engine.batches(&self.table).ok_or_else(|| {
            let known = engine.catalog().object_model(&self.table).is_ok();
            invalid(if known {
                format!(
                    "object model `{}` has no rows in memory; register its days with register_batches (or from Python and Node)",
                    self.table
                )
            } else {
                format!("unknown object model `{}`; name the catalog's calendar table", self.table)
            })
        })?;
        let grains: Vec<(Grain, &str)> = [(Grain::Month, &self.month), (Grain::Quarter, &self.quarter), (Grain::Year, &self.year)]
            .into_iter()
            .filter_map(|(g, c)| c.as_deref().map(|c| (g, c)))
            .collect();
        PeriodTable::from_batches(&self.table, &batches, &self.date, &grains)
            .map(Arc::new)
            .map_err(|e| kpi_formula::FormulaError::from(e).into())
    }
}

impl std::str::FromStr for CalendarTableSpec {
    type Err = EngineError;

    /// The command line's form: `table(date_column, month=column, quarter=column, year=column)`,
    /// e.g. `fiscal_calendar(day, month=period)`.
    fn from_str(text: &str) -> Result<CalendarTableSpec, EngineError> {
        let invalid = |message: &str| EngineError::InvalidOption {
            option: "calendar_table",
            message: format!("`{text}`: {message}; write `table(date_column, month=column, quarter=column, year=column)`"),
        };
        let (table, rest) = text.trim().split_once('(').ok_or_else(|| invalid("no column list"))?;
        let inner = rest.strip_suffix(')').ok_or_else(|| invalid("no closing parenthesis"))?;
        let mut parts = inner.split(',').map(str::trim);
        let date = parts.next().filter(|d| !d.is_empty() && !d.contains('=')).ok_or_else(|| invalid("no date column first"))?;
        let mut spec = CalendarTableSpec { table: table.trim().to_string(), date: date.to_string(), ..Default::default() };
        for part in parts {
            let (grain, column) =
                part.split_once('=').map(|(g, c)| (g.trim(), c.trim())).ok_or_else(|| invalid("a grain without a column"))?;
            let slot = match grain {
                "month" => &mut spec.month,
                "quarter" => &mut spec.quarter,
                "year" => &mut spec.year,
                _ => return Err(invalid(&format!("unknown grain `{grain}`"))),
            };
            *slot = Some(column.to_string());
        }
        if spec.table.is_empty() {
            return Err(invalid("no table"));
        }
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_form_reads_into_the_document() {
        let spec: CalendarTableSpec = "fiscal_calendar(day, month=period, year = half)".parse().unwrap();
        assert_eq!((spec.table.as_str(), spec.date.as_str()), ("fiscal_calendar", "day"));
        assert_eq!((spec.month.as_deref(), spec.quarter.as_deref(), spec.year.as_deref()), (Some("period"), None, Some("half")));
        for bad in ["fiscal_calendar", "c(day", "c(month=p)", "c(day, week=w)", "c(day, month)", "(day)"] {
            let err = bad.parse::<CalendarTableSpec>().unwrap_err();
            assert_eq!(err.code(), "KPI_OPTION", "{bad}");
        }
    }
}
