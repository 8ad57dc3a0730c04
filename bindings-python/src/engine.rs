//! The engine: data registration and calculation. Queries and settings cross as the core's JSON
//! documents ([`QuerySpec`], [`EngineSettings`]), so every rule about them lives in kpi-core.
//! Calculations run on a shared tokio runtime with the GIL released.

use std::sync::{Arc, OnceLock};

use futures::FutureExt;
use kpi_core::forecast::{Forecast, ForecastSettings};
use kpi_core::{
    AlertRuleSpec, Baseline, EngineError, EngineSettings, FollowSettings, KpiResult, MailSettings, NotifierSpec, PostgresDsn,
    PostgresTable, QuerySpec, ReportSpec, SqlDialect,
};
use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::arrow::{Table, read_stream};
use crate::catalog::{Catalog, ClientConfig};
use crate::errors::{Failure, Outcome, guarded, panic_message};

fn runtime() -> Result<&'static Runtime, EngineError> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| EngineError::Internal(format!("could not start the engine's runtime: {e}")))
}

/// Runs `work` to completion with the GIL released, checking for signals every 100 ms so
/// Ctrl-C interrupts it (dropping `work` stops the calculation's DataFusion streams). A panic
/// inside becomes an `InternalError`.
pub(crate) fn run<T: Send>(py: Python<'_>, work: impl std::future::Future<Output = T> + Send) -> Outcome<T> {
    let runtime = runtime()?;
    let mut work = Box::pin(std::panic::AssertUnwindSafe(work).catch_unwind());
    loop {
        // The timer is made inside the runtime, which it needs.
        let step = py.detach(|| runtime.block_on(async { tokio::time::timeout(std::time::Duration::from_millis(100), &mut work).await }));
        match step {
            Ok(Ok(done)) => return Ok(done),
            Ok(Err(panic)) => return Err(EngineError::Internal(panic_message(panic.as_ref())).into()),
            Err(_) => py.check_signals()?,
        }
    }
}

fn spec(json: &str) -> Outcome<QuerySpec> {
    Ok(QuerySpec::from_json(json)?)
}

/// A KPI engine over a catalog.
#[pyclass(module = "kpi_engine._native", frozen)]
pub(crate) struct Engine {
    inner: kpi_core::Engine,
}

/// A calculated result: Arrow rows plus what was calculated.
#[pyclass(module = "kpi_engine._native", frozen)]
pub(crate) struct CalcResult {
    inner: Arc<KpiResult>,
}

#[pymethods]
impl CalcResult {
    /// The rows as an Arrow table.
    fn table(&self) -> Table {
        Table { schema: self.inner.schema(), batches: self.inner.batches().to_vec() }
    }

    /// The whole result (rows, summaries, timing) as JSON.
    fn to_json(&self) -> String {
        self.inner.to_json().to_string()
    }
}

/// A forecast: Arrow rows (`period`, the dimensions, `value`, `lower`, `upper`) plus the models.
#[pyclass(module = "kpi_engine._native", frozen)]
pub(crate) struct ForecastResult {
    inner: Arc<Forecast>,
}

#[pymethods]
impl ForecastResult {
    /// The forecast rows as an Arrow table.
    fn table(&self) -> Table {
        Table { schema: self.inner.schema(), batches: vec![self.inner.batch().clone()] }
    }

    /// The models, histories and forecasts per group as JSON.
    fn to_json(&self) -> String {
        self.inner.to_json().to_string()
    }
}

/// Forecasts a series of values (`None` where a period has none) with forecast settings (a
/// JSON document); the forecast and its model as JSON.
#[pyfunction]
#[pyo3(signature = (values, settings=None))]
pub(crate) fn forecast_series(values: Vec<Option<f64>>, settings: Option<&str>) -> Outcome<String> {
    guarded(|| {
        let settings = ForecastSettings::from_json(settings.unwrap_or("null"))?;
        let forecast =
            kpi_core::forecast::forecast_series(&values, &settings.to_options(None)?).map_err(|e| e.into_engine("the series"))?;
        json(&forecast)
    })
}

