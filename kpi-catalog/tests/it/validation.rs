//! Validation reports every problem at once, each at its file, YAML line and formula position.

use kpi_catalog::{Catalog, CatalogError, Format, Problem, ProblemKind};

const BROKEN: &str = r#"schema_version: 1
value_chains:
  - { code: scor, name: SCOR }
modules:
  - { code: deliver, name: Deliver, value_chain: scorr }
object_models:
  - code: customers
    name: Customer
    primary_key: [customer_id]
    columns:
      - { name: customer_id, type: int64 }
      - { name: email, type: string }
  - code: orders
    name: Order
    time_column: order_value
    primary_key: [order_id]
    columns:
      - { name: order_id, type: int64 }
      - { name: ordered_at, type: timestamp }
      - { name: customer_id, type: string }
      - { name: order_value, type: float64 }
    relationships:
      - { name: customer, to: customers, on: { customer_id: customer_id } }
      - { name: by_email, to: customers, on: { customer_id: email } }
      - { name: shipper, to: shippers, on: { shipper_id: id } }
kpis:
  - code: revenue
    name: Revenue
    formula: sum(orders.ordr_value)
    module: deliver
  - code: revenue
    name: Revenue again
    formula: sum(orders.order_value)
  - code: a
    name: A
    formula: b + 1
    thresholds: { warning: 0.9, critical: 0.95 }
  - code: b
    name: B
    formula: a * 2
    formla: typo
    schedule: every day
  - code: multi
    name: Multi-line
    formula: |
      sum(orders.order_value)
        / count(orderz)
"#;

fn problems() -> Vec<Problem> {
    let catalog = Catalog::parse(BROKEN, Format::Yaml, Some("broken.yaml")).unwrap();
    match Catalog::load_str_for_test(&catalog) {
        Err(CatalogError::Invalid(p)) => p.0,
        other => panic!("{other:?}"),
    }
}

trait LoadForTest {
    fn load_str_for_test(c: &Catalog) -> Result<(), CatalogError>;
}

impl LoadForTest for Catalog {
    fn load_str_for_test(c: &Catalog) -> Result<(), CatalogError> {
        c.validate()
    }
}

fn find<'a>(problems: &'a [Problem], needle: &str) -> &'a Problem {
    problems.iter().find(|p| p.message.contains(needle)).unwrap_or_else(|| panic!("no problem mentions {needle:?}:\n{}", render(problems)))
}

fn render(problems: &[Problem]) -> String {
    problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n")
}

fn at(p: &Problem) -> (Option<u32>, Option<u32>) {
    (p.location.line, p.location.column)
}

