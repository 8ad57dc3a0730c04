//! The engine: registration, calculations returning Promises (run on napi's tokio runtime, so
//! the event loop never blocks), and subscriptions read with an async `next`. Queries and
//! settings arrive as the core's documents ([`QuerySpec`], [`EngineSettings`]); the JavaScript
//! layer only renames camelCase keys.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex as SyncMutex};
use std::time::Duration;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::ipc::reader::{FileReader, StreamDecoder};
use datafusion::arrow::ipc::writer::StreamWriter;
use datafusion::arrow::json::ReaderBuilder;
use kpi_core::{
    Baseline, Cancellation, EngineError, EngineSettings, FollowSettings, KpiResult, PostgresDsn, PostgresTable, QuerySpec, SqlDialect,
};
use napi::Either;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::catalog::{Catalog, ClientConfig};
use crate::errors::{self, guard, guard_async};

/// `batches` as an Arrow IPC stream.
pub(crate) fn ipc(schema: &SchemaRef, batches: &[RecordBatch]) -> napi::Result<Vec<u8>> {
    let failed = |e: datafusion::arrow::error::ArrowError| errors::coded("KPI_DATA", format!("could not write Arrow IPC: {e}"));
    let mut writer = StreamWriter::try_new(Vec::new(), schema).map_err(failed)?;
    for batch in batches {
        writer.write(batch).map_err(failed)?;
    }
    writer.into_inner().map_err(failed)
}

/// Arrow IPC (stream or file format) as batches. Lengths the data declares are checked
/// against the bytes there are before anything is allocated for them (a flipped byte could
/// otherwise ask for gigabytes); a panic of Arrow's reader on malformed input is caught and
/// reported as bad data, so bad input never aborts Node.
fn read_ipc(bytes: &[u8]) -> napi::Result<Vec<RecordBatch>> {
    let read = || -> Result<Vec<RecordBatch>, String> {
        if bytes.starts_with(FILE_MAGIC) {
            check_file_blocks(bytes)?;
            let reader = FileReader::try_new(Cursor::new(bytes), None).map_err(|e| e.to_string())?;
            return reader.collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string());
        }
        // The decoder copies only the bytes it is given, whatever a message declares.
        let mut decoder = StreamDecoder::new();
        let mut buffer = datafusion::arrow::buffer::Buffer::from(bytes);
        let mut batches = Vec::new();
        while let Some(batch) = decoder.decode(&mut buffer).map_err(|e| e.to_string())? {
            batches.push(batch);
        }
        decoder.finish().map_err(|e| e.to_string())?;
        if decoder.schema().is_none() {
            return Err("Expected schema message, found empty stream.".into());
        }
        Ok(batches)
    };
    match std::panic::catch_unwind(read) {
        Ok(Ok(batches)) => Ok(batches),
        Ok(Err(e)) => Err(errors::coded("KPI_DATA", format!("could not read Arrow IPC: {e}"))),
        Err(_) => Err(errors::coded("KPI_DATA", "could not read Arrow IPC: the data is malformed or uses a feature this reader lacks")),
    }
}

const FILE_MAGIC: &[u8] = b"ARROW1";

/// Every block the footer of an IPC file names lies inside the file.
fn check_file_blocks(bytes: &[u8]) -> Result<(), String> {
    let len = bytes.len();
    let tail = len.checked_sub(10).filter(|_| bytes.ends_with(FILE_MAGIC)).ok_or("an Arrow file without its closing magic")?;
    let footer_len = i32::from_le_bytes([bytes[tail], bytes[tail + 1], bytes[tail + 2], bytes[tail + 3]]);
    let start = usize::try_from(footer_len).ok().and_then(|n| tail.checked_sub(n)).ok_or("an Arrow file footer longer than the file")?;
    let footer =
        datafusion::arrow::ipc::root_as_footer(&bytes[start..tail]).map_err(|e| format!("an unreadable Arrow file footer: {e}"))?;
    let blocks = footer.recordBatches().into_iter().flatten().chain(footer.dictionaries().into_iter().flatten());
    for block in blocks {
        let end = i128::from(block.offset()) + i128::from(block.metaDataLength()) + i128::from(block.bodyLength());
        if block.offset() < 0 || block.metaDataLength() < 0 || block.bodyLength() < 0 || end > len as i128 {
            return Err("an Arrow file block outside the file".into());
        }
    }
    Ok(())
}