fn result(r: KpiResult) -> CalcResult {
    CalcResult { inner: Arc::new(r) }
}

fn json<T: serde::Serialize>(value: &T) -> Outcome<String> {
    serde_json::to_string(value).map_err(|e| EngineError::Internal(format!("could not write JSON: {e}")).into())
}

impl Engine {
    /// The queries of JSON query documents.
    fn queries(&self, documents: &[String]) -> Outcome<Vec<kpi_formula::Query>> {
        documents.iter().map(|q| Ok(self.inner.query(&spec(q)?)?)).collect()
    }
}

#[pymethods]
impl Engine {
    /// An engine over `catalog` with `settings` (an `EngineSettings` JSON document), for
    /// `client` (its custom KPIs and field mappings) when given.
    #[new]
    #[pyo3(signature = (catalog, settings=None, client=None))]
    fn new(catalog: &Catalog, settings: Option<&str>, client: Option<&ClientConfig>) -> Outcome<Engine> {
        guarded(|| {
            let options = match settings {
                Some(text) => EngineSettings::from_json(text)?.to_options()?,
                None => kpi_core::EngineOptions::default(),
            };
            // The engine spawns maintenance tasks, so it is created inside the runtime.
            let _guard = runtime()?.enter();
            let catalog = catalog.get();
            let inner = match client {
                Some(client) => kpi_core::Engine::for_client(&catalog, client.inner.clone(), options)?,
                None => kpi_core::Engine::with_options(catalog, options)?,
            };
            Ok(Engine { inner })
        })
    }

    /// The client configuration of a client's engine, with the KPIs defined in it since.
    fn client(&self) -> Option<ClientConfig> {
        self.inner.client().map(|inner| ClientConfig { inner })
    }

    /// The catalog the engine calculates (for a client: as the client sees it).
    fn catalog(&self) -> Catalog {
        Catalog::new(self.inner.catalog())
    }

    /// Registers Arrow data as the rows of `object_model`, replacing any before.
    fn register(&self, py: Python<'_>, object_model: &str, data: &Bound<'_, PyAny>) -> Outcome<()> {
        guarded(|| {
            let (_, batches) = read_stream(data)?;
            let engine = self.inner.clone();
            py.detach(|| engine.register_batches(object_model, batches)).map_err(Failure::from)
        })
    }

    /// Appends Arrow data to the rows of `object_model`; returns (rows, late, beyond lateness, from the future).
    fn append(&self, py: Python<'_>, object_model: &str, data: &Bound<'_, PyAny>) -> Outcome<(usize, usize, usize, usize)> {
        guarded(|| {
            let (_, batches) = read_stream(data)?;
            let engine = self.inner.clone();
            let report = py.detach(|| engine.append_batches(object_model, batches))?;
            Ok((report.rows, report.late_rows, report.beyond_lateness, report.future_rows))
        })
    }

    /// Registers Parquet files (a file, directory, glob or URL) as the rows of `object_model`.
    fn register_parquet(&self, py: Python<'_>, object_model: &str, path_or_url: &str) -> Outcome<()> {
        guarded(|| Ok(run(py, self.inner.register_parquet(object_model, path_or_url))??))
    }

    /// Registers CSV files (each with a header row; a file, directory, glob or URL) as the rows
    /// of `object_model`.
    fn register_csv(&self, py: Python<'_>, object_model: &str, path_or_url: &str) -> Outcome<()> {
        guarded(|| Ok(run(py, self.inner.register_csv(object_model, path_or_url))??))
    }

