//! The engine: data registration and calculation. Calculations run on a shared tokio runtime
//! with the GIL released.

use std::sync::{Arc, OnceLock};

use kpi_core::{EngineOptions, KpiResult, SqlDialect};
use kpi_formula::{Grain, Query, TimeRange};
use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::arrow::{Table, read_stream};
use crate::catalog::Catalog;
use crate::errors::{CalculationError, engine_error, formula_error};

fn runtime() -> PyResult<&'static Runtime> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| CalculationError::new_err(format!("could not start the engine's runtime: {e}")))
}

/// Runs `work` to completion with the GIL released, checking for signals every 100 ms so
/// Ctrl-C interrupts it (dropping `work` stops the calculation's DataFusion streams).
pub(crate) fn run<T: Send>(py: Python<'_>, work: impl std::future::Future<Output = T> + Send) -> PyResult<T> {
    let runtime = runtime()?;
    let mut work = Box::pin(work);
    loop {
        // The timer is made inside the runtime, which it needs.
        let step = py.detach(|| runtime.block_on(async { tokio::time::timeout(std::time::Duration::from_millis(100), &mut work).await }));
        match step {
            Ok(done) => return Ok(done),
            Err(_) => py.check_signals()?,
        }
    }
}

/// A query from the arguments Python passes.
pub(crate) struct QueryArgs {
    grain: Option<String>,
    by: Vec<String>,
    start: Option<String>,
    end: Option<String>,
    filter: Option<String>,
}

impl QueryArgs {
    fn apply(&self, mut query: Query, engine: &kpi_core::Engine) -> PyResult<Query> {
        let invalid = |e: kpi_formula::QueryError| formula_error(&kpi_formula::FormulaError::from(e), "KPI_QUERY");
        if let Some(grain) = &self.grain {
            query = query.with_grain(Grain::parse(grain).map_err(invalid)?);
        }
        if !self.by.is_empty() {
            query = query.by(self.by.iter().cloned());
        }
        match (&self.start, &self.end) {
            (Some(start), Some(end)) => {
                let range = TimeRange::parse(start, end, &engine.options().calendar).map_err(invalid)?;
                query = query.with_range(range);
            }
            (None, None) => {}
            _ => return Err(crate::errors::QueryError::new_err("give both start and end, or neither")),
        }
        if let Some(filter) = &self.filter {
            query = query.with_filter(filter.clone());
        }
        Ok(query)
    }
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

impl Engine {
    fn query(&self, target: Query, args: QueryArgs) -> PyResult<Query> {
        args.apply(target, &self.inner)
    }

    fn run<T: Send>(&self, py: Python<'_>, work: impl std::future::Future<Output = T> + Send) -> PyResult<T> {
        run(py, work)
    }

    fn calculated(&self, py: Python<'_>, target: Query, args: QueryArgs) -> PyResult<CalcResult> {
        let query = self.query(target, args)?;
        let result = self.run(py, self.inner.calculate(&query))?.map_err(engine_error)?;
        Ok(CalcResult { inner: Arc::new(result) })
    }
}

#[pymethods]
impl Engine {
    /// An engine over `catalog`, with its calendar in `timezone`, and optionally a timeout
    /// (seconds) and a memory limit (bytes) per calculation.
    #[new]
    #[pyo3(signature = (catalog, timezone="UTC", timeout=None, memory_limit=None))]
    fn new(catalog: &Catalog, timezone: &str, timeout: Option<f64>, memory_limit: Option<usize>) -> PyResult<Engine> {
        let mut options = EngineOptions::default().with_time_zone(timezone).map_err(engine_error)?;
        if let Some(seconds) = timeout {
            if !(seconds.is_finite() && seconds > 0.0) {
                return Err(crate::errors::QueryError::new_err("timeout must be a positive number of seconds"));
            }
            options = options.with_timeout(std::time::Duration::from_secs_f64(seconds));
        }
        if let Some(bytes) = memory_limit {
            options = options.with_memory_limit(bytes);
        }
        // The engine spawns maintenance tasks, so it is created inside the runtime.
        let _guard = runtime()?.enter();
        let inner = kpi_core::Engine::with_options(catalog.inner.clone(), options).map_err(engine_error)?;
        Ok(Engine { inner })
    }

    /// Registers Arrow data as the rows of `object_model`, replacing any before.
    fn register(&self, object_model: &str, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let (_, batches) = read_stream(data)?;
        self.inner.register_batches(object_model, batches).map_err(engine_error)
    }

    /// Appends Arrow data to the rows of `object_model`; returns the append's report as JSON.
    fn append(&self, object_model: &str, data: &Bound<'_, PyAny>) -> PyResult<(usize, usize, usize)> {
        let (_, batches) = read_stream(data)?;
        let report = self.inner.append_batches(object_model, batches).map_err(engine_error)?;
        Ok((report.rows, report.late_rows, report.beyond_lateness))
    }

    /// Calculates a KPI.
    #[pyo3(signature = (kpi, grain=None, by=Vec::new(), start=None, end=None, filter=None))]
    #[allow(clippy::too_many_arguments)]
    fn calculate(
        &self,
        py: Python<'_>,
        kpi: &str,
        grain: Option<String>,
        by: Vec<String>,
        start: Option<String>,
        end: Option<String>,
        filter: Option<String>,
    ) -> PyResult<CalcResult> {
        self.calculated(py, Query::kpi(kpi), QueryArgs { grain, by, start, end, filter })
    }