pub(crate) fn spec(query: Value) -> napi::Result<QuerySpec> {
    QuerySpec::from_value(query).map_err(errors::engine)
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
    /// Rows stamped further ahead of the clock than the allowed skew (kept; they do not move
    /// the watermark).
    pub future_rows: u32,
}

impl From<kpi_core::AppendReport> for AppendReport {
    fn from(r: kpi_core::AppendReport) -> Self {
        let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        AppendReport { rows: n(r.rows), late_rows: n(r.late_rows), beyond_lateness: n(r.beyond_lateness), future_rows: n(r.future_rows) }
    }
}

/// A KPI engine over a catalog.
#[napi]
pub struct Engine {
    inner: kpi_core::Engine,
    /// Cancellation tokens of calculations in flight, by the id JavaScript holds for its
    /// `AbortSignal`.
    cancellations: Arc<SyncMutex<HashMap<u32, Cancellation>>>,
    next_cancellation: AtomicU32,
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
        guard(|| Ok(ipc(&self.inner.schema(), self.inner.batches())?.into()))
    }
}

impl Engine {
    /// The core engine.
    pub(crate) fn core(&self) -> &kpi_core::Engine {
        &self.inner
    }
}

impl CalcResult {
    /// The core result.
    pub(crate) fn core(&self) -> &KpiResult {
        &self.inner
    }
}

fn result(r: KpiResult) -> CalcResult {
    CalcResult { inner: Arc::new(r) }
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
        guard_async(async move {
            let mut guard = inner.lock().await;
            let Some(sub) = guard.as_mut() else { return Ok(None) };
            let updates = match timeout_ms {
                Some(ms) => tokio::time::timeout(Duration::from_millis(u64::from(ms)), sub.next()).await.ok(),
                None => Some(sub.next().await),
            };
            updates.map(|u| serde_json::to_value(&u).map_err(errors::json_failed)).transpose()
        })
        .await
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

/// Rows of `object_model` given as Arrow IPC or as a JSON array of row objects.
fn batches(engine: &kpi_core::Engine, object_model: &str, data: &Either<Buffer, String>) -> napi::Result<Vec<RecordBatch>> {
    match data {
        Either::A(buffer) => read_ipc(buffer),
        Either::B(rows_json) => {
            let catalog = engine.catalog();
            let model = catalog.object_model(object_model).map_err(errors::catalog)?;
            let rows: Vec<Value> = serde_json::from_str(rows_json).map_err(|e| errors::coded("KPI_DATA", e))?;
            let failed = |e: datafusion::arrow::error::ArrowError| errors::coded("KPI_SCHEMA", format!("rows of `{object_model}`: {e}"));
            let mut decoder = ReaderBuilder::new(model.schema()).build_decoder().map_err(failed)?;
            decoder.serialize(&rows).map_err(failed)?;
            Ok(decoder.flush().map_err(failed)?.into_iter().collect())
        }
    }
}

impl Engine {
    fn queries(&self, queries: Vec<Value>) -> napi::Result<Vec<kpi_formula::Query>> {
        queries.into_iter().map(|q| self.inner.query(&spec(q)?).map_err(errors::engine)).collect()
    }

    /// Runs blocking work (decoding and conforming large inputs) off the event loop and off
    /// the runtime's async workers.
    async fn blocking<T: Send + 'static>(work: impl FnOnce() -> napi::Result<T> + Send + 'static) -> napi::Result<T> {
        tokio::task::spawn_blocking(move || guard(work))
            .await
            .map_err(|e| errors::engine(EngineError::Internal(format!("a registration task failed: {e}"))))?
    }
}

