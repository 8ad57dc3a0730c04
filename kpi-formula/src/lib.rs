//! # kpi-formula — the KPI formula language
//!
//! Analyst-friendly, SQL-flavoured formulas such as
//! `count(orders where orders.on_time and orders.in_full) / count(orders)` are parsed with
//! source spans, resolved against a [`SemanticModel`] (tables with Arrow schemas, time columns,
//! keys, many-to-one relationships, other KPIs), checked, and lowered to a DataFusion
//! [`LogicalPlan`](datafusion::logical_expr::LogicalPlan) for a [`Query`]: a grain, dimensions,
//! a half-open time range, a filter, security row filters and a calendar.
//!
//! ```
//! use std::sync::Arc;
//! use datafusion::arrow::array::{Float64Array, Int64Array, RecordBatch, TimestampMicrosecondArray};
//! use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
//! use datafusion::datasource::{MemTable, provider_as_source};
//! use datafusion::prelude::SessionContext;
//! use kpi_formula::{Calendar, Grain, InMemoryModel, Query, TableModel, TimeRange};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let schema = Arc::new(Schema::new(vec![
//!     Field::new("order_id", DataType::Int64, false),
//!     Field::new("ordered_at", DataType::Timestamp(TimeUnit::Microsecond, None), false),
//!     Field::new("order_value", DataType::Float64, true),
//! ]));
//! let model = InMemoryModel::new()
//!     .with_table(TableModel::new("orders", schema.clone()).with_time_column("ordered_at").with_primary_key(["order_id"]))
//!     .with_kpi("revenue", "sum(orders.order_value)");
//!
//! // 2024-01-10, 2024-01-20 and 2024-02-05 (microseconds since the epoch)
//! let batch = RecordBatch::try_new(schema.clone(), vec![
//!     Arc::new(Int64Array::from(vec![1, 2, 3])),
//!     Arc::new(TimestampMicrosecondArray::from(vec![1_704_844_800_000_000, 1_705_708_800_000_000, 1_707_091_200_000_000])),
//!     Arc::new(Float64Array::from(vec![10.0, 30.0, 5.0])),
//! ])?;
//! let ctx = SessionContext::new();
//! let table = Arc::new(MemTable::try_new(schema, vec![vec![batch]])?);
//! let sources = std::collections::HashMap::from([("orders".to_string(), provider_as_source(table))]);
//!
//! let calendar = Calendar::default();
//! let query = Query::formula("revenue / count(orders)")
//!     .with_grain(Grain::Month)
//!     .with_range(TimeRange::parse("2024-01-01", "2024-03-01", &calendar)?);
//! let plan = kpi_formula::compile(&query, &model)?.to_logical_plan(&sources)?;
//! let batches = ctx.execute_logical_plan(plan).await?.collect().await?;
//! let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)?.to_string();
//! assert!(text.contains("| 2024-01-01T00:00:00Z | 20.0  |"), "{text}");
//! assert!(text.contains("| 2024-02-01T00:00:00Z | 5.0   |"), "{text}");
//! # Ok(()) }
//! ```
//!
//! ## Grammar
//!
//! Keywords and function names are case-insensitive; names are case-sensitive. `--` starts a
//! comment to the end of the line. Names that clash with keywords or hold other characters are
//! quoted: `"end"`, `` `unit cost` ``.
//!
//! ```ebnf
//! formula     = expr ;
//! expr        = or ;
//! or          = and { "or" and } ;
//! and         = not { "and" not } ;
//! not         = "not" not | comparison ;
//! comparison  = additive [ compare_op additive
//!                        | "is" [ "not" ] "null"
//!                        | [ "not" ] "in" "(" expr { "," expr } ")"
//!                        | [ "not" ] "between" additive "and" additive
//!                        | [ "not" ] "like" additive ] ;
//! compare_op  = "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" ;
//! additive    = term { ( "+" | "-" ) term } ;
//! term        = unary { ( "*" | "/" | "%" ) unary } ;
//! unary       = ( "-" | "+" ) unary | primary ;
//! primary     = literal | path | call | case | "(" expr ")" ;
//! call        = name "(" [ expr [ "where" expr ] { "," expr } ] ")" ;
//! case        = "case" [ expr ] ( "when" expr "then" expr )+ [ "else" expr ] "end" ;
//! path        = name { "." name } ;
//! name        = letter { letter | digit | "_" } | '"' { char } '"' | "`" { char } "`" ;
//! literal     = number | string | "true" | "false" | "null" ;
//! number      = digit { digit } [ "." { digit } ] [ ( "e" | "E" ) [ "+" | "-" ] digit { digit } ] ;
//! string      = "'" { char | "''" } "'" ;
//! ```
//!
//! Comparisons do not chain (`a < b < c` is an error). Nesting is limited to
//! [`MAX_DEPTH`](parser::MAX_DEPTH) levels, so no input can overflow the stack.
//!
//! ## Meaning
//!
//! * **Aggregates** — `sum`, `count`, `count_distinct`, `avg`, `min`, `max`, `median`,
//!   `percentile(x, 0.95)` (continuous, like SQL `percentile_cont`), `percentile_disc(x, 0.95)`
//!   (discrete: always one of the values) and `approx_percentile(x, 0.95)` (a t-digest, in
//!   bounded memory). `count(orders)` counts rows;
//!   `count(orders.x)` counts non-null values. Any aggregate takes a filter inside its parentheses:
//!   `sum(orders.value where orders.status = 'completed')`.
//! * **Navigation** — inside an aggregate, `order_lines.product.unit_cost` follows the
//!   many-to-one relationship `product`. A column of another table, e.g. `customers.discount` in an
//!   aggregate over `orders`, is reached through the one shortest many-to-one path. Relationships
//!   must join on the target's primary key; one-to-many steps are refused (they would repeat rows).
//! * **KPI references** — a bare name outside aggregates is another KPI, inlined; cycles are errors.
//! * **Scalars** — arithmetic, comparisons, `and`/`or`/`not`, `in`, `between`, `like`,
//!   `is [not] null`, `case`, `coalesce`, `nullif`, `abs`, `round`, `floor`, `ceil`, `sqrt`,
//!   `power`, `least`, `greatest`, `lower`, `upper`, `days_between(a, b)`, `hours_between`,
//!   `minutes_between`. SQL null semantics. `/` is always real division and gives null when
//!   dividing by zero. Results are `Float64`.
//! * **Date parts** — `year`, `quarter`, `month`, `week` (ISO), `day`, `dow` (ISO: Monday 1 …
//!   Sunday 7), `doy`, `hour`, `minute` of a time column, in the query's calendar, in filters and
//!   as dimensions: `by=["dow(orders.ordered_at)"]`.
//! * **Time intelligence** at the query grain (the query needs a grain and a time range):
//!   `prev(x[, n])` is `x` `n` periods earlier, `prev(x, '1 year')` at the period starting a
//!   calendar span earlier (the same day last year, by day; none where no period starts there);
//!   `growth(x[, n | 'span']) = (x - prev(x, ...)) / prev(x, ...)`;
//!   `at_start(x, 'month')` is `x` at the first period of the enclosing month (so
//!   `x - at_start(x, 'month')` is the change since the month began);
//!   `rolling(x, '30 days')` evaluates every aggregate in `x` over the span ending with the
//!   current period (by month, the 30 days ending with the month's end; `rolling(x, '30 days',
//!   'first' | 'average')` takes the window ending with the month's first day, or the average of
//!   the windows ending with each of its days);
//!   `to_date(x, 'month')` over the periods from the start of the month; `cumulative(x)` over all
//!   rows up to the end of the period (without a grain: up to the range's end, or every row);
//!   `last(sum(balances.amount))` over the rows at each period's last time (`first` at its
//!   first), `last(sum(balances.amount), balances.account_id)` each account at its own last time
//!   (semi-additive measures such as balances and inventory levels). Windows re-aggregate rows, so `rolling(avg(...))` is the
//!   average of the rows in the window and `rolling(count_distinct(...))` counts distinct values
//!   across it. Periods without rows count: the engine builds the full series of periods and
//!   widens the scan back as far as the functions need.
//!
//! * **Per-entity values** in an aggregate's `where`: `per(orders.customer_id, count(orders))`
//!   is the customer's order count over all of their rows, so
//!   `sum(orders.order_value where per(orders.customer_id, count(orders)) > 5)` is the revenue of
//!   customers with more than five orders; `per(customers.customer_id, revenue,
//!   orders.customer_id)` matches another table's column. An entity without rows has no value
//!   (null): write `coalesce(per(...), 0)` to count it as zero.
//! * **Conversions** (funnels, MetricFlow's conversion metrics):
//!   `conversions(count(visits), count(buys), visits.user_id = buys.user_id, '7 days')` counts
//!   the buys that follow a visit of the same user within seven days, each buy matched to the
//!   latest visit at or before it and counted in that visit's period and dimensions;
//!   `conversion_rate(...)` divides by the visits. More `and base.p = conversion.p` pairs hold
//!   properties constant; without the window any later buy counts. Zoned timestamps are
//!   compared as instants (a day is 24 hours), naive ones and dates on their wall clock.
//!
//! ## Time
//!
//! Periods are bucketed in the query's [`Calendar`]: an IANA time zone and a week start.
//! Timestamp columns with a time zone are instants; columns without one (and dates) are
//! wall-clock times in the calendar's zone, as the Arrow format defines them. With a grain the
//! time range is widened to whole periods. Tables without a time column are static: their
//! aggregates have the same value in every period.
//!
//! ## Diagnostics
//!
//! Every error in formula text is a [`Diagnostic`] with a [`Span`], line and column, what was
//! expected and found, and a did-you-mean for unknown names; it renders with the source line and
//! a caret:
//!
//! ```text
//! error[unknown-column]: unknown column `ordr_value` in table `orders`
//!  --> formula:1:12
//!   |
//! 1 | sum(orders.ordr_value)
//!   |            ^^^^^^^^^^ expected a column of `orders`, found `ordr_value`
//!   |
//!   = help: did you mean `order_value`?
//! ```

