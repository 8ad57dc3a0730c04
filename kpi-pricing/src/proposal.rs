//! The service proposal: the specification's `ServiceProposal`, with its field names in JSON.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::infrastructure::{InfrastructureCosts, Sizing};
use crate::money::{Money, Range, decimal, decimal_range};
use crate::price_book::LicenseTerm;
use crate::retention::{Compliance, ComplianceChange, StorageEstimate};
use crate::schedule::{Phase, Resource};

/// A priced service proposal. [`ServiceProposal::to_json`] writes the specification's
/// `ServiceProposal` field names (camelCase); [`ServiceProposal::to_markdown`] writes its
/// "Proposal Document Structure".
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceProposal {
    /// The client's name, when the answers gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// The proposal's date, `YYYY-MM-DD`.
    pub date: String,
    /// The last day it is valid: 30 days on.
    pub valid_until: String,
    /// The KPIs the client selected.
    pub selected_kpis: Vec<String>,
    /// The object models those KPIs read.
    pub required_object_models: Vec<String>,
    /// Licensing.
    pub licensing: Licensing,
    /// The implementation's statement of work.
    pub implementation: Implementation,
    /// Infrastructure.
    pub infrastructure: Infrastructure,
    /// Retention and what compliance changed.
    pub retention: Retention,
    /// Managed services.
    pub managed_services: ManagedServices,
    /// Year-1, yearly and term totals.
    pub totals: Totals,
    /// Who works on the project and when.
    pub resources: Vec<Resource>,
    /// The phases of the project.
    pub timeline: Vec<Phase>,
    /// Every default the proposal applied and every estimate it made, in words.
    pub assumptions: Vec<String>,
}

/// Licensing (the spec's `licensing`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Licensing {
    /// Codes of the licensed value chains.
    pub value_chains: Vec<String>,
    /// Their display names, in the same order.
    pub value_chain_names: Vec<String>,
    /// The term.
    pub license_term: LicenseTerm,
    /// Price per value chain and year on this term.
    pub annual_cost_per_chain: Money,
    /// Price per year.
    pub annual_total: Money,
    /// Price over the term.
    pub term_total: Money,
    /// Saving against the 1-year price, in whole percent.
    #[serde(with = "decimal")]
    pub saving_percent: Decimal,
}

/// One object model's integration (the spec's `dataIntegration` entries).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataIntegrationItem {
    /// The object model's code.
    pub object_model: String,
    /// Its display name.
    pub object_model_name: String,
    /// The client's source system.
    pub source_system: String,
    /// The method's label, e.g. `Batch - Conformed/Cleansed`.
    pub integration_type: String,
    /// The method's code, e.g. `batch_conformed`.
    pub integration_method: String,
    /// The fixed price; zero for time-and-materials work, which is in `tmItems`.
    pub cost: Money,
    /// Whether it is time and materials.
    pub time_and_materials: bool,
}

/// One KPI's implementation (the spec's `kpiImplementation` entries).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KpiImplementationItem {
    /// The KPI's code.
    pub kpi_code: String,
    /// Its name.
    pub kpi_name: String,
    /// The complexity's label, e.g. `RBAC`.
    pub complexity: String,
    /// The fixed price; zero for time-and-materials work, which is in `tmItems`.
    pub cost: Money,
    /// Whether it is time and materials.
    pub time_and_materials: bool,
}

/// Environment setup (the spec's `environmentSetup`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EnvironmentSetup {
    /// The platform's label, e.g. `AWS`.
    pub platform: String,
    /// Whether a cloud architect sets it up.
    pub setup_required: bool,
    /// The cloud architect's estimated hours.
    #[serde(with = "decimal")]
    pub cloud_architect_hours: Decimal,
    /// The cloud architect's rate.
    pub rate: Money,
    /// Hours × rate.
    pub cost: Money,
}

/// A time-and-materials item (the spec's `tmItems` entries).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TimeAndMaterialsItem {
    /// What the work is, with the object models or KPIs it covers.
    pub description: String,
    /// Estimated hours as text, e.g. `40-60`.
    pub estimated_hours: String,
    /// The hourly rate.
    pub rate: Money,
    /// Estimated cost as text, e.g. `$7,000-10,500`.
    pub estimated_cost: String,
    /// Estimated hours.
    #[serde(with = "decimal_range")]
    pub hours: Range<Decimal>,
    /// Estimated cost.
    pub cost: Range<Money>,
}

