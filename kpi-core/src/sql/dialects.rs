//! The unparser dialects the engine writes with: DataFusion's own, with periods (`date_trunc`)
//! and timestamp literals written the way each database reads them, so that the series of
//! periods and the buckets of the data compare equal there.

use std::sync::Arc;

use datafusion::arrow::array::timezone::Tz;
use datafusion::arrow::datatypes::TimeUnit;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Expr;
use datafusion::prelude::lit;
use datafusion::sql::sqlparser::ast;
use datafusion::sql::sqlparser::ast::{BinaryOperator, WindowFrameBound};
use datafusion::sql::sqlparser::dialect as parse_dialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::unparser::Unparser;
use datafusion::sql::unparser::dialect::{
    BigQueryDialect, CharacterLengthStyle, DateFieldExtractStyle, Dialect, DistinctFromStyle, DuckDBDialect, IntervalStyle, MySqlDialect,
    PostgreSqlDialect, SqliteDialect,
};

use super::SqlDialect;

/// How a dialect writes `date_trunc(unit, time)`.
#[derive(Clone, Copy)]
enum Periods {
    /// `date_trunc` as DataFusion writes it (PostgreSQL, DuckDB).
    Native,
    /// `time_bucket(width, time)`: TimescaleDB's bucketing, which its continuous aggregates and
    /// chunk exclusion understand.
    TimeBucket,
    /// `DATE_FORMAT`/`MAKEDATE` arithmetic cast to `DATETIME` (MySQL, MariaDB).
    MySql,
    /// `datetime(time, 'start of ...')` over `YYYY-MM-DD HH:MM:SS` text (SQLite).
    Sqlite,
    /// `TIMESTAMP_TRUNC(time, UNIT)` (BigQuery).
    BigQuery,
}

/// DataFusion's dialect for a database, with the engine's overrides.
pub(super) struct EngineDialect {
    base: Box<dyn Dialect>,
    periods: Periods,
}

impl EngineDialect {
    pub(super) fn new(dialect: SqlDialect) -> EngineDialect {
        let (base, periods): (Box<dyn Dialect>, Periods) = match dialect {
            SqlDialect::Postgres => (Box::new(PostgreSqlDialect {}), Periods::Native),
            SqlDialect::Timescale => (Box::new(PostgreSqlDialect {}), Periods::TimeBucket),
            SqlDialect::MySql => (Box::new(MySqlDialect {}), Periods::MySql),
            SqlDialect::Sqlite => (Box::new(SqliteDialect {}), Periods::Sqlite),
            SqlDialect::DuckDb => (Box::new(DuckDBDialect::new()), Periods::Native),
            SqlDialect::BigQuery => (Box::new(BigQueryDialect {}), Periods::BigQuery),
        };
        EngineDialect { base, periods }
    }

    /// `date_trunc(unit, time)` in this dialect, when it is not DataFusion's.
    fn period(&self, unparser: &Unparser, unit: &str, time: &Expr) -> datafusion::error::Result<Option<ast::Expr>> {
        let unit = unit.to_ascii_lowercase();
        if let Periods::TimeBucket = self.periods {
            let Some(width) = bucket_width(&unit) else { return Ok(None) };
            return unparser.scalar_function_to_sql("time_bucket", &[lit(width), time.clone()]).map(Some);
        }
        let t = unparser.expr_to_sql(time)?.to_string();
        let text = match (self.periods, unit.as_str()) {
            (Periods::MySql, "minute") => format!("CAST(DATE_FORMAT({t}, '%Y-%m-%d %H:%i:00') AS DATETIME)"),
            (Periods::MySql, "hour") => format!("CAST(DATE_FORMAT({t}, '%Y-%m-%d %H:00:00') AS DATETIME)"),
            (Periods::MySql, "day") => format!("CAST(DATE({t}) AS DATETIME)"),
            (Periods::MySql, "week") => format!("CAST(DATE_SUB(DATE({t}), INTERVAL WEEKDAY({t}) DAY) AS DATETIME)"),
            (Periods::MySql, "month") => format!("CAST(DATE_FORMAT({t}, '%Y-%m-01') AS DATETIME)"),
            (Periods::MySql, "quarter") => format!("CAST(DATE_ADD(MAKEDATE(YEAR({t}), 1), INTERVAL QUARTER({t}) - 1 QUARTER) AS DATETIME)"),
            (Periods::MySql, "year") => format!("CAST(MAKEDATE(YEAR({t}), 1) AS DATETIME)"),
            (Periods::Sqlite, "minute") => format!("strftime('%Y-%m-%d %H:%M:00', {t})"),
            (Periods::Sqlite, "hour") => format!("strftime('%Y-%m-%d %H:00:00', {t})"),
            (Periods::Sqlite, "day") => format!("datetime({t}, 'start of day')"),
            // ISO weeks start on Monday; %w counts from Sunday.
            (Periods::Sqlite, "week") => {
                format!("datetime({t}, 'start of day', '-' || ((CAST(strftime('%w', {t}) AS INTEGER) + 6) % 7) || ' days')")
            }
            (Periods::Sqlite, "month") => format!("datetime({t}, 'start of month')"),
            (Periods::Sqlite, "quarter") => {
                format!("datetime({t}, 'start of month', '-' || ((CAST(strftime('%m', {t}) AS INTEGER) - 1) % 3) || ' months')")
            }
            (Periods::Sqlite, "year") => format!("datetime({t}, 'start of year')"),
            (Periods::BigQuery, "week") => format!("TIMESTAMP_TRUNC({t}, ISOWEEK)"),
            (Periods::BigQuery, "minute" | "hour" | "day" | "month" | "quarter" | "year") => {
                format!("TIMESTAMP_TRUNC({t}, {})", unit.to_ascii_uppercase())
            }
            _ => return Ok(None),
        };
        self.parse(&text).map(Some)
    }

