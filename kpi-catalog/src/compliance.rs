//! Regulations with retention requirements, and checking a retention policy against them.
//!
//! The presets live with the policy they constrain, so that pricing (which raises a policy to
//! meet them) and the engine (which refuses to enforce a policy that breaks them) apply one rule.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::client::{RetentionPolicy, RetentionRule};

/// Days in a year, as retention periods count them ([`crate::RetentionUnit::days`]).
pub const DAYS_PER_YEAR: u64 = 365;

/// A regulation with retention requirements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compliance {
    /// EU data protection: personal data may not be kept without limit.
    Gdpr,
    /// Sarbanes–Oxley financial reporting: 7 years.
    Sox,
    /// US healthcare records: 6 years.
    Hipaa,
    /// Information security management: a year of audit trail.
    #[serde(rename = "iso_27001", alias = "iso27001")]
    Iso27001,
}

impl Compliance {
    /// Every regulation, in the questionnaire's order.
    pub const ALL: [Compliance; 4] = [Compliance::Gdpr, Compliance::Sox, Compliance::Hipaa, Compliance::Iso27001];

    /// The code used in answers.
    pub fn code(self) -> &'static str {
        match self {
            Compliance::Gdpr => "gdpr",
            Compliance::Sox => "sox",
            Compliance::Hipaa => "hipaa",
            Compliance::Iso27001 => "iso_27001",
        }
    }

    /// Its name, e.g. `SOX`.
    pub fn label(self) -> &'static str {
        match self {
            Compliance::Gdpr => "GDPR",
            Compliance::Sox => "SOX",
            Compliance::Hipaa => "HIPAA",
            Compliance::Iso27001 => "ISO 27001",
        }
    }

    /// The minimum years it requires data of `kind` to be kept (active plus archive).
    pub fn minimum_years(self, kind: DataKind) -> Option<u32> {
        match (self, kind) {
            (Compliance::Sox, _) => Some(7),
            (Compliance::Hipaa, _) => Some(6),
            // An audit trail of the source data; KPI values are derived from it.
            (Compliance::Iso27001, DataKind::StagedSourceData) => Some(1),
            _ => None,
        }
    }
}

/// The two kinds of data a retention policy covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// Raw source data staged for calculation.
    StagedSourceData,
    /// Calculated KPI values and aggregates.
    AnalyticsData,
}

impl DataKind {
    /// The field name in a retention policy.
    pub fn code(self) -> &'static str {
        match self {
            DataKind::StagedSourceData => "staged_source_data",
            DataKind::AnalyticsData => "analytics_data",
        }
    }
}

/// A rule of a regulation that a retention policy breaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ComplianceViolation {
    /// The regulation.
    pub regulation: Compliance,
    /// The data it is about.
    pub data: DataKind,
    /// What the regulation requires and what the policy does, in one sentence.
    pub message: String,
}

impl fmt::Display for ComplianceViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.regulation.label(), self.data.code(), self.message)
    }
}

impl RetentionPolicy {
    /// The rule for data of `kind`.
    pub fn rule(&self, kind: DataKind) -> &RetentionRule {
        match kind {
            DataKind::StagedSourceData => &self.staged_source_data,
            DataKind::AnalyticsData => &self.analytics_data,
        }
    }

    /// Every rule of the policy's [`compliance`](RetentionPolicy::compliance) regulations it
    /// breaks: data kept (active plus archive) for less than a regulation's minimum, or, under
    /// GDPR, source data archived without a limit.
    ///
    /// ```
    /// use kpi_catalog::{Compliance, RetentionPolicy};
    /// let mut policy = RetentionPolicy::default(); // one year active, then deleted
    /// policy.compliance = vec![Compliance::Sox];
    /// let broken = policy.violations();
    /// assert_eq!(broken.len(), 2);
    /// assert!(broken[0].to_string().starts_with("SOX (staged_source_data): requires 7 years"));
    /// ```
    pub fn violations(&self) -> Vec<ComplianceViolation> {
        let mut out = Vec::new();
        for regulation in &self.compliance {
            for kind in [DataKind::StagedSourceData, DataKind::AnalyticsData] {
                let rule = self.rule(kind);
                if let Some(years) = regulation.minimum_years(kind) {
                    let needed = u64::from(years) * DAYS_PER_YEAR;
                    if let Some(archive) = rule.archive_days()
                        && rule.active_days() + archive < needed
                    {
                        out.push(ComplianceViolation {
                            regulation: *regulation,
                            data: kind,
                            message: format!(
                                "requires {years} years of retention (active plus archive); the policy keeps {} days",
                                rule.active_days() + archive
                            ),
                        });
                    }
                }
                if *regulation == Compliance::Gdpr && kind == DataKind::StagedSourceData && rule.archive_days().is_none() {
                    out.push(ComplianceViolation {
                        regulation: Compliance::Gdpr,
                        data: kind,
                        message: "does not allow personal source data to be archived without a limit".into(),
                    });
                }
            }
        }
        out
    }
}