#[napi]
impl Engine {
    /// An engine over `catalog` with `settings` (an `EngineSettings` document), for `client`
    /// (its custom KPIs and field mappings) when given.
    #[napi(constructor)]
    pub fn new(catalog: &Catalog, settings: Option<Value>, client: Option<&ClientConfig>) -> napi::Result<Engine> {
        guard(|| {
            let options =
                EngineSettings::from_value(settings.unwrap_or(Value::Null)).and_then(|s| s.to_options()).map_err(errors::engine)?;
            // Inside the runtime, so the engine can start its retention task.
            let inner = napi::bindgen_prelude::within_runtime_if_available(|| match client {
                Some(client) => kpi_core::Engine::for_client(&catalog.inner, client.inner.clone(), options),
                None => kpi_core::Engine::with_options(catalog.inner.clone(), options),
            })
            .map_err(errors::engine)?;
            Ok(Engine { inner, cancellations: Arc::default(), next_cancellation: AtomicU32::new(1) })
        })
    }

    /// The catalog the engine calculates (for a client: as the client sees it).
    #[napi]
    pub fn catalog(&self) -> Catalog {
        Catalog { inner: self.inner.catalog() }
    }

    /// Registers rows (an Arrow IPC buffer, or a JSON array of row objects) as `objectModel`.
    #[napi]
    pub fn register(&self, object_model: String, data: Either<Buffer, String>) -> napi::Result<()> {
        guard(|| {
            let batches = batches(&self.inner, &object_model, &data)?;
            self.inner.register_batches(&object_model, batches).map_err(errors::engine)
        })
    }

    /// As `register`, decoding and registering off the event loop.
    #[napi]
    pub async fn register_async(&self, object_model: String, data: Either<Buffer, String>) -> napi::Result<()> {
        let engine = self.inner.clone();
        Self::blocking(move || {
            let batches = batches(&engine, &object_model, &data)?;
            engine.register_batches(&object_model, batches).map_err(errors::engine)
        })
        .await
    }

    /// Appends rows (as `register` takes them).
    #[napi]
    pub fn append(&self, object_model: String, data: Either<Buffer, String>) -> napi::Result<AppendReport> {
        guard(|| {
            let batches = batches(&self.inner, &object_model, &data)?;
            Ok(self.inner.append_batches(&object_model, batches).map_err(errors::engine)?.into())
        })
    }

    /// As `append`, decoding and appending off the event loop.
    #[napi]
    pub async fn append_async(&self, object_model: String, data: Either<Buffer, String>) -> napi::Result<AppendReport> {
        let engine = self.inner.clone();
        Self::blocking(move || {
            let batches = batches(&engine, &object_model, &data)?;
            Ok(engine.append_batches(&object_model, batches).map_err(errors::engine)?.into())
        })
        .await
    }

    /// Registers Parquet files (a file, directory, glob or URL) as `objectModel`.
    #[napi]
    pub async fn register_parquet(&self, object_model: String, path: String) -> napi::Result<()> {
        guard_async(async { self.inner.register_parquet(&object_model, &path).await.map_err(errors::engine) }).await
    }

    /// Registers CSV files (each with a header row; a file, directory, glob or URL) as `objectModel`.
    #[napi]
    pub async fn register_csv(&self, object_model: String, path: String) -> napi::Result<()> {
        guard_async(async { self.inner.register_csv(&object_model, &path).await.map_err(errors::engine) }).await
    }

    /// Registers a PostgreSQL table or view as `objectModel`; `columns` pairs model columns
    /// with the table's columns of other names.
    #[napi]
    pub async fn register_postgres(&self, object_model: String, dsn: String, table: String, columns: Vec<Vec<String>>) -> napi::Result<()> {
        guard_async(async {
            let dsn: PostgresDsn = dsn.parse().map_err(errors::engine)?;
            let mut table = PostgresTable::parse(&table).map_err(errors::engine)?;
            table.columns = columns
                .into_iter()
                .filter_map(|pair| match <[String; 2]>::try_from(pair) {
                    Ok([column, from]) => Some((column, from)),
                    Err(_) => None,
                })
                .collect();
            self.inner.register_postgres(&object_model, &dsn, &table).await.map_err(errors::engine)
        })
        .await
    }

