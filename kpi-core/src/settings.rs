//! The engine's settings as a document: what `Engine(catalog, timeout=..., cache=...)` in
//! Python and `new Engine(catalog, { ... })` in Node map onto, checked once here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cache::CachePolicy;
use crate::error::EngineError;
use crate::option_value::{TimeSetting, positive_count};
use crate::options::{EngineOptions, Estimate};

/// Engine settings as a document; every field is optional and unknown fields are refused.
///
/// ```
/// use std::time::Duration;
/// use kpi_core::EngineSettings;
/// let settings: EngineSettings = serde_json::from_str(r#"{
///     "timezone": "Europe/Berlin", "week_start": "sunday", "timeout": "30s",
///     "memory_limit": 2147483648, "lane_concurrency": 2,
///     "cache": { "ttl": "10min", "kpis": { "revenue": 0 } },
///     "allowed_lateness": "1h", "retention": "90days", "distinct_counts": "approximate",
///     "data_dir": "/var/lib/kpi", "history": true,
///     "retention_policy": {
///         "staged_source_data": { "retention_period": 90, "archival_enabled": true, "archival_period": 1 },
///         "analytics_data": { "retention_period": 2, "retention_unit": "years" },
///         "compliance": ["iso_27001"]
///     }
/// }"#).unwrap();
/// let options = settings.to_options()?;
/// assert_eq!(options.timeout, Some(Duration::from_secs(30)));
/// assert_eq!(options.cache.kpis["revenue"], Duration::ZERO);
/// assert_eq!(options.retention_policy.unwrap().staged_source_data.describe(), "90 days active, archived 1 year");
/// # Ok::<(), kpi_core::EngineError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSettings {
    /// IANA time zone of the default calendar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// First day of the week of the default calendar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub week_start: Option<String>,
    /// First month of the (fiscal) year of the default calendar (`april`, `apr` or `4`).
    #[serde(default, deserialize_with = "crate::spec::month_text", skip_serializing_if = "Option::is_none")]
    pub fiscal_year_start: Option<String>,
    /// Retail calendar of the default calendar (`nrf`, `4-4-5, last saturday of january`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retail_calendar: Option<String>,
    /// Calendar table of query documents that name none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_table: Option<crate::CalendarTableSpec>,
    /// Timeout of each calculation (seconds or text with a unit); 60 s when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<TimeSetting>,
    /// Memory the calculations may reserve together, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_limit: Option<u64>,
    /// The most rows one result may have; a million when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_result_rows: Option<u64>,
    /// Calculations of one value chain at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lane_concurrency: Option<u64>,
    /// DataFusion partitions per scan; the number of cores by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_partitions: Option<u64>,
    /// Result caching.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheSettings>,
    /// How late an appended row may be before it counts as beyond lateness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_lateness: Option<TimeSetting>,
    /// How long in-memory rows are kept behind the latest event time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<TimeSetting>,
    /// `exact` (default) or `approximate` distinct counts in streaming views.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distinct_counts: Option<String>,
    /// `exact` (default) or `approximate` medians and percentiles in streaming views.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantiles: Option<String>,
    /// Whether calculations over tables of one PostgreSQL database run there as one statement
    /// (true when left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pushdown: Option<bool>,
    /// A directory that makes appends durable; reopening it restores the tables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<String>,
    /// Where retention archives rows: a directory or an object-store URL (`archive/` in the
    /// data directory by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_location: Option<String>,
    /// The retention policy to enforce, as in a client configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_policy: Option<kpi_catalog::RetentionPolicy>,
    /// Whether jobs and subscriptions record KPI history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<bool>,
    /// How far ahead of the clock event times may move watermarks (5 minutes by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock_skew: Option<TimeSetting>,
    /// A Ballista scheduler that runs calculations: `df://host:port` ([`crate::ClusterOptions`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// How long connecting to the cluster may take (5 seconds by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_connect_timeout: Option<TimeSetting>,
}

/// Cache settings: TTLs by KPI, module and value chain over the seeds' defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// `false` turns caching off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// TTL of KPIs without a more specific one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<TimeSetting>,
    /// TTL of ad-hoc formulas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula_ttl: Option<TimeSetting>,
    /// TTLs by KPI code (0 turns caching off for that KPI).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kpis: BTreeMap<String, TimeSetting>,
    /// TTLs by module code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub modules: BTreeMap<String, TimeSetting>,
    /// TTLs by value chain code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub value_chains: BTreeMap<String, TimeSetting>,
    /// The most results kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_entries: Option<u64>,
    /// The most bytes of results kept (256 MiB by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
}

impl EngineSettings {
    /// Reads settings from JSON text.
    pub fn from_json(text: &str) -> Result<EngineSettings, EngineError> {
        crate::spec::settings_text("engine settings", text)
    }

    /// Reads settings from a JSON value (an object; `null` for the defaults).
    pub fn from_value(value: serde_json::Value) -> Result<EngineSettings, EngineError> {
        crate::spec::settings_document("engine settings", value)
    }

