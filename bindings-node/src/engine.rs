//! The engine: registration, calculations returning Promises (run on napi's tokio runtime, so
//! the event loop never blocks), and subscriptions read with an async `next`.

use std::io::Cursor;
use std::sync::Arc;
use std::time::Duration;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::{FileReader, StreamReader};
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::json::ReaderBuilder;
use kpi_core::{EngineOptions, KpiResult, Refresh, SqlDialect};
use kpi_formula::{Grain, Query, TimeRange};
use napi::Either;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::catalog::Catalog;
use crate::errors;

/// `batches` as an Arrow IPC stream.
pub(crate) fn ipc(schema: &SchemaRef, batches: &[RecordBatch]) -> napi::Result<Vec<u8>> {
    let failed = |e: datafusion::arrow::error::ArrowError| errors::coded("KPI_DATA", format!("could not write Arrow IPC: {e}"));
    let mut writer = StreamWriter::try_new(Vec::new(), schema).map_err(failed)?;
    for batch in batches {
        writer.write(batch).map_err(failed)?;
    }
    writer.into_inner().map_err(failed)
}

/// Arrow IPC (stream or file format) as batches. Arrow's reader can panic on malformed
/// input; a panic is caught and reported as bad data, so bad input never aborts Node.
fn read_ipc(bytes: &[u8]) -> napi::Result<Vec<RecordBatch>> {
    let read = || -> Result<Vec<RecordBatch>, String> {
        match StreamReader::try_new(Cursor::new(bytes), None) {
            Ok(reader) => reader.collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string()),
            Err(stream) => match FileReader::try_new(Cursor::new(bytes), None) {
                Ok(reader) => reader.collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string()),
                Err(_) => Err(stream.to_string()),
            },
        }
    };
    match std::panic::catch_unwind(read) {
        Ok(Ok(batches)) => Ok(batches),
        Ok(Err(e)) => Err(errors::coded("KPI_DATA", format!("could not read Arrow IPC: {e}"))),
        Err(_) => Err(errors::coded("KPI_DATA", "could not read Arrow IPC: the data is malformed or uses a feature this reader lacks")),
    }
}

/// What to calculate: a KPI or a formula, and how.
#[napi(object)]
pub struct QueryInput {
    /// A KPI code of the catalog.
    pub kpi: Option<String>,
    /// An ad-hoc formula (instead of `kpi`).
    pub formula: Option<String>,
    /// minute, hour, day, week, month, quarter or year.
    pub grain: Option<String>,
    /// Dimensions such as `orders.region`.
    pub by: Option<Vec<String>>,
    /// The range's start (with `end`).
    pub start: Option<String>,
    /// The range's end (with `start`).
    pub end: Option<String>,
    /// A filter in the formula language.
    #[napi(js_name = "where")]
    pub filter: Option<String>,
}

/// Engine settings.
#[napi(object)]
pub struct EngineInput {
    /// IANA time zone of the calendar (default UTC).
    pub timezone: Option<String>,
    /// Timeout per calculation, in milliseconds.
    pub timeout_ms: Option<u32>,
    /// Memory limit per calculation, in bytes.
    pub memory_limit: Option<u32>,
}

/// What an append took in.
#[napi(object)]
pub struct AppendReport {
    /// Rows appended.
    pub rows: u32,
    /// Rows older than the latest event time seen before.
    pub late_rows: u32,
    /// Late rows beyond the allowed lateness (kept all the same).
    pub beyond_lateness: u32,
}

/// A KPI engine over a catalog.
#[napi]
pub struct Engine {
    inner: kpi_core::Engine,
}

/// A calculated result.
#[napi]
pub struct CalcResult {
    inner: Arc<KpiResult>,
}

#[napi]
impl CalcResult {
    /// The whole result as a plain object: rows (period, dimensions by label, value),
    /// summaries, timing.
    #[napi]
    pub fn to_json(&self) -> Value {
        self.inner.to_json()
    }

