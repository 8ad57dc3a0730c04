//! The main job (`make demo`): generates a year of order-to-cash demo data in memory, defines a
//! dozen KPIs in the formula language, and prints a monthly dashboard — latest value, change
//! against the previous month, and how long each KPI took — computed by DataFusion plans that
//! kpi-formula builds.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::datasource::{MemTable, provider_as_source};
use datafusion::logical_expr::TableSource;
use datafusion::prelude::SessionContext;
use kpi_formula::{Calendar, Grain, InMemoryModel, Query, Relationship, TableModel, TimeRange};

const ORDERS: usize = 200_000;
const YEAR_START: i64 = 1_704_067_200_000_000; // 2024-01-01T00:00:00Z in µs
const YEAR_US: i64 = 366 * 86_400_000_000;

/// A small deterministic generator, so every run shows the same numbers.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn schema(fields: Vec<Field>) -> SchemaRef {
    Arc::new(Schema::new(fields))
}

fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

fn tables() -> Vec<(TableModel, RecordBatch)> {
    let mut rng = Rng(42);
    let customers = 5_000;
    let orders_schema = schema(vec![
        Field::new("order_id", DataType::Int64, false),
        Field::new("customer_id", DataType::Int64, false),
        Field::new("ordered_at", ts(), false),
        Field::new("delivered_at", ts(), true),
        Field::new("order_value", DataType::Float64, true),
        Field::new("channel", DataType::Utf8, false),
        Field::new("status", DataType::Utf8, false),
        Field::new("on_time", DataType::Boolean, true),
        Field::new("in_full", DataType::Boolean, false),
    ]);
    let mut ordered = Vec::with_capacity(ORDERS);
    let mut delivered = Vec::with_capacity(ORDERS);
    let mut value = Vec::with_capacity(ORDERS);
    let mut channel = Vec::with_capacity(ORDERS);
    let mut status = Vec::with_capacity(ORDERS);
    let mut on_time = Vec::with_capacity(ORDERS);
    let mut in_full = Vec::with_capacity(ORDERS);
    let mut customer = Vec::with_capacity(ORDERS);
    for _ in 0..ORDERS {
        // Growth through the year: later timestamps are more likely.
        let t = YEAR_START + (rng.unit().sqrt() * YEAR_US as f64) as i64;
        ordered.push(t);
        delivered.push((rng.unit() > 0.05).then(|| t + (rng.unit() * 6.0 * 86_400_000_000.0) as i64));
        value.push((rng.unit() > 0.01).then(|| (20.0 + rng.unit() * 480.0).round()));
        channel.push(["web", "app", "store"][(rng.next() % 3) as usize]);
        status.push(["completed", "completed", "completed", "cancelled", "returned"][(rng.next() % 5) as usize]);
        on_time.push((rng.unit() > 0.02).then(|| rng.unit() > 0.08 + 0.1 * ((t - YEAR_START) as f64 / YEAR_US as f64)));
        in_full.push(rng.unit() > 0.04);
        customer.push(1 + (rng.next() % customers) as i64);
    }
    let orders = RecordBatch::try_new(
        orders_schema.clone(),
        vec![
            Arc::new(Int64Array::from_iter_values(1..=ORDERS as i64)) as ArrayRef,
            Arc::new(Int64Array::from(customer)),
            Arc::new(TimestampMicrosecondArray::from(ordered)),
            Arc::new(TimestampMicrosecondArray::from(delivered)),
            Arc::new(Float64Array::from(value)),
            Arc::new(StringArray::from(channel)),
            Arc::new(StringArray::from(status)),
            Arc::new(BooleanArray::from(on_time)),
            Arc::new(BooleanArray::from(in_full)),
        ],
    )
    .expect("orders batch");
    let customers_schema = schema(vec![
        Field::new("customer_id", DataType::Int64, false),
        Field::new("segment", DataType::Utf8, false),
        Field::new("signed_up_at", ts(), false),
    ]);
    let n = customers as usize;
    let customers_batch = RecordBatch::try_new(
        customers_schema.clone(),
        vec![
            Arc::new(Int64Array::from_iter_values(1..=n as i64)) as ArrayRef,
            Arc::new(StringArray::from((0..n).map(|i| ["enterprise", "mid-market", "smb", "smb"][i % 4]).collect::<Vec<_>>())),
            Arc::new(TimestampMicrosecondArray::from(
                (0..n).map(|_| YEAR_START + (rng.unit() * YEAR_US as f64) as i64).collect::<Vec<_>>(),
            )),
        ],
    )
    .expect("customers batch");
    let expenses_schema = schema(vec![
        Field::new("expense_id", DataType::Int64, false),
        Field::new("spent_at", ts(), false),
        Field::new("amount", DataType::Float64, false),
        Field::new("category", DataType::Utf8, false),
    ]);
    let e = 2_000;
    let expenses = RecordBatch::try_new(
        expenses_schema.clone(),
        vec![
            Arc::new(Int64Array::from_iter_values(1..=e as i64)) as ArrayRef,
            Arc::new(TimestampMicrosecondArray::from(
                (0..e).map(|_| YEAR_START + (rng.unit() * YEAR_US as f64) as i64).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from((0..e).map(|_| 500.0 + rng.unit() * 4_500.0).collect::<Vec<_>>())),
            Arc::new(StringArray::from((0..e).map(|i| ["marketing", "operations"][i % 2]).collect::<Vec<_>>())),
        ],
    )
    .expect("expenses batch");
    vec![
        (
            TableModel::new("orders", orders_schema)
                .with_time_column("ordered_at")
                .with_primary_key(["order_id"])
                .with_relationship(Relationship::many_to_one("customer", "customers", [("customer_id", "customer_id")])),
            orders,
        ),
        (
            TableModel::new("customers", customers_schema).with_time_column("signed_up_at").with_primary_key(["customer_id"]),
            customers_batch,
        ),
        (TableModel::new("expenses", expenses_schema).with_time_column("spent_at").with_primary_key(["expense_id"]), expenses),
    ]
}

const KPIS: &[(&str, &str, &str)] = &[
    ("revenue", "Revenue", "sum(orders.order_value where orders.status = 'completed')"),
    ("orders", "Orders", "count(orders)"),
    ("aov", "Average order value", "revenue / count(orders where orders.status = 'completed')"),
    ("perfect_order_rate", "Perfect order rate", "count(orders where orders.on_time and orders.in_full) / count(orders)"),
    ("on_time_delivery", "On-time delivery", "count(orders where orders.on_time) / count(orders.on_time)"),
    ("cycle_time_days", "Order cycle time (days)", "avg(days_between(orders.ordered_at, orders.delivered_at))"),
    ("p95_order_value", "95th percentile order", "percentile(orders.order_value, 0.95)"),
    ("active_customers", "Active customers", "count_distinct(orders.customer_id)"),
    (
        "enterprise_share",
        "Enterprise revenue share",
        "sum(orders.order_value where orders.customer.segment = 'enterprise') / sum(orders.order_value)",
    ),
    ("return_rate", "Return rate", "count(orders where orders.status = 'returned') / count(orders)"),
    ("marketing_roi", "Revenue per marketing $", "revenue / sum(expenses.amount where expenses.category = 'marketing')"),
    ("revenue_3m", "Revenue, rolling 3 months", "rolling(revenue, '3 months')"),
    ("revenue_ytd", "Revenue, year to date", "to_date(revenue, 'year')"),
    ("revenue_growth", "Revenue growth (MoM)", "growth(revenue)"),
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let mut model = InMemoryModel::new();
    let ctx = SessionContext::new();
    let mut sources: HashMap<String, Arc<dyn TableSource>> = HashMap::new();
    let mut rows = 0;
    for (table, batch) in tables() {
        rows += batch.num_rows();
        let provider = Arc::new(MemTable::try_new(batch.schema(), vec![vec![batch]])?);
        sources.insert(table.name.clone(), provider_as_source(provider));
        model.add_table(table);
    }
    for (code, _, formula) in KPIS {
        model.add_kpi(*code, *formula);
    }
    println!("KPI Engine quickstart: {rows} demo rows generated in {:.0?}\n", started.elapsed());

    let calendar = Calendar::default();
    let range = TimeRange::parse("2024-01-01", "2025-01-01", &calendar)?;
    println!("{:<28} {:>14} {:>14} {:>9} {:>9}", "KPI (December 2024)", "value", "November", "change", "time");
    println!("{}", "-".repeat(78));
    let dashboard = Instant::now();
    for (code, name, _) in KPIS {
        let t = Instant::now();
        let query = Query::kpi(*code).with_grain(Grain::Month).with_range(range);
        let plan = kpi_formula::plan(&query, &model, &sources)?;
        let batches = ctx.execute_logical_plan(plan).await?.collect().await?;
        let values: Vec<Option<f64>> = batches
            .iter()
            .flat_map(|b| {
                let v = b.column(1).as_any().downcast_ref::<Float64Array>().expect("value is Float64").clone();
                (0..v.len()).map(move |i| v.is_valid(i).then(|| v.value(i)))
            })
            .collect();
        let (last, prev) = (values.last().copied().flatten(), values.iter().rev().nth(1).copied().flatten());
        let change = match (last, prev) {
            (Some(a), Some(b)) if b != 0.0 => format!("{:+.1}%", (a - b) / b.abs() * 100.0),
            _ => "—".to_string(),
        };
        let fmt = |v: Option<f64>| v.map_or("—".to_string(), |v| if v.abs() < 10.0 { format!("{v:.3}") } else { format!("{v:.0}") });
        println!("{name:<28} {:>14} {:>14} {change:>9} {:>7.1?}", fmt(last), fmt(prev), t.elapsed());
    }
    println!("{}", "-".repeat(78));
    println!("{} KPIs × 12 months in {:.1?} (total run {:.1?})", KPIS.len(), dashboard.elapsed(), started.elapsed());
    Ok(())
}
