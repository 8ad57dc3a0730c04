//! Scheduled calculations (the seeds' batch mode): a cron schedule runs a set of queries, which
//! refreshes the cache and publishes the results to the queries' subscribers.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use kpi_formula::Query;
use tokio::sync::watch;

use crate::{Engine, EngineError};
use kpi_catalog::Cron;

/// A scheduled job, as [`Engine::jobs`] lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct JobInfo {
    /// The id [`Engine::cancel_job`] takes.
    pub id: u64,
    /// The name it was given.
    pub name: String,
    /// Its schedule.
    pub schedule: Cron,
    /// The queries it runs.
    pub queries: Vec<Query>,
    /// When it runs next (`None` if its schedule never fires again).
    pub next_run: Option<DateTime<Utc>>,
    /// When it last ran.
    pub last_run: Option<DateTime<Utc>>,
    /// How many times it ran.
    pub runs: u64,
    /// The errors of its last run, one per failed query.
    pub last_errors: Vec<String>,
}

impl serde::Serialize for JobInfo {
    /// As [`JobInfo::to_json`] writes it.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&self.to_json(), s)
    }
}

impl JobInfo {
    /// As JSON: the queries as [`QuerySpec`](crate::QuerySpec) documents, times in RFC 3339.
    pub fn to_json(&self) -> serde_json::Value {
        let queries: Vec<crate::QuerySpec> = self.queries.iter().map(crate::QuerySpec::from).collect();
        serde_json::json!({
            "id": self.id,
            "name": self.name,
            "schedule": self.schedule.to_string(),
            "queries": queries,
            "next_run": self.next_run.map(|t| t.to_rfc3339()),
            "last_run": self.last_run.map(|t| t.to_rfc3339()),
            "runs": self.runs,
            "last_errors": self.last_errors,
        })
    }
}

/// The jobs of an engine.
#[derive(Default)]
pub(crate) struct Jobs {
    next_id: u64,
    running: std::collections::HashMap<u64, Arc<Job>>,
}

pub(crate) struct Job {
    info: Mutex<JobInfo>,
    stop: watch::Sender<bool>,
}

impl Job {
    fn info(&self) -> std::sync::MutexGuard<'_, JobInfo> {
        self.info.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Runs `job` at each firing time until it is cancelled.
async fn run(engine: Engine, job: Arc<Job>) {
    let mut stop = job.stop.subscribe();
    let clock = engine.options().clock.clone();
    loop {
        // The first firing time was set when the job was scheduled, so a clock that moves
        // before this task starts does not skip it.
        let (next, queries) = {
            let info = job.info();
            (info.next_run, info.queries.clone())
        };
        let Some(at) = next else { return };
        tokio::select! {
            _ = clock.wait_until(at) => {}
            _ = stop.changed() => return,
        }
        if *stop.borrow() {
            return;
        }
        let options = crate::CalculateOptions { bypass_cache: true, ..Default::default() };
        let mut errors = Vec::new();
        for query in &queries {
            match engine.calculate_with(query, &options).await {
                Ok(result) => engine.publish(query, &result),
                Err(e) => errors.push(e.to_string()),
            }
        }
        let mut info = job.info();
        info.last_run = Some(at);
        info.runs += 1;
        info.last_errors = errors;
        info.next_run = info.schedule.next_after_in(at.max(clock.now()), &engine.options().calendar.time_zone);
    }
}

impl Engine {
    /// Runs `queries` on `schedule` (five-field cron, read in the time zone of the engine's
    /// calendar, daylight saving changes included: see [`Cron::next_after_in`]) until the job
    /// is cancelled. Each run
    /// recalculates every query (refreshing the cache) and publishes the result to that query's
    /// subscribers, whatever their refresh. The queries are checked first, so a bad one is an
    /// error here.
    pub async fn schedule(&self, name: &str, schedule: &str, queries: Vec<Query>) -> Result<JobInfo, EngineError> {
        let schedule: Cron = schedule
            .parse()
            .map_err(|e: kpi_catalog::CronError| EngineError::InvalidOption { option: "schedule", message: e.to_string() })?;
        if queries.is_empty() {
            return Err(EngineError::InvalidOption { option: "schedule", message: format!("job `{name}` has no queries to run") });
        }
        for query in &queries {
            self.plan(query).await?;
        }
        let mut jobs = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.next_id += 1;
        let id = jobs.next_id;
        let info = JobInfo {
            id,
            name: name.to_string(),
            next_run: schedule.next_after_in(self.inner.options.clock.now(), &self.inner.options.calendar.time_zone),
            schedule,
            queries,
            last_run: None,
            runs: 0,
            last_errors: Vec::new(),
        };
        let job = Arc::new(Job { info: Mutex::new(info.clone()), stop: watch::Sender::new(false) });
        jobs.running.insert(id, job.clone());
        tokio::spawn(run(self.clone(), job));
        Ok(info)
    }

    /// Schedules the catalog's KPIs that carry a `schedule`: one job per distinct schedule,
    /// named after it, running each of its KPIs at the KPI's default grain.
    pub async fn schedule_catalog(&self) -> Result<Vec<JobInfo>, EngineError> {
        let mut by_schedule: std::collections::BTreeMap<String, Vec<Query>> = Default::default();
        for kpi in self.catalog().kpis() {
            if let Some(schedule) = &kpi.schedule {
                let mut query = Query::kpi(&kpi.code);
                if let Some(grain) = kpi.default_grain {
                    query = query.with_grain(grain);
                }
                by_schedule.entry(schedule.trim().to_string()).or_default().push(query);
            }
        }
        let mut jobs = Vec::new();
        for (schedule, queries) in by_schedule {
            jobs.push(self.schedule(&format!("catalog: {schedule}"), &schedule, queries).await?);
        }
        Ok(jobs)
    }

    /// The scheduled jobs, by id.
    pub fn jobs(&self) -> Vec<JobInfo> {
        let jobs = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<JobInfo> = jobs.running.values().map(|j| j.info().clone()).collect();
        out.sort_by_key(|j| j.id);
        out
    }

    /// Cancels a job; returns whether it existed.
    pub fn cancel_job(&self, id: u64) -> bool {
        let job = self.inner.jobs.lock().unwrap_or_else(|e| e.into_inner()).running.remove(&id);
        if let Some(job) = &job {
            job.stop.send_replace(true);
        }
        job.is_some()
    }
}
