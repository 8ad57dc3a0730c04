//! Conversion (funnel) metrics against hand-written SQL over the test world (customers who
//! order within 30 days of signing up, by signup month and segment, nulls and empty months
//! included), and by hand over events where one purchase follows several visits.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use kpi_formula::{Grain, InMemoryModel, Query, TableModel};

use crate::support::*;

fn at(grain: Grain, formula: &str) -> Query {
    Query::formula(formula).with_grain(grain).with_range(h1())
}

const SIGNUP_TO_ORDER: &str = "customers.customer_id = orders.customer_id";

/// Per signup month (and `dims` of customers): `agg` over the orders placed by a customer
/// within 30 days of signing up (`o` null where none), joined to every month of H1; `base` is
/// what the value divides by (`1` for a count).
fn converted(dims: &str, agg: &str, value: &str) -> String {
    let (select_dims, group_dims, join_dims, cross) = if dims.is_empty() {
        (String::new(), String::new(), String::new(), String::new())
    } else {
        (
            format!(", c.{dims}"),
            format!(", c.{dims}"),
            format!(" AND a.{dims} IS NOT DISTINCT FROM d.{dims}"),
            format!(
                " CROSS JOIN (SELECT DISTINCT {dims} FROM customers WHERE signup_at >= TIMESTAMP '2024-01-01' AND signup_at < TIMESTAMP '2024-07-01') d"
            ),
        )
    };
    let out_dims = if dims.is_empty() { String::new() } else { format!(", d.{dims}") };
    format!(
        "WITH p AS ({H1_MONTHS}), \
         a AS (SELECT date_trunc('month', c.signup_at) AS period{select_dims}, COUNT(DISTINCT c.customer_id) AS base, {agg} AS conv \
               FROM customers c LEFT JOIN orders o ON o.customer_id = c.customer_id \
                 AND o.ordered_at >= c.signup_at AND o.ordered_at < c.signup_at + INTERVAL '30 days' \
               WHERE c.signup_at >= TIMESTAMP '2024-01-01' AND c.signup_at < TIMESTAMP '2024-07-01' GROUP BY 1{group_dims}) \
         SELECT p.period{out_dims}, CAST({value} AS DOUBLE) AS value FROM p{cross} LEFT JOIN a ON a.period = p.period{join_dims}"
    )
}

case!(
    conversions_count_orders_within_30_days_of_signup,
    at(Grain::Month, &format!("conversions(count(customers), count(orders), {SIGNUP_TO_ORDER}, '30 days')")),
    converted("", "COUNT(o.order_id)", "COALESCE(a.conv, 0)")
);
case!(
    conversion_rate_divides_by_the_base_events,
    at(Grain::Month, &format!("conversion_rate(count(customers), count_distinct(orders.customer_id), {SIGNUP_TO_ORDER}, '30 days')")),
    converted("", "COUNT(DISTINCT o.customer_id)", "CAST(a.conv AS DOUBLE) / NULLIF(a.base, 0)")
);
case!(
    conversions_by_a_base_dimension_with_nulls,
    at(Grain::Month, &format!("conversions(count(customers), sum(orders.order_value), {SIGNUP_TO_ORDER}, '30 days')"))
        .by(["customers.segment"]),
    converted("segment", "SUM(o.order_value)", "a.conv")
);
case!(
    conversions_hold_properties_constant,
    at(
        Grain::Month,
        &format!(
            "conversions(count(customers), count(orders where orders.status = 'completed'), {SIGNUP_TO_ORDER} and customers.region = orders.region, '30 days')"
        )
    ),
    converted("", "COUNT(o.order_id) FILTER (WHERE o.status = 'completed' AND o.region = c.region)", "COALESCE(a.conv, 0)")
);
case!(
    conversions_without_a_window_count_any_later_order,
    Query::formula(format!("conversions(count(customers where customers.segment = 'smb'), count(orders), {SIGNUP_TO_ORDER})"))
        .with_range(h1()),
    "SELECT CAST(COUNT(o.order_id) AS DOUBLE) AS value FROM customers c JOIN orders o ON o.customer_id = c.customer_id \
     AND o.ordered_at >= c.signup_at WHERE c.segment = 'smb' AND c.signup_at >= TIMESTAMP '2024-01-01' AND c.signup_at < TIMESTAMP '2024-07-01'"
);

