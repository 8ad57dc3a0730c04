//! The price book: every rate a proposal uses, with the functional specification's figures as
//! defaults, overridable from YAML or JSON.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::document;
use crate::error::{PricingError, Problems};
use crate::money::{Money, Range, decimal, decimal_range};

/// Every rate and sizing assumption of a proposal.
///
/// [`PriceBook::default`] holds the specification's figures. [`PriceBook::from_yaml`] and
/// [`PriceBook::from_json`] read overrides on top of them: a document only names what it
/// changes, and a misspelt key is an error rather than silently ignored.
///
/// ```
/// use kpi_pricing::{LicenseTerm, Money, PriceBook};
/// let book = PriceBook::from_yaml("licensing: { three_year: 31000 }\ninstances: { m7i.large: 95 }")?;
/// assert_eq!(book.licensing.annual_per_value_chain(LicenseTerm::Three), Money::dollars(31_000));
/// assert_eq!(book.licensing.annual_per_value_chain(LicenseTerm::One), Money::dollars(35_000));
/// assert_eq!(book.instances["m7i.large"], Money::dollars(95));
/// # Ok::<(), kpi_pricing::PricingError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceBook {
    /// Licence prices per value chain and term.
    pub licensing: Licensing,
    /// Hourly rates of the integration team.
    pub rates: Rates,
    /// Data-source integration, per object model.
    pub integration: IntegrationPrices,
    /// KPI implementation, per KPI.
    pub kpi_implementation: KpiImplementationPrices,
    /// Environment setup by a cloud architect.
    pub environment: EnvironmentPrices,
    /// The support retainer and extra hours.
    pub managed_services: ManagedServicePrices,
    /// Hot and cold storage per GB-month.
    pub storage: StoragePrices,
    /// Data transfer per GB.
    pub network: NetworkPrices,
    /// Monthly price per instance type, e.g. `t3.large: 100`.
    pub instances: BTreeMap<String, Money>,
    /// The infrastructure sizing model's assumptions (see the crate documentation).
    pub sizing: SizingModel,
}

/// A licence term: 1, 3 or 5 years.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LicenseTerm {
    /// One year.
    One,
    /// Three years.
    Three,
    /// Five years.
    Five,
}

impl LicenseTerm {
    /// Every term, shortest first.
    pub const ALL: [LicenseTerm; 3] = [LicenseTerm::One, LicenseTerm::Three, LicenseTerm::Five];

    /// The term of `years` years, if it is one that is sold.
    pub fn from_years(years: u32) -> Option<LicenseTerm> {
        match years {
            1 => Some(LicenseTerm::One),
            3 => Some(LicenseTerm::Three),
            5 => Some(LicenseTerm::Five),
            _ => None,
        }
    }

    /// Its length in years.
    pub fn years(self) -> u32 {
        match self {
            LicenseTerm::One => 1,
            LicenseTerm::Three => 3,
            LicenseTerm::Five => 5,
        }
    }
}

impl Serialize for LicenseTerm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.years())
    }
}

impl<'de> Deserialize<'de> for LicenseTerm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<LicenseTerm, D::Error> {
        let years = u32::deserialize(d)?;
        LicenseTerm::from_years(years).ok_or_else(|| serde::de::Error::custom(format!("a licence term is 1, 3 or 5 years, not {years}")))
    }
}

/// Licence prices per value chain and year, by term.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Licensing {
    /// Yearly price per value chain on a 1-year licence.
    pub one_year: Money,
    /// Yearly price per value chain on a 3-year licence.
    pub three_year: Money,
    /// Yearly price per value chain on a 5-year licence.
    pub five_year: Money,
    /// Value chains that are not licensed on their own, because their KPIs combine KPIs of
    /// licensed chains (the standard catalog's `cross_domain`).
    #[serde(default)]
    pub included_value_chains: Vec<String>,
}

