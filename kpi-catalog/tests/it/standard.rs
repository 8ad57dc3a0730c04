//! The standard catalog: it validates, covers the domains, and every KPI calculates on demo data.

use kpi_catalog::{Catalog, DemoOptions};
use kpi_formula::{Grain, Query};

use crate::support::{run, values, year_2024};

#[test]
fn validates_with_no_problems() {
    let problems = Catalog::standard().problems();
    assert!(problems.is_empty(), "{problems}");
}

#[test]
fn covers_every_domain_with_at_least_forty_kpis() {
    let catalog = Catalog::standard();
    assert!(catalog.kpis().count() >= 40, "{}", catalog.kpis().count());
    for chain in ["scor", "crm", "sales", "finance", "support", "saas", "cross_domain"] {
        let kpis = catalog.kpis_in_value_chain(chain).unwrap();
        assert!(kpis.len() >= 3, "{chain}: {}", kpis.len());
    }
    for code in [
        "perfect_order_rate",
        "order_fulfillment_cycle_time",
        "cash_to_cash_cycle_time",
        "on_time_delivery_rate",
        "inventory_days_of_supply",
        "mrr",
        "arr",
        "customer_acquisition_cost",
        "customer_lifetime_value",
        "customer_churn_rate",
        "dau_mau_ratio",
        "net_customer_lifetime_value",
    ] {
        let kpi = catalog.kpi(code).unwrap();
        assert!(!kpi.description.is_empty(), "{code} has no description");
    }
    // The cross-domain KPI joins sales, SCOR and SaaS object models.
    let needs = catalog.required_objects(&["net_customer_lifetime_value"]).unwrap();
    for model in ["orders", "order_lines", "shipments", "subscription_periods"] {
        assert!(needs.object_models.contains(model), "{needs:?}");
    }
}

/// Every standard KPI, at its default grain over 2024 and broken down by each of its
/// dimensions, plans and runs on demo data and gives finite values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kpi_calculates_on_demo_data() {
    let catalog = Catalog::standard();
    let data = catalog.demo_data(&DemoOptions::new(20_000)).unwrap();
    for kpi in catalog.kpis() {
        let grain = kpi.default_grain.unwrap_or(Grain::Month);
        let batches = run(&catalog, &data, Query::kpi(&kpi.code).with_grain(grain).with_range(year_2024())).await;
        let vals = values(&batches);
        let present: Vec<f64> = vals.iter().flatten().copied().collect();
        assert!(!present.is_empty(), "{}: no values", kpi.code);
        assert!(present.iter().all(|v| v.is_finite()), "{}: {present:?}", kpi.code);
        for dim in &kpi.dimensions {
            let batches =
                run(&catalog, &data, Query::kpi(&kpi.code).with_grain(Grain::Quarter).by([dim.as_str()]).with_range(year_2024())).await;
            assert!(values(&batches).iter().flatten().count() > 0, "{} by {dim}: no values", kpi.code);
        }
    }
}

/// Demo data gives plausible values, so dashboards look like a business.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_values_are_plausible() {
    let catalog = Catalog::standard();
    let data = catalog.demo_data(&DemoOptions::new(20_000)).unwrap();
    let single = |code: &str| Query::kpi(code).with_range(year_2024());
    let one = |b: Vec<datafusion::arrow::array::RecordBatch>| values(&b)[0].unwrap();
    let perfect = one(run(&catalog, &data, single("perfect_order_rate")).await);
    assert!((0.4..0.95).contains(&perfect), "{perfect}");
    let cycle = one(run(&catalog, &data, single("order_fulfillment_cycle_time")).await);
    assert!((2.0..10.0).contains(&cycle), "{cycle}");
    let c2c = one(run(&catalog, &data, single("cash_to_cash_cycle_time")).await);
    assert!((-30.0..90.0).contains(&c2c), "{c2c}");
    let margin = one(run(&catalog, &data, single("gross_margin")).await);
    assert!((0.1..0.7).contains(&margin), "{margin}");
    let churn = one(run(&catalog, &data, single("customer_churn_rate")).await);
    assert!((0.0..0.2).contains(&churn), "{churn}");
}

#[test]
fn embedded_documents_parse() {
    for (name, text) in Catalog::standard_documents() {
        if let Err(e) = Catalog::parse(text, kpi_catalog::Format::Yaml, Some(name)) {
            panic!("{name}: {e}");
        }
    }
}
