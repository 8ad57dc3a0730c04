//! Bringing a cached result up to date after appends by recalculating only the periods they
//! touched.
//!
//! The rule is the one views follow too ([`Maintenance::Spans`]): when a query's periods each depend only
//! on their own rows of one table, appends to that table change only the periods their event
//! times fall in. The cached rows of the other periods stand; the periods touched are
//! recalculated over the in-memory batches that may hold them, and their rows take the new
//! values. Whatever the rule cannot vouch for — another table changed, a registration, an
//! append the log has forgotten or one that released rows, a new period or group — is
//! recalculated in full.

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use chrono::DateTime;
use datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::compute::{concat_batches, interleave_record_batch};
use datafusion::arrow::datatypes::TimestampMicrosecondType;
use datafusion::arrow::row::{RowConverter, SortField};
use kpi_formula::{Query, TimeRange};

use crate::cache::{CacheOutcome, Versions};
use crate::calculate::{Part, Planned};
use crate::data::Span;
use crate::engine::Engine;
use crate::maintenance::Maintainable;
#[cfg(doc)]
use crate::maintenance::Maintenance;
use crate::options::CalculateOptions;
use crate::result::{KpiResult, Timing};

/// The periods of `query` that changes of `table` over event times `span` (microseconds,
/// inclusive) touched: the part of the range the query covers (its range widened to whole
/// periods, as a calculation reads it) they fall in, and its event times widened to whole
/// periods. `Some(None)` when they fall outside it; `None` when the span is not a time at all.
pub(crate) fn touched(query: &Query, table: &str, span: Span) -> Option<Option<(TimeRange, Part)>> {
    let start = DateTime::from_timestamp_micros(span.0)?;
    let end = DateTime::from_timestamp_micros(span.1.saturating_add(1))?;
    let (calendar, grain) = (&query.calendar, query.grain.unwrap_or(kpi_formula::Grain::Day));
    let (start, end) = match query.range {
        Some(r) => {
            let covered_end = calendar.add_periods(calendar.period_start(r.end - chrono::Duration::microseconds(1), grain), grain, 1);
            (start.max(calendar.period_start(r.start, grain)), end.min(covered_end))
        }
        None => (start, end),
    };
    let Ok(range) = TimeRange::new(start, end) else { return Some(None) };
    let first = calendar.period_start(range.start, grain);
    let last = calendar.period_start(range.end - chrono::Duration::microseconds(1), grain);
    let to = calendar.add_periods(last, grain, 1);
    Some(Some((range, Part { table: table.to_string(), from: first.timestamp_micros(), to: to.timestamp_micros() })))
}

impl Engine {
    /// `stale`, a cached result of `planned`'s query over the older data versions `old`,
    /// brought up to `planned.versions` by recalculating only the periods appends touched;
    /// `None` when it has to be recalculated in full.
    pub(crate) async fn patched(&self, asked: &Query, planned: &Planned, stale: &KpiResult, old: &Versions) -> Option<KpiResult> {
        let started = Instant::now();
        let query = &planned.query;
        let (table, old_version, new_version) = only_change(old, &planned.versions)?;
        if Maintainable::span_table_of(query, &self.catalog()).as_deref() != Some(table) {
            return None;
        }
        let changes = {
            let tables = self.inner.tables.read().unwrap_or_else(|e| e.into_inner());
            let data = tables.get(table)?;
            // Appended to again since this calculation was planned: the full path reads the
            // planned snapshot, which the periods recalculated below would not match.
            // Released rows change their periods too, wherever they are.
            if data.version != new_version || data.released_since(old_version) {
                return None;
            }
            data.changes_since(old_version)?
        };
        let growth = growth(asked, stale.range, planned.range)?;
        // Nothing in the range changed: the cached rows stand (a grown range always changed).
        let unchanged = || {
            let timing = Timing { total: started.elapsed(), ..Timing::default() };
            growth.is_none().then(|| KpiResult { query: asked.clone(), timing, cache: CacheOutcome::Patched, ..stale.clone() })
        };
        let Some(mut span) = changes else { return unchanged() };
        if let Some(g) = &growth {
            // The new periods are recalculated too, those between the old end and the appends
            // included.
            span.0 = span.0.min(g.from);
        }
        let Some((range, part)) = touched(query, table, span)? else { return unchanged() };
        let fresh = Box::pin(self.calculate_in_lane(&query.clone().with_range(range), &CalculateOptions::default(), Some(&part), started))
            .await
            .ok()?;
        let batch = splice(stale, &fresh, part.from, part.to, growth.as_ref())?;
        Some(KpiResult {
            info: fresh.info,
            query: asked.clone(),
            range: planned.range,
            schema: batch.schema(),
            batches: vec![batch],
            timing: Timing { total: started.elapsed(), ..fresh.timing },
            cache: CacheOutcome::Patched,
        })
    }
}

