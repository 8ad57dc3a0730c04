//! A live feed from a PostgreSQL table: new rows, found by the object model's time column and
//! key, polled at an interval and appended to the engine, so subscriptions and cached results
//! update. Polling, not LISTEN/NOTIFY: it needs no trigger in the user's database and sees rows
//! however they were written (COPY, replication, TimescaleDB compression jobs).
//!
//! Rows are read from the latest time seen minus a lookback, so a row whose transaction
//! commits a little after later rows (its time is earlier) is still read; the keys read within
//! the lookback are remembered, so no row is appended twice. The position (latest time and
//! recent keys) can be kept in a checkpoint file: a feed started again with it resumes where
//! it stopped.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::{cast, filter_record_batch};
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit, TimestampMicrosecondType};
use serde::{Deserialize, Serialize};

use super::pushdown::{Remote, quoted};
use super::{PostgresDsn, PostgresTable};
use crate::engine::Engine;
use crate::error::EngineError;

/// How a feed follows its table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FollowOptions {
    /// How often the table is asked for new rows (250 ms by default).
    pub poll_interval: Duration,
    /// How far before the latest time seen each poll reads again, for rows committed late
    /// (60 s by default). A row whose time is older than this when it commits is not read.
    pub lookback: Duration,
    /// The columns that identify a row (the object model's primary key when empty).
    pub key: Vec<String>,
    /// A file the feed keeps its position in, written after every append; a feed started with
    /// an existing file resumes from it instead of reading the table from the start.
    pub checkpoint: Option<PathBuf>,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions { poll_interval: Duration::from_millis(250), lookback: Duration::from_secs(60), key: Vec::new(), checkpoint: None }
    }
}

/// A feed as Python, Node and the server describe it (JSON): `table` (`name` or
/// `schema.name`, the model's code when absent), `columns` (`{model column: table column}`),
/// `key`, `poll_interval` and `lookback` (seconds or text such as `"250ms"`), `checkpoint` (a
/// file path).
///
/// ```
/// use kpi_core::FollowSettings;
/// let s = FollowSettings::from_json(r#"{"table": "sales.orders", "poll_interval": "100ms"}"#)?;
/// let (table, options) = s.resolve("orders")?;
/// assert_eq!(table.to_string(), "sales.orders");
/// assert_eq!(options.poll_interval, std::time::Duration::from_millis(100));
/// assert_eq!(FollowSettings::from_json(r#"{"lookback": -1}"#)?.resolve("orders").unwrap_err().code(), "KPI_OPTION");
/// # Ok::<(), kpi_core::EngineError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowSettings {
    /// The table, `name` or `schema.name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Model columns read from table columns of other names.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub columns: std::collections::BTreeMap<String, String>,
    /// The columns that identify a row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key: Vec<String>,
    /// How often to poll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_interval: Option<crate::TimeSetting>,
    /// How far back each poll reads again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookback: Option<crate::TimeSetting>,
    /// The checkpoint file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<PathBuf>,
}

impl FollowSettings {
    /// Reads settings from JSON text (`null` for the defaults).
    pub fn from_json(text: &str) -> Result<FollowSettings, EngineError> {
        crate::spec::settings_text("feed settings", text)
    }

    /// The table to follow for `object_model`, and the options, checked.
    pub fn resolve(&self, object_model: &str) -> Result<(PostgresTable, FollowOptions), EngineError> {
        let mut table = PostgresTable::parse(self.table.as_deref().unwrap_or(object_model))?;
        table.columns = self.columns.iter().map(|(to, from)| (to.clone(), from.clone())).collect();
        let defaults = FollowOptions::default();
        let options = FollowOptions {
            poll_interval: self.poll_interval.as_ref().map(|t| t.duration("poll_interval")).transpose()?.unwrap_or(defaults.poll_interval),
            lookback: self.lookback.as_ref().map(|t| t.duration_or_zero("lookback")).transpose()?.unwrap_or(defaults.lookback),
            key: self.key.clone(),
            checkpoint: self.checkpoint.clone(),
        };
        Ok((table, options))
    }
}

