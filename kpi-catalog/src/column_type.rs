//! Column types of object models, written as short names in catalogs (`int64`, `decimal(18,2)`).

use std::fmt;
use std::str::FromStr;

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The type of an object-model column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnType {
    /// `bool`: true/false.
    Bool,
    /// `int32`.
    Int32,
    /// `int64`.
    Int64,
    /// `float64`.
    Float64,
    /// `decimal(p,s)`: exact decimal with precision `p` (1–38) and scale `s` (0–p).
    Decimal {
        /// Total digits.
        precision: u8,
        /// Digits after the point.
        scale: i8,
    },
    /// `string`: UTF-8 text.
    String,
    /// `date`: a calendar date (wall clock in the query's calendar).
    Date,
    /// `timestamp`: a wall-clock time without zone (read in the query's calendar zone), microseconds.
    Timestamp,
    /// `timestamptz`: an instant (UTC), microseconds.
    TimestampTz,
}

/// The names accepted for column types, for error messages.
pub const COLUMN_TYPE_NAMES: &str = "bool, int32, int64, float64, decimal(p,s), string, date, timestamp, timestamptz";

impl ColumnType {
    /// The Arrow type data of this column must have.
    pub fn to_arrow(self) -> DataType {
        match self {
            ColumnType::Bool => DataType::Boolean,
            ColumnType::Int32 => DataType::Int32,
            ColumnType::Int64 => DataType::Int64,
            ColumnType::Float64 => DataType::Float64,
            ColumnType::Decimal { precision, scale } => DataType::Decimal128(precision, scale),
            ColumnType::String => DataType::Utf8,
            ColumnType::Date => DataType::Date32,
            ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            ColumnType::TimestampTz => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        }
    }

    /// Whether the column holds points in time (usable as a time column).
    pub fn is_temporal(self) -> bool {
        matches!(self, ColumnType::Date | ColumnType::Timestamp | ColumnType::TimestampTz)
    }

    /// Whether the column holds numbers.
    pub fn is_numeric(self) -> bool {
        matches!(self, ColumnType::Int32 | ColumnType::Int64 | ColumnType::Float64 | ColumnType::Decimal { .. })
    }

    /// Whether values of the two types can be joined on (integers of any width match each other).
    pub fn joinable_with(self, other: ColumnType) -> bool {
        let family = |t: ColumnType| match t {
            ColumnType::Int32 | ColumnType::Int64 => 0,
            ColumnType::Timestamp | ColumnType::TimestampTz => 1,
            _ => 2,
        };
        self == other || (family(self) == family(other) && family(self) < 2)
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::Bool => f.write_str("bool"),
            ColumnType::Int32 => f.write_str("int32"),
            ColumnType::Int64 => f.write_str("int64"),
            ColumnType::Float64 => f.write_str("float64"),
            ColumnType::Decimal { precision, scale } => write!(f, "decimal({precision},{scale})"),
            ColumnType::String => f.write_str("string"),
            ColumnType::Date => f.write_str("date"),
            ColumnType::Timestamp => f.write_str("timestamp"),
            ColumnType::TimestampTz => f.write_str("timestamptz"),
        }
    }
}

/// A column type name that is not one of [`COLUMN_TYPE_NAMES`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown column type `{0}`; expected one of {COLUMN_TYPE_NAMES}")]
pub struct UnknownColumnType(pub String);

impl FromStr for ColumnType {
    type Err = UnknownColumnType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim().to_ascii_lowercase();
        let unknown = || UnknownColumnType(s.to_string());
        Ok(match name.as_str() {
            "bool" | "boolean" => ColumnType::Bool,
            "int32" | "int" | "integer" => ColumnType::Int32,
            "int64" | "bigint" | "long" => ColumnType::Int64,
            "float64" | "double" | "float" => ColumnType::Float64,
            "string" | "text" | "varchar" | "utf8" => ColumnType::String,
            "date" => ColumnType::Date,
            "timestamp" | "datetime" => ColumnType::Timestamp,
            "timestamptz" | "timestamp with time zone" => ColumnType::TimestampTz,
            other => {
                let args = other.strip_prefix("decimal").and_then(|r| r.trim().strip_prefix('(')?.strip_suffix(')')).ok_or_else(unknown)?;
                let (p, s) = args.split_once(',').ok_or_else(unknown)?;
                let precision: u8 = p.trim().parse().map_err(|_| unknown())?;
                let scale: i8 = s.trim().parse().map_err(|_| unknown())?;
                if !(1..=38).contains(&precision) || scale < 0 || scale as u8 > precision {
                    return Err(unknown());
                }
                ColumnType::Decimal { precision, scale }
            }
        })
    }
}

impl Serialize for ColumnType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ColumnType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in ["bool", "int32", "int64", "float64", "decimal(18,2)", "string", "date", "timestamp", "timestamptz"] {
            assert_eq!(name.parse::<ColumnType>().unwrap().to_string(), name);
        }
        assert_eq!("DECIMAL( 10 , 4 )".parse::<ColumnType>().unwrap(), ColumnType::Decimal { precision: 10, scale: 4 });
    }

    #[test]
    fn bad_names_are_refused() {
        for name in ["decimal(0,0)", "decimal(5,6)", "decimal(18)", "money", "decimal(a,b)"] {
            let err = name.parse::<ColumnType>().unwrap_err();
            assert!(err.to_string().contains(COLUMN_TYPE_NAMES), "{err}");
        }
    }
}
