//! Offsets by a calendar span (`prev(x, '1 month')`, `growth(x, '1 year')`; MetricFlow's
//! `offset_window`), against hand-written SQL: whole query periods, and spans that are not
//! (a month back by day, clamped at month ends; none where the start moved back starts no
//! period, as in MetricFlow), with dimensions.

use kpi_formula::{Grain, Query, TimeRange};

use crate::support::*;

fn at(grain: Grain, formula: &str, start: &str, end: &str) -> Query {
    Query::formula(formula).with_grain(grain).with_range(TimeRange::parse(start, end, &Default::default()).unwrap())
}

/// Each `(period, since, until)` with `agg` over the orders from `since` to `until`, by
/// channel when `by_channel`.
fn counted(periods: &[(&str, &str, &str)], agg: &str, by_channel: bool) -> String {
    let values: Vec<String> = periods.iter().map(|(p, s, u)| format!("(TIMESTAMP '{p}', TIMESTAMP '{s}', TIMESTAMP '{u}')")).collect();
    let p = format!("SELECT * FROM (VALUES {}) AS t(period, since, until)", values.join(", "));
    if by_channel {
        format!(
            "WITH p AS ({p}), d AS (SELECT DISTINCT channel FROM orders) \
             SELECT p.period, d.channel, CAST({agg} AS DOUBLE) AS value FROM p CROSS JOIN d LEFT JOIN orders o \
             ON (o.channel IS NOT DISTINCT FROM d.channel) AND o.ordered_at >= p.since AND o.ordered_at < p.until GROUP BY p.period, d.channel"
        )
    } else {
        format!(
            "WITH p AS ({p}) SELECT p.period, CAST({agg} AS DOUBLE) AS value FROM p LEFT JOIN orders o \
             ON o.ordered_at >= p.since AND o.ordered_at < p.until GROUP BY p.period"
        )
    }
}

/// May 29 to June 1 and the same days a month before: 31 May has no 31 April and takes 30 April.
const A_MONTH_BACK_BY_DAY: &[(&str, &str, &str)] = &[
    ("2024-05-29", "2024-04-29", "2024-04-30"),
    ("2024-05-30", "2024-04-30", "2024-05-01"),
    ("2024-05-31", "2024-04-30", "2024-05-01"),
    ("2024-06-01", "2024-05-01", "2024-05-02"),
];

case!(
    a_month_back_by_month_is_the_month_before,
    at(Grain::Month, "prev(count(orders), '1 month')", "2024-04-01", "2024-07-01"),
    counted(
        &[
            ("2024-04-01", "2024-03-01", "2024-04-01"),
            ("2024-05-01", "2024-04-01", "2024-05-01"),
            ("2024-06-01", "2024-05-01", "2024-06-01")
        ],
        "COUNT(o.order_id)",
        false
    )
);
case!(
    a_month_back_by_day_is_the_same_day_a_month_before,
    at(Grain::Day, "prev(count(orders), '1 month')", "2024-05-29", "2024-06-02"),
    counted(A_MONTH_BACK_BY_DAY, "COUNT(o.order_id)", false)
);
case!(
    a_month_back_by_day_per_channel,
    at(Grain::Day, "prev(sum(orders.order_value), '1 month')", "2024-05-29", "2024-06-02").by(["orders.channel"]),
    counted(A_MONTH_BACK_BY_DAY, "SUM(o.order_value)", true)
);
case!(
    a_month_back_by_week_starts_no_week,
    // As in MetricFlow, a week's start less a month is no week's start: no value.
    at(Grain::Week, "prev(count(orders), '1 month')", "2024-05-27", "2024-06-10"),
    "SELECT * FROM (VALUES (TIMESTAMP '2024-05-27', CAST(NULL AS DOUBLE)), (TIMESTAMP '2024-06-03', CAST(NULL AS DOUBLE))) AS t(period, value)"
);
case!(
    four_weeks_back_by_week,
    at(Grain::Week, "prev(count(orders), '4 weeks')", "2024-05-27", "2024-06-10"),
    counted(&[("2024-05-27", "2024-04-29", "2024-05-06"), ("2024-06-03", "2024-05-06", "2024-05-13")], "COUNT(o.order_id)", false)
);
case!(
    a_month_back_by_quarter_starts_no_quarter,
    at(Grain::Quarter, "prev(count(orders), '1 month') + 0 * count(orders)", "2024-04-01", "2024-07-01"),
    "SELECT * FROM (VALUES (TIMESTAMP '2024-04-01', CAST(NULL AS DOUBLE))) AS t(period, value)"
);

case!(
    a_week_back_by_day_is_seven_periods,
    at(Grain::Day, "prev(count(orders), '1 week')", "2024-06-01", "2024-06-04"),
    counted(
        &[
            ("2024-06-01", "2024-05-25", "2024-05-26"),
            ("2024-06-02", "2024-05-26", "2024-05-27"),
            ("2024-06-03", "2024-05-27", "2024-05-28")
        ],
        "COUNT(o.order_id)",
        false
    )
);

#[test]
fn an_offset_is_a_whole_number_or_a_calendar_span() {
    let w = world();
    let err = |f: &str| {
        kpi_formula::plan(&at(Grain::Day, f, "2024-05-01", "2024-06-01"), &w.model, &w.sources).map(|_| ()).unwrap_err().to_string()
    };
    assert!(err("prev(count(orders), '1 fortnight')").contains("is not a calendar span"));
    assert!(err("prev(count(orders), 'soon')").contains("a count and a unit"));
    assert!(err("growth(count(orders), '30 years')").contains("at most 20 years"));
    assert!(err("prev(count(orders), 1.5)").contains("a calendar span such as '1 year'"));
}
