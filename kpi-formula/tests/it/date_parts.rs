//! Date parts of time columns as dimensions, in query filters, in aggregate filters and through
//! relationships, against SQL that reads them with `to_char` (ISO weekdays, local hours).

use kpi_formula::{Calendar, Grain, Query};

use crate::support::*;

case!(
    orders_by_iso_weekday,
    Query::formula("count(orders)").by(["dow(orders.ordered_at)"]),
    "SELECT CAST(to_char(ordered_at, '%u') AS BIGINT) AS d, CAST(COUNT(*) AS DOUBLE) AS value FROM orders GROUP BY 1"
);
case!(
    revenue_by_month_number_and_quarter_of_a_zoned_column,
    Query::formula("sum(order_lines.quantity)").by(["quarter(order_lines.shipped_at)", "month(order_lines.shipped_at)"]),
    "SELECT CAST((CAST(to_char(shipped_at, '%m') AS BIGINT) + 2) / 3 AS BIGINT) AS q, CAST(to_char(shipped_at, '%m') AS BIGINT) AS m, \
     CAST(SUM(quantity) AS DOUBLE) AS value FROM order_lines GROUP BY 1, 2"
);
case!(
    weekends_only_by_month,
    Query::formula("count(orders)").with_grain(Grain::Month).with_range(h1()).with_filter("dow(orders.ordered_at) in (6, 7)"),
    monthly(
        "COUNT(*) AS n",
        "CAST(COALESCE(a.n, 0) AS DOUBLE)",
        "(SELECT * FROM orders WHERE to_char(ordered_at, '%u') IN ('6', '7')) o",
        "ordered_at"
    )
);
case!(
    morning_share_in_an_aggregate_filter,
    Query::formula("count(orders where hour(orders.ordered_at) < 12) / count(orders)"),
    "SELECT CAST(SUM(CASE WHEN CAST(to_char(ordered_at, '%H') AS BIGINT) < 12 THEN 1 ELSE 0 END) AS DOUBLE) / COUNT(*) AS value FROM orders"
);
case!(
    a_date_column_and_a_related_table,
    Query::formula("count(orders)").by(["year(orders.customer.signup_at)", "doy(orders.customer.signup_at)"]),
    "SELECT CAST(to_char(c.signup_at, '%Y') AS BIGINT) AS y, CAST(to_char(c.signup_at, '%j') AS BIGINT) AS d, CAST(COUNT(*) AS DOUBLE) AS value \
     FROM orders o LEFT JOIN customers c ON o.customer_id = c.customer_id GROUP BY 1, 2"
);
case!(
    days_of_month_of_dates,
    Query::formula("sum(expenses.amount)").by(["day(expenses.spent_on)"]),
    "SELECT CAST(to_char(spent_on, '%d') AS BIGINT) AS d, SUM(amount) AS value FROM expenses GROUP BY 1"
);

/// Hours of instants are local hours of the calendar: midnight in Berlin is 22:00 UTC in June.
#[tokio::test]
async fn hours_follow_the_calendar() {
    let w = world();
    let at = |cal: Calendar| Query::formula("count(order_lines)").by(["hour(order_lines.shipped_at)"]).with_calendar(cal);
    let utc = run(&w, &at(Calendar::default())).await;
    let berlin = run(&w, &at(Calendar::new(chrono_tz::Europe::Berlin))).await;
    let sql = |zone: &str| {
        format!(
            "SELECT CAST(to_char(arrow_cast(shipped_at, 'Timestamp(Millisecond, Some(\"{zone}\"))'), '%H') AS BIGINT) AS h, \
             CAST(COUNT(*) AS DOUBLE) AS value FROM order_lines GROUP BY 1"
        )
    };
    assert_same("utc", &utc, &run_sql(&w, &sql("UTC"), false).await);
    assert_same("berlin", &berlin, &run_sql(&w, &sql("Europe/Berlin"), false).await);
    assert_ne!(utc, berlin);
}

#[test]
fn date_parts_take_time_columns() {
    let w = world();
    let plan = |q: Query| kpi_formula::plan(&q, &w.model, &w.sources).map(|_| ()).unwrap_err().to_string();
    assert!(plan(Query::formula("count(orders)").by(["dow(orders.status)"])).contains("takes a timestamp or date column"));
    assert!(plan(Query::formula("count(orders)").by(["month(orders)"])).contains("column path"));
    assert!(plan(Query::formula("count(orders)").by(["week(orders.ordered_at, 2)"])).contains("week"));
    assert!(plan(Query::formula("count(orders)").with_filter("hour(orders.region) = 3")).contains("takes a timestamp or date column"));
}
