//! Per-entity values in aggregate filters (`per`), against hand-written SQL: revenue of customers
//! with more than five orders, lines of orders with several lines, customers counted by what
//! they ordered (another table), through a relationship path and a KPI reference; nulls keys
//! have no value.

use kpi_formula::{Grain, Query};

use crate::support::*;

fn at(formula: &str) -> Query {
    Query::formula(formula).with_grain(Grain::Month).with_range(h1())
}

/// Orders of H1 joined to `per`, each customer's order count over all orders.
const ORDERS_PER_CUSTOMER: &str = "(SELECT o.* , n.orders FROM orders o JOIN (SELECT customer_id, COUNT(*) AS orders FROM orders GROUP BY customer_id) n ON n.customer_id = o.customer_id) o";

case!(
    revenue_of_customers_with_more_than_five_orders,
    at("sum(orders.order_value where per(orders.customer_id, count(orders)) > 5)"),
    monthly("SUM(order_value) FILTER (WHERE orders > 5) AS s", "CAST(a.s AS DOUBLE)", ORDERS_PER_CUSTOMER, "ordered_at")
);
case!(
    a_kpi_per_customer,
    at("count(orders where per(orders.customer_id, revenue / order_count) >= 250)"),
    monthly(
        "COUNT(*) FILTER (WHERE aov >= 250) AS n",
        "CAST(COALESCE(a.n, 0) AS DOUBLE)",
        "(SELECT o.*, CAST(n.s AS DOUBLE) / n.c AS aov FROM orders o JOIN (SELECT customer_id, SUM(order_value) AS s, COUNT(*) AS c FROM orders GROUP BY customer_id) n ON n.customer_id = o.customer_id) o",
        "ordered_at"
    )
);
case!(
    lines_of_orders_with_several_lines,
    at("sum(order_lines.quantity where per(order_lines.order_id, count(order_lines)) >= 3)"),
    monthly(
        "SUM(quantity) FILTER (WHERE lines >= 3) AS s",
        "CAST(a.s AS DOUBLE)",
        "(SELECT l.*, n.lines FROM order_lines l JOIN (SELECT order_id, COUNT(*) AS lines FROM order_lines GROUP BY order_id) n ON n.order_id = l.order_id) l",
        "CAST(shipped_at AS TIMESTAMP)"
    )
);
case!(
    customers_counted_by_the_orders_of_another_table,
    at("count(customers where per(customers.customer_id, count(orders where orders.status = 'completed'), orders.customer_id) >= 3)"),
    CUSTOMERS_WITH_THREE_COMPLETED
);
// The per-entity value's own table does not decide which rows are aggregated.
case!(
    a_column_count_keeps_its_table_whatever_per_reads,
    at(
        "count(customers.customer_id where per(customers.customer_id, count(orders where orders.status = 'completed'), orders.customer_id) >= 3)"
    ),
    CUSTOMERS_WITH_THREE_COMPLETED
);

/// Customers by signup month with at least three completed orders.
static CUSTOMERS_WITH_THREE_COMPLETED: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    monthly(
        "COUNT(*) FILTER (WHERE n.done >= 3) AS n",
        "CAST(COALESCE(a.n, 0) AS DOUBLE)",
        "customers c LEFT JOIN (SELECT customer_id, COUNT(*) FILTER (WHERE status = 'completed') AS done FROM orders GROUP BY customer_id) n ON n.customer_id = c.customer_id",
        "signup_at",
    )
});
case!(
    a_key_reached_through_a_relationship,
    at("count(order_lines where per(order_lines.order.customer_id, count(orders), orders.customer_id) > 8)"),
    monthly(
        "COUNT(*) FILTER (WHERE n.orders > 8) AS n",
        "CAST(COALESCE(a.n, 0) AS DOUBLE)",
        "(SELECT l.*, o.customer_id FROM order_lines l LEFT JOIN orders o ON o.order_id = l.order_id) l \
         LEFT JOIN (SELECT customer_id, COUNT(*) AS orders FROM orders GROUP BY customer_id) n ON n.customer_id = l.customer_id",
        "CAST(shipped_at AS TIMESTAMP)"
    )
);

#[test]
fn per_says_what_it_needs() {
    let w = world();
    let err = |f: &str| kpi_formula::plan(&at(f), &w.model, &w.sources).map(|_| ()).unwrap_err().to_string();
    assert!(err("count(customers where per(customers.customer_id, count(orders)) > 1)").contains("entity column of `orders`"));
    assert!(
        err("count(orders where per(orders.customer_id, rolling(count(orders), '2 months')) > 1)").contains("all of the entity's rows")
    );
    assert!(err("count(orders where per(orders.customer_id, count(orders) / count(order_lines)) > 1)").contains("reads one table"));
    assert!(err("count(orders where per(orders.customer_id, 2) > 1)").contains("needs an aggregate"));
    assert!(err("count(orders where per(orders.channel, count(orders), orders.customer_id) > 1)").contains("cannot match the key"));
    assert!(err("count(orders where per(3, count(orders)) > 1)").contains("entity column of the aggregated rows"));
    let filtered = Query::formula("count(orders)").with_range(h1()).with_filter("per(orders.customer_id, count(orders)) > 1");
    let e = kpi_formula::plan(&filtered, &w.model, &w.sources).map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("only be used in the `where` of an aggregate"), "{e}");
}
