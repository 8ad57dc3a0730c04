//! The cubes of maintained views, kept while a view uses them and shared by every view that
//! groups a table the same way. Appends feed them as they happen (under the tables' lock, so a
//! cube is always at the version of its table unless the table was registered anew); a cube
//! behind its table is rebuilt from it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::error::DataFusionError;
use kpi_formula::{IncrementalPlan, Query};

use super::cube::{Cube, CubeKey, Measure};
use crate::data::TableData;
#[cfg(doc)]
use crate::maintenance::Maintenance;
use crate::result::KpiResult;
use crate::{Engine, EngineError};

type SharedCube = Arc<Mutex<Cube>>;

/// The live cubes, each with what makes its cells the same.
#[derive(Default)]
pub(crate) struct Cubes {
    live: Mutex<Vec<(CubeKey, Weak<Mutex<Cube>>)>>,
    /// Held while a cube is built from data behind a provider (which takes awaiting), so two
    /// builds never replace each other's aggregates.
    building: tokio::sync::Mutex<()>,
}

fn lock(cube: &Mutex<Cube>) -> std::sync::MutexGuard<'_, Cube> {
    cube.lock().unwrap_or_else(|e| e.into_inner())
}

impl Cubes {
    fn list(&self) -> std::sync::MutexGuard<'_, Vec<(CubeKey, Weak<Mutex<Cube>>)>> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A live cube of `key` that `fits`.
    fn find(&self, key: &CubeKey, fits: impl Fn(&Cube) -> bool) -> Option<SharedCube> {
        self.list().iter().filter(|(k, _)| k == key).filter_map(|(_, c)| c.upgrade()).find(|c| fits(&lock(c)))
    }

    fn keep(&self, key: CubeKey, cube: &SharedCube) {
        let mut list = self.list();
        list.retain(|(_, c)| c.strong_count() > 0);
        if !list.iter().any(|(_, c)| c.as_ptr() == Arc::as_ptr(cube)) {
            list.push((key, Arc::downgrade(cube)));
        }
    }

    /// Feeds `batches`, appended to `table` at `version`, to its cubes that include the
    /// version `before` it. Called under the tables' write lock.
    pub(crate) fn feed(&self, table: &str, before: u64, batches: &[RecordBatch], version: u64) {
        let cubes: Vec<SharedCube> = self.list().iter().filter_map(|(_, c)| c.upgrade()).collect();
        for cube in cubes {
            let mut c = lock(&cube);
            if c.table() == table
                && c.seen == Some(before)
                && let Err(e) = c.ingest(batches, version)
            {
                tracing::debug!(error = %e, "a cube failed to take in an append; it is rebuilt on the next refresh");
            }
        }
    }
}

/// Brings `cube` to the version of its table when the table is in memory; `Ok(false)` when
/// it is behind a provider and must be rebuilt by [`rebuild`].
fn catch_up(tables: &HashMap<String, TableData>, cube: &mut Cube) -> Result<bool, DataFusionError> {
    let data = tables.get(cube.table()).ok_or_else(|| DataFusionError::Plan(format!("no data for `{}`", cube.table())))?;
    if cube.seen == Some(data.version) {
        return Ok(true);
    }
    let Some(batches) = data.batches() else { return Ok(false) };
    *cube = cube.empty_like()?;
    cube.ingest(&batches, data.version)?;
    Ok(true)
}

/// Rebuilds `cube` (adding `plan`'s aggregates, whose measure is returned) from data behind a
/// provider: scanned without locks, then brought up to date from the appends since, under the
/// tables' lock so no append slips between.
async fn rebuild(engine: &Engine, cube: &SharedCube, plan: Option<&IncrementalPlan>) -> Result<Option<Measure>, DataFusionError> {
    let _building = engine.inner.cubes.building.lock().await;
    let mut fresh = lock(cube).empty_like()?;
    let measure = plan.map(|p| fresh.measure(&engine.inner.ctx, p, &[])).transpose()?;
    let data = engine.inner.tables.read().unwrap_or_else(|e| e.into_inner()).get(fresh.table()).cloned();
    let data = data.ok_or_else(|| DataFusionError::Plan(format!("no data for `{}`", fresh.table())))?;
    fresh.ingest_all(&engine.inner.ctx, &data).await?;
    let tables = engine.inner.tables.read().unwrap_or_else(|e| e.into_inner());
    let now = tables.get(fresh.table()).ok_or_else(|| DataFusionError::Plan(format!("no data for `{}`", fresh.table())))?;
    if now.version != data.version {
        let appended =
            now.appended_since(data.version).ok_or_else(|| DataFusionError::Plan("the table changed while it was read".into()))?;
        fresh.ingest(&appended, now.version)?;
    }
    *lock(cube) = fresh;
    Ok(measure)
}

/// A view's share of a cube: its formula over the cube's aggregates.
pub(crate) struct Maintained {
    cube: SharedCube,
    measure: Mutex<Measure>,
}

impl Maintained {
    /// A query maintained from the partial states of `plan` (its [`Maintenance::Cube`] plan):
    /// the live cube of its table, periods and groups, given the aggregates it lacks, or a new
    /// one. `None` when no cube could be built (the view recalculates instead).
    pub(crate) async fn start(engine: &Engine, plan: &IncrementalPlan) -> Option<Maintained> {
        let started = match start_in_memory(engine, plan) {
            Ok(Some(m)) => Ok(m),
            Ok(None) => start_behind_provider(engine, plan).await,
            Err(e) => Err(e),
        };
        started.map_err(|e| tracing::debug!(error = %e, "the view is recalculated instead of maintained")).ok()
    }

