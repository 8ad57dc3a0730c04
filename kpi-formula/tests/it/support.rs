//! Test data (deterministic, with nulls, a month without orders, a missing customer and product,
//! an empty table) and a harness that compares a formula query with hand-written SQL.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray, TimestampMillisecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::logical_expr::TableSource;
use datafusion::prelude::SessionContext;
use kpi_formula::{Calendar, InMemoryModel, Query, Relationship, TableModel, TimeRange};

pub const JAN_1: i64 = 1_704_067_200; // 2024-01-01T00:00:00Z in seconds
const DAY: i64 = 86_400;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

fn schema(fields: Vec<Field>) -> SchemaRef {
    Arc::new(Schema::new(fields))
}

fn naive_us() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

/// The tables of the test world: schemas, models and batches.
pub struct World {
    pub model: InMemoryModel,
    pub ctx: SessionContext,
    pub sources: HashMap<String, Arc<dyn TableSource>>,
}

pub fn orders_schema() -> SchemaRef {
    schema(vec![
        Field::new("order_id", DataType::Int64, false),
        Field::new("customer_id", DataType::Int64, true),
        Field::new("ordered_at", naive_us(), false),
        Field::new("delivered_at", naive_us(), true),
        Field::new("order_value", DataType::Decimal128(18, 2), true),
        Field::new("status", DataType::Utf8, false),
        Field::new("channel", DataType::Utf8, false),
        Field::new("region", DataType::Utf8, false),
        Field::new("on_time", DataType::Boolean, true),
        Field::new("in_full", DataType::Boolean, false),
    ])
}

