//! The formula language's own functions in DataFusion plans, as bytes: what a plan sent to
//! another process (a Ballista scheduler and its executors) carries so that the other side
//! rebuilds the same functions with the same parameters.
//!
//! The plans the lowering builds use DataFusion's functions and three of ours: the period of
//! a time in a calendar (`calendar_period`, `civil_period`), the period a calendar span before
//! another (`period_before`) and the aggregate `percentile_disc`. Each is parameterised (a
//! calendar with its zone, week start, fiscal year and table of periods; a grain; a shift), so
//! a name alone cannot rebuild it: a plan codec writes [`encode_scalar`]'s bytes beside the
//! name and [`decode_scalar`] reads them back. The bytes name the engine and DataFusion
//! versions that wrote them; a process of other versions refuses them with both named rather
//! than compute something else.
//!
//! ```
//! use kpi_formula::extensions::{decode_aggregate, encode_aggregate};
//! // Functions other than the engine's are left to the codec's usual path.
//! let sum = datafusion::functions_aggregate::sum::sum_udaf();
//! assert!(encode_aggregate(&sum).is_none());
//! assert!(decode_aggregate("percentile_disc", b"{}").is_err());
//! ```

use std::sync::Arc;

use chrono::{Datelike, Month, NaiveDate, Weekday};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::{AggregateUDF, ScalarUDF, Signature, Volatility};
use serde::{Deserialize, Serialize};

use super::offset::PeriodBefore;
use super::percentile_disc::{PercentileDisc, percentile_disc};
use super::table_periods::TablePeriod;
use crate::custom_calendar::{PeriodTable, RetailCalendar};
use crate::period::{Calendar, CalendarSpan, Grain};

/// The version of the engine whose plans these functions belong to.
pub const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The names the engine's functions have in plans.
pub const FUNCTION_NAMES: [&str; 4] = ["calendar_period", "civil_period", "period_before", "percentile_disc"];

/// What a function's bytes hold: who wrote them, and the function.
#[derive(Serialize, Deserialize)]
struct Payload {
    engine: String,
    datafusion: String,
    function: Function,
}

#[derive(Serialize, Deserialize)]
enum Function {
    Period { grain: String, shift: i64, civil: bool, calendar: CalendarWire, local: Vec<i64>, instants: Vec<i64> },
    PeriodBefore { span: String, grain: String, calendar: CalendarWire },
    PercentileDisc { fraction_bits: u64 },
}

#[derive(Serialize, Deserialize)]
struct CalendarWire {
    time_zone: String,
    /// Days from Monday.
    week_start: u8,
    /// 1 to 12.
    fiscal_year_start: u8,
    periods: Option<TableWire>,
}

#[derive(Serialize, Deserialize)]
enum TableWire {
    /// A retail calendar, by its rule (`4-5-4, saturday nearest the end of january`).
    Retail(String),
    /// A calendar table: days from the common era of each grain's starts, and of its end.
    Table { name: String, starts: [Option<Vec<i32>>; 3], end: i32 },
}

/// The bytes of `udf` when it is one of the engine's functions; `None` for any other.
pub fn encode_scalar(udf: &ScalarUDF) -> Option<Vec<u8>> {
    let inner = udf.inner();
    let function = if let Some(f) = inner.downcast_ref::<TablePeriod>() {
        Function::Period {
            grain: f.grain.as_str().to_string(),
            shift: f.shift,
            civil: f.civil,
            calendar: calendar_wire(&f.calendar),
            local: f.local.to_vec(),
            instants: f.instants.to_vec(),
        }
    } else if let Some(f) = inner.downcast_ref::<PeriodBefore>() {
        Function::PeriodBefore { span: f.span.to_string(), grain: f.grain.as_str().to_string(), calendar: calendar_wire(&f.calendar) }
    } else {
        return None;
    };
    Some(payload(function))
}

/// The bytes of `udaf` when it is one of the engine's aggregates; `None` for any other.
pub fn encode_aggregate(udaf: &AggregateUDF) -> Option<Vec<u8>> {
    let f = udaf.inner().downcast_ref::<PercentileDisc>()?;
    Some(payload(Function::PercentileDisc { fraction_bits: f.fraction }))
}

/// The engine's scalar function `name` rebuilt from [`encode_scalar`]'s bytes.
pub fn decode_scalar(name: &str, bytes: &[u8]) -> Result<Arc<ScalarUDF>> {
    let signature = Signature::any(1, Volatility::Immutable);
    match read(name, bytes)? {
        Function::Period { grain, shift, civil, calendar, local, instants } => {
            let udf = TablePeriod {
                signature,
                grain: grain_of(&grain)?,
                shift,
                calendar: calendar_of(calendar)?,
                civil,
                local: local.into(),
                instants: instants.into(),
            };
            Ok(Arc::new(ScalarUDF::from(udf)))
        }
        Function::PeriodBefore { span, grain, calendar } => {
            let span = CalendarSpan::parse(&span).map_err(|e| bad(name, &e))?;
            let udf = PeriodBefore { signature, span, grain: grain_of(&grain)?, calendar: calendar_of(calendar)? };
            Ok(Arc::new(ScalarUDF::from(udf)))
        }
        Function::PercentileDisc { .. } => Err(bad(name, "the bytes are of an aggregate")),
    }
}

/// The engine's aggregate `name` rebuilt from [`encode_aggregate`]'s bytes.
pub fn decode_aggregate(name: &str, bytes: &[u8]) -> Result<Arc<AggregateUDF>> {
    match read(name, bytes)? {
        Function::PercentileDisc { fraction_bits } => Ok(percentile_disc(f64::from_bits(fraction_bits))),
        _ => Err(bad(name, "the bytes are of a scalar function")),
    }
}

