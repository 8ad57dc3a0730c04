//! Conversion (funnel) metrics, as MetricFlow defines them: each conversion event is matched
//! to the latest base event of the same entity (and constant properties) at or before it,
//! within the window; the conversion measure is aggregated by that base event's period and
//! dimensions, so a visit in March converting in April counts for March.
//!
//! The base events of the range (with the query's filter, dimensions and the base measure's
//! own filter) join the conversion events on the entity; a `row_number` per conversion event
//! (newest base event first) keeps one match each. Times are compared on one clock: zoned
//! timestamps as their UTC instants (a window day is 24 hours), naive timestamps and dates on
//! the wall clock they carry.

use chrono::{DateTime, Duration, Utc};
use datafusion::arrow::datatypes::{DataType, IntervalMonthDayNano, TimeUnit};
use datafusion::common::JoinType;
use datafusion::error::DataFusionError;
use datafusion::functions_window::expr_fn::row_number;
use datafusion::logical_expr::{ExprFunctionExt, LogicalPlan};
use datafusion::prelude::{Expr, cast, lit};
use datafusion::scalar::ScalarValue;

use crate::error::FormulaError;
use crate::ir::{Conversion, RowExpr};
use crate::period::{CalendarSpan, Grain};

use super::expr::aggregate;
use super::{Lowering, ucol};

impl Lowering<'_> {
    /// Slot `i`, a conversion count: `__hp{i}` (with a grain), `__hd{i}_{k}`, `__a{i}`.
    pub(super) fn conversion(&self, i: usize) -> Result<LogicalPlan, FormulaError> {
        let s = &self.slots[i];
        let (base, Some(c)) = (s.agg.table.as_str(), s.agg.conversion.as_deref()) else {
            return Err(DataFusionError::Internal("a conversion slot without a conversion".into()).into());
        };
        let time_of = |table: &str| {
            self.time_column(table).ok_or_else(|| FormulaError::from(DataFusionError::Internal(format!("`{table}` has no time column"))))
        };
        let (bt, bty) = time_of(base)?;
        let (ct, cty) = time_of(&c.table)?;
        let (lo, hi) = self.bounds();

        let mut exprs: Vec<&RowExpr> = s.agg.filter.iter().collect();
        exprs.extend(c.on.iter().map(|(b, _)| b));
        let rows = self.rows(base, &exprs, lo, hi)?;
        let rows = match &s.agg.filter {
            Some(f) => rows.filter(self.row(f)?)?,
            None => rows,
        };
        let mut cols = vec![clock(bt.clone(), &bty).alias("__bt")];
        if let Some(grain) = self.grain {
            cols.push(self.bucket(bt, &bty, grain).alias("__b"));
        }
        for (k, d) in self.q.scopes[base].dimensions.iter().enumerate() {
            cols.push(self.column(d).alias(format!("__d{k}")));
        }
        for (n, (b, _)) in c.on.iter().enumerate() {
            cols.push(self.row(b)?.alias(format!("__k{n}")));
        }
        let base_events = rows.project(cols)?;

        let conversions = self.conversion_events(c, ct, &cty, lo, hi)?;
        let keys = (0..c.on.len()).map(|n| (format!("__k{n}"), format!("__ck{n}")));
        let (left, right): (Vec<String>, Vec<String>) = keys.unzip();
        let mut after = ucol("__bt").lt_eq(ucol("__ct"));
        if let Some(span) = c.within {
            after = after.and(ucol("__ct").lt(ucol("__bt") + lit(interval(span))));
        }
        let matched = base_events.join(conversions, JoinType::Inner, (left, right), Some(after))?;
        let mut newest_first = vec![ucol("__bt").sort(false, true)];
        newest_first.extend((0..self.dims()).map(|k| ucol(&format!("__d{k}")).sort(true, false)));
        let rank = row_number().partition_by(vec![ucol("__cid")]).order_by(newest_first).build()?.alias("__rank");
        let matched = matched.window(vec![rank])?.filter(ucol("__rank").eq(lit(1u64)))?;

        let mut group = Vec::new();
        if self.grain.is_some() {
            group.push(ucol("__b").alias(format!("__hp{i}")));
        }
        group.extend((0..self.dims()).map(|k| ucol(&format!("__d{k}")).alias(format!("__hd{i}_{k}"))));
        let value = aggregate(s.agg.func, Some(ucol("__x")), None)?.alias(format!("__a{i}"));
        Ok(matched.aggregate(group, [value])?.build()?)
    }

    /// The conversion events that can follow a base event of the range: `__ct`, `__x` (the
    /// measure's argument), `__ck{n}` and a row number `__cid` telling them apart.
    fn conversion_events(
        &self,
        c: &Conversion,
        ct: Expr,
        cty: &DataType,
        lo: Option<DateTime<Utc>>,
        hi: Option<DateTime<Utc>>,
    ) -> Result<LogicalPlan, FormulaError> {
        let mut exprs: Vec<&RowExpr> = c.arg.iter().chain(c.filter.iter()).collect();
        exprs.extend(c.on.iter().map(|(_, x)| x));
        // The bounds only prune: the join decides. A day of slack either side covers the
        // difference between instants and wall-clock times.
        let lo = lo.map(|t| t.checked_sub_signed(Duration::days(1)).unwrap_or(DateTime::<Utc>::MIN_UTC));
        let hi = match c.within {
            Some(span) => hi.map(|t| t.checked_add_signed(longest(span) + Duration::days(1)).unwrap_or(DateTime::<Utc>::MAX_UTC)),
            None => None,
        };
        let rows = self.unscoped_rows(&c.table, &exprs, lo, hi)?;
        let rows = match &c.filter {
            Some(f) => rows.filter(self.row(f)?)?,
            None => rows,
        };
        let mut cols = vec![clock(ct, cty).alias("__ct")];
        cols.push(c.arg.as_ref().map(|a| self.row(a)).transpose()?.unwrap_or_else(|| lit(1)).alias("__x"));
        for (n, (_, x)) in c.on.iter().enumerate() {
            cols.push(self.row(x)?.alias(format!("__ck{n}")));
        }
        let id = row_number().alias("__cid");
        Ok(rows.project(cols)?.window(vec![id])?.build()?)
    }
}

