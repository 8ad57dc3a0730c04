//! The data registered per object model: conformed to the model's schema, versioned so that
//! cached results know when they are stale, and with its time bounds for default ranges.

mod batches;
mod bounds;
mod conform;
mod lateness;
pub(crate) mod mapping;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{ArrayRef, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::prelude::{SessionContext, col};
use kpi_catalog::ObjectModel;

use crate::error::EngineError;
use batches::{Batches, LiveTable, Piece};

pub(crate) use bounds::TimeBounds;
use conform::{ColumnSource, conform};
pub use lateness::AppendReport;
pub(crate) use lateness::{Span, check as check_lateness, latest as latest_time, micros as event_micros, span_of};

/// How many appends a table remembers the event-time span of.
const APPEND_LOG: usize = 256;

/// How many of the latest appended rows the log keeps the batches of (for views over data
/// behind a provider to catch up from); older entries keep only their span, so the log never
/// holds rows that retention released for long.
const APPEND_LOG_ROWS: usize = 1 << 20;

/// Where a registered table's rows come from.
#[derive(Clone)]
enum Origin {
    /// Record batches held in memory, already in the model's schema, with the span of event
    /// times of each.
    Memory(Batches),
    /// A table provider (Parquet, CSV, or the caller's), viewed through the model's schema,
    /// plus batches appended on top of it.
    Provider { base: Arc<dyn TableProvider>, appended: Batches },
}

/// The data of one object model at one version.
#[derive(Clone)]
pub(crate) struct TableData {
    origin: Origin,
    /// What calculations scan: the active rows, and the archived ones when there are any.
    pub(crate) provider: Arc<dyn TableProvider>,
    /// The active rows alone (in memory, or behind a provider).
    pub(crate) active: Arc<dyn TableProvider>,
    /// The rows retention archived, read together with the active ones.
    pub(crate) archive: Option<Arc<crate::lifecycle::ArchivedData>>,
    /// Changes whenever the data does; cached results compare it.
    pub(crate) version: u64,
    /// Rows held in memory (all of them for in-memory data; the appended ones otherwise).
    pub(crate) memory_rows: usize,
    /// The time column's bounds, computed on first use.
    pub(crate) bounds: Arc<TimeBounds>,
    /// The latest event time of rows given in memory (registered or appended); unknown for rows
    /// behind a provider.
    pub(crate) watermark: Option<i64>,
    /// The recent appends by version, covering every change after version `log_since` (a
    /// registration, or forgetting the oldest append, restarts it).
    pub(crate) log: Arc<Vec<Arc<Appended>>>,
    pub(crate) log_since: u64,
    /// Whether rows were released from memory ([`crate::EngineOptions::retention`]) since the
    /// table was registered.
    pub(crate) released: bool,
    /// For a PostgreSQL table with nothing appended, what pushing calculations down needs.
    #[cfg(feature = "postgres")]
    pub(crate) remote: Option<Arc<crate::postgres::Remote>>,
}

impl TableData {
    /// For in-memory data, the same version with only the batches that may hold event times in
    /// `[from, to)` (microseconds), so a calculation of that range scans only them.
    /// Archived files are narrowed the same way.
    pub(crate) fn narrowed(
        &self,
        ctx: &SessionContext,
        model: &ObjectModel,
        from: i64,
        to: i64,
        layout: Layout,
    ) -> Result<TableData, EngineError> {
        let Origin::Memory(batches) = &self.origin else { return Ok(self.clone()) };
        let kept = batches.iter().filter(|p| p.span.is_none_or(|(first, last)| last >= from && first < to)).cloned();
        let narrowed = TableData::memory_pieces(model, Batches::from_pieces(kept), self.version, layout);
        let archive = match &self.archive {
            Some(archive) => archive.narrowed(model, from, to)?,
            None => None,
        };
        TableData { watermark: self.watermark, log: self.log.clone(), log_since: self.log_since, released: self.released, ..narrowed }
            .with_archive(ctx, archive)
    }

    /// The same data read together with `archive` (replacing the archive it had).
    pub(crate) fn with_archive(
        mut self,
        ctx: &SessionContext,
        archive: Option<Arc<crate::lifecycle::ArchivedData>>,
    ) -> Result<TableData, EngineError> {
        if archive.is_some() {
            // The archived rows count too: bounds from the in-memory pieces would miss them.
            self.bounds = Arc::default();
        }
        self.provider = match &archive {
            Some(archived) => {
                let frame = ctx
                    .read_table(self.active.clone())
                    .and_then(|active| active.union(ctx.read_table(archived.provider.clone())?))
                    .map_err(EngineError::Execution)?;
                frame.into_view()
            }
            None => self.active.clone(),
        };
        self.archive = archive;
        Ok(self)
    }