fn payload(function: Function) -> Vec<u8> {
    let payload = Payload { engine: ENGINE_VERSION.to_string(), datafusion: datafusion::DATAFUSION_VERSION.to_string(), function };
    // Plain data of strings and numbers: serializing it cannot fail.
    serde_json::to_vec(&payload).unwrap_or_default()
}

fn read(name: &str, bytes: &[u8]) -> Result<Function> {
    let payload: Payload = serde_json::from_slice(bytes).map_err(|e| bad(name, &e.to_string()))?;
    if payload.engine != ENGINE_VERSION || payload.datafusion != datafusion::DATAFUSION_VERSION {
        return Err(DataFusionError::Plan(format!(
            "the plan's function `{name}` was written by KPI Engine {} on DataFusion {}, and this process runs KPI Engine {ENGINE_VERSION} on DataFusion {}: run the kpi-scheduler and kpi-executor of the engine's version",
            payload.engine,
            payload.datafusion,
            datafusion::DATAFUSION_VERSION
        )));
    }
    Ok(payload.function)
}

fn bad(name: &str, message: &str) -> DataFusionError {
    DataFusionError::Plan(format!("the plan's function `{name}` cannot be read back: {message}"))
}

fn grain_of(text: &str) -> Result<Grain> {
    Grain::parse(text).map_err(|e| DataFusionError::Plan(e.to_string()))
}

fn calendar_wire(calendar: &Calendar) -> CalendarWire {
    let periods = calendar.periods.as_deref().map(|table| {
        let (name, retail, starts, end) = table.parts();
        match retail {
            Some(retail) => TableWire::Retail(retail.to_string()),
            None => TableWire::Table {
                name: name.to_string(),
                starts: starts.clone().map(|days| days.map(|d| d.iter().map(NaiveDate::num_days_from_ce).collect())),
                end: end.num_days_from_ce(),
            },
        }
    });
    CalendarWire {
        time_zone: calendar.time_zone.name().to_string(),
        week_start: calendar.week_start.num_days_from_monday() as u8,
        fiscal_year_start: calendar.fiscal_year_start.number_from_month() as u8,
        periods,
    }
}

fn calendar_of(wire: CalendarWire) -> Result<Calendar> {
    let plan_error = |e: String| DataFusionError::Plan(format!("a calendar in the plan cannot be read back: {e}"));
    let time_zone = Calendar::parse_time_zone(&wire.time_zone).map_err(|e| plan_error(e.to_string()))?;
    let week_start = Weekday::try_from(wire.week_start).map_err(|e| plan_error(e.to_string()))?;
    let fiscal_year_start = Month::try_from(wire.fiscal_year_start).map_err(|e| plan_error(e.to_string()))?;
    let day = |n: i32| NaiveDate::from_num_days_from_ce_opt(n).ok_or_else(|| plan_error(format!("day {n} is out of range")));
    let periods = match wire.periods {
        None => None,
        Some(TableWire::Retail(rule)) => Some(rule.parse::<RetailCalendar>().map_err(|e| plan_error(e.to_string()))?.table()),
        Some(TableWire::Table { name, starts, end }) => {
            let mut lists: [Option<Vec<NaiveDate>>; 3] = [None, None, None];
            for (slot, days) in lists.iter_mut().zip(starts) {
                *slot = days.map(|d| d.into_iter().map(day).collect::<Result<Vec<_>>>()).transpose()?;
            }
            Some(Arc::new(PeriodTable::from_parts(name, lists, day(end)?)))
        }
    };
    Ok(Calendar { time_zone, week_start, fiscal_year_start, periods })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::custom_calendar::RetailCalendar;

    fn round_trip(udf: &ScalarUDF) -> Arc<ScalarUDF> {
        let bytes = encode_scalar(udf).expect("an engine function");
        decode_scalar(udf.name(), &bytes).expect("read back")
    }

    #[test]
    fn periods_come_back_equal() {
        let expr = datafusion::prelude::col("t");
        let column = datafusion::arrow::datatypes::DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Microsecond, None);
        let calendars = [
            Calendar::new(chrono_tz::Europe::Berlin),
            Calendar::default().with_retail(RetailCalendar::NRF),
            Calendar { fiscal_year_start: Month::April, week_start: Weekday::Sun, ..Calendar::default() },
        ];
        for calendar in calendars {
            for expr in [
                super::super::table_periods::civil_period(expr.clone(), &column, Grain::Month, &calendar, (2023, 2025)),
                super::super::offset::period_before(expr.clone(), CalendarSpan { count: 1, unit: Grain::Month }, Grain::Day, &calendar),
            ] {
                let datafusion::prelude::Expr::ScalarFunction(f) = expr else { panic!("a function call") };
                assert!(*round_trip(&f.func) == *f.func, "{calendar:?}");
            }
        }
    }

    #[test]
    fn other_versions_are_refused_by_name() {
        let bytes = payload(Function::PercentileDisc { fraction_bits: 0.5f64.to_bits() });
        let text = String::from_utf8(bytes).unwrap().replace(ENGINE_VERSION, "0.0.0-other");
        let err = decode_aggregate("percentile_disc", text.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("KPI Engine 0.0.0-other") && err.contains("kpi-executor"), "{err}");
        assert!(decode_scalar("calendar_period", b"not json").is_err());
    }
}