/// One value of a row's key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum KeyPart {
    /// A null.
    Null,
    /// An integer.
    Int(i64),
    /// Any other value, as text.
    Text(String),
}

/// The key of a row: one part per key column.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FeedKey(pub Vec<KeyPart>);

/// Where a feed is in its table.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedPosition {
    /// The latest event time read, in microseconds since 1970 (UTC); `None` before any row.
    pub time_micros: Option<i64>,
    /// The keys read at times within the lookback before it, with their times.
    pub recent: Vec<(FeedKey, i64)>,
}

impl FeedPosition {
    /// The position kept in `path`, if the file exists.
    pub fn load(path: &Path) -> Result<Option<FeedPosition>, EngineError> {
        let bad = |message: String| EngineError::Read { path: path.display().to_string(), format: "a feed checkpoint", message };
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| bad(e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(bad(e.to_string())),
        }
    }

    /// Writes the position to `path` atomically: a new file, synced, renamed over the old one.
    pub fn save(&self, path: &Path) -> Result<(), EngineError> {
        use std::io::Write;
        let failed =
            |e: std::io::Error| EngineError::Read { path: path.display().to_string(), format: "a feed checkpoint", message: e.to_string() };
        let text = serde_json::to_vec(self).map_err(|e| EngineError::Internal(e.to_string()))?;
        let fresh = path.with_extension("tmp");
        let mut file = std::fs::File::create(&fresh).map_err(failed)?;
        file.write_all(&text).and_then(|_| file.sync_all()).map_err(failed)?;
        std::fs::rename(&fresh, path).map_err(failed)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(failed)?;
        }
        Ok(())
    }
}

/// What a feed has done.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct FeedStatus {
    /// Polls made.
    pub polls: u64,
    /// Rows appended to the engine.
    pub rows_appended: u64,
    /// Polls that failed.
    pub errors: u64,
    /// The error of the last poll, if it failed (the feed keeps polling, backing off to 5 s).
    pub last_error: Option<String>,
    /// When the last poll finished.
    pub last_poll: Option<DateTime<Utc>>,
    /// Where the feed is.
    pub position: FeedPosition,
}