    /// The rows as an Arrow IPC stream (for apache-arrow's `tableFromIPC`).
    #[napi(js_name = "toArrowIPC")]
    pub fn to_arrow_ipc(&self) -> napi::Result<Buffer> {
        Ok(ipc(&self.inner.schema(), self.inner.batches())?.into())
    }
}

/// A subscription; `next` gives the next updates.
#[napi]
pub struct Subscription {
    inner: Arc<Mutex<Option<kpi_core::Subscription>>>,
}

#[napi]
impl Subscription {
    /// The next updates (`{ updates, lagged, error }`), waiting at most `timeoutMs`
    /// (forever when absent); `null` when the time passed or the subscription is closed.
    #[napi]
    pub async fn next(&self, timeout_ms: Option<u32>) -> napi::Result<Option<Value>> {
        let inner = self.inner.clone();
        let mut guard = inner.lock().await;
        let Some(sub) = guard.as_mut() else { return Ok(None) };
        let updates = match timeout_ms {
            Some(ms) => tokio::time::timeout(Duration::from_millis(u64::from(ms)), sub.next()).await.ok(),
            None => Some(sub.next().await),
        };
        updates.map(|u| serde_json::to_value(&u).map_err(|e| errors::coded("KPI_EXECUTION", e))).transpose()
    }

    /// Unsubscribes.
    #[napi]
    pub fn close(&self) {
        if let Ok(mut guard) = self.inner.try_lock() {
            guard.take();
        } else {
            // A `next` is waiting; it holds the subscription until it returns.
            let inner = self.inner.clone();
            napi::bindgen_prelude::spawn(async move {
                inner.lock().await.take();
            });
        }
    }
}

impl Engine {
    fn query(&self, input: QueryInput) -> napi::Result<Query> {
        let mut query = match (input.kpi, input.formula) {
            (Some(kpi), None) => Query::kpi(kpi),
            (None, Some(formula)) => Query::formula(formula),
            _ => return Err(errors::coded("KPI_QUERY", "give either `kpi` or `formula`")),
        };
        if let Some(grain) = input.grain {
            query = query.with_grain(Grain::parse(&grain).map_err(errors::query)?);
        }
        if let Some(by) = input.by {
            query = query.by(by);
        }
        match (input.start, input.end) {
            (Some(start), Some(end)) => {
                query = query.with_range(TimeRange::parse(&start, &end, &self.inner.options().calendar).map_err(errors::query)?);
            }
            (None, None) => {}
            _ => return Err(errors::coded("KPI_QUERY", "give both `start` and `end`, or neither")),
        }
        if let Some(filter) = input.filter {
            query = query.with_filter(filter);
        }
        Ok(query)
    }

    fn batches(&self, object_model: &str, data: Either<Buffer, String>) -> napi::Result<Vec<RecordBatch>> {
        match data {
            Either::A(buffer) => read_ipc(&buffer),
            Either::B(rows_json) => {
                let model = self.inner.catalog().object_model(object_model).map_err(errors::catalog)?;
                let rows: Vec<Value> = serde_json::from_str(&rows_json).map_err(|e| errors::coded("KPI_DATA", e))?;
                let failed =
                    |e: datafusion::arrow::error::ArrowError| errors::coded("KPI_SCHEMA", format!("rows of `{object_model}`: {e}"));
                let mut decoder = ReaderBuilder::new(model.schema()).build_decoder().map_err(failed)?;
                decoder.serialize(&rows).map_err(failed)?;
                Ok(decoder.flush().map_err(failed)?.into_iter().collect())
            }
        }
    }
}

#[napi]
impl Engine {
    /// An engine over `catalog`.
    #[napi(constructor)]
    pub fn new(catalog: &Catalog, options: Option<EngineInput>) -> napi::Result<Engine> {
        let mut engine_options = EngineOptions::default();
        if let Some(options) = options {
            if let Some(zone) = options.timezone {
                engine_options = engine_options.with_time_zone(&zone).map_err(errors::engine)?;
            }
            if let Some(ms) = options.timeout_ms {
                engine_options = engine_options.with_timeout(Duration::from_millis(u64::from(ms)));
            }
            if let Some(bytes) = options.memory_limit {
                engine_options = engine_options.with_memory_limit(bytes as usize);
            }
        }
        let inner = kpi_core::Engine::with_options(catalog.inner.clone(), engine_options).map_err(errors::engine)?;
        Ok(Engine { inner })
    }

