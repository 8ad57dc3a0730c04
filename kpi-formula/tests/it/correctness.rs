//! Every construct of the language against the same calculation written by hand in SQL, over data
//! with nulls, a month without orders (March), an empty table, rows whose relationships point
//! nowhere, and a static table.

use chrono::Weekday;
use kpi_formula::{Calendar, EmptyPeriods, Grain, Query, SecurityContext, TimeRange};

use crate::support::*;

fn m(formula: &str) -> Query {
    Query::formula(formula).with_grain(Grain::Month).with_range(h1())
}

fn orders(aggs: &str, value: &str) -> String {
    monthly(aggs, value, "orders", "ordered_at")
}

const LINES_JOINED: &str = "order_lines l LEFT JOIN orders o ON l.order_id = o.order_id \
    LEFT JOIN customers c ON o.customer_id = c.customer_id LEFT JOIN products pr ON l.product_id = pr.product_id";
const SHIPPED: &str = "arrow_cast(l.shipped_at, 'Timestamp(Microsecond, None)')";

/// Oracle for windows: each H1 month joined with the orders in `[lower, upper)`.
fn window(agg: &str, lower: &str, upper: &str) -> String {
    format!(
        "WITH p AS ({H1_MONTHS}) SELECT p.period, CAST({agg} AS DOUBLE) AS value FROM p LEFT JOIN orders o \
         ON o.ordered_at >= {lower} AND o.ordered_at < {upper} GROUP BY p.period"
    )
}