    /// Registers a PostgreSQL table or view as the rows of `object_model`; `columns` maps model
    /// columns to the table's columns of other names.
    #[pyo3(signature = (object_model, dsn, table, columns=Vec::new()))]
    fn register_postgres(&self, py: Python<'_>, object_model: &str, dsn: &str, table: &str, columns: Vec<(String, String)>) -> Outcome<()> {
        guarded(|| {
            let dsn: PostgresDsn = dsn.parse()?;
            let mut table = PostgresTable::parse(table)?;
            table.columns = columns;
            Ok(run(py, self.inner.register_postgres(object_model, &dsn, &table))??)
        })
    }

    /// Follows a PostgreSQL table: appends its rows now and new rows as they come; `settings`
    /// is the feed's JSON document (`FollowSettings`).
    fn follow_postgres(&self, py: Python<'_>, object_model: &str, dsn: &str, settings: &str) -> Outcome<crate::stream::Feed> {
        guarded(|| {
            let dsn: PostgresDsn = dsn.parse()?;
            let (table, options) = FollowSettings::from_json(settings)?.resolve(object_model)?;
            let feed = run(py, self.inner.follow_postgres(object_model, &dsn, &table, options))??;
            Ok(crate::stream::Feed::new(feed))
        })
    }

    /// Registers every object model with a table of its name in `schema` of the database.
    #[pyo3(signature = (dsn, schema=None))]
    fn register_postgres_models(&self, py: Python<'_>, dsn: &str, schema: Option<&str>) -> Outcome<Vec<String>> {
        guarded(|| {
            let dsn: PostgresDsn = dsn.parse()?;
            Ok(run(py, self.inner.register_postgres_models(&dsn, schema))??)
        })
    }

    /// Removes the data of `object_model`; whether it had any.
    fn unregister(&self, object_model: &str) -> bool {
        self.inner.unregister(object_model)
    }

    /// Calculates a query document.
    fn calculate(&self, py: Python<'_>, query: &str) -> Outcome<CalcResult> {
        guarded(|| {
            let spec = spec(query)?;
            Ok(result(run(py, self.inner.calculate_spec(&spec))??))
        })
    }

    /// The logical, optimised and physical plans of a query document.
    fn explain(&self, py: Python<'_>, query: &str) -> Outcome<(String, String, String, Option<String>)> {
        guarded(|| {
            let query = self.inner.query(&spec(query)?)?;
            let explain = run(py, self.inner.explain(&query))??;
            Ok((explain.logical, explain.optimized, explain.physical, explain.pushed_down))
        })
    }

    /// A query document's calculation as SQL of `dialect`.
    fn to_sql(&self, py: Python<'_>, query: &str, dialect: &str) -> Outcome<String> {
        guarded(|| {
            let dialect = SqlDialect::parse(dialect)?;
            let query = self.inner.query(&spec(query)?)?;
            Ok(run(py, self.inner.to_sql(&query, dialect))??)
        })
    }

    /// Calculates query documents concurrently; the dashboard as JSON (per item its result or
    /// its error's code, kind and message) and the results of those that succeeded.
    fn dashboard(&self, py: Python<'_>, queries: Vec<String>) -> Outcome<(String, Vec<Option<CalcResult>>)> {
        guarded(|| {
            let queries = self.queries(&queries)?;
            let dashboard = run(py, self.inner.dashboard(&queries))?;
            let json = dashboard.to_json().to_string();
            let results = dashboard.items.into_iter().map(|i| i.outcome.ok().map(result)).collect();
            Ok((json, results))
        })
    }

    /// A query document's value over the current range against a previous range, or against a
    /// named baseline (`previous_period` by default, `last_year`), as JSON.
    #[pyo3(signature = (query, current_start, current_end, previous_start=None, previous_end=None, baseline=None))]
    #[allow(clippy::too_many_arguments)]
    fn compare(
        &self,
        py: Python<'_>,
        query: &str,
        current_start: &str,
        current_end: &str,
        previous_start: Option<&str>,
        previous_end: Option<&str>,
        baseline: Option<&str>,
    ) -> Outcome<String> {
        let spec = spec(query)?;
        let previous = match previous_start.zip(previous_end) {
            Some((start, end)) => Baseline::Range(start, end),
            None => Baseline::parse(baseline.unwrap_or("previous_period"))?,
        };
        let comparison = run(py, self.inner.compare_spec(&spec, (current_start, current_end), previous))??;
        Ok(comparison.to_json().to_string())
    }

