//! The client's answers to the proposal questionnaire, as data.
//!
//! Answers are written in snake_case, like catalog documents, and every part a proposal cannot
//! be priced without is checked by [`crate::price`], which lists every problem at once. Parts
//! with a recommended answer (retention, environment hours, KPI complexity) fall back to it, and
//! the proposal's `assumptions` say so.

use std::collections::BTreeMap;

use kpi_catalog::{Complexity, Granularity, RetentionRule};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::document;
use crate::error::PricingError;
use crate::infrastructure::InfrastructureSpec;
use crate::money::{Range, decimal, decimal_range};
use crate::retention::Compliance;

/// The most hours any one answer may name (about 50 person-years).
pub const MAX_HOURS: i64 = 100_000;

/// Answers to the eight steps of the proposal questionnaire.
///
/// ```
/// let answers = kpi_pricing::Answers::from_yaml(r#"
/// client_name: Acme
/// license_term: 3
/// default_integration: { method: batch_conformed, source_system: Snowflake }
/// environment: { platform: aws }
/// infrastructure: { daily_gb: 5, concurrent_users: 100, refresh: hour, queries_per_hour: 2000 }
/// managed_services: { retainer: true, additional_hours: 50 }
/// "#)?;
/// assert_eq!(answers.license_term, Some(3));
/// # Ok::<(), kpi_pricing::PricingError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Answers {
    /// The client's name, for the proposal's heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// The proposal's date as `YYYY-MM-DD`; today when absent. It is valid for 30 days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal_date: Option<String>,
    /// Step 2: licence term in years (1, 3 or 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_term: Option<u32>,
    /// Step 2: value chains to license beyond those the selected KPIs need (which are always
    /// licensed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub value_chains: Vec<String>,
    /// Step 3: how each required object model's data is integrated, by object-model code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data_integration: BTreeMap<String, IntegrationAnswer>,
    /// Step 3: the integration of every required object model not in `data_integration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_integration: Option<IntegrationAnswer>,
    /// Step 4: each selected KPI's implementation, by KPI code; a KPI not listed is priced at
    /// its catalog complexity.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub kpi_implementation: BTreeMap<String, KpiAnswer>,
    /// Step 5: where the engine runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<EnvironmentAnswer>,
    /// Step 6: data retention; recommended answers where absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionAnswer>,
    /// Step 7: infrastructure, estimated from volumes or given as instances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure: Option<InfrastructureAnswer>,
    /// Step 8: managed services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_services: Option<ManagedServicesAnswer>,
}

impl Answers {
    /// Reads answers from YAML.
    pub fn from_yaml(text: &str) -> Result<Answers, PricingError> {
        document::parse_yaml(text, "answers")
    }

    /// Reads answers from JSON.
    pub fn from_json(text: &str) -> Result<Answers, PricingError> {
        document::parse_json(text, "answers")
    }
}

/// How one object model's data is integrated.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegrationAnswer {
    /// The integration method.
    pub method: IntegrationMethod,
    /// The client's system the data comes from, e.g. `SAP ERP`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source_system: String,
    /// For a non-architected API: the estimated hours, overriding the price book's.
    #[serde(default, with = "decimal_range::option", skip_serializing_if = "Option::is_none")]
    pub tm_hours: Option<Range<Decimal>>,
}

/// How data gets from a source into an object model (the spec's integration types).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationMethod {
    /// Batch; the data already matches the object model.
    BatchConformed,
    /// Batch; transformed from one source system.
    BatchNonConformedSingle,
    /// Batch; merged and transformed from several source systems.
    BatchNonConformedMulti,
    /// Batch; deduplicated and matched across sources.
    BatchEntityResolution,
    /// Streaming from a documented REST/GraphQL API.
    StreamingApiArchitected,
    /// Streaming from a legacy API that needs reverse engineering (time and materials).
    StreamingApiNonArchitected,
}

