//! Infrastructure: the sizing model that turns volumes into instances and storage, and the
//! monthly and annual cost of a set of instances.

use kpi_catalog::RetentionPolicy;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::answers::Refresh;
use crate::error::{Problems, did_you_mean};
use crate::money::{Money, decimal};
use crate::price_book::PriceBook;
use crate::retention::{StorageEstimate, storage_cost};

/// Instances of one kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Instances {
    /// The instance type, priced by the price book's `instances`.
    pub instance_type: String,
    /// How many.
    pub count: u32,
}

/// The infrastructure to price: instances and volumes, given explicitly or estimated by
/// [`estimate`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfrastructureSpec {
    /// The API gateway.
    pub api_gateway: Instances,
    /// The business services (metadata, calculation, configuration) with their replicas.
    pub business_services: Instances,
    /// The backend services (database, messaging, archival) with their replicas.
    pub backend_services: Instances,
    /// The Redis instance type (messaging and caching).
    pub redis: String,
    /// GB in the active database.
    #[serde(with = "decimal")]
    pub active_storage_gb: Decimal,
    /// GB in cold storage.
    #[serde(with = "decimal")]
    pub archive_storage_gb: Decimal,
    /// GB transferred a month.
    #[serde(with = "decimal")]
    pub network_gb_per_month: Decimal,
}

/// The inputs of the sizing model (step 7 of the questionnaire).
#[derive(Clone, Debug, PartialEq)]
pub struct SizingInputs {
    /// Source data ingested per day, in GB.
    pub daily_gb: Decimal,
    /// Users with a dashboard open at the same time.
    pub concurrent_users: u32,
    /// How often streamed KPIs refresh.
    pub refresh: Refresh,
    /// KPIs calculated.
    pub kpis: u32,
    /// On-demand queries per hour at peak.
    pub queries_per_hour: u32,
    /// How long data is kept.
    pub retention: RetentionPolicy,
    /// Days an indefinite archive is priced for (the licence term).
    pub horizon_days: u64,
}

/// What the sizing model estimated, with the figures behind it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Sizing {
    /// The instances and volumes to price.
    pub spec: InfrastructureSpec,
    /// Storage of staged source data by the spec's formula.
    pub staged_source_storage: StorageEstimate,
    /// Storage of analytics data by the same formula.
    pub analytics_storage: StorageEstimate,
    /// GB of KPI values written per day.
    #[serde(rename = "analyticsGBPerDay", with = "decimal")]
    pub analytics_gb_per_day: Decimal,
}