    /// The values changed since last asked, as a result of `query`: from the cube as it is
    /// when its table is in memory (rebuilding it if it fell behind), else after a rebuild.
    pub(crate) async fn changes(&self, engine: &Engine, query: &Query) -> Result<KpiResult, EngineError> {
        let ready = {
            let tables = engine.inner.tables.read().unwrap_or_else(|e| e.into_inner());
            catch_up(&tables, &mut lock(&self.cube)).map_err(EngineError::Execution)?
        };
        if !ready {
            rebuild(engine, &self.cube, None).await.map_err(EngineError::Execution)?;
        }
        let mut cube = lock(&self.cube);
        let mut measure = self.measure.lock().unwrap_or_else(|e| e.into_inner());
        let batches = cube.changes(&mut measure).map_err(EngineError::Execution)?.into_iter().collect();
        Ok(KpiResult::maintained(engine.info_of(query), query.clone(), cube.range(), measure.schema(), batches))
    }

    /// A query maintained from the cube of `plan` when its table is in memory (joined, or
    /// built from the rows now); `None` when it is behind a provider or the cube fails.
    pub(crate) fn start_in_memory(engine: &Engine, plan: &IncrementalPlan) -> Option<Maintained> {
        start_in_memory(engine, plan).map_err(|e| tracing::debug!(error = %e, "no cube for the query")).ok().flatten()
    }

    /// About how many bytes its cube holds.
    pub(crate) fn bytes(&self) -> usize {
        lock(&self.cube).bytes()
    }

    /// Which cube it reads: queries grouping a table the same way share one.
    pub(crate) fn cube_id(&self) -> usize {
        Arc::as_ptr(&self.cube) as usize
    }

    /// Every period and group of the query at `version` of its table, in the result's schema
    /// and order; `None` when the table is no longer at that version, holds rows released or
    /// archived (which the cube does not see) or is behind a provider.
    pub(crate) fn answer(&self, engine: &Engine, version: u64) -> Result<Option<(SchemaRef, Vec<RecordBatch>)>, EngineError> {
        let tables = engine.inner.tables.read().unwrap_or_else(|e| e.into_inner());
        let mut cube = lock(&self.cube);
        let Some(data) = tables.get(cube.table()) else { return Ok(None) };
        if data.version != version || !data.all_rows_in_memory() {
            return Ok(None);
        }
        if !catch_up(&tables, &mut cube).map_err(EngineError::Execution)? {
            return Ok(None);
        }
        let mut measure = self.measure.lock().unwrap_or_else(|e| e.into_inner());
        measure.rewind();
        let batches = cube.changes(&mut measure).map_err(EngineError::Execution)?.into_iter().collect();
        Ok(Some((measure.schema(), batches)))
    }
}

/// Joins or builds the cube of `plan` when its table is in memory, all under the tables'
/// lock; `None` when the table is behind a provider.
fn start_in_memory(engine: &Engine, plan: &IncrementalPlan) -> Result<Option<Maintained>, DataFusionError> {
    let ctx = &engine.inner.ctx;
    let tables = engine.inner.tables.read().unwrap_or_else(|e| e.into_inner());
    let data = tables.get(&plan.table).ok_or_else(|| DataFusionError::Plan(format!("no data for `{}`", plan.table)))?;
    let Some(rows) = data.batches() else { return Ok(None) };
    let key = CubeKey::of(plan);
    // Aggregates new to a cube are filled from the rows in memory: once rows were released,
    // only a cube that has them all already is joined.
    let fits = |c: &Cube| !data.released || c.has_all(plan);
    let (cube, measure) = match engine.inner.cubes.find(&key, fits) {
        Some(cube) => {
            let measure = {
                let mut c = lock(&cube);
                catch_up(&tables, &mut c)?;
                c.measure(ctx, plan, &rows)?
            };
            (cube, measure)
        }
        None => {
            let mut c = new_cube(engine, plan)?;
            let measure = c.measure(ctx, plan, &[])?;
            c.ingest(&rows, data.version)?;
            (Arc::new(Mutex::new(c)), measure)
        }
    };
    engine.inner.cubes.keep(key, &cube);
    Ok(Some(Maintained { cube, measure: Mutex::new(measure) }))
}

/// Builds (or rebuilds, joining) the cube of `plan` over data behind a provider.
async fn start_behind_provider(engine: &Engine, plan: &IncrementalPlan) -> Result<Maintained, DataFusionError> {
    let key = CubeKey::of(plan);
    let cube = match engine.inner.cubes.find(&key, |_| true) {
        Some(cube) => cube,
        None => Arc::new(Mutex::new(new_cube(engine, plan)?)),
    };
    let measure = rebuild(engine, &cube, Some(plan)).await?.ok_or_else(|| DataFusionError::Internal("no measure".into()))?;
    engine.inner.cubes.keep(key, &cube);
    Ok(Maintained { cube, measure: Mutex::new(measure) })
}

fn new_cube(engine: &Engine, plan: &IncrementalPlan) -> Result<Cube, DataFusionError> {
    let schema = engine.catalog().object_model(&plan.table).map_err(|e| DataFusionError::Plan(e.to_string()))?.schema();
    let options = engine.options();
    Cube::new(&engine.inner.ctx, plan, schema, options.distinct_counts, options.quantiles)
}
