//! Every worked figure of the functional specification.

use kpi_pricing::{LicenseTerm, Money, PriceBook};
use serde_json::Value;

use crate::{MINIMAL, price_yaml, spec_proposal};

fn dollars(n: i64) -> Money {
    Money::dollars(n)
}

#[test]
fn two_value_chains_on_a_three_year_licence() {
    let p = spec_proposal();
    assert_eq!(p.licensing.value_chains, ["crm", "scor"]);
    assert_eq!(p.licensing.license_term, LicenseTerm::Three);
    assert_eq!(p.licensing.annual_cost_per_chain, dollars(32_500));
    assert_eq!(p.licensing.annual_total, dollars(65_000));
    assert_eq!(p.licensing.term_total, dollars(195_000));
}

#[test]
fn licence_prices_and_savings_for_each_term() {
    let book = PriceBook::default();
    let l = &book.licensing;
    let got: Vec<(Money, String)> =
        LicenseTerm::ALL.into_iter().map(|t| (l.annual_per_value_chain(t), l.saving_percent(t).to_string())).collect();
    assert_eq!(got, [(dollars(35_000), "0".into()), (dollars(32_500), "7".into()), (dollars(30_000), "14".into())]);
    for (term, annual, total) in [(1, 35_000, 35_000), (5, 30_000, 150_000)] {
        let p = price_yaml(&["perfect_order_rate"], &MINIMAL.replace("license_term: 1", &format!("license_term: {term}"))).unwrap();
        assert_eq!((p.licensing.annual_total, p.licensing.term_total), (dollars(annual), dollars(total)), "term {term}");
    }
}

#[test]
fn infrastructure_of_the_specification() {
    let p = spec_proposal();
    let i = &p.infrastructure;
    assert_eq!(i.compute.monthly, dollars(1_600));
    assert_eq!(i.compute.annual, dollars(19_200));
    assert_eq!(i.storage.monthly, dollars(170));
    assert_eq!(i.storage.annual, dollars(2_040));
    assert_eq!(i.network.monthly, dollars(90));
    assert_eq!(i.network.annual, dollars(1_080));
    assert_eq!(i.total.monthly, dollars(1_860));
    assert_eq!(i.total.annual, dollars(22_320));
    let b = &i.details.breakdown;
    let parts = [b.api_gateway, b.business_services, b.backend_services, b.database, b.archival, b.redis, b.network];
    assert_eq!(parts, [100, 600, 900, 50, 20, 100, 90].map(dollars));
}

#[test]
fn managed_services_retainer_and_fifty_hours() {
    let m = spec_proposal().managed_services;
    assert_eq!(m.retainer, dollars(5_000));
    assert_eq!(m.retainer_hours.to_string(), "66.67");
    assert_eq!(m.estimated_additional_hours, 50.into());
    assert_eq!(m.additional_cost, dollars(3_750));
    assert_eq!(m.annual_total, dollars(8_750));
}

#[test]
fn years_two_and_three_recur_at_96070() {
    let t = spec_proposal().totals;
    assert_eq!(t.yearly_recurring, dollars(96_070));
}

#[test]
fn time_and_materials_range_and_cloud_architect() {
    let p = spec_proposal();
    let im = &p.implementation;
    let tm: Vec<(String, String, String)> =
        im.tm_items.iter().map(|t| (t.description.clone(), t.estimated_hours.clone(), t.estimated_cost.clone())).collect();
    assert_eq!(
        tm,
        [
            ("API/Non-Architected Integration (customers)".into(), "40-60".into(), "$7,000-10,500".into()),
            ("Dynamic RBAC KPIs (new_customers)".into(), "20-30".into(), "$3,500-5,250".into()),
        ]
    );
    assert_eq!((im.tm_cost_range.min, im.tm_cost_range.max), (dollars(10_500), dollars(15_750)));
    let env = &im.environment_setup;
    assert_eq!((env.platform.as_str(), env.cloud_architect_hours, env.cost), ("AWS", 60.into(), dollars(10_500)));
}

#[test]
fn fixed_prices_and_totals_add_up() {
    let p = spec_proposal();
    let im = &p.implementation;
    let integration: Vec<(&str, Money)> = im.data_integration.iter().map(|i| (i.object_model.as_str(), i.cost)).collect();
    assert_eq!(integration, [("customers", Money::ZERO), ("orders", dollars(2_500))]);
    let kpis: Vec<(&str, &str, Money)> =
        im.kpi_implementation.iter().map(|k| (k.kpi_code.as_str(), k.complexity.as_str(), k.cost)).collect();
    assert_eq!(
        kpis,
        [
            ("perfect_order_rate", "OTB", dollars(50)),
            ("on_time_delivery_rate", "RBAC", dollars(100)),
            ("new_customers", "Dynamic RBAC", Money::ZERO)
        ]
    );
    assert_eq!(im.fixed_cost_total, dollars(2_650));
    assert_eq!((im.implementation_total.min, im.implementation_total.max), (dollars(23_650), dollars(28_900)));
    let t = p.totals;
    assert_eq!((t.year1.min, t.year1.max), (dollars(119_720), dollars(124_970)));
    assert_eq!((t.term_total.min, t.term_total.max), (dollars(311_860), dollars(317_110)));
    assert_eq!((p.date.as_str(), p.valid_until.as_str()), ("2026-11-22", "2026-12-22"));
}