#![warn(missing_docs)]
// Diagnostics are deliberately rich (spans, expected/found, help, source); they are the error
// path, so their size in `Result` costs nothing that matters.
#![allow(clippy::result_large_err)]

pub mod ast;
pub mod custom_calendar;
pub mod diagnostic;
pub mod error;
pub mod ir;
pub mod lexer;
mod lower;
pub mod model;
pub mod parser;
pub mod period;
mod query;
mod resolve;
pub mod span;

pub use diagnostic::{Diagnostic, Diagnostics, ErrorKind};
pub use error::{ErrorCategory, FormulaError, QueryError};
pub use lower::wire as extensions;
pub use lower::{IncrementalAggregate, IncrementalPlan, MAX_PERIODS, ModelSources, ScanShape, TableSources, to_shared_logical_plan};
pub use model::{Cardinality, InMemoryModel, Relationship, SemanticModel, TableModel};
pub use parser::parse;
pub use period::{Calendar, CalendarSpan, Grain, MAX_REACH_YEARS, MAX_YEAR, MIN_YEAR, TimeRange, check_supported};
pub use query::{CompiledQuery, Dimension, EmptyPeriods, MAX_DIMENSIONS, Query, SecurityContext, Target, compile};
pub use resolve::{MAX_KPI_DEPTH, ResolvedFormula, check_formula, check_kpi};
pub use span::{LineCol, Source, Span};

/// Compiles a query and lowers it to a DataFusion logical plan in one step.
pub fn plan(
    query: &Query,
    model: &dyn SemanticModel,
    sources: &dyn TableSources,
) -> Result<datafusion::logical_expr::LogicalPlan, FormulaError> {
    compile(query, model)?.to_logical_plan(sources)
}