    /// Creates or replaces a KPI in the running engine from its JSON definition; the change as JSON.
    fn define_kpi(&self, py: Python<'_>, definition_json: &str) -> Outcome<String> {
        guarded(|| {
            let kpi: kpi_catalog::KpiDefinition = kpi_catalog::parse_definition("KPI", definition_json)?;
            json(&run(py, self.inner.define_kpi(kpi))??)
        })
    }

    /// Removes a KPI from the running engine (and the KPIs using it, with `cascade`); the change as JSON.
    #[pyo3(signature = (code, cascade=false))]
    fn remove_kpi(&self, py: Python<'_>, code: &str, cascade: bool) -> Outcome<String> {
        guarded(|| json(&run(py, self.inner.remove_kpi(code, cascade))??))
    }

    /// Recalculates every live view of the KPI `code` past the cache; how many views.
    fn trigger(&self, py: Python<'_>, code: &str) -> Outcome<usize> {
        guarded(|| Ok(run(py, self.inner.trigger(code))??))
    }

    /// The KPIs that use `code`, directly or through others.
    fn dependants(&self, code: &str) -> Vec<String> {
        self.inner.dependants(code)
    }

    /// Forecasts a query document with forecast settings (a JSON document, `null` for defaults).
    #[pyo3(signature = (query, settings=None))]
    fn forecast(&self, py: Python<'_>, query: &str, settings: Option<&str>) -> Outcome<ForecastResult> {
        guarded(|| {
            let spec = spec(query)?;
            let settings = ForecastSettings::from_json(settings.unwrap_or("null"))?;
            let forecast = run(py, self.inner.forecast_spec(&spec, &settings))??;
            Ok(ForecastResult { inner: Arc::new(forecast) })
        })
    }

    /// The trend of a query document over its last `window` periods, as JSON.
    #[pyo3(signature = (query, window=None))]
    fn trend(&self, py: Python<'_>, query: &str, window: Option<usize>) -> Outcome<String> {
        guarded(|| {
            let spec = spec(query)?;
            json(&run(py, self.inner.trend_spec(&spec, window))??)
        })
    }

    /// Subscribes to a query document (its `refresh`: change, minute, hour, day or an interval).
    fn subscribe(&self, py: Python<'_>, query: &str) -> Outcome<crate::stream::Subscription> {
        guarded(|| {
            let spec = spec(query)?;
            let subscription = run(py, self.inner.subscribe_spec(&spec))??;
            Ok(crate::stream::Subscription::new(subscription))
        })
    }

    /// Schedules query documents on a cron schedule in the engine's time zone; the job as JSON.
    fn schedule(&self, py: Python<'_>, name: &str, cron: &str, queries: Vec<String>) -> Outcome<String> {
        guarded(|| {
            let queries = self.queries(&queries)?;
            json(&run(py, self.inner.schedule(name, cron, queries))??)
        })
    }

    /// Schedules every KPI of the catalog that has a schedule; the jobs as JSON.
    fn schedule_catalog(&self, py: Python<'_>) -> Outcome<String> {
        guarded(|| json(&run(py, self.inner.schedule_catalog())??))
    }

    /// The scheduled jobs as JSON.
    fn jobs(&self) -> Outcome<String> {
        guarded(|| json(&self.inner.jobs()))
    }

    /// Cancels a job; whether it existed.
    fn cancel_job(&self, id: u64) -> bool {
        self.inner.cancel_job(id)
    }

    /// The maintained views (one per subscribed query and refresh) as JSON.
    fn streams(&self) -> Outcome<String> {
        guarded(|| json(&self.inner.streams()))
    }