#[test]
fn every_fixed_integration_price_of_the_specification() {
    for (method, price) in [
        ("batch_conformed", 1_500),
        ("batch_non_conformed_single", 2_500),
        ("batch_non_conformed_multi", 3_500),
        ("batch_entity_resolution", 3_500),
        ("streaming_api_architected", 2_500),
    ] {
        let answers = MINIMAL.replace("method: batch_conformed", &format!("method: {method}"));
        let p = price_yaml(&["perfect_order_rate"], &answers).unwrap();
        assert_eq!(p.implementation.data_integration[0].cost, dollars(price), "{method}");
    }
}

#[test]
fn json_has_the_specification_field_names() {
    let v: Value = serde_json::from_str(&spec_proposal().to_json()).unwrap();
    let has = |pointer: &str| assert!(v.pointer(pointer).is_some(), "missing {pointer} in {v:#}");
    for pointer in [
        "/licensing/valueChains",
        "/licensing/licenseTerm",
        "/licensing/annualCostPerChain",
        "/licensing/annualTotal",
        "/licensing/termTotal",
        "/implementation/dataIntegration/0/objectModel",
        "/implementation/dataIntegration/0/sourceSystem",
        "/implementation/dataIntegration/0/integrationType",
        "/implementation/dataIntegration/0/cost",
        "/implementation/kpiImplementation/0/kpiCode",
        "/implementation/kpiImplementation/0/kpiName",
        "/implementation/kpiImplementation/0/complexity",
        "/implementation/kpiImplementation/0/cost",
        "/implementation/environmentSetup/platform",
        "/implementation/environmentSetup/cloudArchitectHours",
        "/implementation/environmentSetup/cost",
        "/implementation/tmItems/0/description",
        "/implementation/tmItems/0/estimatedHours",
        "/implementation/tmItems/0/rate",
        "/implementation/tmItems/0/estimatedCost",
        "/implementation/fixedCostTotal",
        "/implementation/tmCostRange/min",
        "/implementation/tmCostRange/max",
        "/implementation/implementationTotal/min",
        "/implementation/implementationTotal/max",
        "/infrastructure/compute/monthly",
        "/infrastructure/compute/annual",
        "/infrastructure/storage/monthly",
        "/infrastructure/network/annual",
        "/infrastructure/total/monthly",
        "/infrastructure/total/annual",
        "/infrastructure/details/compute/apiGateway/instanceType",
        "/infrastructure/details/storage/activeDatabase/storageGB",
        "/infrastructure/details/storage/redis/monthlyCost",
        "/infrastructure/details/network/dataTransferGB",
        "/infrastructure/details/breakdown/archival",
        "/managedServices/retainer",
        "/managedServices/estimatedAdditionalHours",
        "/managedServices/additionalCost",
        "/managedServices/annualTotal",
        "/totals/year1/min",
        "/totals/year1/max",
        "/totals/yearlyRecurring",
        "/totals/termTotal/min",
        "/totals/termTotal/max",
        "/resources/0/role",
        "/resources/0/name",
        "/resources/0/weeks",
        "/resources/0/rate",
        "/timeline/0/phase",
        "/timeline/0/weeks",
        "/timeline/0/resources",
    ] {
        has(pointer);
    }
    assert_eq!(v["licensing"]["licenseTerm"], 3);
    assert_eq!(v["licensing"]["annualTotal"], 65000);
    assert_eq!(v["totals"]["yearlyRecurring"], 96070);
    assert_eq!(v["infrastructure"]["details"]["storage"]["activeDatabase"]["costPerGB"], 0.1);
    assert_eq!(v["managedServices"]["retainerHours"], 66.67);
}

#[test]
fn markdown_follows_the_document_structure() {
    let md = spec_proposal().to_markdown();
    let headings: Vec<&str> = md.lines().filter(|l| l.starts_with("## ")).collect();
    assert_eq!(
        headings,
        [
            "## Executive Summary",
            "## 1. Licensing",
            "## 2. Implementation - Statement of Work",
            "## 3. Infrastructure Costs (Annual)",
            "## 4. Managed Services (Annual)",
            "## 5. Total Cost Summary",
            "## 6. Resource Schedule",
            "## Assumptions",
            "## 7. Terms & Conditions",
            "## 8. Next Steps",
        ]
    );
    for line in [
        "**Client:** Acme Retail  ",
        "**Valid Until:** 2026-12-22",
        "**Annual Cost:** $65,000/year ($32,500 per chain)  ",
        "**Total 3-Year Cost:** $195,000",
        "| Order | SAP ERP | Batch - Non-Conformed Single Source | $2,500 |",
        "| perfect_order_rate | Perfect Order Fulfillment | OTB | $50 |",
        "**Cloud Architect:** 60 hours at $175/hr = $10,500  ",
        "| API/Non-Architected Integration (customers) | 40-60 | $175/hr | $7,000-10,500 |",
        "**T&M Range:** $10,500 - $15,750",
        "- API Gateway: 2 × t3.medium = $100/month",
        "- Active Database: 500 GB × $0.10/GB = $50/month",
        "- Archived Data: 2,000 GB × $0.01/GB = $20/month",
        "- Data Transfer: 1,000 GB × $0.09/GB = $90/month",
        "**Total Annual Infrastructure:** $22,320",
        "**Support Retainer:** $5,000/year (66.67 hours at $75/hr)  ",
        "**Estimated Additional Hours:** 50 hours = $3,750  ",
        "**Annual Cost:** $96,070",
        "- Environment Setup: Weeks 1-2",
    ] {
        assert!(md.lines().any(|l| l == line), "missing line {line:?} in\n{md}");
    }
}
