//! Typed value pools of `choice` demo hints, shared by validation and generation.

use std::sync::Arc;

use crate::column_type::ColumnType;

/// A value pool for `choice`, typed for the column.
pub(crate) enum Pool {
    F64(Vec<f64>),
    Bool(Vec<bool>),
    Time(Vec<i64>),
    Text(Arc<[String]>),
}

/// Parses `choice` values as the column's type; the error names the value that does not fit.
pub(crate) fn pool(values: &[String], ty: ColumnType) -> Result<Pool, String> {
    let bad = |v: &str| format!("choice value `{v}` is not a {ty}");
    Ok(match ty {
        ColumnType::String => Pool::Text(values.to_vec().into()),
        ColumnType::Bool => Pool::Bool(values.iter().map(|v| v.parse::<bool>().map_err(|_| bad(v))).collect::<Result<_, _>>()?),
        t if t.is_temporal() => Pool::Time(values.iter().map(|v| parse_time(v).ok_or_else(|| bad(v))).collect::<Result<_, _>>()?),
        _ => Pool::F64(values.iter().map(|v| v.trim().parse::<f64>().map_err(|_| bad(v))).collect::<Result<_, _>>()?),
    })
}

/// `YYYY-MM-DD` or `YYYY-MM-DD HH:MM[:SS]` (or with `T`) as wall-clock microseconds.
pub(crate) fn parse_time(text: &str) -> Option<i64> {
    use chrono::{NaiveDate, NaiveDateTime};
    let t = text.trim();
    let dt = NaiveDate::parse_from_str(t, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).or_else(|| {
        ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
    })?;
    Some(dt.and_utc().timestamp_micros())
}
