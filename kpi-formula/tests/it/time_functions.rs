//! Time functions beyond whole-period windows, against hand-written SQL: rolling windows that are
//! not a whole number of query periods (30 days by month, 2 months by day, a month by week),
//! windows summarised over sub-periods, `at_start` of a unit, `to_date` by hour, and
//! `cumulative` without a grain.

use kpi_formula::{Grain, Query};

use crate::support::*;

fn at(grain: Grain, formula: &str) -> Query {
    Query::formula(formula).with_grain(grain).with_range(h1())
}

/// The periods of H1 every `days` days as `VALUES` of `t(period)`.
fn series(days: i64) -> String {
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let end = chrono::NaiveDate::from_ymd_opt(2024, 7, 1).unwrap();
    let values: Vec<String> = std::iter::successors(Some(start), |d| Some(*d + chrono::Duration::days(days)))
        .take_while(|d| *d < end)
        .map(|d| format!("(TIMESTAMP '{d}')"))
        .collect();
    format!("SELECT * FROM (VALUES {}) AS t(period)", values.join(", "))
}

/// Each period of `periods` with `agg` over the orders of the window `[end - span, end)`,
/// `end` being the period's start plus `length`.
fn window(periods: &str, length: &str, span: &str, agg: &str) -> String {
    format!(
        "WITH p AS ({periods}) SELECT p.period, CAST({agg} AS DOUBLE) AS value FROM p LEFT JOIN orders o \
         ON o.ordered_at >= p.period + INTERVAL '{length}' - INTERVAL '{span}' AND o.ordered_at < p.period + INTERVAL '{length}' \
         GROUP BY p.period"
    )
}

/// The monthly average of `agg` over the windows ending with each day (`count`: windows
/// without rows count as 0; others skip them).
fn daily_average(span: &str, agg: &str, zero_when_empty: bool) -> String {
    let value = if zero_when_empty { "COALESCE(v, 0)" } else { "v" };
    format!(
        "WITH d AS ({}), w AS (SELECT d.period AS day, CAST({agg} AS DOUBLE) AS v FROM d LEFT JOIN orders o \
         ON o.ordered_at >= d.period + INTERVAL '1 day' - INTERVAL '{span}' AND o.ordered_at < d.period + INTERVAL '1 day' GROUP BY d.period) \
         SELECT date_trunc('month', day) AS period, AVG({value}) AS value FROM w GROUP BY 1",
        series(1)
    )
}