    /// The same data without its archive: what a calculation of active data only reads.
    pub(crate) fn active_only(&self) -> TableData {
        TableData { provider: self.active.clone(), archive: None, ..self.clone() }
    }

    /// The rows a data directory keeps for this table: every in-memory row, or the rows
    /// appended over a provider (`true`).
    pub(crate) fn durable_rows(&self) -> (Vec<RecordBatch>, bool) {
        match &self.origin {
            Origin::Memory(batches) => (batches.record_batches(), false),
            Origin::Provider { appended, .. } => (appended.record_batches(), true),
        }
    }

    /// The same data marked as having lost rows (retention released them): its log restarts,
    /// so views and cached results of it recalculate in full.
    pub(crate) fn released_rows(mut self) -> TableData {
        self.released = true;
        self.log = Arc::default();
        self.log_since = self.version;
        self
    }

    /// The same data with its watermark set.
    pub(crate) fn with_watermark(mut self, watermark: Option<i64>) -> TableData {
        self.watermark = watermark;
        self
    }

    /// The same data remembering, after `before`'s log, that this version appended `batches`
    /// over `span`, and whether it released rows.
    pub(crate) fn logging_append(mut self, before: &TableData, span: Option<Span>, batches: Vec<RecordBatch>, released: bool) -> TableData {
        let mut log = before.log.as_ref().clone();
        let mut since = before.log_since;
        log.push(Arc::new(Appended { version: self.version, span, batches: Some(batches), released }));
        let mut held = 0;
        for entry in log.iter_mut().rev() {
            let Some(batches) = &entry.batches else { break };
            held += batches.iter().map(RecordBatch::num_rows).sum::<usize>();
            if held > APPEND_LOG_ROWS {
                *entry = Arc::new(Appended { batches: None, ..**entry });
            }
        }
        if log.len() > APPEND_LOG {
            let forgotten = log.len() - APPEND_LOG;
            since = log[forgotten - 1].version;
            log.drain(..forgotten);
        }
        self.log = Arc::new(log);
        self.log_since = since;
        self
    }

    /// The event-time span of every change after `version`: `Some(None)` when nothing changed,
    /// `None` when a change is not an in-memory append with a known span (a registration, or
    /// an append the log has forgotten).
    pub(crate) fn changes_since(&self, version: u64) -> Option<Option<Span>> {
        if version < self.log_since {
            return None;
        }
        let mut out: Option<Span> = None;
        for appended in self.log.iter().filter(|a| a.version > version) {
            let (a, b) = appended.span?;
            out = Some(out.map_or((a, b), |(x, y)| (x.min(a), y.max(b))));
        }
        Some(out)
    }

    /// Whether an append after `version` released rows (retention): the periods of the rows
    /// released changed too, wherever they are.
    pub(crate) fn released_since(&self, version: u64) -> bool {
        self.log.iter().any(|a| a.version > version && a.released)
    }

    /// The batches appended after `version`, in order; `None` when a change is not an append
    /// the log remembers with its rows (a registration, or an append it has forgotten or whose rows it let go).
    pub(crate) fn appended_since(&self, version: u64) -> Option<Vec<RecordBatch>> {
        if version < self.log_since {
            return None;
        }
        let mut out = Vec::new();
        for appended in self.log.iter().filter(|a| a.version > version) {
            out.extend(appended.batches.as_ref()?.iter().cloned());
        }
        Some(out)
    }

    /// Rows were appended in memory over a provider's.
    pub(crate) fn has_appended(&self) -> bool {
        matches!(&self.origin, Origin::Provider { appended, .. } if appended.rows() > 0)
    }

    /// Whether all rows are in memory (none archived).
    pub(crate) fn in_memory(&self) -> bool {
        matches!(self.origin, Origin::Memory(_)) && self.archive.is_none()
    }

    /// Whether every row registered and appended is still in memory: none archived, none
    /// released. What maintained states see is then the whole table.
    pub(crate) fn all_rows_in_memory(&self) -> bool {
        self.in_memory() && !self.released
    }
}

/// One append remembered in a table's log: the rows the table holds anyway, so the log costs
/// no memory of its own while the table keeps them (and at most its length in appends once the
/// table releases them).
pub(crate) struct Appended {
    version: u64,
    span: Option<Span>,
    /// `None` once the append is older than the latest [`APPEND_LOG_ROWS`] rows.
    batches: Option<Vec<RecordBatch>>,
    /// Whether this append released rows from memory ([`crate::EngineOptions::retention`]).
    released: bool,
}

/// How in-memory data is laid out for scans.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    /// Scan partitions (the session's target partitions).
    pub(crate) partitions: usize,
    /// Rows per batch in a scan.
    pub(crate) batch_rows: usize,
}