    /// Calculates an ad-hoc formula.
    #[pyo3(signature = (formula, grain=None, by=Vec::new(), start=None, end=None, filter=None))]
    #[allow(clippy::too_many_arguments)]
    fn calculate_formula(
        &self,
        py: Python<'_>,
        formula: &str,
        grain: Option<String>,
        by: Vec<String>,
        start: Option<String>,
        end: Option<String>,
        filter: Option<String>,
    ) -> PyResult<CalcResult> {
        self.calculated(py, Query::formula(formula), QueryArgs { grain, by, start, end, filter })
    }

    /// The logical, optimised and physical plans of a KPI's calculation.
    #[pyo3(signature = (kpi, grain=None, by=Vec::new(), start=None, end=None, filter=None))]
    #[allow(clippy::too_many_arguments)]
    fn explain(
        &self,
        py: Python<'_>,
        kpi: &str,
        grain: Option<String>,
        by: Vec<String>,
        start: Option<String>,
        end: Option<String>,
        filter: Option<String>,
    ) -> PyResult<(String, String, String)> {
        let query = self.query(Query::kpi(kpi), QueryArgs { grain, by, start, end, filter })?;
        let explain = self.run(py, self.inner.explain(&query))?.map_err(engine_error)?;
        Ok((explain.logical, explain.optimized, explain.physical))
    }

    /// A KPI's calculation as SQL of `dialect` (postgres, mysql, sqlite, bigquery, timescale, ...).
    #[pyo3(signature = (kpi, dialect="postgres", grain=None, by=Vec::new(), start=None, end=None, filter=None))]
    #[allow(clippy::too_many_arguments)]
    fn to_sql(
        &self,
        py: Python<'_>,
        kpi: &str,
        dialect: &str,
        grain: Option<String>,
        by: Vec<String>,
        start: Option<String>,
        end: Option<String>,
        filter: Option<String>,
    ) -> PyResult<String> {
        let dialect = SqlDialect::parse(dialect).map_err(engine_error)?;
        let query = self.query(Query::kpi(kpi), QueryArgs { grain, by, start, end, filter })?;
        self.run(py, self.inner.to_sql(&query, dialect))?.map_err(engine_error)
    }

    /// Calculates KPIs concurrently; the dashboard as JSON (per KPI its result or its error's
    /// code and message) and the results of those that succeeded.
    #[pyo3(signature = (kpis, grain=None, by=Vec::new(), start=None, end=None, filter=None))]
    #[allow(clippy::too_many_arguments, clippy::type_complexity)]
    fn dashboard(
        &self,
        py: Python<'_>,
        kpis: Vec<String>,
        grain: Option<String>,
        by: Vec<String>,
        start: Option<String>,
        end: Option<String>,
        filter: Option<String>,
    ) -> PyResult<(String, Vec<Option<CalcResult>>)> {
        let args = QueryArgs { grain, by, start, end, filter };
        let queries = kpis.iter().map(|k| args.apply(Query::kpi(k), &self.inner)).collect::<PyResult<Vec<_>>>()?;
        let dashboard = self.run(py, self.inner.dashboard(&queries))?;
        let json = dashboard.to_json().to_string();
        let results = dashboard.items.into_iter().map(|i| i.outcome.ok().map(|r| CalcResult { inner: Arc::new(r) })).collect();
        Ok((json, results))
    }

    /// Subscribes to a KPI's values, refreshed on every change (`"change"`), each `"minute"`,
    /// `"hour"` or `"day"`, or every given number of seconds.
    #[pyo3(signature = (kpi, refresh, grain=None, by=Vec::new(), start=None, end=None, filter=None))]
    #[allow(clippy::too_many_arguments)]
    fn subscribe(
        &self,
        py: Python<'_>,
        kpi: &str,
        refresh: &Bound<'_, PyAny>,
        grain: Option<String>,
        by: Vec<String>,
        start: Option<String>,
        end: Option<String>,
        filter: Option<String>,
    ) -> PyResult<crate::stream::Subscription> {
        let refresh = crate::stream::refresh(refresh)?;
        let query = self.query(Query::kpi(kpi), QueryArgs { grain, by, start, end, filter })?;
        let subscription = self.run(py, self.inner.subscribe(&query, refresh))?.map_err(engine_error)?;
        Ok(crate::stream::Subscription::new(subscription))
    }

    /// The engine's counters, as (name, count) pairs in declaration order.
    fn metrics(&self) -> Vec<(String, u64)> {
        let counters = serde_json::to_value(self.inner.metrics()).unwrap_or_default();
        counters.as_object().into_iter().flatten().map(|(name, n)| (name.clone(), n.as_u64().unwrap_or(0))).collect()
    }

    /// The object models with data, as (name, version, rows in memory, all in memory).
    fn registered(&self) -> Vec<(String, u64, usize, bool)> {
        self.inner.registered().into_iter().map(|r| (r.object_model, r.version, r.memory_rows, r.in_memory)).collect()
    }
}
