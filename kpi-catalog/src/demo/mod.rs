//! Demo data: deterministic, realistic rows for every object model of a catalog, as Arrow.
//!
//! Each object model gets `rows × demo.scale` rows (or `demo.rows`). Integer primary keys count
//! from 1; foreign keys always point at existing rows of the target (skewed towards its first
//! rows, so some customers and products are much busier than others); the time column follows
//! business activity (weekdays, working hours, a yearly season and growth over the range);
//! other columns follow their `demo` hint ([`Distribution`]) or a default for their type.
//! Rows are generated in parallel chunks, each with its own random stream derived from the
//! seed, the table and the chunk, so the same options always give the same data.

#[cfg(feature = "demo")]
mod columns;
#[cfg(feature = "demo")]
mod generate;
mod hint;
mod pool;
#[cfg(feature = "demo")]
mod rng;
mod spec;

#[cfg(feature = "demo")]
pub use generate::{DemoData, DemoOptions, MAX_DEMO_ROWS, generate};
pub(crate) use hint::check_hint;
pub use spec::{ColumnDemo, Distribution, ModelDemo};