case!(count_rows, m("count(orders)"), orders("COUNT(*) AS n", "COALESCE(a.n, 0)"));
case!(sum_of_decimals, m("sum(orders.order_value)"), orders("SUM(order_value) AS s", "CAST(a.s AS DOUBLE)"));
case!(average, m("avg(orders.order_value)"), orders("AVG(CAST(order_value AS DOUBLE)) AS v", "a.v"));
case!(
    max_minus_min,
    m("max(orders.order_value) - min(orders.order_value)"),
    orders("MAX(order_value) - MIN(order_value) AS v", "CAST(a.v AS DOUBLE)")
);
case!(count_skips_nulls, m("count(orders.on_time)"), orders("COUNT(on_time) AS n", "COALESCE(a.n, 0)"));
case!(count_distinct, m("count_distinct(orders.customer_id)"), orders("COUNT(DISTINCT customer_id) AS n", "COALESCE(a.n, 0)"));
case!(
    median,
    m("median(orders.order_value)"),
    orders("percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST(order_value AS DOUBLE)) AS v", "a.v")
);
case!(
    percentile,
    m("percentile(orders.order_value, 0.9)"),
    orders("percentile_cont(0.9) WITHIN GROUP (ORDER BY CAST(order_value AS DOUBLE)) AS v", "a.v")
);
case!(
    filtered_aggregate,
    m("sum(orders.order_value where orders.status = 'completed')"),
    orders("SUM(order_value) FILTER (WHERE status = 'completed') AS s", "CAST(a.s AS DOUBLE)")
);
case!(
    kpi_with_boolean_filter,
    Query::kpi("perfect_order_rate").with_grain(Grain::Month).with_range(h1()),
    orders(
        "COUNT(*) FILTER (WHERE on_time AND in_full) AS good, COUNT(*) AS n",
        "CAST(COALESCE(a.good, 0) AS DOUBLE) / NULLIF(CAST(COALESCE(a.n, 0) AS DOUBLE), 0)"
    )
);
case!(
    navigation_to_static_table,
    m("sum(order_lines.quantity * order_lines.product.unit_cost)"),
    monthly("SUM(l.quantity * pr.unit_cost) AS s", "a.s", LINES_JOINED, SHIPPED)
);
case!(
    two_hop_navigation,
    m("count(order_lines where order_lines.order.customer.segment = 'enterprise')"),
    monthly("COUNT(*) FILTER (WHERE c.segment = 'enterprise') AS n", "COALESCE(a.n, 0)", LINES_JOINED, SHIPPED)
);
case!(
    column_of_related_table_is_rebased,
    m("sum(order_lines.quantity where orders.channel = 'web')"),
    monthly("SUM(l.quantity) FILTER (WHERE o.channel = 'web') AS s", "CAST(a.s AS DOUBLE)", LINES_JOINED, SHIPPED)
);
case!(
    tables_with_different_time_types,
    m("sum(orders.order_value) / sum(expenses.amount)"),
    format!(
        "WITH p AS ({H1_MONTHS}), \
         o AS (SELECT date_trunc('month', ordered_at) AS period, SUM(order_value) AS s FROM orders GROUP BY 1), \
         e AS (SELECT date_trunc('month', CAST(spent_on AS TIMESTAMP)) AS period, SUM(amount) AS s FROM expenses GROUP BY 1) \
         SELECT p.period, CAST(o.s AS DOUBLE) / NULLIF(e.s, 0) AS value FROM p LEFT JOIN o ON p.period = o.period LEFT JOIN e ON p.period = e.period"
    )
);
case!(
    kpi_references_inlined,
    Query::kpi("aov").with_grain(Grain::Month).with_range(h1()),
    orders("SUM(order_value) AS s, COUNT(*) AS n", "CAST(a.s AS DOUBLE) / NULLIF(CAST(COALESCE(a.n, 0) AS DOUBLE), 0)")
);
case!(
    in_list,
    m("count(orders where orders.channel in ('web', 'app'))"),
    orders("COUNT(*) FILTER (WHERE channel IN ('web', 'app')) AS n", "COALESCE(a.n, 0)")
);
case!(
    between,
    m("count(orders where orders.order_value between 50 and 150)"),
    orders("COUNT(*) FILTER (WHERE order_value BETWEEN 50 AND 150) AS n", "COALESCE(a.n, 0)")
);
case!(is_null, m("count(orders where orders.on_time is null)"), orders("COUNT(*) FILTER (WHERE on_time IS NULL) AS n", "COALESCE(a.n, 0)"));
case!(
    case_when,
    m("sum(case when orders.channel = 'web' then orders.order_value else 0 end)"),
    orders("SUM(CASE WHEN channel = 'web' THEN order_value ELSE 0 END) AS s", "CAST(a.s AS DOUBLE)")
);
case!(
    simple_case,
    m("sum(case orders.channel when 'web' then 1 when 'app' then 2 end)"),
    orders("SUM(CASE channel WHEN 'web' THEN 1 WHEN 'app' THEN 2 END) AS s", "CAST(a.s AS DOUBLE)")
);
case!(
    coalesce_in_row_and_division,
    m("sum(coalesce(orders.order_value, 0)) / count(orders)"),
    orders("SUM(COALESCE(order_value, 0)) AS s, COUNT(*) AS n", "CAST(a.s AS DOUBLE) / NULLIF(CAST(COALESCE(a.n, 0) AS DOUBLE), 0)")
);
case!(
    abs_and_round,
    m("round(abs(sum(orders.order_value) - 10000) / 100, 2)"),
    orders("SUM(order_value) AS s", "ROUND(ABS(CAST(a.s AS DOUBLE) - 10000) / 100.0, 2)")
);
case!(
    greatest_and_least,
    m("greatest(count(orders where orders.channel = 'web'), count(orders where orders.channel = 'app')) - least(1, count(orders))"),
    orders(
        "COUNT(*) FILTER (WHERE channel = 'web') AS w, COUNT(*) FILTER (WHERE channel = 'app') AS ap, COUNT(*) AS n",
        "GREATEST(COALESCE(a.w, 0), COALESCE(a.ap, 0)) - LEAST(1, COALESCE(a.n, 0))"
    )
);
case!(
    division_by_zero_is_null,
    m("count(orders where orders.status = 'none') / count(orders where orders.status = 'none')"),
    orders("COUNT(*) AS n", "CAST(NULL AS DOUBLE)")
);
case!(
    not_and_or,
    m("count(orders where not (orders.channel = 'web' or orders.status = 'cancelled'))"),
    orders("COUNT(*) FILTER (WHERE NOT (channel = 'web' OR status = 'cancelled')) AS n", "COALESCE(a.n, 0)")
);
case!(
    like,
    m("count(orders where orders.status like 'comp%')"),
    orders("COUNT(*) FILTER (WHERE status LIKE 'comp%') AS n", "COALESCE(a.n, 0)")
);
case!(
    empty_table,
    m("count(returns) + coalesce(sum(returns.amount), -1)"),
    monthly("COUNT(*) AS n, SUM(amount) AS s", "COALESCE(a.n, 0) + COALESCE(a.s, -1)", "returns", "returned_at")
);
case!(modulo_and_negation, m("-(count(orders) % 7)"), orders("COUNT(*) AS n", "-(COALESCE(a.n, 0) % 7)"));
case!(
    time_literal_in_filter,
    m("count(orders where orders.ordered_at >= '2024-02-15 12:00')"),
    orders("COUNT(*) FILTER (WHERE ordered_at >= TIMESTAMP '2024-02-15 12:00:00') AS n", "COALESCE(a.n, 0)")
);
case!(
    date_literal_on_date_column,
    m("sum(expenses.amount where expenses.spent_on < '2024-02-10')"),
    monthly("SUM(amount) FILTER (WHERE spent_on < DATE '2024-02-10') AS s", "a.s", "expenses", "CAST(spent_on AS TIMESTAMP)")
);
case!(
    days_between,
    m("avg(days_between(orders.ordered_at, orders.delivered_at))"),
    orders("AVG((CAST(delivered_at AS BIGINT) - CAST(ordered_at AS BIGINT)) / 86400000000.0) AS v", "a.v")
);
case!(
    static_table_in_every_period,
    m("count(orders) / count(products)"),
    orders("COUNT(*) AS n", "CAST(COALESCE(a.n, 0) AS DOUBLE) / (SELECT COUNT(*) FROM products)")
);
case!(
    dimension,
    m("sum(orders.order_value)").by(["orders.channel"]),
    format!(
        "WITH p AS ({H1_MONTHS}), d AS (SELECT DISTINCT channel FROM orders), \
         a AS (SELECT date_trunc('month', ordered_at) AS period, channel, SUM(order_value) AS s FROM orders GROUP BY 1, 2) \
         SELECT p.period, d.channel, CAST(a.s AS DOUBLE) AS value FROM p CROSS JOIN d LEFT JOIN a ON p.period = a.period AND d.channel = a.channel"
    )
);
case!(
    dimension_through_relationship_with_nulls,
    m("count(orders)").by(["orders.customer.segment"]),
    format!(
        "WITH p AS ({H1_MONTHS}), j AS (SELECT o.ordered_at, c.segment FROM orders o LEFT JOIN customers c ON o.customer_id = c.customer_id), \
         d AS (SELECT DISTINCT segment FROM j), \
         a AS (SELECT date_trunc('month', ordered_at) AS period, segment, COUNT(*) AS n FROM j GROUP BY 1, 2) \
         SELECT p.period, d.segment, COALESCE(a.n, 0) AS value FROM p CROSS JOIN d \
         LEFT JOIN a ON p.period = a.period AND d.segment IS NOT DISTINCT FROM a.segment"
    )
);
case!(
    dimension_reached_from_two_tables,
    m("sum(order_lines.quantity) / count(orders)").by(["orders.channel"]),
    format!(
        "WITH p AS ({H1_MONTHS}), \
         l AS (SELECT date_trunc('month', {SHIPPED}) AS period, o.channel, SUM(l.quantity) AS q FROM order_lines l LEFT JOIN orders o ON l.order_id = o.order_id \
               WHERE {SHIPPED} < TIMESTAMP '2024-07-01' GROUP BY 1, 2), \
         o AS (SELECT date_trunc('month', ordered_at) AS period, channel, COUNT(*) AS n FROM orders GROUP BY 1, 2), \
         d AS (SELECT channel FROM l UNION SELECT channel FROM o) \
         SELECT p.period, d.channel, CAST(l.q AS DOUBLE) / NULLIF(CAST(COALESCE(o.n, 0) AS DOUBLE), 0) AS value FROM p CROSS JOIN d \
         LEFT JOIN l ON p.period = l.period AND d.channel IS NOT DISTINCT FROM l.channel \
         LEFT JOIN o ON p.period = o.period AND d.channel IS NOT DISTINCT FROM o.channel"
    )
);
case!(
    query_filter,
    m("sum(orders.order_value)").with_filter("orders.channel = 'web'"),
    monthly("SUM(order_value) AS s", "CAST(a.s AS DOUBLE)", "(SELECT * FROM orders WHERE channel = 'web') x", "ordered_at")
);
case!(
    security_filters_on_every_scan,
    m("count(orders)").by(["orders.customer.segment"]).with_security(
        SecurityContext::new().with_filter("orders", "orders.region = 'EU'").with_filter("customers", "customers.region = 'EU'")
    ),
    format!(
        "WITH p AS ({H1_MONTHS}), \
         j AS (SELECT o.ordered_at, c.segment FROM (SELECT * FROM orders WHERE region = 'EU') o \
               LEFT JOIN (SELECT * FROM customers WHERE region = 'EU') c ON o.customer_id = c.customer_id), \
         d AS (SELECT DISTINCT segment FROM j), \
         a AS (SELECT date_trunc('month', ordered_at) AS period, segment, COUNT(*) AS n FROM j GROUP BY 1, 2) \
         SELECT p.period, d.segment, COALESCE(a.n, 0) AS value FROM p CROSS JOIN d \
         LEFT JOIN a ON p.period = a.period AND d.segment IS NOT DISTINCT FROM a.segment"
    )
);
case!(
    single_value_without_grain,
    Query::formula("sum(orders.order_value) / count(orders)").with_range(h1()),
    "SELECT CAST(SUM(order_value) AS DOUBLE) / COUNT(*) AS value FROM orders WHERE ordered_at >= TIMESTAMP '2024-01-01' AND ordered_at < TIMESTAMP '2024-07-01'"
);
case!(
    grain_without_range_has_only_periods_with_rows,
    Query::formula("count(orders)").with_grain(Grain::Month),
    "SELECT date_trunc('month', ordered_at) AS period, COUNT(*) AS value FROM orders GROUP BY 1"
);
case!(
    omit_empty_periods,
    m("count(orders)").with_empty_periods(EmptyPeriods::Omit),
    "SELECT date_trunc('month', ordered_at) AS period, COUNT(*) AS value FROM orders GROUP BY 1"
);
case!(
    prev_sees_empty_periods,
    m("prev(count(orders))"),
    format!(
        "WITH p AS (SELECT TIMESTAMP '2023-12-01' AS period UNION ALL {H1_MONTHS}), \
         a AS (SELECT date_trunc('month', ordered_at) AS period, COUNT(*) AS n FROM orders GROUP BY 1), \
         s AS (SELECT p.period, LAG(COALESCE(a.n, 0)) OVER (ORDER BY p.period) AS v FROM p LEFT JOIN a ON p.period = a.period) \
         SELECT period, v AS value FROM s WHERE period >= TIMESTAMP '2024-01-01'"
    )
);
case!(
    growth,
    m("growth(sum(orders.order_value), 2)"),
    format!(
        "WITH p AS (SELECT TIMESTAMP '2023-11-01' AS period UNION ALL SELECT TIMESTAMP '2023-12-01' UNION ALL {H1_MONTHS}), \
         a AS (SELECT date_trunc('month', ordered_at) AS period, CAST(SUM(order_value) AS DOUBLE) AS s FROM orders GROUP BY 1), \
         s AS (SELECT p.period, a.s AS cur, LAG(a.s, 2) OVER (ORDER BY p.period) AS prev FROM p LEFT JOIN a ON p.period = a.period) \
         SELECT period, (cur - prev) / NULLIF(prev, 0) AS value FROM s WHERE period >= TIMESTAMP '2024-01-01'"
    )
);
case!(
    rolling_sum,
    m("rolling(sum(orders.order_value), '3 months')"),
    window("SUM(o.order_value)", "p.period - INTERVAL '2 months'", "p.period + INTERVAL '1 month'")
);
case!(
    rolling_average_reaggregates_rows,
    m("rolling(avg(orders.order_value), '2 months')"),
    window("AVG(CAST(o.order_value AS DOUBLE))", "p.period - INTERVAL '1 month'", "p.period + INTERVAL '1 month'")
);
case!(
    rolling_min_and_count,
    m("rolling(min(orders.order_value), '2 months') + rolling(count(orders.on_time), '3 months')"),
    format!(
        "WITH p AS ({H1_MONTHS}), \
         a AS (SELECT p.period, MIN(o.order_value) AS mn FROM p LEFT JOIN orders o ON o.ordered_at >= p.period - INTERVAL '1 month' AND o.ordered_at < p.period + INTERVAL '1 month' GROUP BY p.period), \
         b AS (SELECT p.period, COUNT(o.on_time) AS n FROM p LEFT JOIN orders o ON o.ordered_at >= p.period - INTERVAL '2 months' AND o.ordered_at < p.period + INTERVAL '1 month' GROUP BY p.period) \
         SELECT a.period, CAST(a.mn AS DOUBLE) + b.n AS value FROM a JOIN b ON a.period = b.period"
    )
);
case!(
    rolling_count_distinct,
    m("rolling(count_distinct(orders.customer_id), '3 months')"),
    window("COUNT(DISTINCT o.customer_id)", "p.period - INTERVAL '2 months'", "p.period + INTERVAL '1 month'")
);
case!(
    rolling_median,
    m("rolling(median(orders.order_value), '2 months')"),
    window(
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST(o.order_value AS DOUBLE))",
        "p.period - INTERVAL '1 month'",
        "p.period + INTERVAL '1 month'"
    )
);
case!(
    to_date_quarter,
    m("to_date(sum(orders.order_value), 'quarter')"),
    window("SUM(o.order_value)", "date_trunc('quarter', p.period)", "p.period + INTERVAL '1 month'")
);
case!(
    to_date_percentile,
    m("to_date(percentile(orders.order_value, 0.25), 'quarter')"),
    window(
        "percentile_cont(0.25) WITHIN GROUP (ORDER BY CAST(o.order_value AS DOUBLE))",
        "date_trunc('quarter', p.period)",
        "p.period + INTERVAL '1 month'"
    )
);
case!(
    cumulative_includes_rows_before_the_range,
    Query::formula("cumulative(count(orders)) + cumulative(max(orders.order_value))")
        .with_grain(Grain::Month)
        .with_range(TimeRange::parse("2024-02-01", "2024-07-01", &Calendar::default()).unwrap()),
    "WITH p AS (SELECT * FROM (VALUES (TIMESTAMP '2024-02-01'), (TIMESTAMP '2024-03-01'), (TIMESTAMP '2024-04-01'), (TIMESTAMP '2024-05-01'), (TIMESTAMP '2024-06-01')) AS t(period)) \
     SELECT p.period, COUNT(o.order_id) + CAST(MAX(o.order_value) AS DOUBLE) AS value FROM p LEFT JOIN orders o ON o.ordered_at < p.period + INTERVAL '1 month' GROUP BY p.period"
);
case!(
    cumulative_median,
    m("cumulative(median(orders.order_value))"),
    window(
        "percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST(o.order_value AS DOUBLE))",
        "TIMESTAMP '1970-01-01'",
        "p.period + INTERVAL '1 month'"
    )
);
case!(
    rolling_by_dimension,
    m("rolling(count(orders), '2 months')").by(["orders.channel"]),
    format!(
        "WITH p AS ({H1_MONTHS}), d AS (SELECT DISTINCT channel FROM orders) \
         SELECT p.period, d.channel, COUNT(o.order_id) AS value FROM p CROSS JOIN d LEFT JOIN orders o \
         ON o.channel = d.channel AND o.ordered_at >= p.period - INTERVAL '1 month' AND o.ordered_at < p.period + INTERVAL '1 month' \
         GROUP BY p.period, d.channel"
    )
);
case!(
    kpi_inside_window,
    m("rolling(revenue, '2 months')"),
    window("SUM(o.order_value)", "p.period - INTERVAL '1 month'", "p.period + INTERVAL '1 month'")
);
case!(
    growth_of_derived_kpi,
    Query::kpi("aov_growth").with_grain(Grain::Month).with_range(h1()),
    format!(
        "WITH p AS (SELECT TIMESTAMP '2023-12-01' AS period UNION ALL {H1_MONTHS}), \
         a AS (SELECT date_trunc('month', ordered_at) AS period, CAST(SUM(order_value) AS DOUBLE) AS s, COUNT(*) AS n FROM orders GROUP BY 1), \
         v AS (SELECT p.period, a.s / NULLIF(CAST(COALESCE(a.n, 0) AS DOUBLE), 0) AS aov FROM p LEFT JOIN a ON p.period = a.period), \
         s AS (SELECT period, aov, LAG(aov) OVER (ORDER BY period) AS prev FROM v) \
         SELECT period, (aov - prev) / NULLIF(prev, 0) AS value FROM s WHERE period >= TIMESTAMP '2024-01-01'"
    )
);
case!(
    weeks_starting_sunday,
    Query::formula("count(orders)")
        .with_grain(Grain::Week)
        .with_calendar(Calendar::default().with_week_start(Weekday::Sun))
        .with_range(TimeRange::parse("2024-01-07", "2024-02-04", &Calendar::default()).unwrap()),
    "WITH p AS (SELECT * FROM (VALUES (TIMESTAMP '2024-01-07'), (TIMESTAMP '2024-01-14'), (TIMESTAMP '2024-01-21'), (TIMESTAMP '2024-01-28')) AS t(period)) \
     SELECT p.period, COUNT(o.order_id) AS value FROM p LEFT JOIN orders o ON o.ordered_at >= p.period AND o.ordered_at < p.period + INTERVAL '7 days' GROUP BY p.period"
);
case!(
    daily_prev_over_a_week,
    Query::formula("count(orders) - prev(count(orders), 7)")
        .with_grain(Grain::Day)
        .with_range(TimeRange::parse("2024-02-20", "2024-03-10", &Calendar::default()).unwrap()),
    "WITH p AS (SELECT CAST(d AS TIMESTAMP) AS period FROM (SELECT DATE '2024-02-13' + CAST(v AS INT) AS d FROM (VALUES (0),(1),(2),(3),(4),(5),(6),(7),(8),(9),(10),(11),(12),(13),(14),(15),(16),(17),(18),(19),(20),(21),(22),(23),(24),(25)) t(v))), \
     a AS (SELECT date_trunc('day', ordered_at) AS period, COUNT(*) AS n FROM orders GROUP BY 1), \
     s AS (SELECT p.period, COALESCE(a.n, 0) - LAG(COALESCE(a.n, 0), 7) OVER (ORDER BY p.period) AS v FROM p LEFT JOIN a ON p.period = a.period) \
     SELECT period, v AS value FROM s WHERE period >= TIMESTAMP '2024-02-20'"
);
case!(
    to_date_count_distinct,
    m("to_date(count_distinct(orders.customer_id), 'quarter')"),
    window("COUNT(DISTINCT o.customer_id)", "date_trunc('quarter', p.period)", "p.period + INTERVAL '1 month'")
);
case!(
    cumulative_count_distinct_with_a_filter,
    m("cumulative(count_distinct(orders.customer_id where orders.on_time))"),
    window("COUNT(DISTINCT o.customer_id) FILTER (WHERE o.on_time)", "TIMESTAMP '1970-01-01'", "p.period + INTERVAL '1 month'")
);

