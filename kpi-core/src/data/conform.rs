//! Checking data against an object model, and the casts that make compatible data conform.
//!
//! Data from pandas, polars or Parquet writers rarely carries exactly the declared Arrow types:
//! nanosecond timestamps, `Int32` ids, string views, dictionary-encoded strings. Those are
//! accepted and cast to the declared type (widening, never narrowing a value's meaning, except
//! floats into decimal columns, rounded to their scale, as data frames hold money); anything
//! else is a [`EngineError::SchemaMismatch`] naming the column and both types.

use datafusion::arrow::datatypes::{DataType, Schema, TimeUnit};
use kpi_catalog::ObjectModel;
use kpi_formula::diagnostic::did_you_mean;

use crate::error::EngineError;

/// How one declared column is read from the data.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ColumnSource {
    /// The column's index in the data.
    pub(crate) index: usize,
    /// The declared type when the data's type differs and must be cast.
    pub(crate) cast_to: Option<DataType>,
}

/// For every column the object model declares, where it is in `found` and whether it needs a
/// cast; the first column that cannot conform is the error.
pub(crate) fn conform(model: &ObjectModel, found: &Schema) -> Result<Vec<ColumnSource>, EngineError> {
    let mut out = Vec::with_capacity(model.columns.len());
    for column in &model.columns {
        let expected = column.data_type.to_arrow();
        let Ok(index) = found.index_of(&column.name) else {
            let names = found.fields().iter().map(|f| f.name().as_str());
            return Err(EngineError::MissingColumn {
                object_model: model.code.clone(),
                column: column.name.clone(),
                expected: column.data_type.to_string(),
                suggestion: did_you_mean(&column.name, names).map(str::to_string),
                found: found.fields().iter().map(|f| f.name().clone()).collect(),
            });
        };
        let actual = found.field(index).data_type();
        let cast_to = if *actual == expected {
            None
        } else if let Err(help) = castable(actual, &expected) {
            return Err(EngineError::SchemaMismatch {
                object_model: model.code.clone(),
                column: column.name.clone(),
                expected: column.data_type.to_string(),
                found: actual.to_string(),
                help,
            });
        } else {
            Some(expected)
        };
        out.push(ColumnSource { index, cast_to });
    }
    Ok(out)
}

/// Whether `from` may stand for `to`: `Ok` when a cast keeps every value's meaning, otherwise
/// the help to give.
fn castable(from: &DataType, to: &DataType) -> Result<(), Option<String>> {
    use DataType::*;
    let ok = match (from, to) {
        (Null, _) => true,
        (Dictionary(_, value), _) if value.as_ref() == to => true,
        (Dictionary(_, value), _) => return castable(value, to),
        (Utf8View | LargeUtf8, Utf8) => true,
        (Int8 | Int16 | UInt8 | UInt16, Int32) => true,
        (Int8 | Int16 | Int32 | UInt8 | UInt16 | UInt32, Int64) => true,
        (Float16 | Float32 | Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64, Float64) => true,
        (Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | Decimal128(..) | Decimal256(..), Decimal128(..)) => true,
        // Money from pandas and polars arrives as floats; the cast rounds to the declared
        // scale (and fails, naming the column, on a value the precision cannot hold).
        (Float16 | Float32 | Float64, Decimal128(..)) => true,
        (Date64, Date32) => true,
        (Timestamp(_, None), Timestamp(TimeUnit::Microsecond, None)) => true,
        (Timestamp(_, Some(_)), Timestamp(TimeUnit::Microsecond, Some(_))) => true,
        (Timestamp(_, Some(tz)), Timestamp(_, None)) => {
            return Err(Some(format!(
                "the data holds instants (time zone {tz}) where the model declares wall-clock times; declare the column `timestamptz` or drop the zone from the data"
            )));
        }
        (Timestamp(_, None), Timestamp(_, Some(_))) => {
            return Err(Some(
                "the data holds wall-clock times without a zone where the model declares instants; attach the zone to the data or declare the column `timestamp`".into(),
            ));
        }
        (Int64 | UInt64, Int32) => {
            return Err(Some("values may not fit in 32 bits; declare the column `int64`".into()));
        }
        (Utf8 | Utf8View | LargeUtf8, _) => {
            return Err(Some("parse the text into the declared type before registering".into()));
        }
        _ => false,
    };
    if ok { Ok(()) } else { Err(None) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::Field;

    #[test]
    fn casts_widen_and_refuse_narrowing() {
        assert!(castable(&DataType::Timestamp(TimeUnit::Nanosecond, None), &DataType::Timestamp(TimeUnit::Microsecond, None)).is_ok());
        assert!(castable(&DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8)), &DataType::Utf8).is_ok());
        assert!(castable(&DataType::Int64, &DataType::Int32).is_err());
        assert!(castable(&DataType::Float64, &DataType::Int64).is_err());
        let zoned =
            castable(&DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), &DataType::Timestamp(TimeUnit::Microsecond, None));
        assert!(matches!(zoned, Err(Some(help)) if help.contains("timestamptz")));
    }

    #[test]
    fn missing_columns_get_a_suggestion() {
        let catalog = kpi_catalog::Catalog::standard();
        let model = catalog.object_model("orders").unwrap();
        let mut fields: Vec<Field> = model.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
        fields[0] = fields[0].clone().with_name(format!("{}s", fields[0].name()));
        let err = conform(model, &Schema::new(fields)).unwrap_err();
        assert!(matches!(&err, EngineError::MissingColumn { suggestion: Some(_), .. }), "{err}");
    }
}