impl IntegrationMethod {
    /// Every method, in the questionnaire's order.
    pub const ALL: [IntegrationMethod; 6] = [
        IntegrationMethod::BatchConformed,
        IntegrationMethod::BatchNonConformedSingle,
        IntegrationMethod::BatchNonConformedMulti,
        IntegrationMethod::BatchEntityResolution,
        IntegrationMethod::StreamingApiArchitected,
        IntegrationMethod::StreamingApiNonArchitected,
    ];

    /// The code used in answers, e.g. `batch_conformed`.
    pub fn code(self) -> &'static str {
        match self {
            IntegrationMethod::BatchConformed => "batch_conformed",
            IntegrationMethod::BatchNonConformedSingle => "batch_non_conformed_single",
            IntegrationMethod::BatchNonConformedMulti => "batch_non_conformed_multi",
            IntegrationMethod::BatchEntityResolution => "batch_entity_resolution",
            IntegrationMethod::StreamingApiArchitected => "streaming_api_architected",
            IntegrationMethod::StreamingApiNonArchitected => "streaming_api_non_architected",
        }
    }

    /// The label of the proposal, e.g. `Batch - Conformed/Cleansed`.
    pub fn label(self) -> &'static str {
        match self {
            IntegrationMethod::BatchConformed => "Batch - Conformed/Cleansed",
            IntegrationMethod::BatchNonConformedSingle => "Batch - Non-Conformed Single Source",
            IntegrationMethod::BatchNonConformedMulti => "Batch - Non-Conformed Multi Source",
            IntegrationMethod::BatchEntityResolution => "Batch - Entity Resolution",
            IntegrationMethod::StreamingApiArchitected => "Streaming - API/Architected",
            IntegrationMethod::StreamingApiNonArchitected => "Streaming - API/Non-Architected",
        }
    }
}

/// How one selected KPI is implemented.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiAnswer {
    /// Its complexity; the catalog's when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complexity: Option<Complexity>,
    /// For dynamic RBAC: the estimated hours, overriding the price book's.
    #[serde(default, with = "decimal_range::option", skip_serializing_if = "Option::is_none")]
    pub tm_hours: Option<Range<Decimal>>,
}

/// The label of a KPI complexity in a proposal, e.g. `Dynamic RBAC`.
pub fn complexity_label(complexity: Complexity) -> &'static str {
    match complexity {
        Complexity::Otb => "OTB",
        Complexity::CustomBasic => "Custom Basic",
        Complexity::Rbac => "RBAC",
        Complexity::DynamicRbac => "Dynamic RBAC",
    }
}

/// Where the engine runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvironmentAnswer {
    /// The platform.
    pub platform: Platform,
    /// The cloud architect's estimated hours; the price book's estimate when absent.
    #[serde(default, with = "decimal::option", skip_serializing_if = "Option::is_none")]
    pub cloud_architect_hours: Option<Decimal>,
}

/// A platform the engine can be set up on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// The client's own data centre.
    OnPremises,
    /// Microsoft Azure.
    Azure,
    /// Amazon Web Services.
    Aws,
    /// Google Cloud Platform.
    Gcp,
    /// Oracle Cloud.
    Oracle,
    /// No setup: the client has an environment.
    None,
}

impl Platform {
    /// Every platform, in the questionnaire's order.
    pub const ALL: [Platform; 6] = [Platform::OnPremises, Platform::Azure, Platform::Aws, Platform::Gcp, Platform::Oracle, Platform::None];

    /// The code used in answers, e.g. `on_premises`.
    pub fn code(self) -> &'static str {
        match self {
            Platform::OnPremises => "on_premises",
            Platform::Azure => "azure",
            Platform::Aws => "aws",
            Platform::Gcp => "gcp",
            Platform::Oracle => "oracle",
            Platform::None => "none",
        }
    }

    /// The label of the proposal, e.g. `AWS`.
    pub fn label(self) -> &'static str {
        match self {
            Platform::OnPremises => "On-Premises",
            Platform::Azure => "Azure Cloud",
            Platform::Aws => "AWS",
            Platform::Gcp => "GCP",
            Platform::Oracle => "Oracle Cloud",
            Platform::None => "Existing environment",
        }
    }

    /// Whether a cloud architect sets it up.
    pub fn needs_setup(self) -> bool {
        self != Platform::None
    }
}