/// The value at 1-based position `max(1, ceil(p × n))` of each month's sorted order values.
fn discrete(p: f64) -> String {
    format!(
        "WITH v AS (SELECT date_trunc('month', ordered_at) AS m, CAST(order_value AS DOUBLE) AS x, \
         ROW_NUMBER() OVER (PARTITION BY date_trunc('month', ordered_at) ORDER BY CAST(order_value AS DOUBLE)) AS rn, \
         COUNT(*) OVER (PARTITION BY date_trunc('month', ordered_at)) AS n FROM orders WHERE order_value IS NOT NULL), \
         a AS (SELECT m AS period, x FROM v WHERE rn = GREATEST(CAST(CEIL({p} * n) AS BIGINT), 1)), p AS ({H1_MONTHS}) \
         SELECT p.period, a.x AS value FROM p LEFT JOIN a ON p.period = a.period"
    )
}

case!(discrete_percentile, m("percentile_disc(orders.order_value, 0.9)"), discrete(0.9));
case!(discrete_percentile_at_zero_is_the_smallest, m("percentile_disc(orders.order_value, 0)"), discrete(0.0));
case!(discrete_median, m("percentile_disc(orders.order_value, 0.5)"), discrete(0.5));

/// The approximate percentile (a t-digest) stays within 2% of the exact one on every month.
#[tokio::test]
async fn approximate_percentile_is_close_to_the_exact_one() {
    let w = world();
    let exact = run(&w, &m("percentile(orders.order_value, 0.75)")).await;
    let approx = run(&w, &m("approx_percentile(orders.order_value, 0.75)")).await;
    assert_eq!(exact.len(), approx.len());
    for (e, a) in exact.iter().zip(&approx) {
        match (e.2, a.2) {
            (Some(x), Some(y)) => assert!((x - y).abs() <= 0.02 * x.abs(), "{x} vs {y}"),
            (x, y) => assert_eq!(x, y),
        }
    }
}
