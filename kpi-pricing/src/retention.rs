//! Retention: compliance presets that raise minimum retention, and the storage cost of a
//! retention rule by the specification's formula.

use std::fmt;

use kpi_catalog::{ArchivalUnit, DAYS_PER_YEAR, Granularity, RetentionPolicy, RetentionRule, RetentionUnit};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::price_book::StoragePrices;

pub use kpi_catalog::{Compliance, DataKind};

/// What a compliance preset changed in a retention policy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComplianceChange {
    /// The regulation that required it.
    pub regulation: Compliance,
    /// The data it applies to.
    pub data: DataKind,
    /// The rule before.
    pub before: String,
    /// The rule after.
    pub after: String,
    /// Why, in one sentence.
    pub reason: String,
}

impl fmt::Display for ComplianceChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {} -> {}; {}", self.regulation.label(), self.data.code(), self.before, self.after, self.reason)
    }
}

/// The recommended policy of the questionnaire: source data 90 days active and archived for a
/// year, analytics 365 days active and archived for 5 years, hourly, daily and monthly
/// aggregates plus raw data.
pub fn recommended_policy() -> RetentionPolicy {
    RetentionPolicy {
        staged_source_data: RetentionRule {
            retention_period: 90,
            retention_unit: RetentionUnit::Days,
            archival_enabled: true,
            archival_period: 1,
            archival_unit: ArchivalUnit::Years,
        },
        analytics_data: RetentionRule {
            retention_period: 365,
            retention_unit: RetentionUnit::Days,
            archival_enabled: true,
            archival_period: 5,
            archival_unit: ArchivalUnit::Years,
        },
        granularity: Granularity::default(),
        compliance: Vec::new(),
    }
}

/// Days in the active database.
pub fn active_days(rule: &RetentionRule) -> u64 {
    rule.active_days()
}

/// Days in the archive: `None` when it is kept indefinitely, 0 when data is deleted.
pub fn archive_days(rule: &RetentionRule) -> Option<u64> {
    rule.archive_days()
}

/// `90 days active, archived 1 year`, for proposals and change notes.
pub fn describe(rule: &RetentionRule) -> String {
    rule.describe()
}

/// Applies the presets of `regulations` to `policy`: each rule is kept at least as long as the
/// strictest selected regulation requires, by archiving (cheaper than keeping data active) for
/// the missing whole years; under GDPR an indefinite archive of source data becomes the longest
/// period another selected regulation requires, or 5 years. Every change is reported.
///
/// ```
/// use kpi_pricing::{Compliance, retention};
/// let policy = retention::recommended_policy(); // source data: 90 days active, 1 year archived
/// let (adjusted, changes) = retention::apply_compliance(&policy, &[Compliance::Sox]);
/// assert_eq!(retention::describe(&adjusted.staged_source_data), "90 days active, archived 7 years");
/// assert_eq!(changes.len(), 2); // source and analytics data
/// ```
pub fn apply_compliance(policy: &RetentionPolicy, regulations: &[Compliance]) -> (RetentionPolicy, Vec<ComplianceChange>) {
    let mut out = policy.clone();
    let mut changes = Vec::new();
    for kind in [DataKind::StagedSourceData, DataKind::AnalyticsData] {
        let rule = match kind {
            DataKind::StagedSourceData => &mut out.staged_source_data,
            DataKind::AnalyticsData => &mut out.analytics_data,
        };
        let strictest = regulations.iter().filter_map(|r| r.minimum_years(kind).map(|y| (y, *r))).max();
        if let Some((years, regulation)) = strictest {
            let needed = u64::from(years) * DAYS_PER_YEAR;
            let kept = archive_days(rule).map(|a| active_days(rule) + a);
            if kept.is_some_and(|k| k < needed) {
                let before = describe(rule);
                let missing = needed - active_days(rule);
                rule.archival_enabled = true;
                rule.archival_unit = ArchivalUnit::Years;
                rule.archival_period = u32::try_from(missing.div_ceil(DAYS_PER_YEAR)).unwrap_or(u32::MAX);
                changes.push(ComplianceChange {
                    regulation,
                    data: kind,
                    before,
                    after: describe(rule),
                    reason: format!("{} requires {years} years of retention", regulation.label()),
                });
            }
        }
        if kind == DataKind::StagedSourceData
            && regulations.contains(&Compliance::Gdpr)
            && rule.archival_enabled
            && rule.archival_unit == ArchivalUnit::Indefinite
        {
            let before = describe(rule);
            let years = strictest.map_or(5, |(y, _)| y);
            let missing = (u64::from(years) * DAYS_PER_YEAR).saturating_sub(active_days(rule));
            rule.archival_unit = ArchivalUnit::Years;
            rule.archival_period = u32::try_from(missing.div_ceil(DAYS_PER_YEAR)).unwrap_or(u32::MAX).max(1);
            changes.push(ComplianceChange {
                regulation: Compliance::Gdpr,
                data: kind,
                before,
                after: describe(rule),
                reason: "GDPR does not allow personal source data to be kept without a limit".into(),
            });
        }
    }
    (out, changes)
}

/// The storage a retention rule needs and what it costs a month (the spec's
/// `StorageCostEstimate`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageEstimate {
    /// GB in the active (hot) database.
    #[serde(rename = "activeStorageGB", with = "crate::money::decimal")]
    pub active_storage_gb: Decimal,
    /// Its monthly cost.
    pub active_monthly_cost: Money,
    /// GB in the archive (cold storage).
    #[serde(rename = "archiveStorageGB", with = "crate::money::decimal")]
    pub archive_storage_gb: Decimal,
    /// Its monthly cost.
    pub archive_monthly_cost: Money,
    /// Both together.
    pub total_monthly_cost: Money,
}

/// The specification's storage formula: active GB = GB per day × active days, at the hot price;
/// archive GB = GB per day × archive days, at the cold price (zero when data is deleted). An
/// indefinite archive has no steady size, so it is priced at the size it reaches after
/// `horizon_days` (the licence term).
///
/// ```
/// use kpi_pricing::{PriceBook, retention};
/// let rule = retention::recommended_policy().staged_source_data; // 90 days + 1 year
/// let cost = retention::storage_cost(rust_decimal::Decimal::from(2), &rule, &PriceBook::default().storage, 3 * 365);
/// assert_eq!(cost.active_storage_gb, 180.into());      // 2 GB × 90 days
/// assert_eq!(cost.archive_storage_gb, 730.into());     // 2 GB × 365 days
/// assert_eq!(cost.total_monthly_cost.to_string(), "$25.30"); // $18 + $7.30
/// ```
pub fn storage_cost(gb_per_day: Decimal, rule: &RetentionRule, prices: &StoragePrices, horizon_days: u64) -> StorageEstimate {
    let active_storage_gb = gb_per_day * Decimal::from(active_days(rule));
    let archive = archive_days(rule).unwrap_or(horizon_days);
    let archive_storage_gb = gb_per_day * Decimal::from(archive);
    let active_monthly_cost = prices.hot_per_gb_month.times(active_storage_gb);
    let archive_monthly_cost = prices.cold_per_gb_month.times(archive_storage_gb);
    StorageEstimate {
        active_storage_gb: active_storage_gb.normalize(),
        active_monthly_cost,
        archive_storage_gb: archive_storage_gb.normalize(),
        archive_monthly_cost,
        total_monthly_cost: active_monthly_cost + archive_monthly_cost,
    }
}