/// Visits and buys of three users in January 2024 (wall-clock times).
fn funnel() -> World {
    let us = |day: i64, hour: i64| (JAN_1 + day * 86_400 + hour * 3_600) * 1_000_000;
    let ts = DataType::Timestamp(TimeUnit::Microsecond, None);
    let visits = Arc::new(Schema::new(vec![
        Field::new("visit_id", DataType::Int64, false),
        Field::new("user_id", DataType::Int64, true),
        Field::new("referrer", DataType::Utf8, false),
        Field::new("at", ts.clone(), false),
    ]));
    let buys = Arc::new(Schema::new(vec![
        Field::new("buy_id", DataType::Int64, false),
        Field::new("user_id", DataType::Int64, true),
        Field::new("at", ts, false),
    ]));
    let model = InMemoryModel::new()
        .with_table(TableModel::new("visits", visits.clone()).with_time_column("at").with_primary_key(["visit_id"]))
        .with_table(TableModel::new("buys", buys.clone()).with_time_column("at").with_primary_key(["buy_id"]));
    // User 1 visits on the 1st (ads) and the 3rd (mail) and buys on the 4th: the buy goes to
    // the visit of the 3rd only. User 2 visits on the 2nd and buys on the 12th, past 7 days.
    // User 3 buys at the very time of a visit on the 5th and again on the 6th. A null user
    // visits and buys, and matches nothing.
    let visit_rows: [(Option<i64>, &str, i64); 5] = [
        (Some(1), "ads", us(0, 10)),
        (Some(1), "mail", us(2, 9)),
        (Some(2), "ads", us(1, 8)),
        (Some(3), "ads", us(4, 12)),
        (None, "ads", us(4, 1)),
    ];
    let buy_rows: [(Option<i64>, i64); 5] =
        [(Some(1), us(3, 0)), (Some(2), us(11, 0)), (Some(3), us(4, 12)), (Some(3), us(5, 7)), (None, us(4, 2))];
    let visits = RecordBatch::try_new(
        visits,
        vec![
            Arc::new(Int64Array::from_iter_values(1..=5)) as ArrayRef,
            Arc::new(Int64Array::from(visit_rows.iter().map(|v| v.0).collect::<Vec<_>>())),
            Arc::new(StringArray::from(visit_rows.iter().map(|v| v.1).collect::<Vec<_>>())),
            Arc::new(TimestampMicrosecondArray::from(visit_rows.iter().map(|v| v.2).collect::<Vec<_>>())),
        ],
    )
    .unwrap();
    let buys = RecordBatch::try_new(
        buys,
        vec![
            Arc::new(Int64Array::from_iter_values(1..=5)) as ArrayRef,
            Arc::new(Int64Array::from(buy_rows.iter().map(|b| b.0).collect::<Vec<_>>())),
            Arc::new(TimestampMicrosecondArray::from(buy_rows.iter().map(|b| b.1).collect::<Vec<_>>())),
        ],
    )
    .unwrap();
    build_world(model, vec![("visits".into(), visits), ("buys".into(), buys)])
}

fn january_days() -> kpi_formula::TimeRange {
    kpi_formula::TimeRange::parse("2024-01-01", "2024-01-08", &kpi_formula::Calendar::default()).unwrap()
}

#[tokio::test]
async fn each_buy_goes_to_the_latest_visit_before_it() {
    let w = funnel();
    let q = Query::formula("conversions(count(visits), count(buys), visits.user_id = buys.user_id, '7 days')")
        .with_grain(Grain::Day)
        .with_range(january_days())
        .by(["visits.referrer"]);
    let day = |d: i64| Some((JAN_1 + d * 86_400) * 1_000_000);
    let got: Vec<(Option<i64>, String, f64)> =
        run(&w, &q).await.into_iter().filter(|r| r.2 != Some(0.0)).map(|r| (r.0, r.1[0].clone().unwrap(), r.2.unwrap())).collect();
    // The 3rd (mail) gets user 1's buy; the 5th (ads) both of user 3's; user 2's is too late.
    assert_eq!(got, vec![(day(2), "mail".to_string(), 1.0), (day(4), "ads".to_string(), 2.0)]);

    let rate =
        Query::formula("conversion_rate(count(visits), count(buys), visits.user_id = buys.user_id, '7 days')").with_range(january_days());
    // 3 buys converted from 5 visits.
    assert_eq!(run(&w, &rate).await, vec![(None, vec![], Some(0.6))]);
}

#[tokio::test]
async fn a_conversion_window_is_half_open_and_measured_from_the_visit() {
    let w = funnel();
    let count = |window: &str| {
        Query::formula(format!("conversions(count(visits), count(buys), visits.user_id = buys.user_id, '{window}')"))
            .with_range(january_days())
    };
    let value = |rows: Vec<Row>| rows[0].2.unwrap();
    // User 3's second buy is 19 hours after the visit: inside 19 hours and a day, not 19 hours.
    assert_eq!(value(run(&w, &count("19 hours")).await), 2.0);
    assert_eq!(value(run(&w, &count("20 hours")).await), 3.0);
    // User 2's buy is 10 days and 16 hours after the visit.
    assert_eq!(value(run(&w, &count("2 weeks")).await), 4.0);
}

#[test]
fn conversions_say_what_they_need() {
    let w = funnel();
    let err = |f: &str| {
        kpi_formula::plan(&Query::formula(f).with_range(january_days()), &w.model, &w.sources).map(|_| ()).unwrap_err().to_string()
    };
    assert!(err("conversions(count(visits), count(buys))").contains("the entity they share"));
    assert!(err("conversions(count(visits), count(buys), visits.user_id > buys.user_id)").contains("matched on equal entities"));
    assert!(
        err("conversions(count(visits), count(buys), buys.user_id = visits.user_id)")
            .contains("left side of a conversion match reads the base table")
    );
    assert!(err("conversions(count(visits), count(buys), visits.user_id = buys.user_id, '7 dayz')").contains("fourth argument"));
    assert!(err("conversions(count(visits) / 2, count(buys), visits.user_id = buys.user_id)").contains("must be one aggregate"));
    assert!(err("conversions(count(visits), count(buys), visits.referrer = buys.user_id)").contains("cannot match"));
    let windowed = kpi_formula::plan(
        &Query::formula("rolling(conversions(count(visits), count(buys), visits.user_id = buys.user_id), '2 days')")
            .with_grain(Grain::Day)
            .with_range(january_days()),
        &w.model,
        &w.sources,
    );
    assert!(windowed.map(|_| ()).unwrap_err().to_string().contains("inside a window"));
    assert!(err("last(conversions(count(visits), count(buys), visits.user_id = buys.user_id))").contains("snapshot of a conversion"));
}
