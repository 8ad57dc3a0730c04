//! Fixtures shared by the benchmarks: a semantic model shaped like the standard catalog's
//! order-to-cash tables, and a hundred KPIs of the kinds analysts write.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use kpi_formula::{InMemoryModel, Relationship, TableModel};

fn ts() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, None)
}

/// Orders, lines, products, customers and expenses with their relationships.
pub fn model() -> InMemoryModel {
    let orders = Schema::new(vec![
        Field::new("order_id", DataType::Int64, false),
        Field::new("customer_id", DataType::Int64, true),
        Field::new("ordered_at", ts(), false),
        Field::new("order_value", DataType::Decimal128(18, 2), true),
        Field::new("status", DataType::Utf8, false),
        Field::new("channel", DataType::Utf8, false),
        Field::new("on_time", DataType::Boolean, true),
        Field::new("in_full", DataType::Boolean, true),
    ]);
    let lines = Schema::new(vec![
        Field::new("line_id", DataType::Int64, false),
        Field::new("order_id", DataType::Int64, false),
        Field::new("product_id", DataType::Int64, false),
        Field::new("quantity", DataType::Int32, true),
        Field::new("shipped_at", ts(), false),
    ]);
    let products = Schema::new(vec![
        Field::new("product_id", DataType::Int64, false),
        Field::new("category", DataType::Utf8, false),
        Field::new("unit_cost", DataType::Float64, false),
    ]);
    let customers = Schema::new(vec![
        Field::new("customer_id", DataType::Int64, false),
        Field::new("segment", DataType::Utf8, true),
        Field::new("signup_at", ts(), false),
    ]);
    let expenses = Schema::new(vec![
        Field::new("expense_id", DataType::Int64, false),
        Field::new("spent_at", ts(), false),
        Field::new("amount", DataType::Float64, false),
        Field::new("category", DataType::Utf8, false),
    ]);
    let mut m = InMemoryModel::new()
        .with_table(
            TableModel::new("orders", Arc::new(orders))
                .with_time_column("ordered_at")
                .with_primary_key(["order_id"])
                .with_relationship(Relationship::many_to_one("customer", "customers", [("customer_id", "customer_id")])),
        )
        .with_table(
            TableModel::new("order_lines", Arc::new(lines))
                .with_time_column("shipped_at")
                .with_primary_key(["line_id"])
                .with_relationship(Relationship::many_to_one("order", "orders", [("order_id", "order_id")]))
                .with_relationship(Relationship::many_to_one("product", "products", [("product_id", "product_id")])),
        )
        .with_table(TableModel::new("products", Arc::new(products)).with_primary_key(["product_id"]))
        .with_table(TableModel::new("customers", Arc::new(customers)).with_time_column("signup_at").with_primary_key(["customer_id"]))
        .with_table(TableModel::new("expenses", Arc::new(expenses)).with_time_column("spent_at").with_primary_key(["expense_id"]));
    for (code, formula) in kpis() {
        m.add_kpi(code, formula);
    }
    m
}

/// The typical KPI of the benchmark target: a two-table ratio with a filter, and its growth.
pub const TYPICAL: &str =
    "growth(sum(orders.order_value where orders.status = 'completed') / sum(expenses.amount where expenses.category = 'marketing'))";

/// One hundred KPIs: ratios, filtered aggregates, navigation, references and time functions.
pub fn kpis() -> Vec<(String, String)> {
    let shapes = [
        "sum(orders.order_value where orders.channel = '{c}')",
        "count(orders where orders.on_time and orders.in_full and orders.channel = '{c}') / count(orders where orders.channel = '{c}')",
        "sum(order_lines.quantity * order_lines.product.unit_cost where order_lines.order.channel = '{c}')",
        "count_distinct(orders.customer_id where orders.customer.segment = '{c}')",
        "growth(revenue_{c})",
        "rolling(sum(orders.order_value where orders.channel = '{c}'), '3 months') / rolling(count(orders), '3 months')",
        "revenue_{c} / nullif(sum(expenses.amount where expenses.category = '{c}'), 0)",
        "to_date(sum(orders.order_value where orders.status = '{c}'), 'year')",
        "median(orders.order_value where orders.channel = '{c}')",
        "case when count(orders where orders.channel = '{c}') > 0 then avg(orders.order_value where orders.channel = '{c}') else 0 end",
    ];
    let mut out = Vec::new();
    for i in 0..10 {
        let c = format!("v{i}");
        out.push((format!("revenue_{c}"), format!("sum(orders.order_value where orders.channel = '{c}')")));
        for (j, shape) in shapes.iter().enumerate().skip(1) {
            out.push((format!("kpi_{i}_{j}"), shape.replace("{c}", &c)));
        }
    }
    out
}

/// The same calculation as [`TYPICAL`] written as DataFusion SQL, to plan as a baseline.
pub const TYPICAL_SQL: &str = "WITH o AS (SELECT date_trunc('month', ordered_at) AS period, SUM(order_value) FILTER (WHERE status = 'completed') AS s FROM orders \
    WHERE ordered_at >= TIMESTAMP '2023-12-01' AND ordered_at < TIMESTAMP '2025-01-01' GROUP BY 1), \
    e AS (SELECT date_trunc('month', spent_at) AS period, SUM(amount) FILTER (WHERE category = 'marketing') AS s FROM expenses \
    WHERE spent_at >= TIMESTAMP '2023-12-01' AND spent_at < TIMESTAMP '2025-01-01' GROUP BY 1), \
    r AS (SELECT o.period, CAST(o.s AS DOUBLE) / NULLIF(e.s, 0) AS v FROM o FULL JOIN e ON o.period = e.period) \
    SELECT period, (v - LAG(v) OVER (ORDER BY period)) / NULLIF(LAG(v) OVER (ORDER BY period), 0) AS value FROM r";