    /// Follows a PostgreSQL table: appends its rows now and new rows as they come; `settings`
    /// is the feed's document (`FollowSettings`: `table`, `columns`, `key`, `poll_interval`,
    /// `lookback`, `checkpoint`).
    #[napi]
    pub async fn follow_postgres(&self, object_model: String, dsn: String, settings: Value) -> napi::Result<crate::feed::Feed> {
        guard_async(async {
            let dsn: PostgresDsn = dsn.parse().map_err(errors::engine)?;
            let settings = FollowSettings::from_json(&settings.to_string()).map_err(errors::engine)?;
            let (table, options) = settings.resolve(&object_model).map_err(errors::engine)?;
            let feed = self.inner.follow_postgres(&object_model, &dsn, &table, options).await.map_err(errors::engine)?;
            Ok(crate::feed::Feed::new(feed))
        })
        .await
    }

    /// Registers every object model with a table of its name in `schema` of the database.
    #[napi]
    pub async fn register_postgres_models(&self, dsn: String, schema: Option<String>) -> napi::Result<Vec<String>> {
        guard_async(async {
            let dsn: PostgresDsn = dsn.parse().map_err(errors::engine)?;
            self.inner.register_postgres_models(&dsn, schema.as_deref()).await.map_err(errors::engine)
        })
        .await
    }

    /// Removes the data of `objectModel`; whether it had any.
    #[napi]
    pub fn unregister(&self, object_model: String) -> bool {
        self.inner.unregister(&object_model)
    }

    /// The object models with data: `{ objectModel, version, memoryRows, inMemory }`.
    #[napi]
    pub fn registered(&self) -> Value {
        let rows: Vec<Value> = self
            .inner
            .registered()
            .into_iter()
            .map(|r| serde_json::json!({ "objectModel": r.object_model, "version": r.version, "memoryRows": r.memory_rows, "inMemory": r.in_memory }))
            .collect();
        Value::Array(rows)
    }

    /// A new cancellation token for `calculate`; its id.
    #[napi]
    pub fn new_cancellation(&self) -> u32 {
        let id = self.next_cancellation.fetch_add(1, Ordering::Relaxed);
        self.cancellations.lock().unwrap_or_else(|e| e.into_inner()).insert(id, Cancellation::new());
        id
    }

