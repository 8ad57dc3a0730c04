//! Prepared plans: the physical plan of a small query, kept and run again when the same query
//! is asked over the same data, so a repeated shape skips DataFusion's analysis, optimisation
//! and physical planning (most of a small query's time).
//!
//! Only small inputs (every table in memory, together at most
//! [`crate::calculate::SMALL_INPUT_ROWS`] rows) are prepared: their plans run on one partition
//! with only the physical rule that makes them runnable, so they hold no dynamic filters, and
//! [`reset_plan_states`] gives each run fresh operator state (a hash join's build side, a
//! sort's buffers). A plan keeps its input batches alive, so plans over data versions that are
//! no longer current are dropped whenever one is stored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::execution_plan::reset_plan_states;
use kpi_formula::Query;

use crate::cache::Versions;

/// The most plans kept; the oldest go first.
const MAX_PREPARED: usize = 256;

/// What a prepared plan answers: the query with its range resolved, over these data versions,
/// with the definitions of this generation.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct PlanKey {
    pub(crate) query: Query,
    pub(crate) versions: Versions,
    pub(crate) generation: u64,
}

#[derive(Default)]
struct Plans {
    map: HashMap<PlanKey, (Arc<dyn ExecutionPlan>, u64)>,
    seq: u64,
}

/// Physical plans of small queries by [`PlanKey`].
#[derive(Default)]
pub(crate) struct PreparedPlans {
    plans: Mutex<Plans>,
}

impl PreparedPlans {
    /// The plan prepared for `key`, with its operators' state reset for a new run.
    pub(crate) fn get(&self, key: &PlanKey) -> Option<Arc<dyn ExecutionPlan>> {
        let plan = self.plans.lock().unwrap_or_else(|p| p.into_inner()).map.get(key).map(|(p, _)| p.clone())?;
        reset_plan_states(plan).ok()
    }

    /// Keeps `plan` for `key`, dropping plans over data no longer current (`current` gives a
    /// table's version now) and the oldest beyond [`MAX_PREPARED`].
    pub(crate) fn put(&self, key: PlanKey, plan: Arc<dyn ExecutionPlan>, current: impl Fn(&str) -> Option<u64>) {
        let mut plans = self.plans.lock().unwrap_or_else(|p| p.into_inner());
        plans.map.retain(|k, _| k.versions.iter().all(|(t, v)| current(t) == Some(*v)));
        plans.seq += 1;
        let seq = plans.seq;
        plans.map.insert(key, (plan, seq));
        while plans.map.len() > MAX_PREPARED {
            let Some(oldest) = plans.map.iter().min_by_key(|(_, (_, s))| *s).map(|(k, _)| k.clone()) else { break };
            plans.map.remove(&oldest);
        }
    }

    /// Drops every plan (the definitions or the data changed wholesale).
    pub(crate) fn clear(&self) {
        *self.plans.lock().unwrap_or_else(|p| p.into_inner()) = Plans::default();
    }
}
