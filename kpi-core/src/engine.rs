//! The engine: a catalog, the data registered for its object models, and a DataFusion session.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use datafusion::arrow::array::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};
#[cfg(feature = "demo")]
use kpi_catalog::DemoData;
use kpi_catalog::{Catalog, ClientConfig, ObjectModel};
use kpi_formula::diagnostic::did_you_mean;

use crate::cache::{Flights, ResultCache};
use crate::data::{AppendReport, Layout, TableData, check_lateness, conform_batches, conform_provider, latest_time};
use crate::error::EngineError;
use crate::isolation::Lanes;
use crate::metrics::{Counters, Metrics};
use crate::options::EngineOptions;

/// The KPI engine. Cloning is cheap and clones share data, cache and counters, so one engine
/// serves a whole process; calculations on it may run concurrently from any task.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// The catalog now; a definition change swaps it whole (`crate::definitions`).
    pub(crate) catalog: RwLock<Arc<Catalog>>,
    /// Which definitions changed when, for cached results and calculations in flight.
    pub(crate) definitions: crate::definitions::Definitions,
    /// The client whose field mappings rename registered data's columns; its custom KPIs
    /// follow definition changes.
    pub(crate) client: RwLock<Option<ClientConfig>>,
    pub(crate) options: EngineOptions,
    pub(crate) ctx: SessionContext,
    /// One partition, sharing the memory pool: for inputs too small to gain from parallelism.
    pub(crate) small_ctx: SessionContext,
    /// The Ballista cluster calculations run on, if any.
    pub(crate) cluster: Option<crate::cluster::Cluster>,
    pub(crate) tables: RwLock<HashMap<String, TableData>>,
    versions: AtomicU64,
    pub(crate) cache: ResultCache,
    /// Physical plans of small queries, run again over the same data.
    pub(crate) prepared: crate::prepared::PreparedPlans,
    /// Cacheable calculations running now, which identical ones join.
    pub(crate) flights: Flights,
    pub(crate) lanes: Lanes,
    pub(crate) counters: Counters,
    pub(crate) layout: Layout,
    /// The latest data version, sent on every registration, append and removal.
    pub(crate) changes: tokio::sync::watch::Sender<u64>,
    /// Maintained views by query and refresh, while anyone subscribes.
    pub(crate) views: std::sync::Mutex<HashMap<crate::stream::ViewKey, Arc<crate::stream::View>>>,
    /// Scheduled jobs.
    pub(crate) jobs: std::sync::Mutex<crate::stream::Jobs>,
    /// The partial states of maintained views, fed by appends.
    pub(crate) cubes: crate::stream::Cubes,
    /// Queries followed by maintained states, answered from them (`crate::answers`).
    pub(crate) answers: crate::answers::Answers,
    /// Alert rules, their states and events.
    pub(crate) alerts: crate::alerts::Alerts,
    /// Notifiers, the mail server and undeliverable events.
    pub(crate) notify: crate::notify::Notify,
    /// Reports and their runs.
    pub(crate) reports: crate::reports::Reports,
    /// Connection pools of the PostgreSQL databases data is registered from.
    #[cfg(feature = "postgres")]
    pub(crate) postgres: crate::postgres::Pools,
    /// Retention, archives and the data directory.
    pub(crate) lifecycle: crate::lifecycle::Lifecycle,
}

/// What is registered for one object model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredData {
    /// The object model.
    pub object_model: String,
    /// The data version; it changes with every registration or append.
    pub version: u64,
    /// Rows held in memory (for file- or provider-backed data, only the appended rows).
    pub memory_rows: usize,
    /// Whether every row is in memory.
    pub in_memory: bool,
}

impl Engine {
    /// An engine over `catalog` with default options.
    pub fn new(catalog: impl Into<Arc<Catalog>>) -> Result<Engine, EngineError> {
        Engine::with_options(catalog, EngineOptions::default())
    }

    /// An engine over `catalog` with `options`.
    pub fn with_options(catalog: impl Into<Arc<Catalog>>, options: EngineOptions) -> Result<Engine, EngineError> {
        Engine::build(catalog.into(), None, options)
    }