    /// Seconds since 1970 of `time` (`date_part('epoch', time)`, which durations are written
    /// with), when the dialect spells it otherwise.
    fn epoch(&self, unparser: &Unparser, time: &Expr) -> datafusion::error::Result<Option<ast::Expr>> {
        let t = unparser.expr_to_sql(time)?.to_string();
        let text = match self.periods {
            // Not UNIX_TIMESTAMP: it reads DATETIME in the session's time zone.
            Periods::MySql => format!("(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', {t}) / 1000000.0)"),
            // Whole seconds of `YYYY-MM-DD HH:MM:SS`, then the text's own fraction: SQLite's
            // date functions round to milliseconds (and 59.9996 s to the next second).
            Periods::Sqlite => format!("(CAST(strftime('%s', substr({t}, 1, 19)) AS REAL) + CAST(substr({t}, 20) AS REAL))"),
            Periods::BigQuery => format!("(UNIX_MICROS({t}) / 1000000.0)"),
            Periods::Native | Periods::TimeBucket => return Ok(None),
        };
        self.parse(&text).map(Some)
    }

    /// `greatest`/`least` ignoring nulls, as DataFusion and PostgreSQL do, where the dialect's
    /// own (MySQL's `GREATEST`, SQLite's scalar `max`) gives null when any argument is null.
    fn extreme(&self, unparser: &Unparser, greatest: bool, args: &[Expr]) -> datafusion::error::Result<Option<ast::Expr>> {
        let name = match (self.periods, greatest) {
            (Periods::MySql, true) => "GREATEST",
            (Periods::MySql, false) => "LEAST",
            (Periods::Sqlite, true) => "max",
            (Periods::Sqlite, false) => "min",
            _ => return Ok(None),
        };
        let args = args.iter().map(|a| unparser.expr_to_sql(a).map(|e| e.to_string())).collect::<datafusion::error::Result<Vec<_>>>()?;
        if args.len() < 2 {
            return Ok(None);
        }
        // Each argument falls back to the others, so a null one never wins.
        let fallbacks = (0..args.len()).map(|i| {
            let rest = args.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, a)| a.as_str());
            format!("COALESCE({})", std::iter::once(args[i].as_str()).chain(rest).collect::<Vec<_>>().join(", "))
        });
        self.parse(&format!("{name}({})", fallbacks.collect::<Vec<_>>().join(", "))).map(Some)
    }

    /// `text` as an expression of the dialect.
    fn parse(&self, text: &str) -> datafusion::error::Result<ast::Expr> {
        let dialect: Box<dyn parse_dialect::Dialect> = match self.periods {
            Periods::MySql => Box::new(parse_dialect::MySqlDialect {}),
            Periods::Sqlite => Box::new(parse_dialect::SQLiteDialect {}),
            Periods::BigQuery => Box::new(parse_dialect::BigQueryDialect {}),
            Periods::Native | Periods::TimeBucket => Box::new(parse_dialect::PostgreSqlDialect {}),
        };
        let parsed = Parser::new(dialect.as_ref()).try_with_sql(text).and_then(|mut p| p.parse_expr());
        parsed.map_err(|e| datafusion::error::DataFusionError::Plan(format!("cannot write `{text}`: {e}")))
    }
}

/// The `time_bucket` width of a `date_trunc` unit. TimescaleDB's default origin (Monday
/// 2000-01-03) makes weeks ISO weeks and month widths calendar months.
pub(super) fn bucket_width(unit: &str) -> Option<ScalarValue> {
    let (months, days, minutes) = match unit.to_ascii_lowercase().as_str() {
        "minute" => (0, 0, 1),
        "hour" => (0, 0, 60),
        "day" => (0, 1, 0),
        "week" => (0, 7, 0),
        "month" => (1, 0, 0),
        "quarter" => (3, 0, 0),
        "year" => (12, 0, 0),
        _ => return None,
    };
    let nanos = minutes * 60 * 1_000_000_000i64;
    Some(ScalarValue::new_interval_mdn(months, days, nanos))
}