    /// Cancels the calculations holding token `id`.
    #[napi]
    pub fn cancel(&self, id: u32) {
        if let Some(token) = self.cancellations.lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
            token.cancel();
        }
    }

    /// Forgets token `id` (its calculation ended).
    #[napi]
    pub fn release_cancellation(&self, id: u32) {
        self.cancellations.lock().unwrap_or_else(|e| e.into_inner()).remove(&id);
    }

    /// Calculates a query document; cancelled through the token `cancellation` when given.
    #[napi]
    pub async fn calculate(&self, query: Value, cancellation: Option<u32>) -> napi::Result<CalcResult> {
        guard_async(async {
            let spec = spec(query)?;
            let query = self.inner.query(&spec).map_err(errors::engine)?;
            let mut options = spec.calculate_options().map_err(errors::engine)?;
            if let Some(id) = cancellation {
                let token = self.cancellations.lock().unwrap_or_else(|e| e.into_inner()).get(&id).cloned();
                options.cancellation = token;
            }
            Ok(result(self.inner.calculate_with(&query, &options).await.map_err(errors::engine)?))
        })
        .await
    }

    /// Calculates several query documents concurrently; per item its result or error.
    #[napi]
    pub async fn dashboard(&self, queries: Vec<Value>) -> napi::Result<Value> {
        guard_async(async {
            let queries = self.queries(queries)?;
            Ok(self.inner.dashboard(&queries).await.to_json())
        })
        .await
    }

    /// A query document's value over `current` (`[start, end]`) against `previous`: a range
    /// `[start, end]`, or `'previous_period'` (by default: the range just before, as many months
    /// for whole months, else of the same length) or `'last_year'`.
    #[napi]
    pub async fn compare(&self, query: Value, current: Vec<String>, previous: Option<Either<Vec<String>, String>>) -> napi::Result<Value> {
        guard_async(async {
            fn pair(v: &[String]) -> napi::Result<(&str, &str)> {
                match v {
                    [start, end] => Ok((start.as_str(), end.as_str())),
                    _ => Err(errors::coded("KPI_QUERY", "a range is [start, end]")),
                }
            }
            let spec = spec(query)?;
            let now = pair(&current)?;
            let before = match &previous {
                Some(Either::A(range)) => pair(range).map(|(s, e)| Baseline::Range(s, e))?,
                Some(Either::B(name)) => Baseline::parse(name).map_err(errors::engine)?,
                None => Baseline::PreviousPeriod,
            };
            Ok(self.inner.compare_spec(&spec, now, before).await.map_err(errors::engine)?.to_json())
        })
        .await
    }

    /// The engine's counters since it was created, by their snake_case names.
    #[napi]
    pub fn metrics(&self) -> napi::Result<Value> {
        guard(|| serde_json::to_value(self.inner.metrics()).map_err(errors::json_failed))
    }

    /// How many results the cache holds.
    #[napi]
    pub fn cached_results(&self) -> u32 {
        u32::try_from(self.inner.cached_results()).unwrap_or(u32::MAX)
    }

    /// Empties the result cache.
    #[napi]
    pub fn clear_cache(&self) {
        self.inner.clear_cache();
    }

    /// The logical, optimized and physical plans of a query document.
    #[napi]
    pub async fn explain(&self, query: Value) -> napi::Result<Value> {
        guard_async(async {
            let query = self.inner.query(&spec(query)?).map_err(errors::engine)?;
            let e = self.inner.explain(&query).await.map_err(errors::engine)?;
            Ok(serde_json::json!({ "logical": e.logical, "optimized": e.optimized, "physical": e.physical, "pushedDown": e.pushed_down }))
        })
        .await
    }

    /// A query document's calculation as SQL of `dialect`.
    #[napi]
    pub async fn to_sql(&self, query: Value, dialect: String) -> napi::Result<String> {
        guard_async(async {
            let dialect = SqlDialect::parse(&dialect).map_err(errors::engine)?;
            let query = self.inner.query(&spec(query)?).map_err(errors::engine)?;
            self.inner.to_sql(&query, dialect).await.map_err(errors::engine)
        })
        .await
    }

    /// Subscribes to a query document at its `refresh`.
    #[napi]
    pub async fn subscribe(&self, query: Value) -> napi::Result<Subscription> {
        guard_async(async {
            let sub = self.inner.subscribe_spec(&spec(query)?).await.map_err(errors::engine)?;
            Ok(Subscription { inner: Arc::new(Mutex::new(Some(sub))) })
        })
        .await
    }

    /// Recalculates query documents on a five-field cron schedule in the engine's time zone; the job.
    #[napi]
    pub async fn schedule(&self, name: String, cron: String, queries: Vec<Value>) -> napi::Result<Value> {
        guard_async(async {
            let queries = self.queries(queries)?;
            Ok(self.inner.schedule(&name, &cron, queries).await.map_err(errors::engine)?.to_json())
        })
        .await
    }

    /// Schedules every KPI of the catalog that has a schedule; the jobs.
    #[napi]
    pub async fn schedule_catalog(&self) -> napi::Result<Value> {
        guard_async(async {
            serde_json::to_value(self.inner.schedule_catalog().await.map_err(errors::engine)?).map_err(errors::json_failed)
        })
        .await
    }

    /// The scheduled jobs.
    #[napi]
    pub fn jobs(&self) -> napi::Result<Value> {
        guard(|| serde_json::to_value(self.inner.jobs()).map_err(errors::json_failed))
    }

    /// Cancels a job; whether it existed.
    #[napi]
    pub fn cancel_job(&self, id: u32) -> bool {
        self.inner.cancel_job(u64::from(id))
    }

    /// The views the engine maintains for subscribers.
    #[napi]
    pub fn streams(&self) -> napi::Result<Value> {
        guard(|| serde_json::to_value(self.inner.streams()).map_err(errors::json_failed))
    }
}
