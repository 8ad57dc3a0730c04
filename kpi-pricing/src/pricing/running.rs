//! Running costs: retention (which sizes storage), infrastructure and managed services.

use kpi_catalog::RetentionPolicy;
use rust_decimal::Decimal;

use crate::answers::{Answers, InfrastructureAnswer, MAX_HOURS, ManagedServicesAnswer, Refresh};
use crate::error::Problems;
use crate::infrastructure::{MAX_GB, SizingInputs, estimate};
use crate::money::Money;
use crate::price_book::PriceBook;
use crate::proposal::{Infrastructure, ManagedServices, MonthlyAnnual, Retention, RetentionRuleSummary};
use crate::retention;

/// Step 6: the policy (recommended where unanswered), checked, with compliance applied.
pub(super) fn retention_policy(answers: &Answers, p: &mut Problems, assumptions: &mut Vec<String>) -> (RetentionPolicy, Retention) {
    let recommended = retention::recommended_policy();
    let answer = answers.retention.clone().unwrap_or_default();
    let mut policy = recommended.clone();
    match answer.staged_source_data {
        Some(rule) => policy.staged_source_data = rule,
        None => assumptions.push(format!("Staged source data: the recommended {}.", retention::describe(&recommended.staged_source_data))),
    }
    match answer.analytics_data {
        Some(rule) => policy.analytics_data = rule,
        None => assumptions.push(format!("Analytics data: the recommended {}.", retention::describe(&recommended.analytics_data))),
    }
    match answer.granularity {
        Some(g) => policy.granularity = g,
        None => assumptions.push("Granularity: the recommended raw, hourly, daily and monthly levels.".into()),
    }
    for (name, rule) in [("staged_source_data", &policy.staged_source_data), ("analytics_data", &policy.analytics_data)] {
        let path = format!("retention.{name}");
        if rule.retention_period == 0 {
            p.add(format!("{path}.retention_period"), "the active retention period must be at least 1");
        }
        if retention::active_days(rule) > 100 * 365 || rule.archival_period > 100 * 12 {
            p.add(path.clone(), "retention of more than 100 years cannot be priced; use archival_unit: indefinite");
        }
        let finite = rule.archival_unit != kpi_catalog::ArchivalUnit::Indefinite;
        if rule.archival_enabled && finite && rule.archival_period == 0 {
            p.add_with_help(
                format!("{path}.archival_period"),
                "archival is enabled but the archival period is 0",
                Some("give a period, or use archival_unit: indefinite".into()),
            );
        }
        if !rule.archival_enabled && rule.archival_period > 0 {
            p.add_with_help(
                format!("{path}.archival_period"),
                format!("an archival period of {} is given, but archival is disabled (data is deleted)", rule.archival_period),
                Some("set archival_enabled: true, or remove the period".into()),
            );
        }
    }
    let mut compliance = answer.compliance.clone();
    compliance.sort();
    compliance.dedup();
    let (policy, changes) = retention::apply_compliance(&policy, &compliance);
    let summary = |rule: &kpi_catalog::RetentionRule| RetentionRuleSummary {
        description: retention::describe(rule),
        active_days: retention::active_days(rule),
        archival_enabled: rule.archival_enabled,
        archive_days: retention::archive_days(rule),
    };
    let g = policy.granularity;
    let granularity = [
        (g.raw_data, "raw"),
        (g.minute_aggregates, "minute"),
        (g.hourly_aggregates, "hourly"),
        (g.daily_aggregates, "daily"),
        (g.monthly_aggregates, "monthly"),
    ]
    .into_iter()
    .filter(|(kept, _)| *kept)
    .map(|(_, name)| name.to_string())
    .collect();
    let out = Retention {
        staged_source_data: summary(&policy.staged_source_data),
        analytics_data: summary(&policy.analytics_data),
        granularity,
        compliance,
        changes,
        industry_specific: answer.industry_specific.filter(|s| !s.trim().is_empty()),
        staged_source_storage: None,
    };
    (policy, out)
}

