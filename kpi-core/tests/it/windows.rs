//! Windowed distinct counts: in UTC they come from spans of periods, elsewhere from a join of
//! periods with rows. `Etc/UTC` has UTC's offsets but takes the second way, so the two must agree.

use chrono_tz::Tz;
use kpi_formula::{Calendar, Grain, Query};
use proptest::prelude::*;

use crate::support::{engine, range};

fn windows() -> impl Strategy<Value = (Grain, String)> {
    prop_oneof![
        (1u32..5).prop_map(|n| (Grain::Day, format!("rolling(count_distinct(orders.customer_id), '{n} days')"))),
        (1u32..4).prop_map(|n| (Grain::Week, format!("rolling(count_distinct(orders.customer_id where orders.in_full), '{n} weeks')"))),
        (1u32..4).prop_map(|n| (Grain::Month, format!("rolling(count_distinct(orders.customer.segment), '{n} months')"))),
        Just((Grain::Day, "to_date(count_distinct(orders.customer_id), 'week')".to_string())),
        Just((Grain::Week, "to_date(count_distinct(orders.customer_id), 'month') / count(orders)".to_string())),
        Just((Grain::Month, "cumulative(count_distinct(orders.customer_id))".to_string())),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn spans_equal_the_range_join((grain, formula) in windows(), by_channel in any::<bool>(), start_day in 1u32..60, days in 20u32..90) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Duration::days(i64::from(start_day));
        let end = start + chrono::Duration::days(i64::from(days));
        let r = range(&start.to_string(), &end.to_string());
        let dims: Vec<&str> = if by_channel { vec!["orders.channel"] } else { vec![] };
        let query = Query::formula(formula.clone()).with_grain(grain).by(dims).with_range(r);
        let engine = engine();
        let utc = rt.block_on(engine.calculate(&query)).unwrap();
        let etc = rt.block_on(engine.calculate(&query.clone().with_calendar(Calendar::new(Tz::Etc__UTC)))).unwrap();
        let a: Vec<_> = utc.rows().into_iter().map(|r| (r.period, r.dimensions, r.value)).collect();
        let b: Vec<_> = etc.rows().into_iter().map(|r| (r.period, r.dimensions, r.value)).collect();
        prop_assert_eq!(a, b, "{}", formula);
    }
}