    /// An engine for one client: over `catalog` as the client sees it
    /// ([`Catalog::for_client`]: its custom KPIs, everything validated), and with the client's
    /// field mappings applied to data registered or appended, so columns named as in the
    /// client's systems (`total_amount`, or `sales.orders.total_amount`) arrive as the object
    /// model's (`order_value`).
    pub fn for_client(catalog: &Catalog, client: ClientConfig, options: EngineOptions) -> Result<Engine, EngineError> {
        let catalog = catalog.for_client(&client)?;
        Engine::build(Arc::new(catalog), Some(client), options)
    }

    fn build(catalog: Arc<Catalog>, client: Option<ClientConfig>, options: EngineOptions) -> Result<Engine, EngineError> {
        options.check()?;
        let mut config = SessionConfig::new().with_information_schema(false);
        if let Some(n) = options.target_partitions {
            config = config.with_target_partitions(n);
        }
        let partitions = config.target_partitions();
        let batch_rows = config.batch_size();
        let mut runtime = RuntimeEnvBuilder::new();
        if let Some(limit) = options.memory_limit {
            runtime = runtime.with_memory_limit(limit, 1.0);
        }
        let runtime = runtime.build_arc().map_err(EngineError::Execution)?;
        let small_ctx = small_session(config.clone(), runtime.clone());
        let cluster = options.cluster.clone().map(|c| crate::cluster::Cluster::new(c, &config)).transpose()?;
        let ctx = SessionContext::new_with_config_rt(config, runtime);
        let lanes = Lanes::new(options.lane_concurrency);
        let (lifecycle, recovered) = crate::lifecycle::Lifecycle::open(&options, &catalog, client.as_ref(), &ctx)?;
        let engine = Engine {
            inner: Arc::new(Inner {
                catalog: RwLock::new(catalog),
                definitions: crate::definitions::Definitions::default(),
                client: RwLock::new(client),
                options,
                ctx,
                small_ctx,
                cluster,
                tables: RwLock::default(),
                versions: AtomicU64::new(1),
                cache: ResultCache::default(),
                prepared: crate::prepared::PreparedPlans::default(),
                flights: Flights::default(),
                lanes,
                counters: Counters::default(),
                layout: Layout { partitions, batch_rows },
                changes: tokio::sync::watch::Sender::new(0),
                views: std::sync::Mutex::default(),
                jobs: std::sync::Mutex::default(),
                cubes: crate::stream::Cubes::default(),
                answers: crate::answers::Answers::default(),
                alerts: crate::alerts::Alerts::default(),
                notify: crate::notify::Notify::default(),
                reports: crate::reports::Reports::default(),
                #[cfg(feature = "postgres")]
                postgres: crate::postgres::Pools::default(),
                lifecycle,
            }),
        };
        engine.restore(recovered)?;
        engine.enforce_retention();
        Ok(engine)
    }

    /// Installs the tables a data directory held, and an empty active table for each object
    /// model that has only archived rows (so its history stays readable).
    fn restore(&self, recovered: std::collections::BTreeMap<String, crate::lifecycle::DurableTable>) -> Result<(), EngineError> {
        let lifecycle = &self.inner.lifecycle;
        let limit = self.future_limit();
        let mut tables = self.inner.tables.write().unwrap_or_else(|p| p.into_inner());
        let archived = lifecycle.archived_models();
        for (code, table) in recovered {
            if table.over_provider {
                lifecycle.hold_pending(&code, table.batches);
                continue;
            }
            let model = self.model(&code)?;
            let batches = conform_batches(&model, table.batches)?;
            let watermark = latest_time(&model, &batches, limit);
            let version = self.next_version();
            let data = TableData::memory(&model, batches, version, self.inner.layout)?
                .at_version(version)
                .with_watermark(watermark)
                .with_archive(&self.inner.ctx, lifecycle.archive_of(&code))?;
            tables.insert(code, data);
        }
        for code in archived {
            if !tables.contains_key(&code) && !lifecycle.has_pending(&code) {
                let model = self.model(&code)?;
                let version = self.next_version();
                let data = TableData::memory(&model, Vec::new(), version, self.inner.layout)?
                    .at_version(version)
                    .with_archive(&self.inner.ctx, lifecycle.archive_of(&code))?;
                tables.insert(code, data);
            }
        }
        Ok(())
    }