case!(
    thirty_days_by_month_end_with_the_month,
    at(Grain::Month, "rolling(count_distinct(orders.customer_id), '30 days')"),
    window(H1_MONTHS, "1 month", "30 days", "COUNT(DISTINCT o.customer_id)")
);
case!(
    a_sum_over_45_days_by_month,
    at(Grain::Month, "rolling(sum(orders.order_value), '45 days')"),
    window(H1_MONTHS, "1 month", "45 days", "SUM(o.order_value)")
);
case!(
    a_median_over_10_days_by_month,
    at(Grain::Month, "rolling(median(orders.order_value), '10 days')"),
    window(H1_MONTHS, "1 month", "10 days", "percentile_cont(0.5) WITHIN GROUP (ORDER BY CAST(o.order_value AS DOUBLE))")
);
case!(
    two_calendar_months_by_day,
    at(Grain::Day, "rolling(sum(orders.order_value), '2 months')"),
    window(&series(1), "1 day", "2 months", "SUM(o.order_value)")
);
case!(a_month_by_week, at(Grain::Week, "rolling(count(orders), '1 month')"), window(&series(7), "7 days", "1 month", "COUNT(o.order_id)"));
case!(
    the_first_day_of_each_month,
    at(Grain::Month, "rolling(count(orders), '30 days', 'first')"),
    window(H1_MONTHS, "1 day", "30 days", "COUNT(o.order_id)")
);
case!(
    distinct_counts_averaged_over_days,
    at(Grain::Month, "rolling(count_distinct(orders.customer_id), '7 days', 'average')"),
    daily_average("7 days", "COUNT(DISTINCT o.customer_id)", true)
);
case!(
    sums_averaged_over_days_skip_empty_windows,
    at(Grain::Month, "rolling(sum(orders.order_value), '3 days', 'average')"),
    daily_average("3 days", "SUM(o.order_value)", false)
);
case!(
    ragged_windows_by_dimension,
    at(Grain::Month, "rolling(count(orders), '30 days')").by(["orders.channel"]),
    format!(
        "WITH p AS ({H1_MONTHS}), d AS (SELECT DISTINCT channel FROM orders) \
         SELECT p.period, d.channel, CAST(COUNT(o.order_id) AS DOUBLE) AS value FROM p CROSS JOIN d LEFT JOIN orders o \
         ON o.channel = d.channel AND o.ordered_at >= p.period + INTERVAL '1 month' - INTERVAL '30 days' AND o.ordered_at < p.period + INTERVAL '1 month' \
         GROUP BY p.period, d.channel"
    )
);
case!(
    a_ragged_window_inside_arithmetic,
    at(Grain::Month, "count_distinct(orders.customer_id) / rolling(count_distinct(orders.customer_id), '30 days')"),
    format!(
        "WITH p AS ({H1_MONTHS}), \
         a AS (SELECT date_trunc('month', ordered_at) AS period, COUNT(DISTINCT customer_id) AS n FROM orders GROUP BY 1), \
         w AS (SELECT p.period, COUNT(DISTINCT o.customer_id) AS n FROM p LEFT JOIN orders o \
         ON o.ordered_at >= p.period + INTERVAL '1 month' - INTERVAL '30 days' AND o.ordered_at < p.period + INTERVAL '1 month' GROUP BY p.period) \
         SELECT p.period, CAST(COALESCE(a.n, 0) AS DOUBLE) / NULLIF(CAST(w.n AS DOUBLE), 0) AS value FROM p LEFT JOIN a ON p.period = a.period JOIN w ON w.period = p.period"
    )
);

#[test]
fn a_summary_is_one_of_three_names() {
    let w = world();
    let err = kpi_formula::plan(&at(Grain::Month, "rolling(count(orders), '30 days', 'median')"), &w.model, &w.sources).unwrap_err();
    assert!(err.to_string().contains("'last', 'first' or 'average'"), "{err}");
    let err = kpi_formula::plan(&at(Grain::Month, "rolling(count(orders), '30 days', 'last', 'x')"), &w.model, &w.sources).unwrap_err();
    assert!(err.to_string().contains("rolling"), "{err}");
}

case!(
    to_date_by_day_at_hour_grain,
    Query::formula("to_date(count(orders), 'day')")
        .with_grain(Grain::Hour)
        .with_range(kpi_formula::TimeRange::parse("2024-01-01", "2024-01-03", &kpi_formula::Calendar::default()).unwrap()),
    {
        let hours: Vec<String> = (0..48).map(|h| format!("(TIMESTAMP '2024-01-01 00:00:00' + INTERVAL '{h} hours')")).collect();
        format!(
            "WITH p AS (SELECT * FROM (VALUES {}) AS t(period)) SELECT p.period, CAST(COUNT(o.order_id) AS DOUBLE) AS value \
             FROM p LEFT JOIN orders o ON o.ordered_at >= date_trunc('day', p.period) AND o.ordered_at < p.period + INTERVAL '1 hour' GROUP BY p.period",
            hours.join(", ")
        )
    }
);

/// Without a grain `cumulative` is everything up to the range's end (all rows without a
/// range), beside aggregates of the range itself.
#[tokio::test]
async fn cumulative_without_a_grain_is_everything_up_to_the_end() {
    let w = world();
    let range = kpi_formula::TimeRange::parse("2024-02-01", "2024-05-01", &kpi_formula::Calendar::default()).unwrap();
    let q = Query::formula("cumulative(count(orders)) * 1000 + count(orders)").with_range(range);
    let sql = "SELECT CAST((SELECT COUNT(*) FROM orders WHERE ordered_at < TIMESTAMP '2024-05-01') * 1000 \
               + (SELECT COUNT(*) FROM orders WHERE ordered_at >= TIMESTAMP '2024-02-01' AND ordered_at < TIMESTAMP '2024-05-01') AS DOUBLE) AS value";
    assert_same("bounded", &run(&w, &q).await, &run_sql(&w, sql, false).await);
    let q = Query::formula("cumulative(sum(orders.order_value))");
    let sql = "SELECT CAST(SUM(order_value) AS DOUBLE) AS value FROM orders";
    assert_same("everything", &run(&w, &q).await, &run_sql(&w, sql, false).await);
}