impl Licensing {
    /// The yearly price per value chain on `term`.
    pub fn annual_per_value_chain(&self, term: LicenseTerm) -> Money {
        match term {
            LicenseTerm::One => self.one_year,
            LicenseTerm::Three => self.three_year,
            LicenseTerm::Five => self.five_year,
        }
    }

    /// The saving of `term` against the 1-year price, in whole percent (3 years: 7%).
    pub fn saving_percent(&self, term: LicenseTerm) -> Decimal {
        if self.one_year.0.is_zero() {
            return Decimal::ZERO;
        }
        let saving = (self.one_year.0 - self.annual_per_value_chain(term).0) / self.one_year.0 * Decimal::ONE_HUNDRED;
        saving.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::ToZero)
    }
}

/// Hourly rates of the people who do the work.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rates {
    /// Internal cost of an integration developer/analyst (fixed-price work; not billed by the hour).
    pub integration_developer: Money,
    /// An integration architect's time-and-materials rate.
    pub integration_architect: Money,
    /// A cloud architect's time-and-materials rate.
    pub cloud_architect: Money,
}

/// Fixed-price work: the hours it takes (internally) and what the client is charged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixedWork {
    /// Hours of developer time it takes.
    #[serde(with = "decimal")]
    pub hours: Decimal,
    /// The client's price.
    pub charge: Money,
}

/// Time-and-materials work: an estimate of hours, billed at the integration architect's rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeAndMaterials {
    /// The estimated hours per item.
    #[serde(with = "decimal_range")]
    pub hours: Range<Decimal>,
}

/// Data-source integration prices, per object model and method.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationPrices {
    /// Batch, data already conformed and cleansed.
    pub batch_conformed: FixedWork,
    /// Batch, transformed from one source.
    pub batch_non_conformed_single: FixedWork,
    /// Batch, merged and transformed from several sources.
    pub batch_non_conformed_multi: FixedWork,
    /// Batch, with deduplication and entity matching.
    pub batch_entity_resolution: FixedWork,
    /// Streaming from a documented API.
    pub streaming_api_architected: FixedWork,
    /// Streaming from a legacy API (time and materials).
    pub streaming_api_non_architected: TimeAndMaterials,
}

/// KPI implementation prices, per KPI and complexity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiImplementationPrices {
    /// A standard KPI as it is.
    pub otb: FixedWork,
    /// A simple formula change.
    pub custom_basic: FixedWork,
    /// With role-based data filtering.
    pub rbac: FixedWork,
    /// With hierarchical, user-dependent access (time and materials).
    pub dynamic_rbac: TimeAndMaterials,
}

/// Environment setup, billed by the hour for a cloud architect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentPrices {
    /// The usual range of a setup's hours (40–80).
    #[serde(with = "decimal_range")]
    pub cloud_architect_hours: Range<Decimal>,
    /// The hours quoted when the answers give none (60).
    #[serde(with = "decimal")]
    pub estimated_hours: Decimal,
}

/// The managed-services retainer and extra hours.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagedServicePrices {
    /// The yearly retainer.
    pub retainer: Money,
    /// Support hours the retainer covers.
    #[serde(with = "decimal")]
    pub retainer_hours: Decimal,
    /// Price of each hour beyond the retainer.
    pub hourly_rate: Money,
}

/// Storage prices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoragePrices {
    /// Active (hot) database storage per GB-month.
    pub hot_per_gb_month: Money,
    /// Archive (cold) storage per GB-month.
    pub cold_per_gb_month: Money,
}

/// Network prices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkPrices {
    /// Data transfer per GB.
    pub per_gb: Money,
}