    /// The engine's counters as JSON.
    fn metrics(&self) -> Outcome<String> {
        guarded(|| json(&self.inner.metrics()))
    }

    /// How many results the cache holds.
    fn cached_results(&self) -> usize {
        self.inner.cached_results()
    }

    /// Empties the result cache.
    fn clear_cache(&self) {
        self.inner.clear_cache();
    }

    /// The object models with data, as (name, version, rows in memory, all in memory).
    fn registered(&self) -> Vec<(String, u64, usize, bool)> {
        self.inner.registered().into_iter().map(|r| (r.object_model, r.version, r.memory_rows, r.in_memory)).collect()
    }

    /// Adds an alert rule from its JSON document; the rule as JSON.
    fn add_alert_rule(&self, py: Python<'_>, spec: &str) -> Outcome<String> {
        guarded(|| json(&run(py, self.inner.add_alert_rule(AlertRuleSpec::from_json(spec)?))??))
    }

    /// Removes an alert rule; whether it existed.
    fn remove_alert_rule(&self, name: &str) -> bool {
        self.inner.remove_alert_rule(name)
    }

    /// The alert rules as JSON.
    fn alert_rules(&self) -> Outcome<String> {
        guarded(|| json(&self.inner.alert_rules()))
    }

    /// The active alerts as JSON.
    fn alerts(&self) -> Outcome<String> {
        guarded(|| json(&self.inner.alerts()))
    }

    /// The last `limit` alert events as JSON.
    fn alert_history(&self, limit: usize) -> Outcome<String> {
        guarded(|| json(&self.inner.alert_history(limit)))
    }

    /// Judges every rule now; the events as JSON.
    fn evaluate_alerts(&self, py: Python<'_>) -> Outcome<String> {
        guarded(|| json(&run(py, async { self.inner.evaluate_alerts() })?))
    }

    /// Sets the SMTP server from its JSON document.
    fn set_mail(&self, settings: &str) -> Outcome<()> {
        guarded(|| Ok(self.inner.set_mail(&MailSettings::from_json(settings)?)?))
    }

    /// Adds a notifier from its JSON document; the notifier as JSON.
    fn add_notifier(&self, py: Python<'_>, spec: &str) -> Outcome<String> {
        guarded(|| json(&run(py, self.inner.add_notifier(NotifierSpec::from_json(spec)?))??))
    }

    /// Removes a notifier; whether it existed.
    fn remove_notifier(&self, name: &str) -> bool {
        self.inner.remove_notifier(name)
    }

    /// The notifiers as JSON.
    fn notifiers(&self) -> Outcome<String> {
        guarded(|| json(&self.inner.notifiers()))
    }

    /// Undeliverable events as JSON.
    fn dead_letters(&self) -> Outcome<String> {
        guarded(|| json(&self.inner.dead_letters()))
    }

    /// Adds a report from its JSON document; the report as JSON.
    fn add_report(&self, py: Python<'_>, spec: &str) -> Outcome<String> {
        guarded(|| json(&run(py, self.inner.add_report(ReportSpec::from_json(spec)?))??))
    }

    /// Replaces a report's document; the report as JSON.
    fn update_report(&self, py: Python<'_>, id: u64, spec: &str) -> Outcome<String> {
        guarded(|| json(&run(py, self.inner.update_report(id, ReportSpec::from_json(spec)?))??))
    }

    /// Removes a report; whether it existed.
    fn remove_report(&self, id: u64) -> bool {
        self.inner.remove_report(id)
    }

    /// The reports as JSON.
    fn reports(&self) -> Outcome<String> {
        guarded(|| json(&self.inner.reports()))
    }

    /// A report's runs as JSON.
    fn report_runs(&self, id: u64) -> Outcome<String> {
        guarded(|| json(&self.inner.report_runs(id)))
    }

