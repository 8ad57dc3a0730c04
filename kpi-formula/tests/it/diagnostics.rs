//! Errors as users meet them: kind, position, expected/found, suggestions and rendering.

use kpi_formula::{
    Calendar, Cardinality, Diagnostic, ErrorKind, FormulaError, Grain, InMemoryModel, Query, QueryError, Relationship, SecurityContext,
    TableModel, TimeRange, check_formula, check_kpi, compile,
};

use crate::support::{h1, model, orders_schema};

fn err(formula: &str) -> Diagnostic {
    let errors = check_formula(formula, &model()).expect_err(formula);
    errors.first().clone()
}

fn query_err(q: Query) -> Vec<Diagnostic> {
    match compile(&q, &model()) {
        Err(FormulaError::Invalid(d)) => d.0,
        other => panic!("expected diagnostics, got {other:?}"),
    }
}

#[test]
fn unknown_names_get_did_you_mean() {
    let d = err("sum(ordrs.order_value)");
    assert_eq!((d.kind, d.help.as_deref()), (ErrorKind::UnknownTable, Some("did you mean `orders`?")));
    let d = err("sum(orders.ordr_value)");
    assert_eq!((d.kind, d.help.as_deref()), (ErrorKind::UnknownColumn, Some("did you mean `order_value`?")));
    assert_eq!((d.line_col().line, d.line_col().column), (1, 12));
    assert_eq!(d.expected.as_deref(), Some("a column of `orders`"));
    assert_eq!(d.found.as_deref(), Some("`ordr_value`"));
    let d = err("count(orders where orders.custmer.segment = 'x')");
    assert_eq!((d.kind, d.help.as_deref()), (ErrorKind::UnknownRelationship, Some("did you mean `customer`?")));
    let d = err("revenu / 2");
    assert_eq!((d.kind, d.help.as_deref()), (ErrorKind::UnknownKpi, Some("did you mean `revenue`?")));
    let d = err("summ(orders.order_value)");
    assert_eq!((d.kind, d.help.as_deref()), (ErrorKind::UnknownFunction, Some("did you mean `sum`?")));
}

#[test]
fn every_problem_is_reported_at_once() {
    let errors = check_formula("sum(orders.nope) + avg(orders.also_nope) + unknown_kpi", &model()).unwrap_err();
    let kinds: Vec<_> = errors.iter().map(|d| d.kind).collect();
    assert_eq!(kinds, vec![ErrorKind::UnknownColumn, ErrorKind::UnknownColumn, ErrorKind::UnknownKpi]);
}

#[test]
fn rendering_shows_the_line_and_a_caret() {
    let text = err("sum(orders.order_value)\n  / count(ordrs)").render();
    assert!(text.starts_with("error[unknown-table]: unknown table `ordrs`\n"), "{text}");
    assert!(text.contains(" --> formula:2:11\n"), "{text}");
    assert!(text.contains("2 |   / count(ordrs)\n  |           ^^^^^"), "{text}");
    assert!(text.ends_with("= help: did you mean `orders`?"), "{text}");
}

#[test]
fn types_are_checked() {
    let d = err("sum(orders.status)");
    assert_eq!((d.kind, d.expected.as_deref(), d.found.as_deref()), (ErrorKind::Type, Some("a number"), Some("a string")));
    assert_eq!(err("count(orders where orders.status = 5)").kind, ErrorKind::Type);
    assert_eq!(err("count(orders where orders.order_value)").kind, ErrorKind::Type);
    assert_eq!(err("count(orders) > 5").kind, ErrorKind::Type);
    assert_eq!(err("count(orders where orders.ordered_at > 'yesterday')").kind, ErrorKind::Type);
    assert_eq!(err("count(orders where orders.status like 5)").kind, ErrorKind::Type);
    assert_eq!(err("case when count(orders) > 1 then 'a' else 1 end").kind, ErrorKind::Type);
}