pub fn model() -> InMemoryModel {
    let customers = schema(vec![
        Field::new("customer_id", DataType::Int64, false),
        Field::new("segment", DataType::Utf8, true),
        Field::new("region", DataType::Utf8, false),
        Field::new("signup_at", naive_us(), false),
    ]);
    let products = schema(vec![
        Field::new("product_id", DataType::Int64, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("unit_cost", DataType::Float64, false),
    ]);
    let lines = schema(vec![
        Field::new("line_id", DataType::Int64, false),
        Field::new("order_id", DataType::Int64, false),
        Field::new("product_id", DataType::Int64, false),
        Field::new("quantity", DataType::Int32, true),
        Field::new("shipped_at", DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false),
    ]);
    let expenses = schema(vec![
        Field::new("expense_id", DataType::Int64, false),
        Field::new("spent_on", DataType::Date32, false),
        Field::new("amount", DataType::Float64, false),
        Field::new("category", DataType::Utf8, false),
    ]);
    let returns = schema(vec![
        Field::new("return_id", DataType::Int64, false),
        Field::new("returned_at", naive_us(), false),
        Field::new("amount", DataType::Float64, true),
    ]);
    InMemoryModel::new()
        .with_table(
            TableModel::new("orders", orders_schema())
                .with_time_column("ordered_at")
                .with_primary_key(["order_id"])
                .with_relationship(Relationship::many_to_one("customer", "customers", [("customer_id", "customer_id")])),
        )
        .with_table(TableModel::new("customers", customers).with_time_column("signup_at").with_primary_key(["customer_id"]))
        .with_table(TableModel::new("products", products).with_primary_key(["product_id"]))
        .with_table(
            TableModel::new("order_lines", lines)
                .with_time_column("shipped_at")
                .with_primary_key(["line_id"])
                .with_relationship(Relationship::many_to_one("order", "orders", [("order_id", "order_id")]))
                .with_relationship(Relationship::many_to_one("product", "products", [("product_id", "product_id")])),
        )
        .with_table(TableModel::new("expenses", expenses).with_time_column("spent_on").with_primary_key(["expense_id"]))
        .with_table(TableModel::new("returns", returns).with_time_column("returned_at").with_primary_key(["return_id"]))
        .with_kpi("revenue", "sum(orders.order_value)")
        .with_kpi("order_count", "count(orders)")
        .with_kpi("aov", "revenue / order_count")
        .with_kpi("perfect_order_rate", "count(orders where orders.on_time and orders.in_full) / count(orders)")
        .with_kpi("aov_growth", "growth(aov)")
}

/// Builds the world: 300 orders in 2024-01..06 except March, 600 lines, 39 of 40 customers,
/// 10 of 11 products, 50 expenses (March included), no returns.
pub fn world() -> World {
    let model = model();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let n = 300;
    let mut ordered = Vec::new();
    for _ in 0..n {
        let mut day = rng.below(182) as i64;
        if (60..91).contains(&day) {
            day += 31; // no orders in March 2024
        }
        ordered.push((JAN_1 + day * DAY + rng.below(DAY as u64) as i64) * 1_000_000);
    }
    let delivered: Vec<Option<i64>> =
        ordered.iter().map(|t| (!rng.chance(10)).then(|| t + rng.below(10 * DAY as u64 * 1_000_000) as i64)).collect();
    let value: Vec<Option<i128>> = (0..n).map(|_| (!rng.chance(5)).then(|| 1_000 + rng.below(49_000) as i128)).collect();
    let customer: Vec<Option<i64>> = (0..n).map(|_| (!rng.chance(3)).then(|| 1 + rng.below(40) as i64)).collect();
    let status: Vec<&str> = (0..n).map(|_| rng.pick(&["completed", "completed", "cancelled", "pending"])).collect();
    let channel: Vec<&str> = (0..n).map(|_| rng.pick(&["web", "app", "store"])).collect();
    let region: Vec<&str> = (0..n).map(|_| rng.pick(&["EU", "US"])).collect();
    let on_time: Vec<Option<bool>> = (0..n).map(|_| (!rng.chance(10)).then(|| rng.chance(80))).collect();
    let in_full: Vec<bool> = (0..n).map(|_| rng.chance(85)).collect();
    let orders = RecordBatch::try_new(
        orders_schema(),
        vec![
            Arc::new(Int64Array::from_iter_values(1..=n as i64)) as ArrayRef,
            Arc::new(Int64Array::from(customer)),
            Arc::new(TimestampMicrosecondArray::from(ordered.clone())),
            Arc::new(TimestampMicrosecondArray::from(delivered)),
            Arc::new(Decimal128Array::from(value).with_precision_and_scale(18, 2).unwrap()),
            Arc::new(StringArray::from(status)),
            Arc::new(StringArray::from(channel)),
            Arc::new(StringArray::from(region)),
            Arc::new(BooleanArray::from(on_time)),
            Arc::new(BooleanArray::from(in_full)),
        ],
    )
    .unwrap();

    let c = 39;
    let customers = RecordBatch::try_new(
        model.schema("customers").unwrap().clone().into(),
        vec![
            Arc::new(Int64Array::from_iter_values(1..=c)) as ArrayRef,
            Arc::new(StringArray::from(
                (0..c)
                    .map(|_| match rng.below(3) {
                        0 => Some("enterprise"),
                        1 => Some("smb"),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            )),
            Arc::new(StringArray::from((0..c).map(|_| rng.pick(&["EU", "US"])).collect::<Vec<_>>())),
            Arc::new(TimestampMicrosecondArray::from(
                (0..c).map(|_| (JAN_1 + rng.below(182) as i64 * DAY) * 1_000_000).collect::<Vec<_>>(),
            )),
        ],
    )
    .unwrap();
    let products = RecordBatch::try_new(
        model.schema("products").unwrap().clone().into(),
        vec![
            Arc::new(Int64Array::from_iter_values(1..=10)) as ArrayRef,
            Arc::new(StringArray::from((0..10).map(|_| rng.pick(&["tools", "toys", "food"])).collect::<Vec<_>>())),
            Arc::new(Float64Array::from((0..10).map(|_| 0.5 + rng.below(2000) as f64 / 100.0).collect::<Vec<_>>())),
        ],
    )
    .unwrap();
    let l = 600;
    let line_orders: Vec<i64> = (0..l).map(|_| 1 + rng.below(n as u64) as i64).collect();
    let lines = RecordBatch::try_new(
        model.schema("order_lines").unwrap().clone().into(),
        vec![
            Arc::new(Int64Array::from_iter_values(1..=l as i64)) as ArrayRef,
            Arc::new(Int64Array::from(line_orders.clone())),
            Arc::new(Int64Array::from((0..l).map(|_| 1 + rng.below(11) as i64).collect::<Vec<_>>())),
            Arc::new(Int32Array::from((0..l).map(|_| (!rng.chance(5)).then(|| 1 + rng.below(5) as i32)).collect::<Vec<_>>())),
            Arc::new(
                TimestampMillisecondArray::from(
                    line_orders
                        .iter()
                        .map(|o| ordered[(*o - 1) as usize] / 1000 + rng.below(3 * DAY as u64 * 1000) as i64)
                        .collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
        ],
    )
    .unwrap();
    let e = 50;
    let expenses = RecordBatch::try_new(
        model.schema("expenses").unwrap().clone().into(),
        vec![
            Arc::new(Int64Array::from_iter_values(1..=e)) as ArrayRef,
            Arc::new(Date32Array::from((0..e).map(|_| (JAN_1 / DAY + rng.below(182) as i64) as i32).collect::<Vec<_>>())),
            Arc::new(Float64Array::from((0..e).map(|_| 100.0 + rng.below(100_000) as f64 / 100.0).collect::<Vec<_>>())),
            Arc::new(StringArray::from((0..e).map(|_| rng.pick(&["marketing", "ops"])).collect::<Vec<_>>())),
        ],
    )
    .unwrap();
    let returns = RecordBatch::new_empty(model.schema("returns").unwrap().clone().into());
    let tables = [
        ("orders", orders),
        ("customers", customers),
        ("products", products),
        ("order_lines", lines),
        ("expenses", expenses),
        ("returns", returns),
    ];
    build_world(model, tables.into_iter().map(|(n, b)| (n.to_string(), b)).collect())
}

/// Events `(id, at)` at `ts` (epoch µs) on a time column of zone `tz` (`None`: wall-clock times).
pub fn event_world(ts: Vec<i64>, tz: Option<&str>) -> World {
    let ty = DataType::Timestamp(TimeUnit::Microsecond, tz.map(Arc::from));
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false), Field::new("at", ty, false)]));
    let model = InMemoryModel::new().with_table(TableModel::new("events", schema.clone()).with_time_column("at").with_primary_key(["id"]));
    let n = ts.len() as i64;
    let mut array = TimestampMicrosecondArray::from(ts);
    if let Some(tz) = tz {
        array = array.with_timezone(tz);
    }
    let batch = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from_iter_values(0..n)), Arc::new(array)]).unwrap();
    build_world(model, vec![("events".into(), batch)])
}