fn ceil_div(numerator: Decimal, denominator: u32) -> u32 {
    let n = (numerator / Decimal::from(denominator)).ceil();
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Estimates instances and volumes from `inputs` with `book.sizing` (the model is written out
/// in the crate documentation).
///
/// ```
/// use kpi_pricing::{PriceBook, Refresh, SizingInputs, estimate, retention};
/// let inputs = SizingInputs {
///     daily_gb: 5.into(), concurrent_users: 100, refresh: Refresh::Hour, kpis: 20,
///     queries_per_hour: 2_000, retention: retention::recommended_policy(), horizon_days: 3 * 365,
/// };
/// let sizing = estimate(&inputs, &PriceBook::default());
/// assert_eq!(sizing.spec.api_gateway.count, 2);        // two for availability
/// assert_eq!(sizing.spec.business_services.count, 6);  // 3 services × 2 replicas
/// assert_eq!(sizing.staged_source_storage.active_storage_gb, 450.into()); // 5 GB × 90 days
/// ```
pub fn estimate(inputs: &SizingInputs, book: &PriceBook) -> Sizing {
    let m = &book.sizing;
    let users = Decimal::from(inputs.concurrent_users);
    let gateways = ceil_div(users, m.users_per_gateway).max(m.min_gateways);
    let business_replicas = ceil_div(inputs.queries_per_hour.into(), m.queries_per_business_replica_hour).max(m.min_replicas);
    let refreshes_per_hour = Decimal::from(inputs.kpis) * inputs.refresh.per_hour();
    let backend_replicas = ceil_div(inputs.daily_gb, m.gb_per_backend_replica_day)
        .max(ceil_div(refreshes_per_hour, m.kpi_refreshes_per_backend_replica_hour))
        .max(m.min_replicas);
    let redis = if inputs.concurrent_users > m.users_per_redis { &m.large_redis_instance } else { &m.redis_instance };

    // KPI values kept per KPI and dimension group a day: every refresh when raw data is kept,
    // plus one value per kept aggregate level.
    let g = &inputs.retention.granularity;
    let per_day = |kept: bool, points: Decimal| if kept { points } else { Decimal::ZERO };
    let points_per_day = per_day(g.raw_data, inputs.refresh.per_hour() * Decimal::from(24))
        + per_day(g.minute_aggregates, Decimal::from(1440))
        + per_day(g.hourly_aggregates, Decimal::from(24))
        + per_day(g.daily_aggregates, Decimal::ONE)
        + per_day(g.monthly_aggregates, Decimal::ONE / Decimal::from(30));
    let analytics_gb_per_day =
        (Decimal::from(inputs.kpis) * Decimal::from(m.groups_per_kpi) * points_per_day * Decimal::from(m.bytes_per_point)
            / Decimal::from(1_000_000_000))
        .round_dp(6);

    let staged = storage_cost(inputs.daily_gb, &inputs.retention.staged_source_data, &book.storage, inputs.horizon_days);
    let analytics = storage_cost(analytics_gb_per_day, &inputs.retention.analytics_data, &book.storage, inputs.horizon_days);

    // Transfer a month (730 hours): query responses, streamed updates of each user's dashboard,
    // and the billed share of ingested data.
    let hours_per_month = Decimal::from(730);
    let kb_per_gb = Decimal::from(1_000_000);
    let on_screen = Decimal::from(inputs.kpis.min(m.kpis_per_dashboard));
    let responses = Decimal::from(inputs.queries_per_hour) * Decimal::from(m.response_kb) * hours_per_month / kb_per_gb;
    let updates = users * inputs.refresh.per_hour() * on_screen * Decimal::from(m.update_kb) * hours_per_month / kb_per_gb;
    let ingest = inputs.daily_gb * Decimal::from(30) * m.ingest_transfer_share;
    let network_gb_per_month = (responses + updates + ingest).round_dp(2).normalize();

    Sizing {
        spec: InfrastructureSpec {
            api_gateway: Instances { instance_type: m.gateway_instance.clone(), count: gateways },
            business_services: Instances {
                instance_type: m.business_instance.clone(),
                count: m.business_services.saturating_mul(business_replicas),
            },
            backend_services: Instances {
                instance_type: m.backend_instance.clone(),
                count: m.backend_services.saturating_mul(backend_replicas),
            },
            redis: redis.clone(),
            active_storage_gb: (staged.active_storage_gb + analytics.active_storage_gb).round_dp(2).normalize(),
            archive_storage_gb: (staged.archive_storage_gb + analytics.archive_storage_gb).round_dp(2).normalize(),
            network_gb_per_month,
        },
        staged_source_storage: staged,
        analytics_storage: analytics,
        analytics_gb_per_day: analytics_gb_per_day.normalize(),
    }
}

/// Instances of one kind, priced (the spec's `ComputeCosts` entries).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceCost {
    /// The instance type.
    pub instance_type: String,
    /// How many.
    pub instance_count: u32,
    /// The price of one a month.
    pub monthly_cost_per_instance: Money,
    /// All of them a month.
    pub monthly_cost: Money,
}

/// Compute a month (the spec's `ComputeCosts`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComputeCosts {
    /// The API gateway.
    pub api_gateway: InstanceCost,
    /// The business services.
    pub business_services: InstanceCost,
    /// The backend services.
    pub backend_services: InstanceCost,
    /// All compute.
    pub total_monthly_compute: Money,
}

/// A volume of storage, priced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredVolume {
    /// GB stored.
    #[serde(rename = "storageGB", with = "decimal")]
    pub storage_gb: Decimal,
    /// Price per GB-month.
    #[serde(rename = "costPerGB")]
    pub cost_per_gb: Money,
    /// Cost a month.
    pub monthly_cost: Money,
}

/// The Redis instance, priced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RedisCost {
    /// The instance type.
    pub instance_type: String,
    /// Cost a month.
    pub monthly_cost: Money,
}

/// Storage a month (the spec's `StorageCosts`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageCosts {
    /// The active database (hot storage).
    pub active_database: StoredVolume,
    /// Archived data (cold storage).
    pub archived_data: StoredVolume,
    /// Redis.
    pub redis: RedisCost,
    /// All storage.
    pub total_monthly_storage: Money,
}

/// Network a month (the spec's `NetworkCosts`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkCosts {
    /// GB transferred.
    #[serde(rename = "dataTransferGB", with = "decimal")]
    pub data_transfer_gb: Decimal,
    /// Price per GB.
    #[serde(rename = "costPerGB")]
    pub cost_per_gb: Money,
    /// Cost a month.
    pub monthly_cost: Money,
}

/// Monthly cost per component (the spec's `breakdown`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InfrastructureBreakdown {
    /// The API gateway.
    pub api_gateway: Money,
    /// The business services.
    pub business_services: Money,
    /// The backend services.
    pub backend_services: Money,
    /// The active database.
    pub database: Money,
    /// Archived data.
    pub archival: Money,
    /// Redis.
    pub redis: Money,
    /// Network.
    pub network: Money,
}

/// Infrastructure, priced (the spec's `InfrastructureCosts`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InfrastructureCosts {
    /// Compute.
    pub compute: ComputeCosts,
    /// Storage.
    pub storage: StorageCosts,
    /// Network.
    pub network: NetworkCosts,
    /// Everything a month.
    pub monthly_total: Money,
    /// Everything a year (12 months).
    pub annual_total: Money,
    /// Monthly cost per component.
    pub breakdown: InfrastructureBreakdown,
}

/// The most instances of one kind, and the most GB, a specification may name.
pub(crate) const MAX_INSTANCES: u32 = 100_000;
pub(crate) const MAX_GB: i64 = 1_000_000_000_000;