/// The statement of work (the spec's `implementation`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Implementation {
    /// Per object model.
    pub data_integration: Vec<DataIntegrationItem>,
    /// Per selected KPI.
    pub kpi_implementation: Vec<KpiImplementationItem>,
    /// Environment setup.
    pub environment_setup: EnvironmentSetup,
    /// Time-and-materials items.
    pub tm_items: Vec<TimeAndMaterialsItem>,
    /// Fixed-price data integration and KPI implementation.
    pub fixed_cost_total: Money,
    /// The time-and-materials range.
    pub tm_cost_range: Range<Money>,
    /// Fixed price + environment setup + time and materials.
    pub implementation_total: Range<Money>,
}

/// A monthly cost and its year.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct MonthlyAnnual {
    /// A month.
    pub monthly: Money,
    /// Twelve months.
    pub annual: Money,
}

impl MonthlyAnnual {
    pub(crate) fn of(monthly: Money) -> MonthlyAnnual {
        MonthlyAnnual { monthly, annual: monthly.times(12.into()) }
    }
}

/// Infrastructure (the spec's `infrastructure`, with the full `InfrastructureCosts` in
/// `details`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Infrastructure {
    /// Compute.
    pub compute: MonthlyAnnual,
    /// Storage (databases, archive, Redis).
    pub storage: MonthlyAnnual,
    /// Network.
    pub network: MonthlyAnnual,
    /// All of it.
    pub total: MonthlyAnnual,
    /// Every instance and volume, priced.
    pub details: InfrastructureCosts,
    /// The sizing model's estimate, when the answers gave volumes rather than instances.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sizing: Option<Sizing>,
}

/// One kind of data's retention, as applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetentionRuleSummary {
    /// In words, e.g. `90 days active, archived 7 years`.
    pub description: String,
    /// Days in the active database.
    pub active_days: u64,
    /// Whether it is archived after that (else deleted).
    pub archival_enabled: bool,
    /// Days in the archive; absent when kept indefinitely.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_days: Option<u64>,
}

/// Retention as applied, after compliance presets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Retention {
    /// Staged source data.
    pub staged_source_data: RetentionRuleSummary,
    /// Analytics data.
    pub analytics_data: RetentionRuleSummary,
    /// The granularity levels kept, e.g. `raw`, `hourly`.
    pub granularity: Vec<String>,
    /// The regulations selected.
    pub compliance: Vec<Compliance>,
    /// What the regulations changed.
    pub changes: Vec<ComplianceChange>,
    /// Another requirement the client named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub industry_specific: Option<String>,
    /// Storage of staged source data by the spec's formula (when infrastructure was estimated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staged_source_storage: Option<StorageEstimate>,
}

/// Managed services (the spec's `managedServices`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedServices {
    /// The yearly retainer (zero without one).
    pub retainer: Money,
    /// Support hours the retainer covers.
    #[serde(with = "decimal")]
    pub retainer_hours: Decimal,
    /// Hours a year beyond the retainer.
    #[serde(with = "decimal")]
    pub estimated_additional_hours: Decimal,
    /// The hourly rate of those hours.
    pub hourly_rate: Money,
    /// Their cost.
    pub additional_cost: Money,
    /// Retainer plus additional hours.
    pub annual_total: Money,
}

/// Totals (the spec's `totals`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    /// Year 1: licence, implementation, infrastructure and managed services.
    pub year1: Range<Money>,
    /// Each later year: licence, infrastructure and managed services.
    pub yearly_recurring: Money,
    /// Over the licence term.
    pub term_total: Range<Money>,
}

impl ServiceProposal {
    /// The proposal as JSON, with the specification's field names.
    pub fn to_json(&self) -> String {
        // invariant: plain structs and maps with text keys always serialize.
        serde_json::to_string_pretty(self).expect("a proposal always serializes")
    }

    /// The proposal as a JSON value.
    pub fn to_json_value(&self) -> serde_json::Value {
        // invariant: plain structs and maps with text keys always serialize.
        serde_json::to_value(self).expect("a proposal always serializes")
    }
}