/// Registers batches as tables, both for SQL and as plan sources.
pub fn build_world(model: InMemoryModel, tables: Vec<(String, RecordBatch)>) -> World {
    let ctx = SessionContext::new();
    let mut sources = HashMap::new();
    for (name, batch) in tables {
        let provider = Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]]).unwrap());
        ctx.register_table(name.as_str(), provider.clone()).unwrap();
        sources.insert(name, provider_as_source(provider));
    }
    World { model, ctx, sources }
}

/// One result row: period (epoch µs), dimension values as text, value.
pub type Row = (Option<i64>, Vec<Option<String>>, Option<f64>);

fn micros(col: &ArrayRef) -> Vec<Option<i64>> {
    let unit = match col.data_type() {
        DataType::Timestamp(u, _) => *u,
        other => panic!("period column has type {other}"),
    };
    let raw = cast(col, &DataType::Int64).unwrap();
    let raw = raw.as_any().downcast_ref::<Int64Array>().unwrap();
    let scale = |v: i64| match unit {
        TimeUnit::Second => v * 1_000_000,
        TimeUnit::Millisecond => v * 1_000,
        TimeUnit::Microsecond => v,
        TimeUnit::Nanosecond => v / 1_000,
    };
    raw.iter().map(|v| v.map(scale)).collect()
}