/// A running feed; dropping it (or [`Feed::stop`]) stops it.
pub struct Feed {
    status: Arc<Mutex<FeedStatus>>,
    stop: tokio::sync::watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Feed {
    /// What the feed has done so far.
    pub fn status(&self) -> FeedStatus {
        self.status.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Stops the feed and waits for a poll in progress to finish, so nothing is appended after.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// The state of a feed between polls.
struct Follower {
    engine: Engine,
    model: String,
    /// The table as the model's columns and types, as pushed-down queries read it.
    remote: Remote,
    time: String,
    /// Whether the time column holds instants (`timestamptz`) rather than wall-clock times.
    zoned: bool,
    key: Vec<String>,
    lookback: i64,
    checkpoint: Option<PathBuf>,
    position: FeedPosition,
    seen: HashSet<FeedKey>,
}

impl Follower {
    /// Reads the rows after the position, appends the new ones, and moves the position.
    async fn poll(&mut self) -> Result<u64, EngineError> {
        // One statement on one connection (the connect timeout bounds a server gone away), the
        // columns cast in the database as for pushed-down queries.
        let since = self.position.time_micros.and_then(|latest| DateTime::from_timestamp_micros(latest.saturating_sub(self.lookback)));
        // A literal of the column's own kind: PostgreSQL compares a `timestamptz` with a
        // `timestamp` in the session's time zone, which would move the boundary by its offset.
        let filter = since.map_or(String::new(), |t| {
            let literal = if self.zoned {
                format!("'{}'::timestamptz", t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            } else {
                format!("'{}'::timestamp", t.format("%Y-%m-%d %H:%M:%S%.6f"))
            };
            format!(" WHERE {} >= {literal}", quoted(&self.time))
        });
        let sql = format!("SELECT * FROM ({}) AS feed{filter}", self.remote.relation);
        let mut batches = Vec::new();
        super::for_each_batch(self.remote.pool.as_ref(), &self.remote.dsn, &sql, "cannot read new rows", |b| {
            batches.push(b);
            Ok(())
        })
        .await?;
        // The position moves only once the rows are appended: a failed append (a row the
        // model refuses) leaves it where it was, to be read again.
        let (mut fresh, mut appended, mut read) = (Vec::new(), 0u64, Vec::new());
        let mut latest = self.position.time_micros;
        let mut this_poll = HashSet::new();
        for batch in batches {
            let times = micros(batch.column_by_name(&self.time).ok_or_else(|| EngineError::Internal("no time column".into()))?)?;
            let keys = keys(&batch, &self.key)?;
            let mut keep = Vec::with_capacity(batch.num_rows());
            for (key, time) in keys.into_iter().zip(times) {
                let new = !self.seen.contains(&key) && this_poll.insert(key.clone());
                keep.push(new);
                // Rows without a time are read by the first poll only (later polls filter on it).
                if let Some(t) = time {
                    if new {
                        read.push((key, t));
                    }
                    latest = Some(latest.map_or(t, |p| p.max(t)));
                }
            }
            let rows = filter_record_batch(&batch, &BooleanArray::from(keep)).map_err(|e| EngineError::Internal(e.to_string()))?;
            appended += rows.num_rows() as u64;
            if rows.num_rows() > 0 {
                fresh.push(rows);
            }
        }
        if !fresh.is_empty() {
            self.engine.append_batches(&self.model, fresh)?;
        }
        self.position.time_micros = latest;
        self.seen.extend(read.iter().map(|(k, _)| k.clone()));
        self.position.recent.extend(read);
        // Keys older than the lookback are not read again.
        if let Some(latest) = self.position.time_micros {
            let horizon = latest.saturating_sub(self.lookback);
            let seen = &mut self.seen;
            self.position.recent.retain(|(key, t)| {
                let keep = *t >= horizon;
                if !keep {
                    seen.remove(key);
                }
                keep
            });
        }
        if appended > 0
            && let Some(path) = &self.checkpoint
        {
            self.position.save(path)?;
        }
        Ok(appended)
    }
}

/// The times of `column` in microseconds since 1970 (UTC).
fn micros(column: &ArrayRef) -> Result<Vec<Option<i64>>, EngineError> {
    let as_micros =
        cast(column, &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))).map_err(|e| EngineError::Internal(e.to_string()))?;
    Ok(as_micros.as_primitive::<TimestampMicrosecondType>().iter().collect())
}

/// The key of every row of `batch`.
fn keys(batch: &RecordBatch, columns: &[String]) -> Result<Vec<FeedKey>, EngineError> {
    let internal = |e: datafusion::arrow::error::ArrowError| EngineError::Internal(e.to_string());
    let mut keys: Vec<FeedKey> = (0..batch.num_rows()).map(|_| FeedKey(Vec::with_capacity(columns.len()))).collect();
    for name in columns {
        let column = batch.column_by_name(name).ok_or_else(|| EngineError::Internal(format!("no key column {name}")))?;
        if column.data_type().is_integer() {
            let ints = cast(column, &DataType::Int64).map_err(internal)?;
            for (key, v) in keys.iter_mut().zip(ints.as_primitive::<Int64Type>().iter()) {
                key.0.push(v.map_or(KeyPart::Null, KeyPart::Int));
            }
        } else {
            let text = cast(column, &DataType::Utf8).map_err(internal)?;
            for (key, v) in keys.iter_mut().zip(text.as_string::<i32>().iter()) {
                key.0.push(v.map_or(KeyPart::Null, |s| KeyPart::Text(s.to_string())));
            }
        }
    }
    Ok(keys)
}

impl Engine {
    /// Follows `table` (a table of the PostgreSQL database at `dsn`): reads its rows now and
    /// appends them to `object_model`, then appends rows that appear later, polled every
    /// [`FollowOptions::poll_interval`]. Subscriptions and cached results see them as any
    /// appended rows.
    ///
    /// The first poll runs before this returns, so a bad connection, table or key is an error
    /// here; later failures are counted in [`Feed::status`] and the feed keeps trying, backing
    /// off to one poll every 5 s, while the engine serves its other data. With
    /// [`FollowOptions::checkpoint`] set to a file that exists, the feed starts from the
    /// position kept there and reads only what came after.
    pub async fn follow_postgres(
        &self,
        object_model: &str,
        dsn: &PostgresDsn,
        table: &PostgresTable,
        options: FollowOptions,
    ) -> Result<Feed, EngineError> {
        let model = &self.model(object_model)?;
        let invalid = |message: String| EngineError::InvalidOption { option: "follow", message };
        let time = model
            .time_column
            .clone()
            .ok_or_else(|| invalid(format!("object model `{object_model}` has no time column to follow new rows by")))?;
        let key = if options.key.is_empty() { model.primary_key.clone() } else { options.key.clone() };
        if key.is_empty() {
            return Err(invalid(format!("object model `{object_model}` has no primary key; name the columns that identify a row (key)")));
        }
        if let Some(unknown) = key.iter().find(|k| model.column(k).is_none()) {
            return Err(invalid(format!("key column `{unknown}` is not a column of `{object_model}`")));
        }
        let position = match &options.checkpoint {
            Some(path) => FeedPosition::load(path)?.unwrap_or_default(),
            None => FeedPosition::default(),
        };
        let (_, pool, renames) = self.postgres_provider(object_model, dsn, table).await?;
        let source = |column: &str| super::source_column(&renames, column);
        let remote = Remote::new(dsn, pool, model, table, source)
            .ok_or_else(|| invalid(format!("a column of `{object_model}` has a type the feed cannot read from PostgreSQL")))?;
        let seen = position.recent.iter().map(|(k, _)| k.clone()).collect();
        let lookback = i64::try_from(options.lookback.as_micros()).unwrap_or(i64::MAX);
        let mut follower = Follower {
            engine: self.clone(),
            model: object_model.to_string(),
            remote,
            zoned: matches!(model.column(&time).map(|c| c.data_type.to_arrow()), Some(DataType::Timestamp(_, Some(_)))),
            time,
            key,
            lookback,
            checkpoint: options.checkpoint.clone(),
            position,
            seen,
        };
        let first = follower.poll().await?;
        let status = Arc::new(Mutex::new(FeedStatus {
            polls: 1,
            rows_appended: first,
            last_poll: Some(Utc::now()),
            position: follower.position.clone(),
            ..FeedStatus::default()
        }));
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let shared = status.clone();
        let interval = options.poll_interval.max(Duration::from_millis(10));
        let task = tokio::spawn(async move {
            let mut wait = interval;
            loop {
                tokio::select! {
                    _ = stopped.changed() => return,
                    _ = tokio::time::sleep(wait) => {}
                }
                let outcome = follower.poll().await;
                // A failing feed raises its source's alerts; a poll that works clears them.
                follower.engine.source_health(&follower.model, |h| match &outcome {
                    Ok(_) => h.polled(),
                    Err(e) => h.failed(&e.to_string()),
                });
                let mut s = shared.lock().unwrap_or_else(|p| p.into_inner());
                s.polls += 1;
                s.last_poll = Some(Utc::now());
                match outcome {
                    Ok(rows) => {
                        s.rows_appended += rows;
                        s.last_error = None;
                        wait = interval;
                    }
                    Err(e) => {
                        tracing::warn!(model = %follower.model, error = %e, "feed poll failed");
                        s.errors += 1;
                        s.last_error = Some(e.to_string());
                        wait = (wait * 2).min(Duration::from_secs(5)).max(interval);
                    }
                }
                s.position = follower.position.clone();
            }
        });
        Ok(Feed { status, stop, task: Some(task) })
    }
}