    /// The options, every value checked.
    pub fn to_options(&self) -> Result<EngineOptions, EngineError> {
        let mut options = EngineOptions::default();
        let text = crate::spec::CalendarText {
            timezone: self.timezone.as_deref(),
            week_start: self.week_start.as_deref(),
            fiscal_year_start: self.fiscal_year_start.as_deref(),
            retail_calendar: self.retail_calendar.as_deref(),
        };
        options.calendar = crate::spec::calendar(&options.calendar, &text)?;
        options.calendar_table = self.calendar_table.clone();
        if let Some(t) = &self.timeout {
            options.timeout = Some(t.duration("timeout")?);
        }
        if let Some(bytes) = self.memory_limit {
            options.memory_limit = Some(positive_count("memory_limit", bytes)?);
        }
        if let Some(n) = self.max_result_rows {
            options.max_result_rows = Some(positive_count("max_result_rows", n)?);
        }
        if let Some(n) = self.lane_concurrency {
            options.lane_concurrency = positive_count("lane_concurrency", n)?;
        }
        if let Some(n) = self.target_partitions {
            options.target_partitions = Some(positive_count("target_partitions", n)?);
        }
        if let Some(cache) = &self.cache {
            options.cache = cache.to_policy()?;
        }
        if let Some(t) = &self.allowed_lateness {
            options.allowed_lateness = Some(t.duration_or_zero("allowed_lateness")?);
        }
        if let Some(t) = &self.retention {
            options.retention = Some(t.duration("retention")?);
        }
        if let Some(e) = &self.distinct_counts {
            options.distinct_counts = estimate("distinct_counts", e)?;
        }
        if let Some(e) = &self.quantiles {
            options.quantiles = estimate("quantiles", e)?;
        }
        if let Some(p) = self.pushdown {
            options.pushdown = p;
        }
        options.data_dir = self.data_dir.as_ref().map(std::path::PathBuf::from);
        options.archive_location = self.archive_location.as_deref().map(crate::DataLocation::parse);
        options.retention_policy = self.retention_policy.clone();
        options.history = self.history.unwrap_or(false);
        if let Some(t) = &self.clock_skew {
            options.clock_skew = t.duration_or_zero("clock_skew")?;
        }
        match (&self.cluster, &self.cluster_connect_timeout) {
            (Some(url), timeout) => {
                let mut cluster = crate::ClusterOptions::parse(url)?;
                if let Some(t) = timeout {
                    cluster.connect_timeout = t.duration("cluster_connect_timeout")?;
                }
                options.cluster = Some(cluster);
            }
            (None, Some(_)) => {
                return Err(EngineError::InvalidOption {
                    option: "cluster_connect_timeout",
                    message: "applies only with `cluster` (a scheduler's df://host:port)".into(),
                });
            }
            (None, None) => {}
        }
        Ok(options)
    }
}

impl CacheSettings {
    /// The cache policy: the seeds' defaults with these settings over them.
    pub fn to_policy(&self) -> Result<CachePolicy, EngineError> {
        if self.enabled == Some(false) {
            return Ok(CachePolicy::disabled());
        }
        let mut policy = CachePolicy::default();
        if let Some(t) = &self.ttl {
            policy.default_ttl = t.duration_or_zero("cache.ttl")?;
        }
        if let Some(t) = &self.formula_ttl {
            policy.formula_ttl = t.duration_or_zero("cache.formula_ttl")?;
        }
        for (code, t) in &self.kpis {
            policy.kpis.insert(code.clone(), t.duration_or_zero("cache.kpis")?);
        }
        for (code, t) in &self.modules {
            policy.modules.insert(code.clone(), t.duration_or_zero("cache.modules")?);
        }
        for (code, t) in &self.value_chains {
            policy.value_chains.insert(code.clone(), t.duration_or_zero("cache.value_chains")?);
        }
        if let Some(n) = self.max_entries {
            policy.max_entries = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) = self.max_bytes {
            policy.max_bytes = usize::try_from(n).unwrap_or(usize::MAX);
        }
        Ok(policy)
    }
}

fn estimate(option: &'static str, text: &str) -> Result<Estimate, EngineError> {
    match text {
        "exact" => Ok(Estimate::Exact),
        "approximate" => Ok(Estimate::Approximate),
        other => Err(EngineError::InvalidOption { option, message: format!("unknown value `{other}`; use exact or approximate") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_are_typed_errors() {
        let code = |json: &str| EngineSettings::from_json(json).and_then(|s| s.to_options()).unwrap_err().code();
        assert_eq!(code(r#"{"timeout": 1e20}"#), "KPI_OPTION");
        assert_eq!(code(r#"{"timeout": 0}"#), "KPI_OPTION");
        assert_eq!(code(r#"{"lane_concurrency": 0}"#), "KPI_OPTION");
        assert_eq!(code(r#"{"memory_limit": -1}"#), "KPI_QUERY");
        assert_eq!(code(r#"{"quantiles": "roughly"}"#), "KPI_OPTION");
        assert_eq!(code(r#"{"timezone": "Nowhere"}"#), "KPI_QUERY");
        assert_eq!(code(r#"{"cache": {"ttl": "1h", "color": 1}}"#), "KPI_QUERY");
        assert_eq!(code("3"), "KPI_QUERY");
    }

    #[test]
    fn cache_can_be_turned_off() {
        let s = EngineSettings::from_json(r#"{"cache": {"enabled": false}}"#).unwrap();
        assert_eq!(s.to_options().unwrap().cache, CachePolicy::disabled());
    }
}
