//! Periods in a non-UTC zone across daylight-saving changes, checked against counts and period
//! starts worked out by hand.

use chrono::{DateTime, Utc, Weekday};
use kpi_formula::{Calendar, Grain, Query, TimeRange};

use crate::support::{Row, event_world, run};

fn utc(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc).timestamp_micros()
}

fn berlin() -> Calendar {
    Calendar::new(chrono_tz::Europe::Berlin)
}

/// One event per hour from `from` (inclusive) to `to` (exclusive), on a column of type `tz`.
fn hourly(from: &str, to: &str, tz: Option<&str>) -> crate::support::World {
    let ts: Vec<i64> = (utc(from)..utc(to)).step_by(3_600_000_000).collect();
    event_world(ts, tz)
}

fn expect(rows: &[Row], expected: &[(&str, f64)]) {
    let got: Vec<(i64, Option<f64>)> = rows.iter().map(|r| (r.0.unwrap(), r.2)).collect();
    let want: Vec<(i64, Option<f64>)> = expected.iter().map(|(t, v)| (utc(t), Some(*v))).collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn days_in_berlin_have_23_and_25_hours_at_dst_changes() {
    let w = hourly("2024-03-29T23:00:00Z", "2024-04-01T22:00:00Z", Some("UTC"));
    let q = Query::formula("count(events)")
        .with_grain(Grain::Day)
        .with_calendar(berlin())
        .with_range(TimeRange::parse("2024-03-30", "2024-04-02", &berlin()).unwrap());
    expect(&run(&w, &q).await, &[("2024-03-29T23:00:00Z", 24.0), ("2024-03-30T23:00:00Z", 23.0), ("2024-03-31T22:00:00Z", 24.0)]);

    let w = hourly("2024-10-25T22:00:00Z", "2024-10-28T23:00:00Z", Some("UTC"));
    let q = Query::formula("count(events)")
        .with_grain(Grain::Day)
        .with_calendar(berlin())
        .with_range(TimeRange::parse("2024-10-26", "2024-10-29", &berlin()).unwrap());
    expect(&run(&w, &q).await, &[("2024-10-25T22:00:00Z", 24.0), ("2024-10-26T22:00:00Z", 25.0), ("2024-10-27T23:00:00Z", 24.0)]);
}

#[tokio::test]
async fn prev_and_rolling_across_a_dst_change() {
    let w = hourly("2024-03-29T23:00:00Z", "2024-04-01T22:00:00Z", Some("UTC"));
    let q = Query::formula("count(events) - prev(count(events)) + 1000 * rolling(count(events), '2 days')")
        .with_grain(Grain::Day)
        .with_calendar(berlin())
        .with_range(TimeRange::parse("2024-03-31", "2024-04-02", &berlin()).unwrap());
    // Mar 31: 23 - 24 + 1000 * 47; Apr 1: 24 - 23 + 1000 * 47
    expect(&run(&w, &q).await, &[("2024-03-30T23:00:00Z", 46_999.0), ("2024-03-31T22:00:00Z", 47_001.0)]);
}

#[tokio::test]
async fn sunday_weeks_in_berlin_start_at_local_midnight_across_dst() {
    // Events from Sun 2024-03-24 00:00 CET to Sun 2024-04-07 00:00 CEST, hourly.
    let w = hourly("2024-03-23T23:00:00Z", "2024-04-06T22:00:00Z", Some("UTC"));
    let cal = berlin().with_week_start(Weekday::Sun);
    let q = Query::formula("count(events)")
        .with_grain(Grain::Week)
        .with_calendar(cal.clone())
        .with_range(TimeRange::parse("2024-03-24", "2024-04-07", &cal).unwrap());
    // Clocks go forward on Sunday 31 March, the first day of the second week: 167 hours.
    expect(&run(&w, &q).await, &[("2024-03-23T23:00:00Z", 168.0), ("2024-03-30T23:00:00Z", 167.0)]);
}

#[tokio::test]
async fn months_in_new_york() {
    let ny = Calendar::new(chrono_tz::America::New_York);
    // 2024-03-01T04:59Z is still February in New York; 05:00Z is March.
    let w = event_world(vec![utc("2024-03-01T04:59:00Z"), utc("2024-03-01T05:00:00Z"), utc("2024-04-01T03:59:00Z")], Some("UTC"));
    let q = Query::formula("count(events)")
        .with_grain(Grain::Month)
        .with_calendar(ny.clone())
        .with_range(TimeRange::parse("2024-02-01", "2024-04-01", &ny).unwrap());
    expect(&run(&w, &q).await, &[("2024-02-01T05:00:00Z", 1.0), ("2024-03-01T05:00:00Z", 2.0)]);
}

#[tokio::test]
async fn naive_timestamps_are_wall_clock_times_in_the_calendar_zone() {
    // Wall-clock values, including 02:30 on 2024-03-31, which does not exist in Berlin.
    let w = event_world(
        vec![utc("2024-03-30T23:30:00Z"), utc("2024-03-31T02:30:00Z"), utc("2024-03-31T23:30:00Z"), utc("2024-04-01T00:30:00Z")],
        None,
    );
    let q = Query::formula("count(events)")
        .with_grain(Grain::Day)
        .with_calendar(berlin())
        .with_range(TimeRange::parse("2024-03-30", "2024-04-02", &berlin()).unwrap());
    expect(&run(&w, &q).await, &[("2024-03-29T23:00:00Z", 1.0), ("2024-03-30T23:00:00Z", 2.0), ("2024-03-31T22:00:00Z", 1.0)]);
}

/// A ragged window by month equals the whole window by day read at the month's last day
/// (`last`), its first day (`first`), or averaged over its days (`average`), across both DST
/// changes in Berlin, with events every 7 hours so days hold different counts.
#[tokio::test]
async fn ragged_windows_by_month_agree_with_daily_windows_across_dst() {
    let ts: Vec<i64> = (utc("2024-01-01T00:00:00Z")..utc("2024-12-31T00:00:00Z")).step_by(7 * 3_600_000_000).collect();
    let w = event_world(ts, Some("UTC"));
    let year = TimeRange::parse("2024-02-01", "2024-12-01", &berlin()).unwrap();
    let q = |grain, formula: &str| Query::formula(formula).with_grain(grain).with_calendar(berlin()).with_range(year);
    let days = run(&w, &q(Grain::Day, "rolling(count(events), '30 days')")).await;
    let month_of = |t: i64| {
        let local = DateTime::from_timestamp_micros(t).unwrap().with_timezone(&chrono_tz::Europe::Berlin);
        (chrono::Datelike::year(&local), chrono::Datelike::month(&local))
    };
    let mut by_month: std::collections::BTreeMap<(i32, u32), Vec<f64>> = Default::default();
    for d in &days {
        by_month.entry(month_of(d.0.unwrap())).or_default().push(d.2.unwrap());
    }
    for (summary, pick) in [("last", 0), ("first", 1), ("average", 2)] {
        let months = run(&w, &q(Grain::Month, &format!("rolling(count(events), '30 days', '{summary}')"))).await;
        assert_eq!(months.len(), 10, "{summary}");
        for m in &months {
            let daily = &by_month[&month_of(m.0.unwrap())];
            let want = match pick {
                0 => *daily.last().unwrap(),
                1 => daily[0],
                _ => daily.iter().sum::<f64>() / daily.len() as f64,
            };
            assert!((m.2.unwrap() - want).abs() < 1e-9, "{summary} {:?}: {} != {want}", month_of(m.0.unwrap()), m.2.unwrap());
        }
    }
}