#[test]
fn aggregates_must_be_well_placed() {
    assert_eq!(err("orders.order_value").kind, ErrorKind::Aggregate);
    assert_eq!(err("sum(sum(orders.order_value))").kind, ErrorKind::Aggregate);
    assert_eq!(err("orders").kind, ErrorKind::Aggregate);
    assert_eq!(err("sum(orders)").kind, ErrorKind::Arguments);
    assert_eq!(err("sum(1)").kind, ErrorKind::Aggregate);
    assert_eq!(err("sum(order_value)").help.as_deref(), Some("columns are written with their table: `orders.order_value`"));
    assert_eq!(err("count(revenue)").kind, ErrorKind::Aggregate);
    assert_eq!(err("sum(orders.order_value where sum(orders.order_value) > 1)").kind, ErrorKind::Aggregate);
    assert_eq!(err("percentile(orders.order_value, 1.5)").kind, ErrorKind::Arguments);
    assert_eq!(err("percentile(orders.order_value)").kind, ErrorKind::Arguments);
    assert_eq!(err("round(count(orders), count(orders))").kind, ErrorKind::Arguments);
    assert_eq!(err("abs(count(orders) where orders.in_full)").kind, ErrorKind::Syntax);
}

fn fan_out_model() -> InMemoryModel {
    let lines = std::sync::Arc::new(datafusion::arrow::datatypes::Schema::new(vec![
        datafusion::arrow::datatypes::Field::new("line_id", datafusion::arrow::datatypes::DataType::Int64, false),
        datafusion::arrow::datatypes::Field::new("order_id", datafusion::arrow::datatypes::DataType::Int64, false),
    ]));
    model()
        .with_table(
            TableModel::new("orders", orders_schema())
                .with_time_column("ordered_at")
                .with_primary_key(["order_id"])
                .with_relationship(
                    Relationship::many_to_one("lines", "lines", [("order_id", "order_id")]).with_cardinality(Cardinality::OneToMany),
                )
                .with_relationship(Relationship::many_to_one("by_status", "customers", [("status", "segment")])),
        )
        .with_table(TableModel::new("lines", lines).with_primary_key(["line_id"]))
}

#[test]
fn fan_out_is_refused() {
    let m = fan_out_model();
    let d = check_formula("count(orders where orders.lines.line_id > 1)", &m).unwrap_err().first().clone();
    assert_eq!(d.kind, ErrorKind::FanOut);
    assert!(d.message.contains("one_to_many"), "{d}");
    let d = check_formula("count(orders where orders.by_status.region = 'EU')", &m).unwrap_err().first().clone();
    assert_eq!(d.kind, ErrorKind::FanOut);
    assert!(d.message.contains("not on its primary key"), "{d}");
    // neither table reaches the other: they cannot be aggregated together
    let d = err("sum(customers.customer_id * expenses.amount)");
    assert_eq!(d.kind, ErrorKind::FanOut);
    // orders reaches customers, so a customer column can take part in an order aggregate
    assert!(check_formula("sum(customers.customer_id * orders.order_value)", &model()).is_ok());
}

#[test]
fn kpi_cycles_are_errors() {
    let m = model().with_kpi("a", "b + 1").with_kpi("b", "c * 2").with_kpi("c", "a");
    let errors = check_kpi("a", &m).unwrap_err();
    let cycle = errors.iter().find(|d| d.kind == ErrorKind::Cycle).expect("a cycle diagnostic");
    assert!(cycle.message.contains("a → b → c → a"), "{cycle}");
    assert_eq!(cycle.source.name, "kpi c");
    let m = model().with_kpi("self_ref", "self_ref + 1");
    assert!(check_kpi("self_ref", &m).unwrap_err().iter().any(|d| d.kind == ErrorKind::Cycle));
}

#[test]
fn errors_inside_referenced_kpis_point_at_their_source() {
    let m = model().with_kpi("broken", "sum(orders.nope)").with_kpi("uses_broken", "broken / 2");
    let errors = check_kpi("uses_broken", &m).unwrap_err();
    assert_eq!(errors.0[0].source.name, "kpi uses_broken");
    assert_eq!(errors.0[1].source.name, "kpi broken");
    assert_eq!(errors.0[1].kind, ErrorKind::UnknownColumn);
}