/// A time column on the clock conversions are compared on: naive microseconds, zoned
/// timestamps as their UTC instant (relabelled through Int64: a cast would convert).
fn clock(e: Expr, ty: &DataType) -> Expr {
    let naive = DataType::Timestamp(TimeUnit::Microsecond, None);
    match ty {
        DataType::Timestamp(TimeUnit::Microsecond, None) => e,
        DataType::Timestamp(TimeUnit::Microsecond, Some(_)) => cast(cast(e, DataType::Int64), naive),
        DataType::Timestamp(_, Some(tz)) => {
            let micros = cast(e, DataType::Timestamp(TimeUnit::Microsecond, Some(tz.clone())));
            cast(cast(micros, DataType::Int64), naive)
        }
        _ => cast(e, naive),
    }
}

/// The window as an interval: calendar months and days, or minutes.
fn interval(span: CalendarSpan) -> ScalarValue {
    let n = i64::from(span.count);
    let (months, days, nanos) = match span.unit {
        Grain::Minute => (0, 0, n * 60_000_000_000),
        Grain::Hour => (0, 0, n * 3_600_000_000_000),
        Grain::Day => (0, n, 0),
        Grain::Week => (0, 7 * n, 0),
        unit => (n * unit.months().unwrap_or(1), 0, 0),
    };
    let clamp = |x: i64| i32::try_from(x).unwrap_or(i32::MAX);
    ScalarValue::IntervalMonthDayNano(Some(IntervalMonthDayNano::new(clamp(months), clamp(days), nanos)))
}

/// At least as long as the window, whatever the calendar.
fn longest(span: CalendarSpan) -> Duration {
    let n = i64::from(span.count);
    let days = match span.unit {
        Grain::Minute | Grain::Hour => return Duration::try_minutes(n.saturating_mul(60)).unwrap_or(Duration::MAX),
        Grain::Day => n,
        Grain::Week => 7 * n,
        unit => 31 * n * unit.months().unwrap_or(1),
    };
    Duration::try_days(days).unwrap_or(Duration::MAX)
}