/// How a default range grew: the periods from `from` (microseconds, the old range's end) on are
/// new.
struct Growth {
    from: i64,
    /// How many new periods there are.
    periods: usize,
    /// Whether the query fills periods without rows, so each new period has a row per group.
    filled: bool,
}

/// How the covered range went from `old` to `new`: `Some(None)` when it did not change;
/// `None` when it changed in a way a patch cannot follow. Only a default range (`asked` has
/// none) changes between versions of the same cache key, and appends only widen it; a patch
/// follows it growing later.
fn growth(asked: &Query, old: Option<TimeRange>, new: Option<TimeRange>) -> Option<Option<Growth>> {
    if old == new {
        return Some(None);
    }
    let (Some(old), Some(new), None, Some(grain)) = (old, new, asked.range, asked.grain) else { return None };
    if old.start != new.start || new.end <= old.end {
        return None;
    }
    let mut periods = 0;
    let mut at = old.end;
    while at < new.end {
        at = asked.calendar.add_periods(at, grain, 1);
        periods += 1;
        // More new periods than a result would hold: recalculate in full.
        if periods > 200_000 {
            return None;
        }
    }
    let filled = asked.empty_periods != kpi_formula::EmptyPeriods::Omit;
    Some(Some(Growth { from: old.end.timestamp_micros(), periods, filled }))
}

/// The one table whose version differs between `old` and `new` (the same tables otherwise),
/// with both versions.
fn only_change<'a>(old: &Versions, new: &'a Versions) -> Option<(&'a str, u64, u64)> {
    if old.len() != new.len() || old.iter().zip(new).any(|((a, _), (b, _))| a != b) {
        return None;
    }
    let mut changed = old.iter().zip(new).filter(|((_, a), (_, b))| a != b);
    let ((_, before), (table, after)) = changed.next()?;
    changed.next().is_none().then_some((table.as_str(), *before, *after))
}

/// `stale`'s rows with the values of `fresh`, the recalculation of the periods in `[from, to)`
/// (microseconds): every row of `fresh` must be a period and group `stale` has in that range
/// (else `None`). A row of `stale` in the range that `fresh` lacks is a group with no rows in
/// that period before or after, whose value stands. With `growth`, the rows of `fresh` in new
/// periods follow; where periods are filled they must be a row for every group of `stale` in
/// every new period (a new group would need rows in the old periods too).
fn splice(stale: &KpiResult, fresh: &KpiResult, from: i64, to: i64, growth: Option<&Growth>) -> Option<RecordBatch> {
    let fields = |r: &KpiResult| r.schema.fields().iter().map(|f| (f.name().clone(), f.data_type().clone())).collect::<Vec<_>>();
    if fields(stale) != fields(fresh) || stale.schema.index_of("period").ok() != Some(0) {
        return None;
    }
    let old = concat_batches(&stale.schema, &stale.batches).ok()?;
    let new = concat_batches(&stale.schema, &fresh.batches).ok()?;
    let value = old.schema().index_of("value").ok()?;
    let keys: Vec<usize> = (0..old.num_columns()).filter(|&i| i != value).collect();
    let converter = RowConverter::new(keys.iter().map(|&i| SortField::new(old.schema().field(i).data_type().clone())).collect()).ok()?;
    let columns = |b: &RecordBatch| keys.iter().map(|&i| b.column(i).clone()).collect::<Vec<ArrayRef>>();
    let (old_keys, new_keys) = (converter.convert_columns(&columns(&old)).ok()?, converter.convert_columns(&columns(&new)).ok()?);
    let periods = old.column(0).as_primitive_opt::<TimestampMicrosecondType>()?;
    let new_periods = new.column(0).as_primitive_opt::<TimestampMicrosecondType>()?;
    let in_range: HashMap<&[u8], usize> = (0..old.num_rows())
        .filter(|&i| periods.is_valid(i) && (from..to).contains(&periods.value(i)))
        .map(|i| (old_keys.row(i).data(), i))
        .collect();
    let mut take: Vec<(usize, usize)> = (0..old.num_rows()).map(|i| (0, i)).collect();
    let mut added = Vec::new();
    for j in 0..new.num_rows() {
        if let Some(g) = growth
            && new_periods.is_valid(j)
            && new_periods.value(j) >= g.from
        {
            added.push((1, j));
            continue;
        }
        take[*in_range.get(new_keys.row(j).data())?] = (1, j);
    }
    if let Some(g) = growth
        && g.filled
        && !fills_every_group(&old, &new, &added, g.periods, &keys[1..])?
    {
        return None;
    }
    take.extend(added);
    interleave_record_batch(&[&old, &new], &take).ok()
}

