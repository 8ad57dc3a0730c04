//! Browsing, search, required objects and diagrams over the standard catalog.

use kpi_catalog::{Catalog, CatalogError};

#[test]
fn lookups_by_code_module_and_value_chain() {
    let catalog = Catalog::standard();
    assert_eq!(catalog.kpi("mrr").unwrap().name, "Monthly Recurring Revenue");
    let err = catalog.kpi("perfect_order").unwrap_err();
    assert!(matches!(&err, CatalogError::NotFound { kind: "KPI", suggestion: Some(s), .. } if s == "perfect_order_rate"), "{err}");
    assert_eq!(err.to_string(), "unknown KPI `perfect_order`; did you mean `perfect_order_rate`?");

    let deliver: Vec<&str> = catalog.kpis_in_module("deliver").unwrap().iter().map(|k| k.code.as_str()).collect();
    assert!(deliver.contains(&"perfect_order_rate") && deliver.contains(&"on_time_delivery_rate"), "{deliver:?}");
    assert!(catalog.kpis_in_module("delivr").is_err());
    let scor = catalog.kpis_in_value_chain("scor").unwrap();
    assert!(scor.iter().all(|k| catalog.value_chain_of(k) == Some("scor")));
    assert!(scor.len() > deliver.len());
    assert_eq!(catalog.modules_in_value_chain("scor").unwrap().len(), 5);
    assert_eq!(catalog.object_model("orders").unwrap().time_column.as_deref(), Some("ordered_at"));
    assert!(catalog.value_chains().count() >= 6);
}

#[test]
fn search_ranks_name_matches_first() {
    let catalog = Catalog::standard();
    let hits = catalog.search("Churn");
    assert!(hits.len() >= 2);
    assert!(hits[0].kpi.code.contains("churn"), "{:?}", hits.iter().map(|h| &h.kpi.code).collect::<Vec<_>>());
    assert!(hits.windows(2).all(|w| w[0].score >= w[1].score));
    let both = catalog.search("cycle time scor");
    assert!(both.iter().any(|h| h.kpi.code == "order_fulfillment_cycle_time"));
    assert!(both.iter().all(|h| catalog.value_chain_of(h.kpi) == Some("scor")));
    assert!(catalog.search("   ").is_empty());
    assert!(catalog.search("no such words anywhere").is_empty());
}

#[test]
fn required_objects_follow_references_and_relationships() {
    let catalog = Catalog::standard();
    let needs = catalog.required_objects(&["cash_to_cash_cycle_time", "win_rate"]).unwrap();
    for kpi in ["cash_to_cash_cycle_time", "days_inventory_outstanding", "days_sales_outstanding", "days_payable_outstanding", "win_rate"] {
        assert!(needs.kpis.contains(kpi), "{needs:?}");
    }
    assert_eq!(
        needs.object_models.iter().map(String::as_str).collect::<Vec<_>>(),
        ["bills", "inventory_snapshots", "invoices", "opportunities"]
    );
    assert!(needs.columns["invoices"].contains("paid_at") && needs.columns["invoices"].contains("issued_at"));
    assert_eq!(needs.modules.iter().map(String::as_str).collect::<Vec<_>>(), ["enable", "pipeline"]);
    assert_eq!(needs.value_chains.iter().map(String::as_str).collect::<Vec<_>>(), ["sales", "scor"]);

    // A dimension through a relationship is not needed; navigation inside a formula is.
    let margin = catalog.required_objects(&["gross_margin"]).unwrap();
    assert!(margin.columns["order_lines"].contains("product_id"), "join keys are needed: {margin:?}");
    assert!(margin.columns["products"].contains("product_id"));

    assert!(matches!(catalog.required_objects(&["nope"]), Err(CatalogError::NotFound { .. })));
}

#[test]
fn diagrams_are_mermaid_class_diagrams() {
    let catalog = Catalog::standard();
    let text = catalog.diagram(&["orders", "customers", "order_lines", "products"]).unwrap();
    assert!(text.starts_with("classDiagram\n"));
    assert!(text.contains("  class orders {\n"), "{text}");
    assert!(text.contains("    +int64 order_id PK\n"), "{text}");
    assert!(text.contains("    +timestamp ordered_at time\n"), "{text}");
    assert!(text.contains("    +decimal_18_2_ order_value\n"), "{text}");
    assert!(text.contains(r#"  order_lines "*" --> "1" products : product"#), "{text}");
    assert!(!text.contains("suppliers"), "relationships leaving the set are not drawn: {text}");
    let all = catalog.diagram::<&str>(&[]).unwrap();
    assert_eq!(all.matches("  class ").count(), catalog.object_models().count());
    assert!(catalog.diagram(&["ordrs"]).is_err());
}
