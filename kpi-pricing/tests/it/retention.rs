//! Compliance presets and the storage-cost formula.

use kpi_catalog::{ArchivalUnit, RetentionRule, RetentionUnit};
use kpi_pricing::retention::{self, apply_compliance, recommended_policy, storage_cost};
use kpi_pricing::{Compliance, DataKind, Decimal, PriceBook};

fn rule(days: u32, archive: Option<(u32, ArchivalUnit)>) -> RetentionRule {
    RetentionRule {
        retention_period: days,
        retention_unit: RetentionUnit::Days,
        archival_enabled: archive.is_some(),
        archival_period: archive.map_or(0, |a| a.0),
        archival_unit: archive.map_or(ArchivalUnit::Years, |a| a.1),
    }
}

#[test]
fn sox_and_hipaa_raise_retention_by_archiving() {
    let mut policy = recommended_policy();
    policy.staged_source_data = rule(30, None);
    let (sox, changes) = apply_compliance(&policy, &[Compliance::Sox]);
    assert_eq!(retention::describe(&sox.staged_source_data), "30 days active, archived 7 years");
    assert_eq!(changes[0].before, "30 days active, then deleted");
    assert_eq!(changes[0].data, DataKind::StagedSourceData);
    let (hipaa, _) = apply_compliance(&policy, &[Compliance::Hipaa]);
    assert_eq!(retention::describe(&hipaa.staged_source_data), "30 days active, archived 6 years");
    // The strictest wins, and one change is reported per kind of data.
    let (both, changes) = apply_compliance(&policy, &[Compliance::Hipaa, Compliance::Sox]);
    assert_eq!(both, sox);
    assert!(changes.iter().all(|c| c.regulation == Compliance::Sox));
}

#[test]
fn long_enough_policies_are_left_alone() {
    let mut policy = recommended_policy();
    policy.staged_source_data = rule(365, Some((7, ArchivalUnit::Years)));
    policy.analytics_data = rule(30, Some((0, ArchivalUnit::Indefinite)));
    let (out, changes) = apply_compliance(&policy, &[Compliance::Sox, Compliance::Iso27001]);
    assert_eq!(out, policy);
    assert!(changes.is_empty(), "{changes:?}");
}

#[test]
fn gdpr_ends_indefinite_archives_of_source_data() {
    let mut policy = recommended_policy();
    policy.staged_source_data = rule(90, Some((0, ArchivalUnit::Indefinite)));
    let (out, changes) = apply_compliance(&policy, &[Compliance::Gdpr]);
    assert_eq!(retention::describe(&out.staged_source_data), "90 days active, archived 5 years");
    assert_eq!(changes.len(), 1);
    assert!(changes[0].reason.contains("GDPR"));
    let (out, _) = apply_compliance(&policy, &[Compliance::Gdpr, Compliance::Sox]);
    assert_eq!(retention::describe(&out.staged_source_data), "90 days active, archived 7 years");
}

#[test]
fn iso_27001_keeps_a_year_of_source_data() {
    let mut policy = recommended_policy();
    policy.staged_source_data = rule(30, None);
    let (out, changes) = apply_compliance(&policy, &[Compliance::Iso27001]);
    assert_eq!(retention::describe(&out.staged_source_data), "30 days active, archived 1 year");
    assert_eq!(changes.len(), 1);
}

#[test]
fn storage_cost_follows_the_specification_formula() {
    let prices = PriceBook::default().storage;
    let d = |n: i64| Decimal::from(n);
    let deleted = storage_cost(d(10), &rule(90, None), &prices, 1095);
    assert_eq!((deleted.active_storage_gb, deleted.archive_storage_gb), (d(900), d(0)));
    assert_eq!(deleted.total_monthly_cost.to_string(), "$90");
    let months = storage_cost(d(10), &rule(30, Some((6, ArchivalUnit::Months))), &prices, 1095);
    assert_eq!(months.archive_storage_gb, d(1800));
    assert_eq!(months.archive_monthly_cost.to_string(), "$18");
    let forever = storage_cost(d(10), &rule(30, Some((0, ArchivalUnit::Indefinite))), &prices, 1095);
    assert_eq!(forever.archive_storage_gb, d(10_950));
}

#[test]
fn compliance_changes_reach_the_proposal() {
    let answers = crate::MINIMAL.to_string()
        + "retention: { compliance: [sox, gdpr], staged_source_data: { retention_period: 90, retention_unit: days, archival_enabled: false } }\n";
    let p = crate::price_yaml(&["perfect_order_rate"], &answers).unwrap();
    assert_eq!(p.retention.staged_source_data.description, "90 days active, archived 7 years");
    assert_eq!(p.retention.compliance, [Compliance::Gdpr, Compliance::Sox]);
    assert_eq!(p.retention.changes.len(), 2);
    let storage = p.retention.staged_source_storage.as_ref().unwrap();
    assert_eq!(storage.archive_storage_gb, Decimal::from(7 * 365));
    assert!(p.to_markdown().contains("Compliance: SOX (staged_source_data)"));
}
