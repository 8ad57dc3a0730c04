//! The seed `KPIDefinition` JSON shape and SQL-defined KPIs load into the catalog.

use kpi_catalog::import::{SqlKpi, from_seed_json, from_sql, import_seed_json, import_sql};
use kpi_catalog::{Catalog, CatalogError, ColumnDef, ColumnType, Direction, ObjectModel};
use kpi_formula::Grain;

/// The seed's two examples, verbatim apart from table names the test catalog defines.
const SEED: &str = r#"[
  {
    "id": "mrr",
    "name": "Monthly Recurring Revenue",
    "category": "business",
    "description": "Total monthly recurring revenue from subscriptions",
    "formula": {
      "type": "simple",
      "expression": "SUM(subscription_amount)",
      "variables": [{
        "name": "subscription_amount",
        "source": { "database": "payments", "table": "subscriptions", "column": "amount", "aggregation": "sum" }
      }]
    },
    "aggregations": ["day", "week", "month"],
    "dimensions": ["plan_type", "region"]
  },
  {
    "id": "cac",
    "name": "Customer Acquisition Cost",
    "category": "business",
    "description": "Average cost to acquire a new customer",
    "formula": {
      "type": "composite",
      "expression": "marketing_spend / new_customers",
      "variables": [
        { "name": "marketing_spend", "source": { "database": "finance", "table": "expenses", "column": "amount", "aggregation": "sum" } },
        { "name": "new_customers", "source": { "database": "users", "table": "accounts", "column": "id", "aggregation": "count" } }
      ]
    },
    "aggregations": ["month", "quarter"],
    "dimensions": ["channel", "campaign"],
    "schedule": { "frequency": "day", "timezone": "UTC" },
    "thresholds": { "warning": 500, "critical": 800 }
  }
]"#;

fn model(code: &str, time: &str, columns: &[(&str, ColumnType)]) -> ObjectModel {
    ObjectModel {
        code: code.into(),
        name: code.into(),
        time_column: Some(time.into()),
        primary_key: vec![columns[0].0.into()],
        columns: columns.iter().map(|(n, t)| ColumnDef::new(*n, *t)).collect(),
        ..Default::default()
    }
}

fn seed_catalog() -> Catalog {
    let mut c = Catalog::new();
    c.add_object_model(model(
        "subscriptions",
        "started_at",
        &[
            ("id", ColumnType::Int64),
            ("started_at", ColumnType::Timestamp),
            ("amount", ColumnType::Float64),
            ("plan_type", ColumnType::String),
            ("region", ColumnType::String),
            ("status", ColumnType::String),
        ],
    ));
    c.add_object_model(model(
        "expenses",
        "at",
        &[
            ("id", ColumnType::Int64),
            ("at", ColumnType::Timestamp),
            ("amount", ColumnType::Float64),
            ("channel", ColumnType::String),
            ("campaign", ColumnType::String),
        ],
    ));
    c.add_object_model(model("accounts", "created_at", &[("id", ColumnType::Int64), ("created_at", ColumnType::Timestamp)]));
    c.add_object_model(model(
        "user_activity",
        "date",
        &[("id", ColumnType::Int64), ("date", ColumnType::Date), ("user_id", ColumnType::Int64)],
    ));
    c.add_object_model(model(
        "user_sessions",
        "date",
        &[("id", ColumnType::Int64), ("date", ColumnType::Date), ("session_length", ColumnType::Float64)],
    ));
    c.add_object_model(model(
        "monthly_metrics",
        "month",
        &[
            ("id", ColumnType::Int64),
            ("month", ColumnType::Date),
            ("marketing_spend", ColumnType::Float64),
            ("new_customers", ColumnType::Int64),
        ],
    ));
    c
}