/// Whether a timestamp column's zone is UTC, so its stored microseconds are the event instants
/// themselves.
pub(crate) fn is_utc(zone: &str) -> bool {
    matches!(zone, "UTC" | "+00:00" | "Z")
}

/// Conforms batches given for `model` to its schema: columns found by name, compatible types
/// cast, extra columns dropped, nulls in non-nullable columns refused.
pub(crate) fn conform_batches(model: &ObjectModel, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>, EngineError> {
    let schema = model.schema();
    let mut plan: Option<(SchemaRef, Vec<ColumnSource>)> = None;
    let mut out = Vec::with_capacity(batches.len());
    for batch in batches {
        let sources = match &plan {
            Some((s, sources)) if s == &batch.schema() => sources.clone(),
            _ => {
                let sources = conform(model, &batch.schema())?;
                plan = Some((batch.schema(), sources.clone()));
                sources
            }
        };
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(sources.len());
        for (source, field) in sources.iter().zip(schema.fields()) {
            let column = batch.column(source.index);
            let column = match &source.cast_to {
                Some(to) => cast(column, to).map_err(|e| EngineError::SchemaMismatch {
                    object_model: model.code.clone(),
                    column: field.name().clone(),
                    expected: to.to_string(),
                    found: column.data_type().to_string(),
                    help: Some(e.to_string()),
                })?,
                None => column.clone(),
            };
            if !field.is_nullable() && column.null_count() > 0 {
                return Err(EngineError::UnexpectedNulls { object_model: model.code.clone(), column: field.name().clone() });
            }
            columns.push(column);
        }
        if batch.num_rows() > 0 {
            let conformed = RecordBatch::try_new(schema.clone(), columns).map_err(|e| EngineError::Execution(e.into()))?;
            check_times(model, &conformed)?;
            out.push(conformed);
        }
    }
    Ok(out)
}

/// Refuses event times outside the supported years ([`kpi_formula::MIN_YEAR`]..=
/// [`kpi_formula::MAX_YEAR`]): periods of such rows cannot be calculated, and one row stamped
/// far in the future would move every default range and watermark.
fn check_times(model: &ObjectModel, batch: &RecordBatch) -> Result<(), EngineError> {
    let Some((first, last)) = span_of(model, batch) else { return Ok(()) };
    for t in [first, last] {
        let instant = DateTime::from_timestamp_micros(t).unwrap_or(if t < 0 { DateTime::<Utc>::MIN_UTC } else { DateTime::<Utc>::MAX_UTC });
        if kpi_formula::check_supported("time", instant).is_err() {
            return Err(EngineError::TimeOutOfRange {
                object_model: model.code.clone(),
                column: model.time_column.clone().unwrap_or_default(),
                time: instant.to_rfc3339(),
            });
        }
    }
    Ok(())
}

/// Views `provider` through `model`'s schema: its columns by name, cast where compatible.
pub(crate) fn conform_provider(
    ctx: &SessionContext,
    model: &ObjectModel,
    provider: Arc<dyn TableProvider>,
) -> Result<Arc<dyn TableProvider>, EngineError> {
    let found = provider.schema();
    let sources = conform(model, &found)?;
    let identical = found.fields().len() == sources.len() && sources.iter().enumerate().all(|(i, s)| s.index == i && s.cast_to.is_none());
    if identical {
        return Ok(provider);
    }
    let exprs = sources
        .iter()
        .zip(&model.columns)
        .map(|(s, c)| {
            let column = col(datafusion::common::Column::new_unqualified(found.field(s.index).name()));
            match &s.cast_to {
                Some(to) => datafusion::prelude::cast(column, to.clone()).alias(&c.name),
                None => column.alias(&c.name),
            }
        })
        .collect::<Vec<_>>();
    let frame = ctx.read_table(provider).and_then(|f| f.select(exprs)).map_err(EngineError::Execution)?;
    Ok(frame.into_view())
}

impl TableData {
    /// In-memory data (already conformed).
    pub(crate) fn memory(model: &ObjectModel, batches: Vec<RecordBatch>, version: u64, layout: Layout) -> Result<TableData, EngineError> {
        let pieces = batches.iter().flat_map(|b| pieces(model, b, layout.batch_rows));
        Ok(TableData::memory_pieces(model, Batches::from_pieces(pieces), version, layout))
    }

    fn memory_pieces(model: &ObjectModel, batches: Batches, version: u64, layout: Layout) -> TableData {
        let memory_rows = batches.rows();
        let schema = model.schema();
        let time_type = model.time_column.as_deref().and_then(|c| schema.field_with_name(c).ok()).map(|f| f.data_type().clone());
        let bounds = match time_type {
            Some(t) => TimeBounds::of_spans(batches.iter().map(|p| p.span), &t),
            None => TimeBounds::default(),
        };
        let provider = Arc::new(LiveTable { schema, batches: batches.clone(), partitions: layout.partitions });
        TableData { bounds: Arc::new(bounds), ..TableData::fresh(Origin::Memory(batches), provider, version, memory_rows) }
    }

    /// Data behind a provider (already conformed).
    pub(crate) fn provider(base: Arc<dyn TableProvider>, version: u64) -> TableData {
        TableData::fresh(Origin::Provider { base: base.clone(), appended: Batches::default() }, base, version, 0)
    }

    /// This fresh data (nothing appended yet) at `version`: the engine allocates it under the
    /// tables' lock as it installs the data, so versions of a table only grow.
    pub(crate) fn at_version(mut self, version: u64) -> TableData {
        self.version = version;
        self.log_since = version;
        self
    }

    /// Data at `version` with nothing known yet: bounds computed on first use, no watermark,
    /// an append log starting at this version.
    fn fresh(origin: Origin, provider: Arc<dyn TableProvider>, version: u64, memory_rows: usize) -> TableData {
        TableData {
            origin,
            active: provider.clone(),
            archive: None,
            provider,
            version,
            memory_rows,
            bounds: Arc::default(),
            watermark: None,
            log: Arc::default(),
            log_since: version,
            released: false,
            #[cfg(feature = "postgres")]
            remote: None,
        }
    }

    /// This data with `batches` (already conformed) appended, at `version`, and for in-memory
    /// data the oldest batches of event times before `release_before` released; with the rows
    /// released. Only the appended rows are copied (sliced into scan batches, or small ones
    /// merged into the last batch); the batches before are shared with this version.
    pub(crate) fn append(
        &self,
        ctx: &SessionContext,
        model: &ObjectModel,
        batches: Vec<RecordBatch>,
        version: u64,
        layout: Layout,
        release_before: Option<i64>,
    ) -> Result<(TableData, usize), EngineError> {
        let extend = |existing: &Batches| -> Result<Batches, EngineError> {
            let mut all = existing.clone();
            for piece in batches.iter().flat_map(|b| pieces(model, b, layout.batch_rows)) {
                all.push(piece, layout.batch_rows).map_err(EngineError::Execution)?;
            }
            Ok(all)
        };
        match &self.origin {
            Origin::Memory(existing) => {
                let mut all = extend(existing)?;
                let released = release_before.map_or(0, |before| all.release_before(before));
                let mut data = TableData::memory_pieces(model, all, version, layout);
                data.released = self.released || released > 0;
                Ok((data, released))
            }
            Origin::Provider { base, appended } => {
                let all = extend(appended)?;
                let extra = Arc::new(LiveTable { schema: model.schema(), batches: all.clone(), partitions: layout.partitions });
                let frame = ctx
                    .read_table(base.clone())
                    .and_then(|f| Ok((f, ctx.read_table(extra)?)))
                    .and_then(|(f, extra)| f.union(extra))
                    .map_err(EngineError::Execution)?;
                let memory_rows = all.rows();
                let origin = Origin::Provider { base: base.clone(), appended: all };
                Ok((TableData::fresh(origin, frame.into_view(), version, memory_rows), 0))
            }
        }
    }

    /// The in-memory batches, when all data is in memory.
    pub(crate) fn batches(&self) -> Option<Vec<RecordBatch>> {
        match &self.origin {
            Origin::Memory(batches) if self.archive.is_none() => Some(batches.record_batches()),
            _ => None,
        }
    }

    /// The earliest and latest event time of the in-memory rows.
    pub(crate) fn memory_span(&self) -> Option<Span> {
        let batches = match &self.origin {
            Origin::Memory(batches) | Origin::Provider { appended: batches, .. } => batches,
        };
        batches.iter().filter_map(|p| p.span).reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
    }

    /// The active in-memory batches (archived rows aside), when the active rows are all in memory.
    pub(crate) fn active_batches(&self) -> Option<Vec<RecordBatch>> {
        match &self.origin {
            Origin::Memory(batches) => Some(batches.record_batches()),
            Origin::Provider { .. } => None,
        }
    }
}

/// `batch` sliced into batches of at most `batch_rows` rows, each with its event-time span
/// (once, when data arrives, rather than on every new version).
fn pieces(model: &ObjectModel, batch: &RecordBatch, batch_rows: usize) -> Vec<Piece> {
    let slices = if batch.num_rows() <= batch_rows {
        vec![batch.clone()]
    } else {
        (0..batch.num_rows())
            .step_by(batch_rows.max(1))
            .map(|offset| batch.slice(offset, batch_rows.min(batch.num_rows() - offset)))
            .collect()
    };
    slices.into_iter().map(|batch| Piece { span: span_of(model, &batch), batch }).collect()
}
