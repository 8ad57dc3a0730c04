//! # kpi-pricing
//!
//! Service proposals for the KPI Engine: from the KPIs a client selected (their value chains and
//! object models come from the catalog's [`required_objects`](kpi_catalog::Catalog::required_objects))
//! and the client's answers to the proposal questionnaire, a priced [`ServiceProposal`] with
//! licensing, the implementation's statement of work, infrastructure, retention, managed
//! services, totals, a resource schedule and a timeline, as JSON (the specification's
//! `ServiceProposal` field names) or Markdown.
//!
//! * [`PriceBook`]: every rate, with the functional specification's figures as defaults,
//!   overridable from YAML or JSON.
//! * [`questionnaire`] / [`questionnaire_for`]: the eight steps as data for a UI.
//! * [`Answers`]: the answers, as data; [`price`] checks them against the selection and lists
//!   every problem at once ([`PricingError::Invalid`]).
//! * [`retention`]: compliance presets (SOX, HIPAA, GDPR, ISO 27001) and the storage-cost formula.
//! * [`estimate`]: the infrastructure sizing model; [`InfrastructureSpec::price`] prices explicit
//!   instances.
//!
//! Money is exact: [`Money`] is a decimal, each line item is rounded to cents once, and totals
//! are sums of the lines shown.
//!
//! ```
//! use kpi_catalog::Catalog;
//! use kpi_pricing::{Answers, PriceBook, price};
//!
//! let answers = Answers::from_yaml(r#"
//! client_name: Acme Retail
//! proposal_date: 2026-11-22
//! license_term: 3
//! default_integration: { method: batch_non_conformed_single, source_system: SAP ERP }
//! data_integration:
//!   customers: { method: streaming_api_architected, source_system: Salesforce CRM }
//! environment: { platform: aws }
//! retention: { compliance: [sox] }
//! infrastructure: { daily_gb: 5, concurrent_users: 200, refresh: minute }
//! managed_services: { retainer: true, additional_hours: 50 }
//! "#)?;
//! let kpis = ["perfect_order_rate", "new_customers"];
//! let proposal = price(&Catalog::standard(), &kpis, &answers, &PriceBook::default())?;
//!
//! assert_eq!(proposal.licensing.term_total.to_string(), "$195,000");
//! assert_eq!(proposal.implementation.environment_setup.cost.to_string(), "$10,500");
//! println!("{}", proposal.to_markdown());
//! # Ok::<(), kpi_pricing::PricingError>(())
//! ```
//!
//! ## How a proposal is priced
//!
//! * **Licensing**: the value chains of the selected KPIs (and of the KPIs they reference), plus
//!   any the answers add, minus `licensing.included_value_chains` (`cross_domain`, whose KPIs
//!   combine licensed ones), × the yearly price of the term; the term total is that × years.
//! * **Implementation**: each required object model's integration and each selected KPI's
//!   implementation at its fixed price; non-architected APIs and dynamic-RBAC KPIs are time and
//!   materials at the integration architect's rate over their estimated hours (40–60 and 20–30
//!   by default), gathered in one line per kind. Environment setup is the cloud architect's
//!   hours (60 unless answered; usually 40–80) × rate. `fixedCostTotal` is the fixed-price work;
//!   `implementationTotal` adds environment setup and the T&M range.
//! * **Managed services**: the retainer plus additional hours × the hourly rate; a band of hours
//!   is quoted at its upper end, the first band (0–50 hours) being covered by the retainer.
//! * **Totals**: year 1 = licence + implementation + infrastructure + managed services; each
//!   later year = licence + infrastructure + managed services; the term total adds the later
//!   years to year 1.
//!
//! ## The infrastructure sizing model
//!
//! From the daily source volume `G` (GB), concurrent users `U`, the refresh period (`r`
//! refreshes an hour: 60, 1 or 1/24), the number of selected KPIs `K`, on-demand queries an hour
//! `Q` (default `U × r`) and the retention policy, with the assumptions of
//! [`PriceBook::sizing`](SizingModel) (defaults in brackets):
//!
//! * **API gateway**: `max(min_gateways [2], ⌈U / users_per_gateway [500]⌉)` × `t3.medium`.
//! * **Business services** (metadata, calculation, configuration): `business_services [3]` ×
//!   `max(min_replicas [2], ⌈Q / queries_per_business_replica_hour [20,000]⌉)` × `t3.large`.
//! * **Backend services** (database, messaging, archival): `backend_services [3]` ×
//!   `max(min_replicas, ⌈G / gb_per_backend_replica_day [50]⌉, ⌈K × r /
//!   kpi_refreshes_per_backend_replica_hour [6,000]⌉)` × `t3.xlarge`.
//! * **Redis**: `cache.m5.large`, or `cache.m5.xlarge` above `users_per_redis [1,000]` users.
//! * **Storage**, by the specification's formula for each kind of data: active GB = GB a day ×
//!   active days (hot price), archive GB = GB a day × archive days (cold price; none when data is
//!   deleted; an indefinite archive is sized at the end of the licence term). Source data is
//!   `G` a day; analytics data is `K × groups_per_kpi [100] × points a day × bytes_per_point
//!   [64]`, where points a day count every refresh when raw data is kept plus 1,440, 24, 1 and
//!   1/30 for kept minute, hourly, daily and monthly aggregates.
//! * **Network** a month (730 hours): `Q × response_kb [50]` + `U × r × min(K,
//!   kpis_per_dashboard [12]) × update_kb [2]` (KB an hour, × 730 / 10⁶) + `G × 30 ×
//!   ingest_transfer_share [1]`.
//!
//! Explicit instances (`infrastructure.instances` in the answers) replace the estimate.
//!
//! ## Schedule
//!
//! See [`schedule`](crate::schedule) for how the timeline follows from the hours of work.

