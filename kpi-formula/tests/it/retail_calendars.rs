//! Retail (4-4-5) calendars and calendar tables: months, quarters and years of whole weeks or of
//! a table's days, as grains, offsets and windows, against hand-written SQL over the orders.

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use datafusion::arrow::array::{Date32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use kpi_formula::custom_calendar::{PeriodTable, RetailCalendar};
use kpi_formula::{Calendar, FormulaError, Grain, Query, QueryError, TimeRange};

use crate::support::*;

/// Years ending on the last Saturday of December: 2024 runs from 31 December 2023 to
/// 28 December 2024, its months start 31 Dec, 28 Jan, 25 Feb (5 weeks), 31 Mar, 28 Apr, 26 May
/// (5 weeks) and 30 Jun.
fn retail() -> Calendar {
    Calendar::default().with_retail("4-4-5, last saturday of december".parse().unwrap())
}

fn query(formula: &str, grain: Grain, cal: &Calendar, start: &str, end: &str) -> Query {
    Query::formula(formula).with_grain(grain).with_calendar(cal.clone()).with_range(TimeRange::parse(start, end, cal).unwrap())
}

/// Each `(period, since, until)` with `agg` over the orders from `since` to `until`.
fn counted(periods: &[(&str, &str, &str)], agg: &str) -> String {
    let values: Vec<String> = periods.iter().map(|(p, s, u)| format!("(TIMESTAMP '{p}', TIMESTAMP '{s}', TIMESTAMP '{u}')")).collect();
    format!(
        "WITH p AS (SELECT * FROM (VALUES {}) AS t(period, since, until)) \
         SELECT p.period, CAST({agg} AS DOUBLE) AS value FROM p LEFT JOIN orders o \
         ON o.ordered_at >= p.since AND o.ordered_at < p.until GROUP BY p.period",
        values.join(", ")
    )
}

const MONTHS: [&str; 8] = ["2023-12-31", "2024-01-28", "2024-02-25", "2024-03-31", "2024-04-28", "2024-05-26", "2024-06-30", "2024-07-28"];

/// The months of 2024's first half, each counted over itself.
fn months() -> Vec<(&'static str, &'static str, &'static str)> {
    MONTHS.windows(2).map(|w| (w[0], w[0], w[1])).collect()
}

case!(
    months_of_whole_weeks,
    query("count(orders)", Grain::Month, &retail(), "2023-12-31", "2024-07-28"),
    counted(&months(), "COUNT(o.order_id)")
);
case!(
    a_range_widens_to_whole_retail_months,
    query("sum(orders.order_value)", Grain::Month, &retail(), "2024-01-01", "2024-07-01"),
    counted(&months(), "SUM(o.order_value)")
);
case!(
    quarters_of_thirteen_weeks,
    query("count(orders)", Grain::Quarter, &retail(), "2023-12-31", "2024-06-30"),
    counted(&[("2023-12-31", "2023-12-31", "2024-03-31"), ("2024-03-31", "2024-03-31", "2024-06-30")], "COUNT(o.order_id)")
);
case!(
    the_previous_retail_month,
    query("prev(count(orders))", Grain::Month, &retail(), "2024-01-28", "2024-07-28"),
    counted(&MONTHS.windows(3).map(|w| (w[1], w[0], w[1])).collect::<Vec<_>>(), "COUNT(o.order_id)")
);
case!(
    quarter_to_date_by_retail_month,
    query("to_date(count(orders), 'quarter')", Grain::Month, &retail(), "2023-12-31", "2024-06-30"),
    counted(
        &[
            ("2023-12-31", "2023-12-31", "2024-01-28"),
            ("2024-01-28", "2023-12-31", "2024-02-25"),
            ("2024-02-25", "2023-12-31", "2024-03-31"),
            ("2024-03-31", "2024-03-31", "2024-04-28"),
            ("2024-04-28", "2024-03-31", "2024-05-26"),
            ("2024-05-26", "2024-03-31", "2024-06-30"),
        ],
        "COUNT(o.order_id)"
    )
);
case!(
    at_the_start_of_the_retail_quarter_by_week,
    query("at_start(count(orders), 'quarter')", Grain::Week, &retail(), "2024-03-24", "2024-04-14"),
    // Weeks start on Sunday; each week's quarter began 31 Dec or 31 Mar and its first week is counted.
    counted(
        &[
            ("2024-03-24", "2023-12-31", "2024-01-07"),
            ("2024-03-31", "2024-03-31", "2024-04-07"),
            ("2024-04-07", "2024-03-31", "2024-04-07"),
        ],
        "COUNT(o.order_id)"
    )
);
case!(
    two_retail_months_rolling,
    query("rolling(count_distinct(orders.customer_id), '2 months')", Grain::Month, &retail(), "2024-01-28", "2024-07-28"),
    counted(&MONTHS.windows(3).map(|w| (w[1], w[0], w[2])).collect::<Vec<_>>(), "COUNT(DISTINCT o.customer_id)")
);
case!(
    thirty_days_at_retail_month_grain,
    query("rolling(count(orders), '30 days')", Grain::Month, &retail(), "2024-01-28", "2024-07-28"),
    // Each window ends where its month ends.
    counted(
        &[
            ("2024-01-28", "2024-01-26", "2024-02-25"),
            ("2024-02-25", "2024-03-01", "2024-03-31"),
            ("2024-03-31", "2024-03-29", "2024-04-28"),
            ("2024-04-28", "2024-04-26", "2024-05-26"),
            ("2024-05-26", "2024-05-31", "2024-06-30"),
            ("2024-06-30", "2024-06-28", "2024-07-28"),
        ],
        "COUNT(o.order_id)"
    )
);
case!(
    one_retail_month_at_day_grain,
    query("rolling(count(orders), '1 month')", Grain::Day, &retail(), "2024-02-28", "2024-03-03"),
    // A day's window ends with it and starts as far into the month before as its end lies
    // into its own month (29 Feb is 4 days after 25 Feb; 4 days after 28 Jan is 1 Feb).
    counted(
        &[
            ("2024-02-28", "2024-02-01", "2024-02-29"),
            ("2024-02-29", "2024-02-02", "2024-03-01"),
            ("2024-03-01", "2024-02-03", "2024-03-02"),
            ("2024-03-02", "2024-02-04", "2024-03-03"),
        ],
        "COUNT(o.order_id)"
    )
);

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The NRF calendar in New York: March 2024 runs from 3 March to 6 April and loses the hour
/// the clocks went forward on 10 March (839 hours); zoned and wall-clock columns agree.
#[tokio::test]
async fn nrf_months_in_new_york_across_a_dst_change() {
    let cal = Calendar::new(chrono_tz::America::New_York).with_retail(RetailCalendar::NRF);
    let hours: Vec<i64> =
        (utc("2024-02-01T00:00:00Z").timestamp_micros()..utc("2024-05-01T00:00:00Z").timestamp_micros()).step_by(3_600_000_000).collect();
    let q = query("count(events)", Grain::Month, &cal, "2024-03-03", "2024-04-07");
    let start = cal.to_instant(NaiveDate::from_ymd_opt(2024, 3, 3).unwrap().and_hms_opt(0, 0, 0).unwrap());
    for tz in [Some("UTC"), Some("America/New_York")] {
        let got = run(&event_world(hours.clone(), tz), &q).await;
        assert_eq!(got, vec![(Some(start.timestamp_micros()), vec![], Some(839.0))], "{tz:?}");
    }
    // Wall-clock values are read as New York times: 35 days of 24 values each.
    let got = run(&event_world(hours, None), &q).await;
    assert_eq!(got, vec![(Some(start.timestamp_micros()), vec![], Some(840.0))]);
}

/// A calendar table of thirteen four-week periods a year (the last one takes the spare days),
/// its "months", with labels such as `P01`.
fn thirteen_periods() -> Arc<PeriodTable> {
    let first = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let days: Vec<NaiveDate> = (0..366).map(|i| first + Duration::days(i)).collect();
    let labels: Vec<String> = (0..366).map(|i: i64| format!("P{:02}", (i / 28).min(12) + 1)).collect();
    let schema = Arc::new(Schema::new(vec![Field::new("day", DataType::Date32, false), Field::new("period", DataType::Utf8, false)]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Date32Array::from_iter_values(days.iter().map(|d| (*d - NaiveDate::default()).num_days() as i32))),
            Arc::new(StringArray::from(labels)),
        ],
    )
    .unwrap();
    Arc::new(PeriodTable::from_batches("periods", &[batch], "day", &[(Grain::Month, "period")]).unwrap())
}