/// Step 7: explicit instances, or the sizing model's estimate.
pub(super) fn infrastructure(
    answer: Option<&InfrastructureAnswer>,
    kpis: usize,
    policy: &RetentionPolicy,
    horizon_days: u64,
    book: &PriceBook,
    p: &mut Problems,
    assumptions: &mut Vec<String>,
) -> Option<Infrastructure> {
    let Some(a) = answer else {
        p.add_with_help(
            "infrastructure",
            "no infrastructure is described",
            Some("give daily_gb, concurrent_users and refresh, or explicit instances".into()),
        );
        return None;
    };
    let sizing_given = a.daily_gb.is_some() || a.concurrent_users.is_some() || a.refresh.is_some() || a.queries_per_hour.is_some();
    let (spec, sizing) = match &a.instances {
        Some(spec) => {
            if sizing_given {
                p.add_with_help(
                    "infrastructure",
                    "both explicit instances and sizing inputs are given",
                    Some("give either instances or daily_gb/concurrent_users/refresh/queries_per_hour".into()),
                );
            }
            spec.check("infrastructure.instances", book, p);
            assumptions.push("Storage and transfer volumes are the explicit ones given; the retention policy does not resize them.".into());
            (spec.clone(), None)
        }
        None => {
            let start = p.len();
            let daily_gb = a.daily_gb.unwrap_or_else(|| {
                p.add("infrastructure.daily_gb", "the daily data volume (GB) is not given");
                Decimal::ZERO
            });
            if daily_gb < Decimal::ZERO || daily_gb > Decimal::from(MAX_GB / 1_000_000) {
                p.add("infrastructure.daily_gb", format!("{daily_gb} GB a day must be between 0 and {}", MAX_GB / 1_000_000));
            }
            let users = a.concurrent_users.unwrap_or_else(|| {
                p.add("infrastructure.concurrent_users", "the number of concurrent users is not given");
                0
            });
            let refresh = a.refresh.unwrap_or_else(|| {
                p.add_with_help("infrastructure.refresh", "the refresh period is not given", Some("answer minute, hour or day".into()));
                Refresh::Hour
            });
            if p.len() > start {
                return None;
            }
            let queries_per_hour = a.queries_per_hour.unwrap_or_else(|| {
                let q = (Decimal::from(users) * refresh.per_hour()).ceil();
                let q = u32::try_from(q).unwrap_or(u32::MAX);
                assumptions.push(format!("{q} on-demand queries an hour: one per concurrent user and refresh."));
                q
            });
            let inputs = SizingInputs {
                daily_gb,
                concurrent_users: users,
                refresh,
                kpis: u32::try_from(kpis).unwrap_or(u32::MAX),
                queries_per_hour,
                retention: policy.clone(),
                horizon_days,
            };
            let sizing = estimate(&inputs, book);
            (sizing.spec.clone(), Some(sizing))
        }
    };
    let details = spec.price(book);
    Some(Infrastructure {
        compute: MonthlyAnnual::of(details.compute.total_monthly_compute),
        storage: MonthlyAnnual::of(details.storage.total_monthly_storage),
        network: MonthlyAnnual::of(details.network.monthly_cost),
        total: MonthlyAnnual::of(details.monthly_total),
        details,
        sizing,
    })
}

/// Step 8.
pub(super) fn managed_services(
    answer: Option<&ManagedServicesAnswer>,
    book: &PriceBook,
    p: &mut Problems,
    assumptions: &mut Vec<String>,
) -> Option<ManagedServices> {
    let Some(a) = answer else {
        p.add_with_help("managed_services", "managed services are not answered", Some("answer retainer: true or false".into()));
        return None;
    };
    let m = &book.managed_services;
    let none = ManagedServices {
        retainer: Money::ZERO,
        retainer_hours: Decimal::ZERO,
        estimated_additional_hours: Decimal::ZERO,
        hourly_rate: m.hourly_rate,
        additional_cost: Money::ZERO,
        annual_total: Money::ZERO,
    };
    let hours = match (a.additional_hours, a.additional_hours_band) {
        (Some(_), Some(_)) => {
            p.add("managed_services", "both additional_hours and additional_hours_band are given; give one");
            return None;
        }
        (Some(h), None) if h < Decimal::ZERO || h > Decimal::from(MAX_HOURS) => {
            p.add("managed_services.additional_hours", format!("{h} hours must be between 0 and {MAX_HOURS}"));
            return None;
        }
        (Some(h), None) => h,
        (None, Some(band)) => {
            let billed = band.billed_hours();
            assumptions.push(if billed.max.is_zero() {
                format!("Support needs of {} hours a year are covered by the retainer.", band.code())
            } else {
                format!("Support of {} additional hours a year is quoted at its upper end, {} hours.", band.code(), billed.max)
            });
            billed.max
        }
        (None, None) => Decimal::ZERO,
    };
    if !a.retainer {
        if !hours.is_zero() || a.additional_hours_band.is_some() {
            p.add_with_help(
                "managed_services",
                "additional support hours are asked for without the retainer",
                Some("additional hours are sold beyond the retainer: set retainer: true, or remove the hours".into()),
            );
        }
        return Some(none);
    }
    let additional_cost = m.hourly_rate.times(hours);
    Some(ManagedServices {
        retainer: m.retainer,
        retainer_hours: m.retainer_hours,
        estimated_additional_hours: hours,
        hourly_rate: m.hourly_rate,
        additional_cost,
        annual_total: m.retainer + additional_cost,
    })
}