#[test]
fn time_functions_need_a_grain_a_range_and_fitting_windows() {
    let d = query_err(Query::formula("prev(count(orders))").with_range(h1()));
    assert_eq!(d[0].kind, ErrorKind::TimeIntelligence);
    assert!(d[0].message.contains("needs a query with a grain"));
    let d = query_err(Query::formula("growth(count(orders))").with_grain(Grain::Month));
    assert!(d[0].message.contains("needs a query with a time range"));
    let d = query_err(Query::formula("rolling(count(orders), '30 days', 'mean')").with_grain(Grain::Month).with_range(h1()));
    assert_eq!(d[0].kind, ErrorKind::Arguments);
    assert!(d[0].message.contains("how windows are summarised"), "{}", d[0]);
    let d = query_err(Query::formula("to_date(count(orders), 'week')").with_grain(Grain::Month).with_range(h1()));
    assert!(d[0].message.contains("finer than the query grain"));
    assert_eq!(err("rolling(cumulative(count(orders)), '2 days')").kind, ErrorKind::TimeIntelligence);
    assert_eq!(err("rolling(count(orders), 'fortnight')").kind, ErrorKind::Arguments);
    assert_eq!(err("prev(count(orders), 0)").kind, ErrorKind::Arguments);
    let m = model().with_kpi("rolled", "rolling(count(orders), '2 days')");
    let d = check_formula("cumulative(rolled)", &m).unwrap_err();
    assert_eq!(d.first().kind, ErrorKind::TimeIntelligence);
}

#[test]
fn dimensions_filters_and_security_are_checked_with_their_own_sources() {
    let d = query_err(Query::formula("count(orders)").by(["orders.chanel", "expenses.category"]).with_filter("orders.status = 1"));
    let names: Vec<(&str, ErrorKind)> = d.iter().map(|x| (x.source.name.as_str(), x.kind)).collect();
    assert_eq!(names, vec![("dimension 1", ErrorKind::UnknownColumn), ("filter", ErrorKind::Type), ("dimension 2", ErrorKind::FanOut)]);
    assert_eq!(d[0].help.as_deref(), Some("did you mean `channel`?"));
    let d = query_err(Query::formula("count(orders)").by(["orders.channel", "orders.channel"]));
    assert!(d[0].message.contains("listed twice"));
    let d = query_err(Query::formula("count(orders)").by(["region"]));
    assert_eq!(d[0].kind, ErrorKind::Query);
    let d =
        query_err(Query::formula("count(orders)").with_security(SecurityContext::new().with_filter("orders", "customers.region = 'EU'")));
    assert_eq!(d[0].kind, ErrorKind::Query);
    let d = query_err(Query::formula("count(orders)").with_security(SecurityContext::new().with_filter("ordrs", "true")));
    assert_eq!((d[0].kind, d[0].help.as_deref()), (ErrorKind::UnknownTable, Some("did you mean `orders`?")));
    let d = query_err(Query::formula("count(orders)").with_filter("count(orders) > 1"));
    assert_eq!(d[0].kind, ErrorKind::Aggregate);
}

#[test]
fn query_settings_have_typed_errors() {
    assert!(matches!(Grain::parse("monthly"), Err(QueryError::UnknownGrain { .. })));
    assert!(matches!(Calendar::parse_time_zone("Mars/Olympus"), Err(QueryError::UnknownTimeZone(_))));
    assert!(matches!(TimeRange::parse("2024-02-01", "2024-01-01", &Calendar::default()), Err(QueryError::EmptyRange { .. })));
    let r = compile(&Query::formula("count(products)").with_grain(Grain::Day), &model());
    assert!(matches!(r, Err(FormulaError::Query(QueryError::NoTimeColumn { .. }))), "{r:?}");
    let q = Query::formula("count(orders)")
        .with_grain(Grain::Minute)
        .with_range(TimeRange::parse("2000-01-01", "2024-01-01", &Calendar::default()).unwrap());
    let sources = kpi_formula::ModelSources(&model());
    let r = compile(&q, &model()).unwrap().to_logical_plan(&sources);
    assert!(matches!(r, Err(FormulaError::Query(QueryError::TooManyPeriods { .. }))), "{r:?}");
    let r = compile(&Query::kpi("no_such_kpi"), &model());
    assert!(matches!(&r, Err(FormulaError::Invalid(d)) if d.first().kind == ErrorKind::UnknownKpi), "{r:?}");
}

#[test]
fn plans_build_from_schemas_alone() {
    let m = model();
    let q = Query::kpi("aov_growth").with_grain(Grain::Month).by(["orders.customer.segment"]).with_range(h1());
    let plan = kpi_formula::plan(&q, &m, &kpi_formula::ModelSources(&m)).unwrap();
    let names: Vec<String> = plan.schema().fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, ["period", "orders.customer.segment", "value"]);
}