impl Dialect for EngineDialect {
    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        self.base.identifier_quote_style(identifier)
    }
    fn use_array_keyword_for_array_literals(&self) -> bool {
        self.base.use_array_keyword_for_array_literals()
    }
    fn supports_nulls_first_in_sort(&self) -> bool {
        self.base.supports_nulls_first_in_sort()
    }
    fn use_timestamp_for_date64(&self) -> bool {
        self.base.use_timestamp_for_date64()
    }
    fn interval_style(&self) -> IntervalStyle {
        self.base.interval_style()
    }
    fn float64_ast_dtype(&self) -> ast::DataType {
        self.base.float64_ast_dtype()
    }
    fn utf8_cast_dtype(&self) -> ast::DataType {
        self.base.utf8_cast_dtype()
    }
    fn large_utf8_cast_dtype(&self) -> ast::DataType {
        self.base.large_utf8_cast_dtype()
    }
    fn date_field_extract_style(&self) -> DateFieldExtractStyle {
        self.base.date_field_extract_style()
    }
    fn distinct_from_style(&self) -> DistinctFromStyle {
        self.base.distinct_from_style()
    }
    fn character_length_style(&self) -> CharacterLengthStyle {
        self.base.character_length_style()
    }
    fn int64_cast_dtype(&self) -> ast::DataType {
        self.base.int64_cast_dtype()
    }
    fn int8_cast_dtype(&self) -> ast::DataType {
        self.base.int8_cast_dtype()
    }
    fn int32_cast_dtype(&self) -> ast::DataType {
        self.base.int32_cast_dtype()
    }
    fn timestamp_cast_dtype(&self, time_unit: &TimeUnit, tz: &Option<Arc<str>>) -> ast::DataType {
        self.base.timestamp_cast_dtype(time_unit, tz)
    }
    fn date32_cast_dtype(&self) -> ast::DataType {
        self.base.date32_cast_dtype()
    }
    fn supports_column_alias_in_table_alias(&self) -> bool {
        self.base.supports_column_alias_in_table_alias()
    }
    fn requires_derived_table_alias(&self) -> bool {
        self.base.requires_derived_table_alias()
    }
    fn division_operator(&self) -> BinaryOperator {
        self.base.division_operator()
    }
    fn scalar_function_to_sql_overrides(
        &self,
        unparser: &Unparser,
        func_name: &str,
        args: &[Expr],
    ) -> datafusion::error::Result<Option<ast::Expr>> {
        if func_name == "date_trunc"
            && let [Expr::Literal(ScalarValue::Utf8(Some(unit)), _), time] = args
            && let Some(written) = self.period(unparser, unit, time)?
        {
            return Ok(Some(written));
        }
        if func_name == "date_part"
            && let [Expr::Literal(ScalarValue::Utf8(Some(part)), _), time] = args
            && part.eq_ignore_ascii_case("epoch")
            && let Some(written) = self.epoch(unparser, time)?
        {
            return Ok(Some(written));
        }
        if (func_name == "greatest" || func_name == "least")
            && let Some(written) = self.extreme(unparser, func_name == "greatest", args)?
        {
            return Ok(Some(written));
        }
        self.base.scalar_function_to_sql_overrides(unparser, func_name, args)
    }
    fn higher_order_function_to_sql_overrides(
        &self,
        unparser: &Unparser,
        func_name: &str,
        args: &[Expr],
    ) -> datafusion::error::Result<Option<ast::Expr>> {
        self.base.higher_order_function_to_sql_overrides(unparser, func_name, args)
    }
    fn window_func_support_window_frame(&self, func_name: &str, start_bound: &WindowFrameBound, end_bound: &WindowFrameBound) -> bool {
        self.base.window_func_support_window_frame(func_name, start_bound, end_bound)
    }
    fn full_qualified_col(&self) -> bool {
        self.base.full_qualified_col()
    }
    fn unnest_as_table_factor(&self) -> bool {
        self.base.unnest_as_table_factor()
    }
    fn unnest_as_lateral_flatten(&self) -> bool {
        self.base.unnest_as_lateral_flatten()
    }
    fn col_alias_overrides(&self, alias: &str) -> datafusion::error::Result<Option<String>> {
        self.base.col_alias_overrides(alias)
    }
    fn supports_qualify(&self) -> bool {
        self.base.supports_qualify()
    }
    /// MySQL and SQLite read `YYYY-MM-DD HH:MM:SS` (SQLite compares timestamps as text), not
    /// RFC 3339 with an offset.
    fn timestamp_with_tz_to_string(&self, dt: chrono::DateTime<Tz>, unit: TimeUnit) -> String {
        match self.periods {
            Periods::MySql | Periods::Sqlite => dt.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M:%S").to_string(),
            _ => self.base.timestamp_with_tz_to_string(dt, unit),
        }
    }
    fn supports_empty_select_list(&self) -> bool {
        self.base.supports_empty_select_list()
    }
    fn string_literal_to_sql(&self, s: &str) -> Option<ast::Expr> {
        self.base.string_literal_to_sql(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grain_has_a_bucket_width() {
        for unit in ["minute", "hour", "day", "week", "month", "quarter", "year"] {
            assert!(bucket_width(unit).is_some(), "{unit}");
        }
        assert!(bucket_width("decade").is_none());
    }
}