/// The assumptions of the infrastructure sizing model (see the crate documentation for how
/// they are used).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizingModel {
    /// Instance type of the API gateway.
    pub gateway_instance: String,
    /// Concurrent users one gateway instance serves.
    pub users_per_gateway: u32,
    /// Gateways kept for availability, however small the load.
    pub min_gateways: u32,
    /// Instance type of the business services (metadata, calculation, configuration).
    pub business_instance: String,
    /// How many business services there are.
    pub business_services: u32,
    /// Queries per hour one business-service replica answers.
    pub queries_per_business_replica_hour: u32,
    /// Instance type of the backend services (database, messaging, archival).
    pub backend_instance: String,
    /// How many backend services there are.
    pub backend_services: u32,
    /// GB per day one backend replica ingests.
    pub gb_per_backend_replica_day: u32,
    /// KPI refreshes per hour one backend replica recalculates.
    pub kpi_refreshes_per_backend_replica_hour: u32,
    /// Replicas of each service kept for availability.
    pub min_replicas: u32,
    /// Redis instance type up to `users_per_redis` concurrent users.
    pub redis_instance: String,
    /// Redis instance type beyond that.
    pub large_redis_instance: String,
    /// Concurrent users the smaller Redis instance serves.
    pub users_per_redis: u32,
    /// Dimension groups each KPI is stored for (analytics data volume).
    pub groups_per_kpi: u32,
    /// Bytes one stored KPI value takes, indexes included.
    pub bytes_per_point: u32,
    /// KB a query response transfers.
    pub response_kb: u32,
    /// KB one streamed update transfers.
    pub update_kb: u32,
    /// KPIs on one user's dashboard, at most.
    pub kpis_per_dashboard: u32,
    /// Share of the ingested volume that is billed as transfer (1 = all of it).
    #[serde(with = "decimal")]
    pub ingest_transfer_share: Decimal,
}

impl Default for PriceBook {
    /// The functional specification's figures.
    fn default() -> Self {
        let d = Decimal::from;
        let fixed = |hours: i64, charge: i64| FixedWork { hours: d(hours), charge: Money::dollars(charge) };
        let tm = |min: i64, max: i64| TimeAndMaterials { hours: Range { min: d(min), max: d(max) } };
        let instances = [
            ("t3.medium", 50),
            ("t3.large", 100),
            ("t3.xlarge", 150),
            ("t3.2xlarge", 300),
            ("cache.m5.large", 100),
            ("cache.m5.xlarge", 200),
        ];
        PriceBook {
            licensing: Licensing {
                one_year: Money::dollars(35_000),
                three_year: Money::dollars(32_500),
                five_year: Money::dollars(30_000),
                included_value_chains: vec!["cross_domain".into()],
            },
            rates: Rates {
                integration_developer: Money::dollars(70),
                integration_architect: Money::dollars(175),
                cloud_architect: Money::dollars(175),
            },
            integration: IntegrationPrices {
                batch_conformed: fixed(15, 1_500),
                batch_non_conformed_single: fixed(20, 2_500),
                batch_non_conformed_multi: fixed(30, 3_500),
                batch_entity_resolution: fixed(30, 3_500),
                streaming_api_architected: fixed(20, 2_500),
                streaming_api_non_architected: tm(40, 60),
            },
            kpi_implementation: KpiImplementationPrices {
                otb: FixedWork { hours: Decimal::new(5, 1), charge: Money::dollars(50) },
                custom_basic: FixedWork { hours: Decimal::new(5, 1), charge: Money::dollars(50) },
                rbac: fixed(1, 100),
                dynamic_rbac: tm(20, 30),
            },
            environment: EnvironmentPrices { cloud_architect_hours: Range { min: d(40), max: d(80) }, estimated_hours: d(60) },
            managed_services: ManagedServicePrices {
                retainer: Money::dollars(5_000),
                retainer_hours: Decimal::new(6667, 2),
                hourly_rate: Money::dollars(75),
            },
            storage: StoragePrices { hot_per_gb_month: Money(Decimal::new(10, 2)), cold_per_gb_month: Money(Decimal::new(1, 2)) },
            network: NetworkPrices { per_gb: Money(Decimal::new(9, 2)) },
            instances: instances.into_iter().map(|(k, v)| (k.to_string(), Money::dollars(v))).collect(),
            sizing: SizingModel {
                gateway_instance: "t3.medium".into(),
                users_per_gateway: 500,
                min_gateways: 2,
                business_instance: "t3.large".into(),
                business_services: 3,
                queries_per_business_replica_hour: 20_000,
                backend_instance: "t3.xlarge".into(),
                backend_services: 3,
                gb_per_backend_replica_day: 50,
                kpi_refreshes_per_backend_replica_hour: 6_000,
                min_replicas: 2,
                redis_instance: "cache.m5.large".into(),
                large_redis_instance: "cache.m5.xlarge".into(),
                users_per_redis: 1_000,
                groups_per_kpi: 100,
                bytes_per_point: 64,
                response_kb: 50,
                update_kb: 2,
                kpis_per_dashboard: 12,
                ingest_transfer_share: Decimal::ONE,
            },
        }
    }
}