fn from_jan_15(grain: Grain, formula: &str) -> Query {
    Query::formula(formula)
        .with_grain(grain)
        .with_range(kpi_formula::TimeRange::parse("2024-01-15", "2024-07-01", &kpi_formula::Calendar::default()).unwrap())
}

case!(
    at_start_of_the_month_by_day_reaches_before_the_range,
    from_jan_15(Grain::Day, "at_start(sum(orders.order_value), 'month')"),
    format!(
        "WITH p AS ({}), a AS (SELECT date_trunc('day', ordered_at) AS d, SUM(order_value) AS s FROM orders GROUP BY 1) \
         SELECT p.period, CAST(a.s AS DOUBLE) AS value FROM p LEFT JOIN a ON a.d = date_trunc('month', p.period) \
         WHERE p.period >= TIMESTAMP '2024-01-15'",
        series(1)
    )
);
case!(
    change_since_the_start_of_the_month,
    from_jan_15(Grain::Day, "count(orders) - at_start(count(orders), 'month')"),
    format!(
        "WITH p AS ({}), a AS (SELECT date_trunc('day', ordered_at) AS d, COUNT(*) AS n FROM orders GROUP BY 1) \
         SELECT p.period, CAST(COALESCE(a.n, 0) - COALESCE(f.n, 0) AS DOUBLE) AS value FROM p LEFT JOIN a ON a.d = p.period \
         LEFT JOIN a f ON f.d = date_trunc('month', p.period) WHERE p.period >= TIMESTAMP '2024-01-15'",
        series(1)
    )
);
case!(
    at_start_of_the_month_by_week_is_the_first_week_starting_in_it,
    at(Grain::Week, "at_start(count(orders), 'month')"),
    format!(
        "WITH p AS ({}), c AS (SELECT p.period, COUNT(o.order_id) AS n FROM p LEFT JOIN orders o \
         ON o.ordered_at >= p.period AND o.ordered_at < p.period + INTERVAL '7 days' GROUP BY p.period), \
         f AS (SELECT date_trunc('month', period) AS m, MIN(period) AS first FROM p GROUP BY 1) \
         SELECT c.period, CAST(s.n AS DOUBLE) AS value FROM c JOIN f ON f.m = date_trunc('month', c.period) JOIN c s ON s.period = f.first",
        series(7)
    )
);
case!(
    at_start_of_the_quarter_by_month_and_channel,
    at(Grain::Month, "at_start(count(orders), 'quarter')").by(["orders.channel"]),
    format!(
        "WITH p AS ({H1_MONTHS}), d AS (SELECT DISTINCT channel FROM orders), \
         a AS (SELECT date_trunc('month', ordered_at) AS m, channel, COUNT(*) AS n FROM orders GROUP BY 1, 2) \
         SELECT p.period, d.channel, CAST(COALESCE(a.n, 0) AS DOUBLE) AS value FROM p CROSS JOIN d \
         LEFT JOIN a ON a.m = date_trunc('quarter', p.period) AND a.channel = d.channel"
    )
);

#[test]
fn at_start_takes_a_unit_as_coarse_as_the_grain() {
    let w = world();
    let err = kpi_formula::plan(&at(Grain::Month, "at_start(count(orders), 'day')"), &w.model, &w.sources).unwrap_err();
    assert!(err.to_string().contains("finer than the query grain"), "{err}");
    let err = kpi_formula::plan(&at(Grain::Month, "at_start(count(orders), 'fortnight')"), &w.model, &w.sources).unwrap_err();
    assert!(err.to_string().contains("calendar unit"), "{err}");
    let err = kpi_formula::plan(&Query::formula("at_start(count(orders), 'month')"), &w.model, &w.sources).unwrap_err();
    assert!(err.to_string().contains("needs a query with a grain"), "{err}");
}

