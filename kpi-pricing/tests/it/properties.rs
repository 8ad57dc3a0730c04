//! Properties of every proposal: valid answers always price, any answers give a proposal or
//! listed problems (never a panic), and whatever is priced adds up.

use kpi_catalog::{ArchivalUnit, Catalog, Complexity, Granularity, RetentionRule, RetentionUnit};
use kpi_pricing::{
    Answers, Compliance, Decimal, EnvironmentAnswer, InfrastructureAnswer, IntegrationAnswer, IntegrationMethod, KpiAnswer,
    ManagedServicesAnswer, Money, Platform, PriceBook, Range, Refresh, RetentionAnswer, ServiceProposal, price,
};
use proptest::prelude::*;

const KPIS: [&str; 8] = [
    "perfect_order_rate",
    "on_time_delivery_rate",
    "new_customers",
    "revenue",
    "customer_lifetime_value",
    "gross_margin",
    "ltv_to_cac_ratio",
    "customer_acquisition_cost",
];

fn decimal(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

fn rule() -> impl Strategy<Value = RetentionRule> {
    (0u32..800, 0usize..3, any::<bool>(), 0u32..20, 0usize..3).prop_map(|(period, unit, archived, archive, aunit)| RetentionRule {
        retention_period: period,
        retention_unit: [RetentionUnit::Days, RetentionUnit::Months, RetentionUnit::Years][unit],
        archival_enabled: archived,
        archival_period: archive,
        archival_unit: [ArchivalUnit::Months, ArchivalUnit::Years, ArchivalUnit::Indefinite][aunit],
    })
}

prop_compose! {
    fn answers()(
        term in 0u32..7,
        method in 0usize..6,
        tm in proptest::option::of((-10i64..200, -10i64..200)),
        complexity in proptest::option::of(0usize..4),
        platform in 0usize..6,
        hours in proptest::option::of(-100i64..200_000),
        rules in (proptest::option::of(rule()), proptest::option::of(rule())),
        granularity in any::<[bool; 5]>(),
        compliance in proptest::sample::subsequence(Compliance::ALL.to_vec(), 0..4),
        gb in -100i64..2_000_000_000,
        users in 0u32..5_000_000,
        refresh in 0usize..3,
        queries in proptest::option::of(any::<u32>()),
        retainer in any::<bool>(),
        support in proptest::option::of(-1000i64..100_000_000),
    ) -> Answers {
        let complexities = [Complexity::Otb, Complexity::CustomBasic, Complexity::Rbac, Complexity::DynamicRbac];
        let tm_hours = tm.map(|(a, b)| Range { min: Decimal::from(a), max: Decimal::from(b) });
        Answers {
            proposal_date: Some("2026-11-22".into()),
            license_term: Some(term),
            default_integration: Some(IntegrationAnswer { method: IntegrationMethod::ALL[method], source_system: String::new(), tm_hours }),
            kpi_implementation: KPIS.iter().take(2).map(|k| (k.to_string(), KpiAnswer { complexity: complexity.map(|c| complexities[c]), tm_hours })).collect(),
            environment: Some(EnvironmentAnswer { platform: Platform::ALL[platform], cloud_architect_hours: hours.map(Decimal::from) }),
            retention: Some(RetentionAnswer {
                staged_source_data: rules.0,
                analytics_data: rules.1,
                granularity: Some(Granularity {
                    raw_data: granularity[0], minute_aggregates: granularity[1], hourly_aggregates: granularity[2],
                    daily_aggregates: granularity[3], monthly_aggregates: granularity[4],
                }),
                compliance,
                industry_specific: None,
            }),
            infrastructure: Some(InfrastructureAnswer {
                daily_gb: Some(decimal(gb)),
                concurrent_users: Some(users),
                refresh: Some([Refresh::Minute, Refresh::Hour, Refresh::Day][refresh]),
                queries_per_hour: queries,
                instances: None,
            }),
            managed_services: Some(ManagedServicesAnswer { retainer, additional_hours: support.map(decimal), additional_hours_band: None }),
            ..Answers::default()
        }
    }
}

fn valid_rule() -> impl Strategy<Value = RetentionRule> {
    rule().prop_map(|mut r| {
        r.retention_period = (r.retention_period % 100).max(1);
        if !r.archival_enabled {
            r.archival_period = 0;
        } else if r.archival_period == 0 {
            r.archival_unit = ArchivalUnit::Indefinite;
        }
        r
    })
}

/// Answers that are valid for `kpis`: each part drawn from its whole valid range.
fn valid_answers(kpis: Vec<&'static str>) -> impl Strategy<Value = (Vec<&'static str>, Answers)> {
    let n = kpis.len();
    (
        answers(),
        proptest::sample::select(vec![1u32, 3, 5]),
        (0usize..6, (0i64..200, 0i64..200)),
        proptest::collection::vec((0usize..4, (0i64..100, 0i64..100)), n),
        (proptest::option::of(1i64..=100_000), valid_rule(), valid_rule()),
        (0i64..100_000_000, proptest::option::of(0i64..10_000_000), proptest::option::of(0usize..3)),
    )
        .prop_map(move |(mut a, term, (method, tm), kpi_answers, (hours, staged, analytics), (gb, support, band))| {
            let range = |(x, y): (i64, i64)| Range { min: Decimal::from(x.min(y)), max: Decimal::from(x.max(y)) };
            let method = IntegrationMethod::ALL[method];
            let is_tm = method == IntegrationMethod::StreamingApiNonArchitected;
            a.license_term = Some(term);
            a.default_integration = Some(IntegrationAnswer { method, source_system: "ERP".into(), tm_hours: is_tm.then(|| range(tm)) });
            let complexities = [Complexity::Otb, Complexity::CustomBasic, Complexity::Rbac, Complexity::DynamicRbac];
            a.kpi_implementation = kpis
                .iter()
                .zip(kpi_answers)
                .map(|(k, (c, tm))| {
                    let complexity = complexities[c];
                    let tm_hours = (complexity == Complexity::DynamicRbac).then(|| range(tm));
                    (k.to_string(), KpiAnswer { complexity: Some(complexity), tm_hours })
                })
                .collect();
            if let Some(env) = &mut a.environment {
                env.cloud_architect_hours = if env.platform == Platform::None { None } else { hours.map(Decimal::from) };
            }
            if let Some(r) = &mut a.retention {
                r.staged_source_data = Some(staged);
                r.analytics_data = Some(analytics);
            }
            if let Some(i) = &mut a.infrastructure {
                i.daily_gb = Some(decimal(gb));
                i.concurrent_users = i.concurrent_users.map(|u| u.min(1_000_000));
            }
            let retainer = support.is_some() || band.is_some();
            a.managed_services = Some(ManagedServicesAnswer {
                retainer,
                additional_hours: support.filter(|_| band.is_none()).map(decimal),
                additional_hours_band: band.map(|b| kpi_pricing::SupportBand::ALL[b]),
            });
            (kpis.clone(), a)
        })
}

fn is_cents(m: Money) -> bool {
    m.amount().scale() <= 2 && m >= Money::ZERO
}

fn check(p: &ServiceProposal) {
    let im = &p.implementation;
    let lines = Money::sum(im.data_integration.iter().map(|i| i.cost)) + Money::sum(im.kpi_implementation.iter().map(|k| k.cost));
    assert_eq!(im.fixed_cost_total, lines);
    let tm = Range::sum(im.tm_items.iter().map(|t| t.cost));
    assert_eq!(im.tm_cost_range, tm);
    assert_eq!(im.implementation_total, tm + im.fixed_cost_total + im.environment_setup.cost);
    assert!(im.implementation_total.min <= im.implementation_total.max);
    let recurring = p.licensing.annual_total + p.infrastructure.total.annual + p.managed_services.annual_total;
    assert_eq!(p.totals.yearly_recurring, recurring);
    assert_eq!(p.totals.year1, im.implementation_total + recurring);
    let years = i64::from(p.licensing.license_term.years());
    assert_eq!(p.totals.term_total.max, p.totals.year1.max + recurring * Decimal::from(years - 1));
    let i = &p.infrastructure;
    assert_eq!(i.total.monthly, i.compute.monthly + i.storage.monthly + i.network.monthly);
    let b = &i.details.breakdown;
    assert_eq!(
        i.total.monthly,
        Money::sum([b.api_gateway, b.business_services, b.backend_services, b.database, b.archival, b.redis, b.network])
    );
    for m in [p.totals.term_total.max, p.totals.year1.min, i.total.annual, p.managed_services.annual_total, p.licensing.term_total] {
        assert!(is_cents(m), "{m:?}");
    }
    // Both outputs render.
    assert!(p.to_markdown().contains("## 5. Total Cost Summary"));
    assert!(p.to_json().contains("\"yearlyRecurring\""));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn valid_answers_always_price_and_add_up(
        (picks, answers) in proptest::sample::subsequence(KPIS.to_vec(), 1..5).prop_flat_map(valid_answers)
    ) {
        match price(&Catalog::standard(), &picks, &answers, &PriceBook::default()) {
            Ok(p) => check(&p),
            Err(e) => prop_assert!(false, "valid answers were refused: {e}"),
        }
    }

    #[test]
    fn any_answers_give_a_proposal_or_listed_problems(answers in answers(), picks in proptest::sample::subsequence(KPIS.to_vec(), 1..5)) {
        let catalog = Catalog::standard();
        match price(&catalog, &picks, &answers, &PriceBook::default()) {
            Ok(p) => check(&p),
            Err(e) => {
                prop_assert!(!e.problems().is_empty(), "{e}");
                for problem in e.problems() {
                    prop_assert!(!problem.path.is_empty() && !problem.message.is_empty());
                }
            }
        }
    }

    #[test]
    fn money_text_and_json_are_exact(cents in any::<i64>()) {
        let m = Money(Decimal::new(cents.abs() % 1_000_000_000_000_000, 2));
        let json = serde_json::to_string(&m).unwrap();
        let back: Money = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back.amount().normalize(), m.amount().normalize());
        let text = m.to_string().replace(['$', ','], "");
        prop_assert_eq!(Money::parse(&text).unwrap().amount().normalize(), m.amount().normalize());
    }
}