/// Reads batches whose columns are [period?] dims... value.
pub fn rows(batches: &[RecordBatch], has_period: bool) -> Vec<Row> {
    let mut out = Vec::new();
    for b in batches {
        let n = b.num_columns();
        let periods = if has_period { micros(b.column(0)) } else { vec![None; b.num_rows()] };
        let first_dim = usize::from(has_period);
        let dims: Vec<Vec<Option<String>>> = (first_dim..n - 1)
            .map(|i| {
                let s = cast(b.column(i), &DataType::Utf8).unwrap();
                s.as_any().downcast_ref::<StringArray>().unwrap().iter().map(|x| x.map(str::to_string)).collect()
            })
            .collect();
        let values = cast(b.column(n - 1), &DataType::Float64).unwrap();
        let values = values.as_any().downcast_ref::<Float64Array>().unwrap();
        for r in 0..b.num_rows() {
            let v = values.is_valid(r).then(|| values.value(r));
            out.push((periods[r], dims.iter().map(|d| d[r].clone()).collect(), v));
        }
    }
    out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    out
}

/// Runs a query through kpi-formula's plan.
pub async fn run(w: &World, query: &Query) -> Vec<Row> {
    let plan = kpi_formula::plan(query, &w.model, &w.sources).unwrap_or_else(|e| panic!("planning failed:\n{e}"));
    let batches = w.ctx.execute_logical_plan(plan).await.unwrap().collect().await.unwrap_or_else(|e| panic!("execution failed: {e}"));
    rows(&batches, query.grain.is_some())
}

/// Runs hand-written SQL whose columns are [period] dims... value.
pub async fn run_sql(w: &World, sql: &str, has_period: bool) -> Vec<Row> {
    let df = w.ctx.sql(sql).await.unwrap_or_else(|e| panic!("bad oracle SQL: {e}\n{sql}"));
    rows(&df.collect().await.unwrap(), has_period)
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => false,
    }
}

/// Asserts two results have the same keys and values (to 1e-9 relative).
pub fn assert_same(name: &str, ours: &[Row], oracle: &[Row]) {
    let fmt = |rows: &[Row]| rows.iter().map(|r| format!("{:?}", r)).collect::<Vec<_>>().join("\n");
    assert_eq!(ours.len(), oracle.len(), "{name}: row counts differ\nours:\n{}\noracle:\n{}", fmt(ours), fmt(oracle));
    for (a, b) in ours.iter().zip(oracle) {
        assert!(a.0 == b.0 && a.1 == b.1 && close(a.2, b.2), "{name}: {a:?} != {b:?}\nours:\n{}\noracle:\n{}", fmt(ours), fmt(oracle));
    }
}

/// The 2024 H1 range in UTC.
pub fn h1() -> TimeRange {
    TimeRange::parse("2024-01-01", "2024-07-01", &Calendar::default()).unwrap()
}

/// `VALUES` of the month starts of 2024 H1, as the oracle's period series.
pub const H1_MONTHS: &str = "SELECT * FROM (VALUES (TIMESTAMP '2024-01-01'), (TIMESTAMP '2024-02-01'), (TIMESTAMP '2024-03-01'), (TIMESTAMP '2024-04-01'), (TIMESTAMP '2024-05-01'), (TIMESTAMP '2024-06-01')) AS t(period)";

/// Oracle SQL: per-month aggregates `aggs` of `from` (a table or join whose time column is
/// `time`), left-joined to every month of H1, then `value` over the joined columns.
pub fn monthly(aggs: &str, value: &str, from: &str, time: &str) -> String {
    format!(
        "WITH p AS ({H1_MONTHS}), a AS (SELECT date_trunc('month', {time}) AS period, {aggs} FROM {from} \
         WHERE {time} >= TIMESTAMP '2024-01-01' AND {time} < TIMESTAMP '2024-07-01' GROUP BY 1) \
         SELECT p.period, {value} AS value FROM p LEFT JOIN a ON p.period = a.period"
    )
}

/// Compares a query with hand-written SQL over the test world.
pub async fn check(name: &str, query: Query, sql: &str) {
    let w = world();
    let ours = run(&w, &query).await;
    let oracle = run_sql(&w, sql, query.grain.is_some()).await;
    assert_same(name, &ours, &oracle);
}

/// A test comparing a query with hand-written SQL (see [`check`]).
macro_rules! case {
    ($name:ident, $query:expr, $sql:expr) => {
        #[tokio::test]
        async fn $name() {
            $crate::support::check(stringify!($name), $query, &$sql).await;
        }
    };
}
pub(crate) use case;