impl InfrastructureSpec {
    /// Problems with the specification under `path`: unknown instance types, negative or
    /// absurd volumes.
    pub(crate) fn check(&self, path: &str, book: &PriceBook, p: &mut Problems) {
        let known = || book.instances.keys().map(String::as_str);
        let mut instance_type = |field: &str, name: &str| {
            if !book.instances.contains_key(name) {
                p.add_with_help(
                    format!("{path}.{field}"),
                    format!("instance type `{name}` has no price in the price book"),
                    did_you_mean(name, known()).or_else(|| Some(format!("priced types: {}", known().collect::<Vec<_>>().join(", ")))),
                );
            }
        };
        instance_type("api_gateway.instance_type", &self.api_gateway.instance_type);
        instance_type("business_services.instance_type", &self.business_services.instance_type);
        instance_type("backend_services.instance_type", &self.backend_services.instance_type);
        instance_type("redis", &self.redis);
        for (field, i) in [
            ("api_gateway", &self.api_gateway),
            ("business_services", &self.business_services),
            ("backend_services", &self.backend_services),
        ] {
            if i.count > MAX_INSTANCES {
                p.add(
                    format!("{path}.{field}.count"),
                    format!("{} instances is more than the {MAX_INSTANCES} a proposal can price", i.count),
                );
            }
        }
        for (field, gb) in [
            ("active_storage_gb", self.active_storage_gb),
            ("archive_storage_gb", self.archive_storage_gb),
            ("network_gb_per_month", self.network_gb_per_month),
        ] {
            if gb < Decimal::ZERO || gb > Decimal::from(MAX_GB) {
                p.add(format!("{path}.{field}"), format!("{gb} GB must be between 0 and {MAX_GB}"));
            }
        }
    }

    /// Prices the specification. Instance types must be in `book.instances` (checked by
    /// [`crate::price`]; an unknown type here is priced at zero).
    ///
    /// ```
    /// use kpi_pricing::{InfrastructureSpec, Instances, PriceBook};
    /// let spec = InfrastructureSpec {
    ///     api_gateway: Instances { instance_type: "t3.medium".into(), count: 2 },
    ///     business_services: Instances { instance_type: "t3.large".into(), count: 6 },
    ///     backend_services: Instances { instance_type: "t3.xlarge".into(), count: 6 },
    ///     redis: "cache.m5.large".into(),
    ///     active_storage_gb: 500.into(),
    ///     archive_storage_gb: 2000.into(),
    ///     network_gb_per_month: 1000.into(),
    /// };
    /// let costs = spec.price(&PriceBook::default());
    /// assert_eq!(costs.compute.total_monthly_compute.to_string(), "$1,600");
    /// assert_eq!(costs.annual_total.to_string(), "$22,320");
    /// ```
    pub fn price(&self, book: &PriceBook) -> InfrastructureCosts {
        let unit_price = |name: &str| book.instances.get(name).copied().unwrap_or(Money::ZERO);
        let instances = |i: &Instances| {
            let each = unit_price(&i.instance_type);
            InstanceCost {
                instance_type: i.instance_type.clone(),
                instance_count: i.count,
                monthly_cost_per_instance: each,
                monthly_cost: each.times(i.count.into()),
            }
        };
        let volume = |gb: Decimal, rate: Money| StoredVolume { storage_gb: gb, cost_per_gb: rate, monthly_cost: rate.times(gb) };
        let compute = {
            let (api_gateway, business_services, backend_services) =
                (instances(&self.api_gateway), instances(&self.business_services), instances(&self.backend_services));
            let total = api_gateway.monthly_cost + business_services.monthly_cost + backend_services.monthly_cost;
            ComputeCosts { api_gateway, business_services, backend_services, total_monthly_compute: total }
        };
        let storage = {
            let active_database = volume(self.active_storage_gb, book.storage.hot_per_gb_month);
            let archived_data = volume(self.archive_storage_gb, book.storage.cold_per_gb_month);
            let redis = RedisCost { instance_type: self.redis.clone(), monthly_cost: unit_price(&self.redis) };
            let total = active_database.monthly_cost + archived_data.monthly_cost + redis.monthly_cost;
            StorageCosts { active_database, archived_data, redis, total_monthly_storage: total }
        };
        let network = {
            let rate = book.network.per_gb;
            NetworkCosts {
                data_transfer_gb: self.network_gb_per_month,
                cost_per_gb: rate,
                monthly_cost: rate.times(self.network_gb_per_month),
            }
        };
        let monthly_total = compute.total_monthly_compute + storage.total_monthly_storage + network.monthly_cost;
        let breakdown = InfrastructureBreakdown {
            api_gateway: compute.api_gateway.monthly_cost,
            business_services: compute.business_services.monthly_cost,
            backend_services: compute.backend_services.monthly_cost,
            database: storage.active_database.monthly_cost,
            archival: storage.archived_data.monthly_cost,
            redis: storage.redis.monthly_cost,
            network: network.monthly_cost,
        };
        InfrastructureCosts { compute, storage, network, monthly_total, annual_total: monthly_total.times(12.into()), breakdown }
    }
}