/// The largest amount a price book may hold, so no product of prices and bounded quantities
/// can overflow a decimal.
pub(crate) const MAX_PRICE: i64 = 1_000_000_000;

impl PriceBook {
    /// The default book with the overrides of a YAML document applied.
    pub fn from_yaml(text: &str) -> Result<PriceBook, PricingError> {
        let overrides = document::parse_yaml::<serde_json::Value>(text, "price book")?;
        PriceBook::with_overrides(overrides)
    }

    /// The default book with the overrides of a JSON document applied.
    pub fn from_json(text: &str) -> Result<PriceBook, PricingError> {
        let overrides = document::parse_json::<serde_json::Value>(text, "price book")?;
        PriceBook::with_overrides(overrides)
    }

    /// The whole book as YAML, e.g. to start an override file from.
    pub fn to_yaml(&self) -> String {
        // invariant: plain structs and maps with text keys always serialize.
        serde_saphyr::to_string(self).expect("a price book always serializes")
    }

    /// The whole book as JSON.
    pub fn to_json(&self) -> String {
        // invariant: plain structs and maps with text keys always serialize.
        serde_json::to_string_pretty(self).expect("a price book always serializes")
    }

    /// Every fixed-price work item with its path in the book.
    fn fixed_work(&self) -> [(&'static str, &FixedWork); 8] {
        let i = &self.integration;
        let k = &self.kpi_implementation;
        [
            ("integration.batch_conformed", &i.batch_conformed),
            ("integration.batch_non_conformed_single", &i.batch_non_conformed_single),
            ("integration.batch_non_conformed_multi", &i.batch_non_conformed_multi),
            ("integration.batch_entity_resolution", &i.batch_entity_resolution),
            ("integration.streaming_api_architected", &i.streaming_api_architected),
            ("kpi_implementation.otb", &k.otb),
            ("kpi_implementation.custom_basic", &k.custom_basic),
            ("kpi_implementation.rbac", &k.rbac),
        ]
    }

    fn with_overrides(overrides: serde_json::Value) -> Result<PriceBook, PricingError> {
        if !overrides.is_object() && !overrides.is_null() {
            return Err(PricingError::Parse {
                what: "price book",
                message: "a price book is a mapping of sections, e.g. `licensing: { one_year: 36000 }`".into(),
            });
        }
        // invariant: plain structs and maps with text keys always serialize.
        let mut merged = serde_json::to_value(PriceBook::default()).expect("the default price book serializes");
        document::merge(&mut merged, overrides);
        let book: PriceBook =
            serde_json::from_value(merged).map_err(|e| PricingError::Parse { what: "price book", message: e.to_string() })?;
        book.validate()?;
        Ok(book)
    }

    /// Checks that every price is non-negative and bounded, every range is ordered, every
    /// capacity is positive and every instance type the sizing model names has a price.
    pub fn validate(&self) -> Result<(), PricingError> {
        let mut p = Problems::default();
        let max = Money::dollars(MAX_PRICE);
        let mut money = |path: &str, m: Money| {
            if m < Money::ZERO || m > max {
                p.add(path, format!("{m} must be between $0 and {max}"));
            }
        };
        let l = &self.licensing;
        money("licensing.one_year", l.one_year);
        money("licensing.three_year", l.three_year);
        money("licensing.five_year", l.five_year);
        money("rates.integration_developer", self.rates.integration_developer);
        money("rates.integration_architect", self.rates.integration_architect);
        money("rates.cloud_architect", self.rates.cloud_architect);
        for (name, w) in self.fixed_work() {
            money(&format!("{name}.charge"), w.charge);
        }
        money("managed_services.retainer", self.managed_services.retainer);
        money("managed_services.hourly_rate", self.managed_services.hourly_rate);
        money("storage.hot_per_gb_month", self.storage.hot_per_gb_month);
        money("storage.cold_per_gb_month", self.storage.cold_per_gb_month);
        money("network.per_gb", self.network.per_gb);
        for (name, price) in &self.instances {
            money(&format!("instances.{name}"), *price);
        }
        let hours_limit = Decimal::from(crate::answers::MAX_HOURS);
        let hours = |p: &mut Problems, path: &str, h: Decimal| {
            if h < Decimal::ZERO || h > hours_limit {
                p.add(path, format!("{h} hours must be between 0 and {hours_limit}"));
            }
        };
        for (name, w) in self.fixed_work() {
            hours(&mut p, &format!("{name}.hours"), w.hours);
        }
        hours(&mut p, "managed_services.retainer_hours", self.managed_services.retainer_hours);
        hours(&mut p, "environment.estimated_hours", self.environment.estimated_hours);
        let i = &self.integration;
        for (name, r) in [
            ("integration.streaming_api_non_architected.hours", i.streaming_api_non_architected.hours),
            ("kpi_implementation.dynamic_rbac.hours", self.kpi_implementation.dynamic_rbac.hours),
            ("environment.cloud_architect_hours", self.environment.cloud_architect_hours),
        ] {
            hours(&mut p, &format!("{name}.min"), r.min);
            hours(&mut p, &format!("{name}.max"), r.max);
            if r.min > r.max {
                p.add(name, format!("the range {}-{} runs backwards", r.min, r.max));
            }
        }
        let s = &self.sizing;
        for (name, value) in [
            ("sizing.users_per_gateway", s.users_per_gateway),
            ("sizing.min_gateways", s.min_gateways),
            ("sizing.business_services", s.business_services),
            ("sizing.queries_per_business_replica_hour", s.queries_per_business_replica_hour),
            ("sizing.backend_services", s.backend_services),
            ("sizing.gb_per_backend_replica_day", s.gb_per_backend_replica_day),
            ("sizing.kpi_refreshes_per_backend_replica_hour", s.kpi_refreshes_per_backend_replica_hour),
            ("sizing.min_replicas", s.min_replicas),
            ("sizing.users_per_redis", s.users_per_redis),
        ] {
            if value == 0 {
                p.add(name, "must be at least 1");
            }
        }
        if s.ingest_transfer_share < Decimal::ZERO || s.ingest_transfer_share > Decimal::from(100) {
            p.add("sizing.ingest_transfer_share", "must be between 0 and 100");
        }
        for (name, instance) in [
            ("sizing.gateway_instance", &s.gateway_instance),
            ("sizing.business_instance", &s.business_instance),
            ("sizing.backend_instance", &s.backend_instance),
            ("sizing.redis_instance", &s.redis_instance),
            ("sizing.large_redis_instance", &s.large_redis_instance),
        ] {
            if !self.instances.contains_key(instance) {
                p.add_with_help(
                    name,
                    format!("instance type `{instance}` has no price under `instances`"),
                    crate::error::did_you_mean(instance, self.instances.keys().map(String::as_str)),
                );
            }
        }
        p.into_result("price book", ())
    }
}