    /// Runs a report now: (the run as JSON, content type, file name, document).
    fn run_report(&self, py: Python<'_>, id: u64) -> Outcome<(String, &'static str, String, std::borrow::Cow<'static, [u8]>)> {
        guarded(|| {
            let (run_info, document) = run(py, self.inner.run_report(id))??;
            Ok((run_info.to_json().to_string(), document.content_type, document.filename, document.bytes.into()))
        })
    }

    /// Renders a report document: (content type, file name, document).
    fn render_report(&self, py: Python<'_>, spec: &str) -> Outcome<(&'static str, String, std::borrow::Cow<'static, [u8]>)> {
        guarded(|| {
            let spec = ReportSpec::from_json(spec)?;
            let document = run(py, self.inner.render_report(&spec))??;
            Ok((document.content_type, document.filename, document.bytes.into()))
        })
    }

    /// Sets the retention policy from its JSON (or YAML) document.
    fn set_retention_policy(&self, policy: &str) -> Outcome<()> {
        guarded(|| Ok(self.inner.set_retention_policy(kpi_catalog::RetentionPolicy::from_yaml(policy)?)?))
    }

    /// The retention policy as JSON (`null` without one).
    fn retention_policy(&self) -> Outcome<String> {
        guarded(|| json(&self.inner.retention_policy()))
    }

    /// What applying the policy now would do, as JSON.
    fn retention_plan(&self) -> Outcome<String> {
        guarded(|| json(&self.inner.retention_plan()?))
    }

    /// Applies the policy now; the report as JSON.
    fn apply_retention(&self, py: Python<'_>) -> Outcome<String> {
        guarded(|| json(&run(py, self.inner.apply_retention())??))
    }

    /// The archive index as JSON.
    fn archive_index(&self) -> Outcome<String> {
        guarded(|| json(&self.inner.archive_index()))
    }

    /// Checks every archive file against its checksum.
    fn verify_archive(&self, py: Python<'_>) -> Outcome<()> {
        guarded(|| Ok(run(py, self.inner.verify_archive())??))
    }

    /// Writes a checkpoint of every table to the data directory.
    fn checkpoint(&self, py: Python<'_>) -> Outcome<()> {
        guarded(|| Ok(run(py, self.inner.checkpoint())??))
    }

    /// Checkpoints and lets go of the data directory.
    fn close(&self, py: Python<'_>) -> Outcome<()> {
        guarded(|| Ok(run(py, self.inner.close())??))
    }

    /// The Ballista cluster calculations run on (`df://host:port`), if any.
    fn cluster(&self) -> Option<String> {
        self.inner.cluster()
    }

    /// Connects to the cluster's scheduler within the connect timeout; the round trip in ms.
    fn check_cluster(&self, py: Python<'_>) -> Outcome<f64> {
        guarded(|| Ok(run(py, self.inner.check_cluster())??.round_trip.as_secs_f64() * 1e3))
    }

    /// The data directory, if any.
    fn data_dir(&self) -> Option<String> {
        self.inner.data_dir().map(|p| p.display().to_string())
    }

    /// Rows and bytes hot and cold per object model, as JSON.
    fn storage(&self) -> Outcome<String> {
        guarded(|| json(&self.inner.storage()))
    }

    /// Records a result's values as KPI history; the rows recorded.
    fn record_history(&self, result: &CalcResult) -> Outcome<usize> {
        guarded(|| Ok(self.inner.record_history(&result.inner)?))
    }

    /// KPI history for a JSON history query document, as JSON rows.
    fn history(&self, py: Python<'_>, query: &str) -> Outcome<String> {
        guarded(|| {
            let value = serde_json::from_str(query)
                .map_err(|e| EngineError::InvalidDocument { document: "history query", message: e.to_string() })?;
            let query = kpi_core::HistoryQuery::from_document(value, &self.inner.options().calendar)?;
            json(&run(py, self.inner.history(&query))??)
        })
    }
}
