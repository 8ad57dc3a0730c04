//! Loading and saving catalogs and client configurations.

use kpi_catalog::{Catalog, CatalogError, ClientConfig, Format, KpiDefinition, RetentionUnit};

#[test]
fn standard_catalog_round_trips_through_yaml_and_json() {
    let catalog = Catalog::standard();
    let yaml = catalog.to_yaml().unwrap();
    assert!(yaml.starts_with("schema_version: 1"), "{}", &yaml[..80]);
    let back = Catalog::from_yaml(&yaml).unwrap();
    assert_eq!(back.kpis().cloned().collect::<Vec<_>>(), catalog.kpis().cloned().collect::<Vec<_>>());
    assert_eq!(back.object_models().cloned().collect::<Vec<_>>(), catalog.object_models().cloned().collect::<Vec<_>>());
    assert_eq!(back.to_yaml().unwrap(), yaml);

    let json = catalog.to_json().unwrap();
    let from_json = Catalog::from_json(&json).unwrap();
    assert_eq!(from_json.modules().cloned().collect::<Vec<_>>(), catalog.modules().cloned().collect::<Vec<_>>());
    assert_eq!(from_json.to_yaml().unwrap(), yaml);
}

#[test]
fn files_load_and_save_by_extension() {
    let dir = std::env::temp_dir().join(format!("kpi-catalog-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let catalog = Catalog::standard();
    for name in ["catalog.yaml", "catalog.json"] {
        let path = dir.join(name);
        catalog.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.starts_with('{'), name.ends_with(".json"));
        assert_eq!(Catalog::load(&path).unwrap().kpis().count(), catalog.kpis().count());
    }
    let missing = Catalog::load(dir.join("missing.yaml")).unwrap_err();
    assert!(matches!(missing, CatalogError::Io { .. }), "{missing}");
    assert!(missing.to_string().contains("missing.yaml"), "{missing}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn malformed_yaml_is_a_syntax_error_with_its_position() {
    let err = Catalog::from_yaml("kpis:\n  - code: a\n    name: [unclosed\n").unwrap_err();
    let CatalogError::Syntax { location, message } = &err else { panic!("{err:?}") };
    assert!(location.line.is_some(), "{err}");
    assert!(!message.is_empty());

    let err = Catalog::parse("kpis: [{ code: a, name: A, formula: x, thresholds: { warning: high } }]", Format::Yaml, Some("c.yaml"))
        .unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("c.yaml:1:"), "{text}");
}

#[test]
fn malformed_json_reports_line_and_column() {
    let err = Catalog::from_json("{\n  \"kpis\": [\n    { \"code\": 1, }\n  ]\n}").unwrap_err();
    let CatalogError::Syntax { location, .. } = &err else { panic!("{err:?}") };
    assert_eq!(location.line, Some(3), "{err}");
}

#[test]
fn empty_and_huge_documents() {
    let empty = Catalog::from_yaml("").unwrap_or_else(|_| Catalog::from_yaml("{}").unwrap());
    assert_eq!(empty.kpis().count(), 0);
    let huge = "#".repeat(kpi_catalog::MAX_DOCUMENT_BYTES + 1);
    let err = Catalog::from_yaml(&huge).unwrap_err();
    assert!(err.to_string().contains("at most"), "{err}");
}

#[test]
fn client_configuration_round_trips_and_applies() {
    let yaml = r#"
id: acme
name: Acme Corp
selected_kpis: [revenue, perfect_order_rate, web_revenue]
custom_kpis:
  - { code: revenue, name: Net revenue, formula: "sum(orders.order_value where orders.status = 'completed')", unit: currency }
  - { code: web_revenue, name: Web revenue, formula: "sum(orders.order_value where orders.channel = 'web')" }
data_sources:
  - { name: erp, kind: postgresql, integration: batch, conformed: false, object_models: [orders, customers] }
  - { name: clicks, kind: kafka, integration: streaming, object_models: [user_activity] }
field_mappings:
  - { object_model: orders, column: order_value, source: erp, field: sales.orders.total_amount }
retention:
  staged_source_data: { retention_period: 90, retention_unit: days, archival_enabled: true, archival_period: 7, archival_unit: years }
  analytics_data: { retention_period: 2, retention_unit: years, archival_enabled: false }
"#;
    let client = ClientConfig::from_yaml(yaml).unwrap();
    assert_eq!(client.data_sources[1].integration, kpi_catalog::IntegrationMode::Streaming);
    let retention = client.retention.as_ref().unwrap();
    assert_eq!(retention.staged_source_data.retention_unit, RetentionUnit::Days);
    assert_eq!(RetentionUnit::Years.days(2), 730);
    assert_eq!(ClientConfig::from_yaml(&client.to_yaml().unwrap()).unwrap(), client);
    assert_eq!(ClientConfig::from_json(&client.to_json().unwrap()).unwrap(), client);

    let standard = Catalog::standard();
    let catalog = standard.for_client(&client).unwrap();
    assert_eq!(catalog.kpi("revenue").unwrap().name, "Net revenue");
    assert_eq!(standard.kpi("revenue").unwrap().name, "Revenue", "the standard catalog is unchanged");
    assert_eq!(catalog.kpis().count(), standard.kpis().count() + 1);
}

#[test]
fn client_problems_are_all_reported() {
    let client = ClientConfig {
        id: "acme".into(),
        name: "Acme".into(),
        selected_kpis: vec!["revnue".into()],
        custom_kpis: vec![KpiDefinition::new("bad", "Bad", "sum(orders.nope)")],
        field_mappings: vec![kpi_catalog::FieldMapping {
            object_model: "orders".into(),
            column: "ordr_value".into(),
            source: "erp".into(),
            field: "x".into(),
        }],
        ..Default::default()
    };
    let err = Catalog::standard().for_client(&client).unwrap_err();
    let CatalogError::Invalid(problems) = &err else { panic!("{err:?}") };
    let text = err.to_string();
    assert_eq!(problems.len(), 4, "{text}");
    assert!(text.contains("unknown KPI `revnue`") && text.contains("did you mean `revenue`?"), "{text}");
    assert!(text.contains("`orders` has no column `ordr_value`") && text.contains("did you mean `order_value`?"), "{text}");
    assert!(text.contains("unknown data source `erp`"), "{text}");
    assert!(text.contains("KPI `bad`: unknown column `nope`"), "{text}");
}