mod answers;
mod document;
mod error;
mod infrastructure;
mod markdown;
mod money;
mod price_book;
mod pricing;
mod proposal;
mod questionnaire;
pub mod retention;
pub mod schedule;

pub use answers::{
    Answers, EnvironmentAnswer, InfrastructureAnswer, IntegrationAnswer, IntegrationMethod, KpiAnswer, MAX_HOURS, ManagedServicesAnswer,
    Platform, Refresh, RetentionAnswer, SupportBand, complexity_label,
};
pub use document::MAX_DOCUMENT_BYTES;
pub use error::{PricingError, Problem, Problems};
pub use infrastructure::{
    ComputeCosts, InfrastructureBreakdown, InfrastructureCosts, InfrastructureSpec, InstanceCost, Instances, NetworkCosts, RedisCost,
    Sizing, SizingInputs, StorageCosts, StoredVolume, estimate,
};
pub use money::{Money, Range, decimal, decimal_range};
pub use price_book::{
    EnvironmentPrices, FixedWork, IntegrationPrices, KpiImplementationPrices, LicenseTerm, Licensing as LicensePrices,
    ManagedServicePrices, NetworkPrices, PriceBook, Rates, SizingModel, StoragePrices, TimeAndMaterials,
};
pub use pricing::{VALID_DAYS, price};
pub use proposal::{
    DataIntegrationItem, EnvironmentSetup, Implementation, Infrastructure, KpiImplementationItem, Licensing, ManagedServices,
    MonthlyAnnual, Retention, RetentionRuleSummary, ServiceProposal, TimeAndMaterialsItem, Totals,
};
pub use questionnaire::{
    Choice, Condition, NamedItem, Question, QuestionKind, Questionnaire, Repeat, SelectedKpi, Selection, Step, questionnaire,
    questionnaire_for,
};
pub use retention::{Compliance, ComplianceChange, DataKind, StorageEstimate};
pub use rust_decimal::Decimal;