    /// Registers rows (an Arrow IPC buffer, or a JSON array of row objects) as `objectModel`.
    #[napi]
    pub fn register(&self, object_model: String, data: Either<Buffer, String>) -> napi::Result<()> {
        let batches = self.batches(&object_model, data)?;
        self.inner.register_batches(&object_model, batches).map_err(errors::engine)
    }

    /// Appends rows (as `register` takes them).
    #[napi]
    pub fn append(&self, object_model: String, data: Either<Buffer, String>) -> napi::Result<AppendReport> {
        let batches = self.batches(&object_model, data)?;
        let r = self.inner.append_batches(&object_model, batches).map_err(errors::engine)?;
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        Ok(AppendReport { rows: n(r.rows), late_rows: n(r.late_rows), beyond_lateness: n(r.beyond_lateness) })
    }

    /// Calculates a KPI or formula.
    #[napi]
    pub async fn calculate(&self, query: QueryInput) -> napi::Result<CalcResult> {
        let query = self.query(query)?;
        let result = self.inner.calculate(&query).await.map_err(errors::engine)?;
        Ok(CalcResult { inner: Arc::new(result) })
    }

    /// Calculates several queries concurrently; per item its result or error.
    #[napi]
    pub async fn dashboard(&self, queries: Vec<QueryInput>) -> napi::Result<Value> {
        let queries = queries.into_iter().map(|q| self.query(q)).collect::<napi::Result<Vec<_>>>()?;
        Ok(self.inner.dashboard(&queries).await.to_json())
    }

    /// The engine's counters since it was created (calculations, cache hits, shared
    /// calculations, rows ingested, ...), by their snake_case names.
    #[napi]
    pub fn metrics(&self) -> napi::Result<Value> {
        serde_json::to_value(self.inner.metrics()).map_err(|e| errors::coded("KPI_EXECUTION", e))
    }

    /// The logical, optimized and physical plans.
    #[napi]
    pub async fn explain(&self, query: QueryInput) -> napi::Result<Value> {
        let query = self.query(query)?;
        let e = self.inner.explain(&query).await.map_err(errors::engine)?;
        Ok(serde_json::json!({ "logical": e.logical, "optimized": e.optimized, "physical": e.physical }))
    }

    /// The calculation as SQL of `dialect`.
    #[napi]
    pub async fn to_sql(&self, query: QueryInput, dialect: String) -> napi::Result<String> {
        let dialect = SqlDialect::parse(&dialect).map_err(errors::engine)?;
        let query = self.query(query)?;
        self.inner.to_sql(&query, dialect).await.map_err(errors::engine)
    }

    /// Subscribes to a query: `refresh` is "change" (default), "minute", "hour", "day", or
    /// milliseconds.
    #[napi]
    pub async fn subscribe(&self, query: QueryInput, refresh: Option<Either<String, u32>>) -> napi::Result<Subscription> {
        let refresh = match refresh {
            None => Refresh::OnChange,
            Some(Either::B(ms)) => Refresh::Every(Duration::from_millis(u64::from(ms))),
            Some(Either::A(text)) => match text.as_str() {
                "change" => Refresh::OnChange,
                "minute" => Refresh::Minute,
                "hour" => Refresh::Hour,
                "day" => Refresh::Day,
                other => {
                    return Err(errors::coded(
                        "KPI_OPTION",
                        format!("unknown refresh `{other}`: use change, minute, hour, day or milliseconds"),
                    ));
                }
            },
        };
        let query = self.query(query)?;
        let sub = self.inner.subscribe(&query, refresh).await.map_err(errors::engine)?;
        Ok(Subscription { inner: Arc::new(Mutex::new(Some(sub))) })
    }
}