case!(
    periods_from_a_calendar_table,
    query("count(orders)", Grain::Month, &Calendar::default().with_period_table(thirteen_periods()), "2024-01-01", "2024-07-01"),
    counted(
        &[
            ("2024-01-01", "2024-01-01", "2024-01-29"),
            ("2024-01-29", "2024-01-29", "2024-02-26"),
            ("2024-02-26", "2024-02-26", "2024-03-25"),
            ("2024-03-25", "2024-03-25", "2024-04-22"),
            ("2024-04-22", "2024-04-22", "2024-05-20"),
            ("2024-05-20", "2024-05-20", "2024-06-17"),
            ("2024-06-17", "2024-06-17", "2024-07-15"),
        ],
        "COUNT(o.order_id)"
    )
);
case!(
    a_calendar_table_keeps_civil_quarters,
    query("count(orders)", Grain::Quarter, &Calendar::default().with_period_table(thirteen_periods()), "2024-01-01", "2024-07-01"),
    counted(&[("2024-01-01", "2024-01-01", "2024-04-01"), ("2024-04-01", "2024-04-01", "2024-07-01")], "COUNT(o.order_id)")
);

#[test]
fn a_range_outside_the_calendar_table_is_refused() {
    let cal = Calendar::default().with_period_table(thirteen_periods());
    let q = query("count(orders)", Grain::Month, &cal, "2023-12-01", "2024-03-01");
    let err = kpi_formula::plan(&q, &world().model, &world().sources).unwrap_err();
    assert!(matches!(err, FormulaError::Query(QueryError::OutsideCalendar(_))), "{err}");
    assert!(err.to_string().contains("covers 2024-01-01 to 2024-12-31"), "{err}");
}

