//! Demo data: deterministic, sized as asked, with valid relationships.

use std::collections::HashSet;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Int64Type, TimestampMicrosecondType};
use kpi_catalog::{Catalog, CatalogError, DemoOptions};

fn column_i64(batches: &[RecordBatch], name: &str) -> Vec<Option<i64>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column_by_name(name).unwrap().as_primitive::<Int64Type>().clone();
            (0..a.len()).map(move |i| a.is_valid(i).then(|| a.value(i)))
        })
        .collect()
}

fn column_ts(batches: &[RecordBatch], name: &str) -> Vec<Option<i64>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column_by_name(name).unwrap().as_primitive::<TimestampMicrosecondType>().clone();
            (0..a.len()).map(move |i| a.is_valid(i).then(|| a.value(i)))
        })
        .collect()
}

#[test]
fn same_seed_same_data_other_seed_other_data() {
    let catalog = Catalog::standard();
    let a = catalog.demo_data(&DemoOptions::new(70_000).with_seed(1)).unwrap();
    let b = catalog.demo_data(&DemoOptions::new(70_000).with_seed(1)).unwrap();
    let c = catalog.demo_data(&DemoOptions::new(70_000).with_seed(2)).unwrap();
    for t in a.table_names() {
        assert_eq!(a.batches(t), b.batches(t), "{t}");
    }
    assert_ne!(a.batches("orders"), c.batches("orders"));
}

#[test]
fn sizes_schemas_and_time_range_are_as_asked() {
    let catalog = Catalog::standard();
    let options = DemoOptions::new(50_000).with_range("2023-03-01", "2023-06-01").unwrap();
    let data = catalog.demo_data(&options).unwrap();
    assert_eq!(data.rows("orders"), 50_000);
    assert_eq!(data.rows("order_lines"), 125_000);
    assert_eq!(data.rows("products"), 400);
    assert_eq!(data.table_names().count(), catalog.object_models().count());
    for m in catalog.object_models() {
        assert_eq!(data.schema(&m.code).unwrap(), m.schema(), "{}", m.code);
    }
    let start = options.start.and_utc().timestamp_micros();
    let end = options.end.and_utc().timestamp_micros();
    let times = column_ts(data.batches("orders").unwrap(), "ordered_at");
    assert!(times.iter().flatten().all(|t| (start..end).contains(t)));
    let keys = column_i64(data.batches("orders").unwrap(), "order_id");
    assert_eq!(keys.iter().flatten().collect::<HashSet<_>>().len(), 50_000, "primary keys are unique");
}

#[test]
fn foreign_keys_point_at_existing_rows_and_copies_match() {
    let catalog = Catalog::standard();
    let data = catalog.demo_data(&DemoOptions::new(30_000)).unwrap();
    for m in catalog.object_models() {
        for r in &m.relationships {
            let [pair] = r.on.0.as_slice() else { continue };
            let targets: HashSet<i64> = column_i64(data.batches(&r.to).unwrap(), &pair.to).into_iter().flatten().collect();
            let keys = column_i64(data.batches(&m.code).unwrap(), &pair.from);
            assert!(keys.iter().flatten().all(|k| targets.contains(k)), "{}.{} has keys missing in {}", m.code, r.name, r.to);
        }
    }
    // An order line's ordered_at is its order's.
    let orders = data.batches("orders").unwrap();
    let order_time: Vec<Option<i64>> = column_ts(orders, "ordered_at");
    let lines = data.batches("order_lines").unwrap();
    for (order, at) in column_i64(lines, "order_id").iter().zip(column_ts(lines, "ordered_at")).take(5_000) {
        assert_eq!(order_time[order.unwrap() as usize - 1], at);
    }
    // Derived times follow their base, and stay null where it is null.
    let shipped = column_ts(orders, "shipped_at");
    let delivered = column_ts(orders, "delivered_at");
    for (s, d) in shipped.iter().zip(&delivered) {
        match (s, d) {
            (None, d) => assert!(d.is_none()),
            (Some(s), Some(d)) => assert!(d > s),
            (Some(_), None) => {}
        }
    }
    let nulls = shipped.iter().filter(|s| s.is_none()).count() as f64 / shipped.len() as f64;
    assert!((0.02..0.04).contains(&nulls), "{nulls}");
}

#[test]
fn bad_options_are_refused() {
    let catalog = Catalog::standard();
    let backwards = DemoOptions::new(10).with_range("2024-02-01", "2024-01-01").unwrap();
    assert!(matches!(catalog.demo_data(&backwards), Err(CatalogError::Demo(m)) if m.contains("start must come first")));
    assert!(DemoOptions::new(10).with_range("yesterday", "2024-01-01").is_err());
    let huge = DemoOptions::new(usize::MAX / 4);
    assert!(matches!(catalog.demo_data(&huge), Err(CatalogError::Demo(m)) if m.contains("at most")));
    let err = catalog.demo_data(&DemoOptions::new(10).only(["ordrs"])).unwrap_err();
    assert!(err.to_string().contains("did you mean `orders`?"), "{err}");
    // `only` still generates what the tables copy values from.
    let lines = catalog.demo_data(&DemoOptions::new(100).only(["order_lines"])).unwrap();
    assert_eq!(lines.table_names().collect::<Vec<_>>(), ["order_lines", "orders"]);
}

#[test]
fn catalogs_without_hints_get_defaults() {
    let yaml = r#"
object_models:
  - code: parents
    name: Parent
    primary_key: [code]
    columns: [{ name: code, type: string }, { name: flag, type: bool }]
  - code: events
    name: Event
    time_column: at
    primary_key: [id]
    relationships: [{ name: owner, to: parents, on: { parent: code } }]
    columns:
      - { name: id, type: int64 }
      - { name: at, type: date }
      - { name: parent, type: string }
      - { name: amount, type: "decimal(10,2)" }
      - { name: n, type: int32 }
      - { name: later, type: timestamptz }
"#;
    let catalog = Catalog::from_yaml(yaml).unwrap();
    let data = catalog.demo_data(&DemoOptions::new(1_000)).unwrap();
    assert_eq!(data.rows("events"), 1_000);
    let parents: HashSet<String> =
        data.batches("parents").unwrap()[0].column(0).as_string::<i32>().iter().flatten().map(str::to_string).collect();
    let refs = data.batches("events").unwrap()[0].column(2).as_string::<i32>().clone();
    assert!(refs.iter().flatten().all(|p| parents.contains(p)));
}