/// Orders of H1 with their month and the edge time `edge` over `partition` (SQL window).
fn at_edge(edge: &str, partition: &str) -> String {
    format!(
        "SELECT *, date_trunc('month', ordered_at) AS m, {edge}(ordered_at) OVER (PARTITION BY {partition}) AS edge FROM orders \
         WHERE ordered_at >= TIMESTAMP '2024-01-01' AND ordered_at < TIMESTAMP '2024-07-01'"
    )
}

case!(
    last_sums_the_rows_at_each_periods_last_time,
    at(Grain::Month, "last(sum(orders.order_value))"),
    format!(
        "WITH r AS ({}), a AS (SELECT m, SUM(order_value) AS s FROM r WHERE ordered_at = edge GROUP BY m), p AS ({H1_MONTHS}) \
         SELECT p.period, CAST(a.s AS DOUBLE) AS value FROM p LEFT JOIN a ON a.m = p.period",
        at_edge("MAX", "date_trunc('month', ordered_at)")
    )
);
case!(
    last_per_entity_sums_each_customers_latest_order,
    at(Grain::Month, "last(sum(orders.order_value where orders.status <> 'cancelled'), orders.customer_id)"),
    format!(
        "WITH o AS (SELECT * FROM orders WHERE status <> 'cancelled'), \
         r AS (SELECT *, date_trunc('month', ordered_at) AS m, MAX(ordered_at) OVER (PARTITION BY date_trunc('month', ordered_at), customer_id) AS edge \
         FROM o WHERE ordered_at >= TIMESTAMP '2024-01-01' AND ordered_at < TIMESTAMP '2024-07-01'), \
         a AS (SELECT m, SUM(order_value) AS s FROM r WHERE ordered_at = edge GROUP BY m), p AS ({H1_MONTHS}) \
         SELECT p.period, CAST(a.s AS DOUBLE) AS value FROM p LEFT JOIN a ON a.m = p.period"
    )
);
case!(
    first_by_channel_takes_the_periods_first_time_for_every_channel,
    at(Grain::Month, "first(count(orders))").by(["orders.channel"]),
    format!(
        "WITH r AS ({}), a AS (SELECT m, channel, COUNT(*) AS n FROM r WHERE ordered_at = edge GROUP BY m, channel), \
         p AS ({H1_MONTHS}), d AS (SELECT DISTINCT channel FROM orders) \
         SELECT p.period, d.channel, CAST(COALESCE(a.n, 0) AS DOUBLE) AS value FROM p CROSS JOIN d LEFT JOIN a ON a.m = p.period AND a.channel = d.channel",
        at_edge("MIN", "date_trunc('month', ordered_at)")
    )
);

#[tokio::test]
async fn last_without_a_grain_is_the_latest_time_of_the_range() {
    let w = world();
    let q = Query::formula("last(sum(orders.order_value), orders.customer_id)").with_range(h1());
    let sql = format!(
        "WITH r AS ({}) SELECT CAST(SUM(order_value) AS DOUBLE) AS value FROM r WHERE ordered_at = edge",
        at_edge("MAX", "customer_id")
    );
    assert_same("grainless", &run(&w, &q).await, &run_sql(&w, &sql, false).await);
}

#[test]
fn snapshots_take_plain_aggregates_of_timed_tables() {
    let w = world();
    let err = |f: &str| kpi_formula::plan(&at(Grain::Month, f), &w.model, &w.sources).map(|_| ()).unwrap_err().to_string();
    assert!(err("last(sum(products.unit_cost))").contains("no time column"));
    assert!(err("last(rolling(count(orders), '2 months'))").contains("cannot be used around"));
    assert!(err("rolling(last(count(orders)), '2 months')").contains("cannot be used inside"));
    assert!(err("last(prev(count(orders)))").contains("takes aggregates"));
    assert!(err("last(count(orders), orders.nope)").contains("unknown column"));
}
