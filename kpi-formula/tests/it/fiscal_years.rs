//! Fiscal years and quarters (a calendar whose year starts in another month than January),
//! against hand-written SQL over the orders, and across a DST change in Berlin by hand.

use chrono::{DateTime, Month, Utc};
use kpi_formula::{Calendar, Grain, Query, TimeRange};

use crate::support::*;

fn fiscal(month: Month) -> Calendar {
    Calendar::default().with_fiscal_year_start(month)
}

fn query(formula: &str, grain: Grain, month: Month, start: &str, end: &str) -> Query {
    let cal = fiscal(month);
    Query::formula(formula).with_grain(grain).with_calendar(cal.clone()).with_range(TimeRange::parse(start, end, &cal).unwrap())
}

/// `VALUES` of `(period, since)` pairs as `p(period, since)`.
fn periods(pairs: &[(&str, &str)]) -> String {
    let values: Vec<String> = pairs.iter().map(|(p, s)| format!("(TIMESTAMP '{p}', TIMESTAMP '{s}')")).collect();
    format!("SELECT * FROM (VALUES {}) AS t(period, since)", values.join(", "))
}

/// Each period with `agg` over the orders from its `since` to its start plus `length`.
fn counted(periods: &str, length: &str, agg: &str) -> String {
    format!(
        "WITH p AS ({periods}) SELECT p.period, CAST({agg} AS DOUBLE) AS value FROM p LEFT JOIN orders o \
         ON o.ordered_at >= p.since AND o.ordered_at < p.period + INTERVAL '{length}' GROUP BY p.period"
    )
}

const FEB_QUARTERS: &[(&str, &str)] = &[("2023-11-01", "2023-11-01"), ("2024-02-01", "2024-02-01"), ("2024-05-01", "2024-05-01")];

case!(
    quarters_of_a_year_starting_in_february,
    query("count(orders)", Grain::Quarter, Month::February, "2023-11-01", "2024-08-01"),
    counted(&periods(FEB_QUARTERS), "3 months", "COUNT(o.order_id)")
);
case!(
    years_starting_in_april,
    query("sum(orders.order_value)", Grain::Year, Month::April, "2023-04-01", "2025-04-01"),
    counted(&periods(&[("2023-04-01", "2023-04-01"), ("2024-04-01", "2024-04-01")]), "1 year", "SUM(o.order_value)")
);
case!(
    year_to_date_restarts_in_april,
    query("to_date(count(orders), 'year')", Grain::Month, Month::April, "2024-01-01", "2024-07-01"),
    counted(
        &periods(&[
            ("2024-01-01", "2023-04-01"),
            ("2024-02-01", "2023-04-01"),
            ("2024-03-01", "2023-04-01"),
            ("2024-04-01", "2024-04-01"),
            ("2024-05-01", "2024-04-01"),
            ("2024-06-01", "2024-04-01"),
        ]),
        "1 month",
        "COUNT(o.order_id)"
    )
);
case!(
    previous_fiscal_quarter,
    query("prev(count(orders))", Grain::Quarter, Month::February, "2024-02-01", "2024-08-01"),
    counted(&periods(&[("2024-02-01", "2023-11-01"), ("2024-05-01", "2024-02-01")]), "0 days", "COUNT(o.order_id)")
);
case!(
    at_the_start_of_a_fiscal_quarter,
    query("at_start(count(orders), 'quarter')", Grain::Month, Month::February, "2024-01-01", "2024-07-01"),
    {
        // The first month of each month's fiscal quarter, counted alone.
        let firsts = [
            ("2024-01-01", "2023-11-01"),
            ("2024-02-01", "2024-02-01"),
            ("2024-03-01", "2024-02-01"),
            ("2024-04-01", "2024-02-01"),
            ("2024-05-01", "2024-05-01"),
            ("2024-06-01", "2024-05-01"),
        ];
        format!(
            "WITH p AS ({}) SELECT p.period, CAST(COUNT(o.order_id) AS DOUBLE) AS value FROM p LEFT JOIN orders o \
             ON o.ordered_at >= p.since AND o.ordered_at < p.since + INTERVAL '1 month' GROUP BY p.period",
            periods(&firsts)
        )
    }
);
case!(
    fiscal_quarters_by_channel,
    query("count(orders)", Grain::Quarter, Month::February, "2023-11-01", "2024-08-01").by(["orders.channel"]),
    format!(
        "WITH p AS ({}), d AS (SELECT DISTINCT channel FROM orders) \
         SELECT p.period, d.channel, CAST(COUNT(o.order_id) AS DOUBLE) AS value FROM p CROSS JOIN d LEFT JOIN orders o \
         ON o.channel = d.channel AND o.ordered_at >= p.period AND o.ordered_at < p.period + INTERVAL '3 months' GROUP BY p.period, d.channel",
        periods(FEB_QUARTERS)
    )
);

fn utc(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc).timestamp_micros()
}

/// One event per hour from 2024-03-30T00:00Z to 2024-04-02T00:00Z on a column of type `tz`
/// (`None`: wall-clock times, read in the calendar's zone).
fn hourly(tz: Option<&str>) -> World {
    event_world((utc("2024-03-30T00:00:00Z")..utc("2024-04-02T00:00:00Z")).step_by(3_600_000_000).collect(), tz)
}

/// In Berlin the fiscal year starting in April begins at 2024-03-31T22:00Z (CEST, the clocks
/// went forward that morning): 46 of the 72 hours fall in the year before.
#[tokio::test]
async fn a_fiscal_year_in_berlin_starts_at_local_midnight() {
    let cal = Calendar::new(chrono_tz::Europe::Berlin).with_fiscal_year_start(Month::April);
    let by = |grain, start, end| -> Query {
        Query::formula("count(events)").with_grain(grain).with_calendar(cal.clone()).with_range(TimeRange::parse(start, end, &cal).unwrap())
    };
    let want = |pairs: &[(&str, f64)]| pairs.iter().map(|(t, v)| (Some(utc(t)), vec![], Some(*v))).collect::<Vec<Row>>();
    for tz in [Some("UTC"), Some("Europe/Berlin"), Some("+05:00")] {
        let w = hourly(tz);
        let years = run(&w, &by(Grain::Year, "2023-04-01", "2025-04-01")).await;
        assert_eq!(years, want(&[("2023-03-31T22:00:00Z", 46.0), ("2024-03-31T22:00:00Z", 26.0)]), "{tz:?}");
        // Quarters of a year from April are calendar quarters; January's began in CET.
        let quarters = run(&w, &by(Grain::Quarter, "2024-01-01", "2024-07-01")).await;
        assert_eq!(quarters, want(&[("2023-12-31T23:00:00Z", 46.0), ("2024-03-31T22:00:00Z", 26.0)]), "{tz:?}");
    }
    // Wall-clock values: the first 48 (30 March and 31 March, local) precede April.
    let years = run(&hourly(None), &by(Grain::Year, "2023-04-01", "2025-04-01")).await;
    assert_eq!(years, want(&[("2023-03-31T22:00:00Z", 48.0), ("2024-03-31T22:00:00Z", 24.0)]));
}

#[test]
fn a_fiscal_year_reads_from_a_month_name_or_number() {
    assert_eq!(Calendar::parse_month("july").unwrap(), Month::July);
    assert_eq!(Calendar::parse_month("10").unwrap(), Month::October);
    let err = Calendar::parse_month("Thermidor").unwrap_err();
    assert!(err.to_string().contains("month name"), "{err}");
}
