//! The first and last time of a table's rows: the default time range of a query that gives none.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use datafusion::catalog::TableProvider;
use datafusion::common::ScalarValue;
use datafusion::functions_aggregate::expr_fn::{max, min};
use datafusion::prelude::{SessionContext, col};
use kpi_formula::Calendar;
use tokio::sync::OnceCell;

use crate::error::EngineError;

/// A time as stored: wall-clock (dates, timestamps without zone) or an instant.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Stored {
    /// A wall-clock time, read in the query's calendar.
    Local(chrono::NaiveDateTime),
    /// An instant.
    Instant(DateTime<Utc>),
}

impl Stored {
    fn of(value: &ScalarValue) -> Option<Stored> {
        match value {
            ScalarValue::TimestampMicrosecond(Some(us), None) => DateTime::from_timestamp_micros(*us).map(|t| Stored::Local(t.naive_utc())),
            ScalarValue::TimestampMicrosecond(Some(us), Some(_)) => DateTime::from_timestamp_micros(*us).map(Stored::Instant),
            ScalarValue::Date32(Some(days)) => NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|d| d.checked_add_signed(chrono::Duration::days(i64::from(*days))))
                .map(|d| Stored::Local(d.and_hms_opt(0, 0, 0).expect("midnight exists"))),
            _ => None,
        }
    }

    /// The instant this time stands for in `calendar`.
    pub(crate) fn instant(self, calendar: &Calendar) -> DateTime<Utc> {
        match self {
            Stored::Local(t) => calendar.to_instant(t),
            Stored::Instant(t) => t,
        }
    }
}

/// The bounds of a table's time column, computed once per data version.
#[derive(Debug, Default)]
pub(crate) struct TimeBounds(OnceCell<Option<(Stored, Stored)>>);

impl TimeBounds {
    /// The earliest and latest time in `column`, or `None` when the table has no rows with a time.
    pub(crate) async fn get(
        &self,
        ctx: &SessionContext,
        provider: &Arc<dyn TableProvider>,
        column: &str,
    ) -> Result<Option<(Stored, Stored)>, EngineError> {
        self.0
            .get_or_try_init(|| async {
                let time = col(datafusion::common::Column::new_unqualified(column));
                let frame = ctx.read_table(provider.clone())?.aggregate(vec![], vec![min(time.clone()), max(time)])?;
                let batches = frame.collect().await?;
                let Some(batch) = batches.iter().find(|b| b.num_rows() > 0) else { return Ok(None) };
                let lo = ScalarValue::try_from_array(batch.column(0), 0)?;
                let hi = ScalarValue::try_from_array(batch.column(1), 0)?;
                Ok(Stored::of(&lo).zip(Stored::of(&hi)))
            })
            .await
            .copied()
            .map_err(EngineError::Execution)
    }
}