    /// The latest event time that may move a watermark: the clock plus the allowed skew.
    fn future_limit(&self) -> i64 {
        let skew = chrono::Duration::from_std(self.inner.options.clock_skew).unwrap_or(chrono::Duration::MAX);
        self.inner.options.clock.now().checked_add_signed(skew).map_or(i64::MAX, |t| t.timestamp_micros())
    }

    /// The catalog now (KPIs defined or removed later do not change the one returned).
    pub fn catalog(&self) -> Arc<Catalog> {
        self.inner.catalog.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The client of an engine made with [`Engine::for_client`], with the KPIs defined in
    /// the running engine among its custom KPIs (save it to keep them).
    pub fn client(&self) -> Option<ClientConfig> {
        self.inner.client.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The options.
    pub fn options(&self) -> &EngineOptions {
        &self.inner.options
    }

    /// The DataFusion session the engine plans and executes in.
    pub fn session(&self) -> &SessionContext {
        &self.inner.ctx
    }

    /// Registers record batches as the data of `object_model`, replacing what it had.
    ///
    /// Columns are found by name; extra columns are dropped; compatible types (nanosecond
    /// timestamps, narrower integers, string views, dictionaries) are cast to the declared ones.
    /// No batches (or only empty ones) register an empty table.
    pub fn register_batches(&self, object_model: &str, batches: Vec<RecordBatch>) -> Result<(), EngineError> {
        let model = &self.model(object_model)?;
        let batches = conform_batches(model, self.mapped(object_model, batches)?)?;
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        let watermark = latest_time(model, &batches, self.future_limit());
        let record = crate::lifecycle::Record::Register { model: object_model.to_string(), batches: batches.clone() };
        let data = TableData::memory(model, batches, 0, self.inner.layout)?.with_watermark(watermark);
        self.install(object_model, data, rows, record)
    }

    /// Appends record batches to the data of `object_model` (registering it if it has none).
    /// Appended rows are visible to the next calculation and refresh subscriptions.
    ///
    /// The report counts rows older than the latest event time seen before (late rows, which
    /// correct earlier periods) and those beyond [`EngineOptions::allowed_lateness`]; every row
    /// is kept either way.
    pub fn append_batches(&self, object_model: &str, batches: Vec<RecordBatch>) -> Result<AppendReport, EngineError> {
        let model = &self.model(object_model)?;
        let batches = conform_batches(model, self.mapped(object_model, batches)?)?;
        // Hold the write lock across read-modify-write so concurrent appends are not lost.
        let mut tables = self.inner.tables.write().unwrap_or_else(|p| p.into_inner());
        let version = self.next_version();
        let previous = tables.get(object_model).and_then(|d| d.watermark);
        let (report, watermark, span) = check_lateness(model, &batches, previous, self.inner.options.allowed_lateness, self.future_limit());
        let (data, released) = match tables.get(object_model) {
            Some(existing) => {
                let retention = self.inner.options.retention.and_then(|r| i64::try_from(r.as_micros()).ok());
                let release_before = watermark.zip(retention).map(|(w, r)| w.saturating_sub(r));
                let (appended, released) =
                    existing.append(&self.inner.ctx, model, batches.clone(), version, self.inner.layout, release_before)?;
                let mut data = appended.logging_append(existing, span, batches.clone(), released > 0);
                if released == 0
                    && let Some(time) = model.time_column.as_deref().and_then(|c| model.column(c))
                {
                    data.bounds = Arc::new(existing.bounds.extended(span, &time.data_type.to_arrow()));
                }
                (data.with_archive(&self.inner.ctx, existing.archive.clone())?, released)
            }
            None => (
                TableData::memory(model, batches.clone(), version, self.inner.layout)?
                    .with_archive(&self.inner.ctx, self.inner.lifecycle.archive_of(object_model))?,
                0,
            ),
        };
        // Logged (and synced) once the new data is built and before anything changes: an append
        // is acknowledged only once durable, and a logged append is one that applies.
        self.inner.lifecycle.log(&crate::lifecycle::Record::Append { model: object_model.to_string(), batches: batches.clone() })?;
        Counters::add(&self.inner.counters.rows_released, released as u64);
        if let Some(existing) = tables.get(object_model) {
            // Views' partial states take the rows now, in the appender's time.
            self.inner.cubes.feed(object_model, existing.version, &batches, version);
        }
        tables.insert(object_model.to_string(), data.with_watermark(watermark));
        drop(tables);
        let counters = &self.inner.counters;
        Counters::add(&counters.rows_ingested, report.rows as u64);
        Counters::add(&counters.late_rows, report.late_rows as u64);
        Counters::add(&counters.rows_beyond_lateness, report.beyond_lateness as u64);
        Counters::add(&counters.rows_from_future, report.future_rows as u64);
        self.announce(version);
        self.source_health(object_model, |h| h.data(report.beyond_lateness));
        Ok(report)
    }

    /// `batches` with the client's field mappings applied (unchanged without a client).
    fn mapped(&self, object_model: &str, batches: Vec<RecordBatch>) -> Result<Vec<RecordBatch>, EngineError> {
        match &*self.inner.client.read().unwrap_or_else(|p| p.into_inner()) {
            Some(client) => crate::data::mapping::apply(client, object_model, batches),
            None => Ok(batches),
        }
    }

    /// Registers any DataFusion table provider as the data of `object_model`.
    pub fn register_table(&self, object_model: &str, provider: Arc<dyn TableProvider>) -> Result<(), EngineError> {
        let model = &self.model(object_model)?;
        let provider = conform_provider(&self.inner.ctx, model, provider)?;
        self.install(
            object_model,
            TableData::provider(provider, 0),
            0,
            crate::lifecycle::Record::Provider { model: object_model.to_string() },
        )
    }

    /// Registers every table of generated demo data.
    #[cfg(feature = "demo")]
    pub fn register_demo(&self, data: DemoData) -> Result<(), EngineError> {
        for (name, (_, batches)) in data.into_tables() {
            self.register_batches(&name, batches)?;
        }
        Ok(())
    }

    /// Removes the data of `object_model`; returns whether it had any. Its archived rows stay
    /// in the archive, read again once data is registered for it.
    ///
    /// With a [data directory](EngineOptions::data_dir), the removal is logged; if that fails
    /// (a full disk), nothing is removed and this returns `false`.
    pub fn unregister(&self, object_model: &str) -> bool {
        let mut tables = self.inner.tables.write().unwrap_or_else(|p| p.into_inner());
        if !tables.contains_key(object_model) {
            return false;
        }
        if let Err(e) = self.inner.lifecycle.log(&crate::lifecycle::Record::Unregister { model: object_model.to_string() }) {
            tracing::error!(error = %e, object_model, "cannot log the removal; the data stays");
            return false;
        }
        tables.remove(object_model);
        let version = self.next_version();
        drop(tables);
        self.announce(version);
        true
    }

    /// What is registered, by object model.
    pub fn registered(&self) -> Vec<RegisteredData> {
        let tables = self.inner.tables.read().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<RegisteredData> = tables
            .iter()
            .map(|(name, d)| RegisteredData {
                object_model: name.clone(),
                version: d.version,
                memory_rows: d.memory_rows,
                in_memory: d.in_memory(),
            })
            .collect();
        out.sort_by(|a, b| a.object_model.cmp(&b.object_model));
        out
    }

    /// The in-memory batches of `object_model`, when all its data is in memory.
    pub fn batches(&self, object_model: &str) -> Option<Vec<RecordBatch>> {
        let tables = self.inner.tables.read().unwrap_or_else(|p| p.into_inner());
        tables.get(object_model).and_then(|d| d.batches())
    }

    /// The table provider calculations scan for `object_model` (the registered data seen
    /// through the model's schema), e.g. to query it with SQL in [`session`](Self::session).
    pub fn table_provider(&self, object_model: &str) -> Option<Arc<dyn TableProvider>> {
        let tables = self.inner.tables.read().unwrap_or_else(|p| p.into_inner());
        tables.get(object_model).map(|d| d.provider.clone())
    }

    /// The engine's counters.
    pub fn metrics(&self) -> Metrics {
        let (cached_bytes, maintained_bytes) = (self.inner.cache.bytes() as u64, self.inner.answers.bytes() as u64);
        Metrics { cached_bytes, maintained_bytes, ..self.inner.counters.snapshot() }
    }

    /// How many results the cache holds.
    pub fn cached_results(&self) -> usize {
        self.inner.cache.len()
    }

    /// Drops every cached result.
    pub fn clear_cache(&self) {
        self.inner.cache.clear();
        self.inner.prepared.clear();
        self.inner.answers.clear();
    }

    /// The object model `code` (object models do not change with definitions, so a copy).
    pub(crate) fn model(&self, code: &str) -> Result<ObjectModel, EngineError> {
        let catalog = self.catalog();
        if code == crate::lifecycle::HISTORY_TABLE {
            return crate::lifecycle::model_of(&catalog, code);
        }
        catalog.object_model(code).cloned().map_err(|_| EngineError::UnknownObjectModel {
            name: code.to_string(),
            suggestion: did_you_mean(code, catalog.object_models().map(|m| m.code.as_str())).map(str::to_string),
        })
    }

    /// Tells views the data changed, up to `version`; never announces an older version after
    /// a newer one (two writers may announce out of order once their locks are released).
    pub(crate) fn announce(&self, version: u64) {
        self.inner.changes.send_if_modified(|latest| {
            let newer = version > *latest;
            *latest = (*latest).max(version);
            newer
        });
    }

    pub(crate) fn next_version(&self) -> u64 {
        self.inner.versions.fetch_add(1, Ordering::Relaxed)
    }

    /// Installs fresh `data` (built at any version) as the data of `object_model`, at a version
    /// allocated under the tables' lock: a registration racing an append never installs an older
    /// version over a newer one, so a cached result is never patched from the wrong data.
    ///
    /// `record` is what the data directory logs for it: the batches registered, or that a
    /// provider now holds the data (rows appended over the model's provider before a restart
    /// are appended to it again, and logged again).
    pub(crate) fn install(
        &self,
        object_model: &str,
        data: TableData,
        rows: usize,
        record: crate::lifecycle::Record,
    ) -> Result<(), EngineError> {
        let lifecycle = &self.inner.lifecycle;
        let mut tables = self.inner.tables.write().unwrap_or_else(|p| p.into_inner());
        lifecycle.log(&record)?;
        let version = self.next_version();
        let mut data = data.at_version(version);
        if let crate::lifecycle::Record::Provider { .. } = record
            && let Some(pending) = lifecycle.take_pending(object_model)
            && !pending.is_empty()
        {
            let logged = lifecycle.log(&crate::lifecycle::Record::Append { model: object_model.to_string(), batches: pending.clone() });
            if let Err(e) = logged {
                lifecycle.hold_pending(object_model, pending);
                return Err(e);
            }
            let model = self.model(object_model)?;
            data = data.append(&self.inner.ctx, &model, pending, version, self.inner.layout, None)?.0.at_version(version);
        }
        let data = data.with_archive(&self.inner.ctx, lifecycle.archive_of(object_model))?;
        tables.insert(object_model.to_string(), data);
        drop(tables);
        Counters::add(&self.inner.counters.rows_ingested, rows as u64);
        self.announce(version);
        self.source_health(object_model, |h| h.data(0));
        Ok(())
    }
}

/// A one-partition session for small inputs with only the physical rule that makes a plan
/// runnable (the ordering and distribution operators require), none of those that pay off on
/// large data.
fn small_session(config: SessionConfig, runtime: Arc<datafusion::execution::runtime_env::RuntimeEnv>) -> SessionContext {
    use datafusion::physical_optimizer::PhysicalOptimizerRule;
    use datafusion::physical_optimizer::ensure_requirements::EnsureRequirements;
    let rules: Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> = vec![Arc::new(EnsureRequirements::new())];
    let state = datafusion::execution::SessionStateBuilder::new()
        .with_config(config.with_target_partitions(1))
        .with_runtime_env(runtime)
        .with_default_features()
        .with_physical_optimizer_rules(rules)
        .build();
    SessionContext::new_with_state(state)
}
