//! A KPI over two time ranges side by side (this month against last, this year against last).

use kpi_formula::TimeRange;
use serde::Serialize;
use serde_json::{Value, json};

use super::{DimensionValue, KpiInfo, KpiResult, Status, Trend, rfc3339};

/// One dimension group's value in both ranges.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComparisonRow {
    /// The group's dimension values (empty without dimensions).
    pub dimensions: Vec<DimensionValue>,
    /// The value over the current range.
    pub current: Option<f64>,
    /// The value over the previous range.
    pub previous: Option<f64>,
    /// The current value against the thresholds.
    pub status: Status,
    /// The current value against the previous.
    pub trend: Trend,
}

/// A KPI over two ranges; groups present in only one range have `None` in the other.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// The KPI.
    pub info: KpiInfo,
    /// The dimension labels.
    pub dimensions: Vec<String>,
    /// The current range.
    pub current: TimeRange,
    /// The range compared against.
    pub previous: TimeRange,
    /// One row per dimension group, in the current result's order, then the groups only the
    /// previous range has.
    pub rows: Vec<ComparisonRow>,
}

impl Comparison {
    /// Pairs two single-period results of the same query by dimension values.
    pub(crate) fn of(current: &KpiResult, previous: &KpiResult, ranges: (TimeRange, TimeRange)) -> Comparison {
        let info = current.info.clone();
        let now = current.rows();
        let before = previous.rows();
        let row = |dimensions: Vec<DimensionValue>, current: Option<f64>, previous: Option<f64>| ComparisonRow {
            dimensions,
            current,
            previous,
            status: Status::of(current, info.direction, &info.thresholds),
            trend: Trend::between(current, previous, info.direction),
        };
        let mut rows: Vec<ComparisonRow> = now
            .iter()
            .map(|r| {
                let prev = before.iter().find(|p| p.dimensions == r.dimensions).and_then(|p| p.value);
                row(r.dimensions.clone(), r.value, prev)
            })
            .collect();
        for p in before.iter().filter(|p| !now.iter().any(|r| r.dimensions == p.dimensions)) {
            rows.push(row(p.dimensions.clone(), None, p.value));
        }
        Comparison { dimensions: current.query.dimensions.clone(), current: ranges.0, previous: ranges.1, rows, info }
    }

    /// As JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "kpi": self.info.code,
            "dimensions": self.dimensions,
            "current": { "start": rfc3339(self.current.start), "end": rfc3339(self.current.end) },
            "previous": { "start": rfc3339(self.previous.start), "end": rfc3339(self.previous.end) },
            "rows": self.rows,
        })
    }
}