/// Retention answers (the spec's `DataRetentionPolicy` plus compliance).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionAnswer {
    /// Raw source data; the recommended 90 days active, archived 1 year, when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staged_source_data: Option<RetentionRule>,
    /// Calculated KPI values; the recommended 365 days active, archived 5 years, when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analytics_data: Option<RetentionRule>,
    /// Levels of detail kept; the recommended levels when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granularity: Option<Granularity>,
    /// Regulations whose minimum retention applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub compliance: Vec<Compliance>,
    /// Another requirement, named for the record (it changes no period).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry_specific: Option<String>,
}

/// Infrastructure: either the sizing inputs, or explicit `instances`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfrastructureAnswer {
    /// Source data ingested per day, in GB.
    #[serde(default, with = "decimal::option", skip_serializing_if = "Option::is_none")]
    pub daily_gb: Option<Decimal>,
    /// Users with a dashboard open at the same time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrent_users: Option<u32>,
    /// How often streamed KPIs refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh: Option<Refresh>,
    /// On-demand queries per hour at peak; one per user and refresh when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queries_per_hour: Option<u32>,
    /// Explicit instances and volumes instead of the estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances: Option<InfrastructureSpec>,
}

/// How often streamed KPIs refresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refresh {
    /// Every minute.
    Minute,
    /// Every hour.
    Hour,
    /// Every day.
    Day,
}

impl Refresh {
    /// Refreshes per hour.
    pub fn per_hour(self) -> Decimal {
        match self {
            Refresh::Minute => Decimal::from(60),
            Refresh::Hour => Decimal::ONE,
            Refresh::Day => Decimal::ONE / Decimal::from(24),
        }
    }

    /// The name used in answers.
    pub fn code(self) -> &'static str {
        match self {
            Refresh::Minute => "minute",
            Refresh::Hour => "hour",
            Refresh::Day => "day",
        }
    }
}

/// Managed services.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagedServicesAnswer {
    /// Whether the yearly retainer is included.
    pub retainer: bool,
    /// Support hours a year beyond the retainer.
    #[serde(default, with = "decimal::option", skip_serializing_if = "Option::is_none")]
    pub additional_hours: Option<Decimal>,
    /// Or one of the questionnaire's bands, quoted at its upper end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_hours_band: Option<SupportBand>,
}

/// The questionnaire's bands of support hours a year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SupportBand {
    /// 0–50 hours: covered by the retainer.
    #[serde(rename = "0-50")]
    UpTo50,
    /// 50–100 additional hours.
    #[serde(rename = "50-100")]
    From50To100,
    /// 100–200 additional hours.
    #[serde(rename = "100-200")]
    From100To200,
}

impl SupportBand {
    /// Every band, in the questionnaire's order.
    pub const ALL: [SupportBand; 3] = [SupportBand::UpTo50, SupportBand::From50To100, SupportBand::From100To200];

    /// The code used in answers, e.g. `50-100`.
    pub fn code(self) -> &'static str {
        match self {
            SupportBand::UpTo50 => "0-50",
            SupportBand::From50To100 => "50-100",
            SupportBand::From100To200 => "100-200",
        }
    }

    /// The additional (billed) hours of the band; the first is covered by the retainer.
    pub fn billed_hours(self) -> Range<Decimal> {
        let r = |min: i64, max: i64| Range { min: Decimal::from(min), max: Decimal::from(max) };
        match self {
            SupportBand::UpTo50 => r(0, 0),
            SupportBand::From50To100 => r(50, 100),
            SupportBand::From100To200 => r(100, 200),
        }
    }
}