/// Whether the rows `added` of `new` are one per group of `old` (its dimension columns `dims`)
/// in each of `periods` periods.
fn fills_every_group(old: &RecordBatch, new: &RecordBatch, added: &[(usize, usize)], periods: usize, dims: &[usize]) -> Option<bool> {
    if old.num_rows() == 0 {
        return Some(false);
    }
    if dims.is_empty() {
        return Some(added.len() == periods);
    }
    let converter = RowConverter::new(dims.iter().map(|&i| SortField::new(old.schema().field(i).data_type().clone())).collect()).ok()?;
    let columns = |b: &RecordBatch| dims.iter().map(|&i| b.column(i).clone()).collect::<Vec<ArrayRef>>();
    let (old_groups, new_groups) = (converter.convert_columns(&columns(old)).ok()?, converter.convert_columns(&columns(new)).ok()?);
    let known: HashSet<&[u8]> = (0..old.num_rows()).map(|i| old_groups.row(i).data()).collect();
    Some(added.len() == periods * known.len() && added.iter().all(|&(_, j)| known.contains(new_groups.row(j).data())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_changed_table_is_a_change_to_follow() {
        let v = |pairs: &[(&str, u64)]| pairs.iter().map(|(t, n)| (t.to_string(), *n)).collect::<Versions>();
        assert_eq!(only_change(&v(&[("a", 1), ("b", 2)]), &v(&[("a", 1), ("b", 3)])), Some(("b", 2, 3)));
        assert_eq!(only_change(&v(&[("a", 1), ("b", 2)]), &v(&[("a", 2), ("b", 3)])), None);
        assert_eq!(only_change(&v(&[("a", 1)]), &v(&[("a", 1)])), None);
        assert_eq!(only_change(&v(&[("a", 1)]), &v(&[("b", 2)])), None);
        assert_eq!(only_change(&v(&[("a", 1)]), &v(&[("a", 1), ("b", 2)])), None);
    }

    #[test]
    fn periods_touched_are_widened_to_whole_periods_within_the_range() {
        let calendar = kpi_formula::Calendar::default();
        let query = Query::kpi("x")
            .with_grain(kpi_formula::Grain::Day)
            .with_range(TimeRange::parse("2024-01-02", "2024-01-10", &calendar).unwrap());
        let at = |s: &str| s.parse::<DateTime<chrono::Utc>>().unwrap().timestamp_micros();
        let (range, part) = touched(&query, "t", (at("2024-01-01T05:00:00Z"), at("2024-01-03T10:00:00Z"))).unwrap().unwrap();
        assert_eq!(range.start.timestamp_micros(), at("2024-01-02T00:00:00Z"));
        assert_eq!((part.from, part.to), (at("2024-01-02T00:00:00Z"), at("2024-01-04T00:00:00Z")));
        assert!(touched(&query, "t", (at("2024-02-01T00:00:00Z"), at("2024-02-02T00:00:00Z"))).unwrap().is_none());
        // A range ending within a period covers that whole period, and so do the changes.
        let query = Query::kpi("x")
            .with_grain(kpi_formula::Grain::Minute)
            .with_range(TimeRange::parse("2024-01-01T00:02:00Z", "2024-01-01T00:07:30Z", &calendar).unwrap());
        let (_, part) = touched(&query, "t", (at("2024-01-01T00:07:45Z"), at("2024-01-01T00:07:45Z"))).unwrap().unwrap();
        assert_eq!((part.from, part.to), (at("2024-01-01T00:07:00Z"), at("2024-01-01T00:08:00Z")));
    }
}