/// Without a range the rows decide the periods; a row the table does not cover is an error
/// that names the time, never a dropped row.
#[tokio::test]
async fn a_row_outside_the_calendar_table_fails_the_query() {
    let cal = Calendar::default().with_period_table(thirteen_periods());
    let w = event_world(vec![utc("2024-06-01T00:00:00Z").timestamp_micros(), utc("2025-01-02T10:00:00Z").timestamp_micros()], Some("UTC"));
    let q = Query::formula("count(events)").with_grain(Grain::Month).with_calendar(cal);
    let plan = kpi_formula::plan(&q, &w.model, &w.sources).unwrap();
    let err = w.ctx.execute_logical_plan(plan).await.unwrap().collect().await.unwrap_err();
    assert!(err.to_string().contains("2025-01-02 10:00:00 lies outside the calendar table `periods`"), "{err}");
}

#[test]
fn a_calendar_table_must_have_every_day_and_nested_periods() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("day", DataType::Date32, false),
        Field::new("m", DataType::Utf8, false),
        Field::new("q", DataType::Utf8, false),
    ]));
    let table = |days: &[i32], m: &[&str], q: &[&str]| {
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Date32Array::from(days.to_vec())),
                Arc::new(StringArray::from(m.to_vec())),
                Arc::new(StringArray::from(q.to_vec())),
            ],
        )
        .unwrap();
        PeriodTable::from_batches("cal", &[batch], "day", &[(Grain::Month, "m"), (Grain::Quarter, "q")]).unwrap_err().to_string()
    };
    let d = 19_723; // 2024-01-01
    assert!(table(&[d, d + 2], &["a", "a"], &["x", "x"]).contains("jump from 2024-01-01 to 2024-01-03"));
    assert!(table(&[d, d], &["a", "a"], &["x", "x"]).contains("appears twice"));
    assert!(
        table(&[d, d + 1, d + 2], &["a", "a", "b"], &["x", "y", "y"]).contains("quarter starting 2024-01-02 does not start on a month")
    );
    let unknown = PeriodTable::from_batches("cal", &[], "day", &[(Grain::Week, "w")]).unwrap_err().to_string();
    assert!(unknown.contains("no rows"), "{unknown}");
}