#[test]
fn every_problem_is_reported_with_its_line() {
    let problems = problems();
    let text = render(&problems);
    println!("{text}");

    let p = find(&problems, "unknown value chain `scorr`");
    assert_eq!(p.kind, ProblemKind::UnknownReference);
    assert_eq!(p.help.as_deref(), Some("did you mean `scor`?"));
    assert_eq!(p.location.file.as_deref(), Some("broken.yaml"));
    assert_eq!(p.location.path, "modules[0].value_chain");
    assert_eq!(p.location.line, Some(5));

    let p = find(&problems, "time column `order_value` of `orders` is float64");
    assert_eq!((p.kind, p.location.line), (ProblemKind::TimeColumn, Some(15)));

    let p = find(&problems, "joins `orders.customer_id` (string) with `customers.customer_id` (int64)");
    assert_eq!((p.kind, p.location.line), (ProblemKind::KeyType, Some(23)));

    let p = find(&problems, "not its primary key [customer_id]");
    assert_eq!((p.kind, p.location.line), (ProblemKind::FanOut, Some(24)));

    let p = find(&problems, "unknown object model `shippers`");
    assert_eq!(p.location.path, "object_models[1].relationships[2].to");

    let p = find(&problems, "duplicate KPI code `revenue`");
    assert_eq!((p.kind, p.location.line), (ProblemKind::Duplicate, Some(31)));
    assert!(p.help.as_deref().unwrap().contains("broken.yaml:27"), "{p}");

    // The formula error points into the formula: line 29 is `    formula: sum(orders.ordr_value)`.
    let p = find(&problems, "unknown column `ordr_value`");
    assert_eq!(p.kind.code(), "formula");
    assert_eq!(at(p), (Some(29), Some(25)), "{p}");
    assert_eq!(p.help.as_deref(), Some("did you mean `order_value`?"));
    assert!(p.diagnostic.is_some());

    // In a block scalar, the position is on the formula's own line.
    let p = find(&problems, "unknown table `orderz`");
    assert_eq!(at(p), (Some(47), Some(17)), "{p}");

    let cycle = problems.iter().filter(|p| p.kind == ProblemKind::Cycle).count();
    assert!(cycle >= 1, "{text}");

    let p = find(&problems, "critical threshold 0.95 is not at or below its warning threshold 0.9");
    assert_eq!(p.kind, ProblemKind::Thresholds);

    let p = find(&problems, "unknown field `formla`");
    assert_eq!((p.kind, at(p)), (ProblemKind::UnknownField, (Some(41), Some(5))));
    assert_eq!(p.help.as_deref(), Some("did you mean `formula`?"));

    // A folded formula maps back to the right line too.
    let folded = BROKEN.replace("formula: |", "formula: >");
    let catalog = Catalog::parse(&folded, Format::Yaml, None).unwrap();
    let p = catalog.problems().0.into_iter().find(|p| p.message.contains("orderz")).unwrap();
    assert_eq!(at(&p), (Some(47), Some(17)), "{p}");

    let p = find(&problems, "schedule `every day`");
    assert_eq!(p.kind, ProblemKind::Schedule);
}

#[test]
fn the_error_lists_every_problem() {
    let err = Catalog::from_yaml(BROKEN).unwrap_err();
    let text = err.to_string();
    let count = problems().len();
    assert!(text.starts_with(&format!("{count} problems in the catalog")), "{text}");
    assert_eq!(text.lines().skip(1).filter(|l| !l.starts_with("  help:")).count(), count, "{text}");
}

#[test]
fn unsupported_schema_version_is_named() {
    let err = Catalog::from_yaml("schema_version: 7\n").unwrap_err();
    let text = err.to_string();
    assert!(text.contains("schema version 7 is not supported"), "{text}");
}

#[test]
fn dimensions_are_checked() {
    let mut catalog = Catalog::standard();
    let mut kpi = catalog.kpi("revenue").unwrap().clone();
    kpi.dimensions = vec!["orders.regon".into(), "orders.customer.segment".into()];
    catalog.add_kpi(kpi);
    let err = catalog.validate().unwrap_err();
    let text = err.to_string();
    assert!(text.contains("cannot be broken down by `orders.regon`"), "{text}");
    assert!(text.contains("did you mean `region`?"), "{text}");
    assert!(!text.contains("orders.customer.segment"), "{text}");
}

#[test]
fn demo_hints_are_checked() {
    let yaml = r#"
object_models:
  - code: t
    name: T
    time_column: at
    columns:
      - { name: id, type: int64, nullable: false, demo: { chance: 0.5 } }
      - { name: at, type: timestamp }
      - { name: later, type: timestamp, demo: { after: { column: missing, min_hours: 1, max_hours: 2 } } }
      - { name: kind, type: int32, demo: { choice: { values: ["1", "x"] } } }
      - { name: score, type: float64, demo: { uniform: { min: 5, max: 1 }, null_rate: 2 } }
"#;
    let text = Catalog::from_yaml(yaml).unwrap_err().to_string();
    assert!(text.contains("chance fills bool columns, not int64"), "{text}");
    assert!(text.contains("after needs `missing` to be a date or time column declared before this one"), "{text}");
    assert!(text.contains("choice value `x` is not a int32"), "{text}");
    assert!(text.contains("uniform min 5 is above max 1"), "{text}");
    assert!(text.contains("null_rate 2 is not between 0 and 1"), "{text}");
}