#[test]
fn seed_kpi_definitions_translate_and_validate() {
    let mut catalog = seed_catalog();
    let kpis = from_seed_json(SEED, &catalog).unwrap();
    assert_eq!(kpis[0].formula, "sum(subscriptions.amount)");
    assert_eq!(kpis[0].default_grain, Some(Grain::Day));
    assert_eq!(kpis[0].dimensions, ["subscriptions.plan_type", "subscriptions.region"]);
    assert_eq!(kpis[0].tags, ["business"]);
    assert_eq!(kpis[1].formula, "sum(expenses.amount) / count(accounts.id)");
    assert_eq!(kpis[1].dimensions, ["expenses.channel", "expenses.campaign"]);
    assert_eq!(kpis[1].direction, Direction::LowerIsBetter, "critical above warning means lower is better");
    assert_eq!(kpis[1].schedule.as_deref(), Some("0 0 * * *"));
    // The seed breaks CAC down by `channel` and `campaign`, which only expenses have: new
    // accounts cannot be split by them without a relationship, and validation says so.
    let err = import_seed_json(SEED, &mut catalog).unwrap_err();
    let CatalogError::Invalid(problems) = &err else { panic!("{err:?}") };
    assert_eq!(problems.len(), 2, "{err}");
    assert!(problems.iter().all(|p| p.kind == kpi_catalog::ProblemKind::Dimension), "{err}");
    assert!(err.to_string().contains("`expenses` cannot be reached from `accounts` without multiplying rows"), "{err}");
    let without_dimensions = SEED.replace(r#""dimensions": ["channel", "campaign"]"#, r#""dimensions": []"#);
    let mut catalog = seed_catalog();
    assert_eq!(import_seed_json(&without_dimensions, &mut catalog).unwrap(), ["mrr", "cac"]);
}

#[test]
fn seed_filters_and_time_ranges_translate() {
    let catalog = seed_catalog();
    let json = r#"{ "id": "active_30d", "name": "Active revenue 30d",
      "formula": { "expression": "revenue * 2", "variables": [
        { "name": "revenue", "source": { "table": "subscriptions", "column": "amount" },
          "timeRange": { "field": "started_at", "period": "last_30_days" } } ] },
      "filters": [ { "field": "status", "operator": "in", "value": ["active", "trial"] } ] }"#;
    let kpi = &from_seed_json(json, &catalog).unwrap()[0];
    assert_eq!(kpi.formula, "rolling(sum(subscriptions.amount where (subscriptions.status in ('active', 'trial'))), '30 days') * 2");

    let wrong_field = json.replace("\"field\": \"started_at\"", "\"field\": \"created\"");
    let err = from_seed_json(&wrong_field, &catalog).unwrap_err();
    assert!(err.to_string().contains("the time column of `subscriptions` is `started_at`"), "{err}");

    let bad_expression = json.replace("revenue * 2", "revenue *");
    let err = from_seed_json(&bad_expression, &catalog).unwrap_err();
    assert!(matches!(err, CatalogError::Import { .. }), "{err}");
    assert!(err.to_string().contains("KPI `active_30d`"), "{err}");

    let unknown_table = r#"{ "id": "x", "name": "X", "formula": { "expression": "v", "variables": [ { "name": "v", "source": { "table": "nope", "column": "c" } } ] } }"#;
    let mut c = seed_catalog();
    let err = import_seed_json(unknown_table, &mut c).unwrap_err();
    assert!(err.to_string().contains("unknown table `nope`"), "{err}");
}

/// The seed's SQL-defined KPIs (`kpi-engine-infrastructure.md`).
#[test]
fn sql_kpis_translate() {
    let catalog = seed_catalog();
    let cases = [
        (
            "monthly_recurring_revenue",
            "SELECT SUM(amount) FROM subscriptions WHERE status='active'",
            "sum(subscriptions.amount where (subscriptions.status = 'active'))",
            None,
        ),
        (
            "customer_acquisition_cost",
            "SELECT marketing_spend / new_customers FROM monthly_metrics",
            "sum(monthly_metrics.marketing_spend) / sum(monthly_metrics.new_customers)",
            None,
        ),
        (
            "daily_active_users",
            "SELECT COUNT(DISTINCT user_id) FROM user_activity WHERE date = CURRENT_DATE",
            "count_distinct(user_activity.user_id)",
            Some(Grain::Day),
        ),
        (
            "session_duration",
            "SELECT AVG(session_length) FROM user_sessions WHERE date >= CURRENT_DATE - INTERVAL '7 days'",
            "rolling(avg(user_sessions.session_length), '7 days')",
            Some(Grain::Day),
        ),
        ("row_count", "select count(*) from accounts a where a.id > 10", "count(accounts where (accounts.id > 10))", None),
    ];
    let mut sql_kpis = Vec::new();
    for (code, query, formula, grain) in cases {
        let kpi = SqlKpi { code: code.into(), query: query.into(), schedule: Some("0 0 * * *".into()), ..Default::default() };
        let translated = from_sql(&kpi, &catalog).unwrap();
        assert_eq!(translated.formula, formula, "{code}");
        assert_eq!(translated.default_grain, grain, "{code}");
        assert_eq!(translated.sql.as_deref(), Some(query));
        sql_kpis.push(kpi);
    }
    let mut catalog = catalog;
    import_sql(&sql_kpis, &mut catalog).unwrap();
    assert_eq!(catalog.kpi("session_duration").unwrap().name, "Session duration");
}

#[test]
fn unsupported_sql_is_refused_with_a_reason() {
    let catalog = seed_catalog();
    for (query, reason) in [
        ("SELECT SUM(amount) FROM subscriptions GROUP BY region", "GROUP BY"),
        ("SELECT SUM(s.amount) FROM subscriptions s JOIN accounts a ON s.id = a.id", "joins are not supported"),
        ("SELECT 1; SELECT 2", "exactly one SELECT"),
        ("SELEC amount", "does not parse"),
        ("SELECT SUM(amount), COUNT(*) FROM subscriptions", "exactly one selected expression"),
        ("SELECT SUM(amount) FROM subscriptions WHERE started_at < NOW() - INTERVAL '1 day'", "not supported"),
        ("SELECT SUM(amount) FROM subscriptions WHERE status = CURRENT_DATE", "needs `status` to be the time column"),
        ("SELECT my_udf(amount) FROM subscriptions", "the function `my_udf` is not supported"),
    ] {
        let err = from_sql(&SqlKpi { code: "k".into(), query: query.into(), ..Default::default() }, &catalog).unwrap_err();
        assert!(err.to_string().contains(reason), "{query}: {err}");
    }
}
