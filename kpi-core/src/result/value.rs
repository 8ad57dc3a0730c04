//! One dimension value of a result row, typed as the column it came from.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::arrow::array::Array;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::common::ScalarValue;
use serde::{Serialize, Serializer};

/// A dimension value: what `orders.region` or `orders.customer.segment` holds in one group.
/// Values are equal when they are the same value of the same type (floats by their bits).
#[derive(Clone, Debug)]
pub enum DimensionValue {
    /// No value (the group of rows where the dimension is null).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A real number (including decimals).
    Float(f64),
    /// Text.
    Text(String),
    /// A calendar date.
    Date(NaiveDate),
    /// A point in time (wall-clock times are shown as if UTC).
    Time(DateTime<Utc>),
}

impl DimensionValue {
    /// The value at `row` of `array`.
    pub(crate) fn of(array: &dyn Array, row: usize) -> DimensionValue {
        if array.is_null(row) {
            return DimensionValue::Null;
        }
        match ScalarValue::try_from_array(array, row) {
            Ok(ScalarValue::Boolean(Some(b))) => DimensionValue::Bool(b),
            Ok(ScalarValue::Int8(Some(v))) => DimensionValue::Int(v.into()),
            Ok(ScalarValue::Int16(Some(v))) => DimensionValue::Int(v.into()),
            Ok(ScalarValue::Int32(Some(v))) => DimensionValue::Int(v.into()),
            Ok(ScalarValue::Int64(Some(v))) => DimensionValue::Int(v),
            Ok(ScalarValue::Float64(Some(v))) => DimensionValue::Float(v),
            Ok(ScalarValue::Decimal128(Some(v), _, scale)) => DimensionValue::Float(v as f64 / 10f64.powi(scale.into())),
            Ok(ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s))) => DimensionValue::Text(s),
            Ok(ScalarValue::Date32(Some(days))) => NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|d| d.checked_add_signed(chrono::Duration::days(days.into())))
                .map_or(DimensionValue::Null, DimensionValue::Date),
            Ok(ScalarValue::TimestampMicrosecond(Some(us), _)) => {
                DateTime::from_timestamp_micros(us).map_or(DimensionValue::Null, DimensionValue::Time)
            }
            _ => ArrayFormatter::try_new(array, &FormatOptions::default())
                .map(|f| DimensionValue::Text(f.value(row).to_string()))
                .unwrap_or(DimensionValue::Null),
        }
    }
}

// Groups are map keys (alert states per dimension group): floats compare by their bits, so a
// group equals itself and hashes consistently (NaN included).
impl PartialEq for DimensionValue {
    fn eq(&self, other: &Self) -> bool {
        use DimensionValue::*;
        match (self, other) {
            (Null, Null) => true,
            (Bool(a), Bool(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (Text(a), Text(b)) => a == b,
            (Date(a), Date(b)) => a == b,
            (Time(a), Time(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for DimensionValue {}

impl std::hash::Hash for DimensionValue {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            DimensionValue::Null => {}
            DimensionValue::Bool(b) => b.hash(state),
            DimensionValue::Int(i) => i.hash(state),
            DimensionValue::Float(f) => f.to_bits().hash(state),
            DimensionValue::Text(t) => t.hash(state),
            DimensionValue::Date(d) => d.hash(state),
            DimensionValue::Time(t) => t.hash(state),
        }
    }
}

impl fmt::Display for DimensionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DimensionValue::Null => f.write_str("(null)"),
            DimensionValue::Bool(b) => write!(f, "{b}"),
            DimensionValue::Int(v) => write!(f, "{v}"),
            DimensionValue::Float(v) => write!(f, "{v}"),
            DimensionValue::Text(s) => f.write_str(s),
            DimensionValue::Date(d) => write!(f, "{d}"),
            DimensionValue::Time(t) => f.write_str(&super::rfc3339(*t)),
        }
    }
}

/// As JSON: null, a boolean, a number, or a string (dates and times in ISO 8601).
impl Serialize for DimensionValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            DimensionValue::Null => s.serialize_none(),
            DimensionValue::Bool(b) => s.serialize_bool(*b),
            DimensionValue::Int(v) => s.serialize_i64(*v),
            DimensionValue::Float(v) => s.serialize_f64(*v),
            DimensionValue::Text(_) | DimensionValue::Date(_) | DimensionValue::Time(_) => s.collect_str(self),
        }
    }
}
