//! The resolved form of a formula: names bound to tables, columns and KPIs, types checked,
//! KPI references inlined. Lowering turns it into a DataFusion plan.

use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime};
use datafusion::arrow::datatypes::DataType;

use crate::ast::{BinaryOp, UnaryOp};
use crate::period::{CalendarSpan, Grain};
use crate::span::Span;

/// The types the language checks; Arrow types map onto these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueType {
    /// Any integer, float or decimal.
    Number,
    /// Text.
    String,
    /// `true`/`false`.
    Boolean,
    /// A point in time.
    Timestamp,
    /// A calendar date.
    Date,
    /// `null`: compatible with every type.
    Null,
}

impl ValueType {
    /// The language type of an Arrow type, if the language can use it.
    pub fn of(data_type: &DataType) -> Option<ValueType> {
        use DataType::*;
        Some(match data_type {
            Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 | Float16 | Float32 | Float64 => ValueType::Number,
            Decimal32(..) | Decimal64(..) | Decimal128(..) | Decimal256(..) => ValueType::Number,
            Utf8 | LargeUtf8 | Utf8View => ValueType::String,
            Dictionary(_, v) => return ValueType::of(v),
            Boolean => ValueType::Boolean,
            Timestamp(..) => ValueType::Timestamp,
            Date32 | Date64 => ValueType::Date,
            Null => ValueType::Null,
            _ => return None,
        })
    }

    /// How the type reads in messages.
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Number => "a number",
            ValueType::String => "a string",
            ValueType::Boolean => "a true/false value",
            ValueType::Timestamp => "a timestamp",
            ValueType::Date => "a date",
            ValueType::Null => "null",
        }
    }

    /// Whether values of the two types can be compared or mixed in `coalesce`, `case`, ...
    pub fn compatible(self, other: ValueType) -> bool {
        self == other || self == ValueType::Null || other == ValueType::Null
    }

    /// The common type of two compatible types.
    pub fn unify(self, other: ValueType) -> ValueType {
        if self == ValueType::Null { other } else { self }
    }
}

/// A literal after resolution. Strings compared with time columns become time literals.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Whole number.
    Integer(i64),
    /// Real number.
    Float(f64),
    /// Text.
    String(String),
    /// Boolean.
    Boolean(bool),
    /// Null.
    Null,
    /// A wall-clock time in the query's time zone, compared with a column of type `target`.
    LocalTimestamp(NaiveDateTime, DataType),
    /// A calendar date compared with a date column.
    Date(NaiveDate),
}

/// A column reached from `table` by following the relationships in `path`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ColumnRef {
    /// The table the path starts at.
    pub table: String,
    /// Relationship names followed from `table`.
    pub path: Vec<String>,
    /// The column in the table at the end of the path.
    pub column: String,
    /// The column's Arrow type.
    pub data_type: DataType,
    /// A date part of a time column (`month(orders.ordered_at)`), taken in the query's calendar.
    pub part: Option<DatePart>,
    /// Instead of the column, the value of a KPI-level expression for the entity the column
    /// holds (`per(bookings.listing_id, count(bookings))`).
    pub per: Option<Arc<PerEntity>>,
}

impl ColumnRef {
    /// The Arrow type of the reference's values: the column's, `Int64` for a date part, or
    /// `Float64` for a per-entity value.
    pub fn value_type(&self) -> DataType {
        match (&self.per, self.part) {
            (Some(_), _) => DataType::Float64,
            (None, Some(_)) => DataType::Int64,
            (None, None) => self.data_type.clone(),
        }
    }
}

/// A KPI-level expression calculated per entity over all the rows of its table (MetricFlow's
/// `Metric('bookings', group_by=['listing'])` in a filter): `metric` grouped by `key`, a
/// column of the one table its aggregates read.
#[derive(Clone, Debug, PartialEq)]
pub struct PerEntity {
    /// The expression, its aggregates without windows.
    pub metric: MetricExpr,
    /// The entity column the expression is grouped by.
    pub key: ColumnRef,
}

// Equality is structural; the literals of `metric` are never NaN (the parser reads none).
impl Eq for PerEntity {}

impl std::hash::Hash for PerEntity {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        // Equal values have equal keys; hashing the key alone keeps this consistent with `Eq`.
        self.key.hash(state);
    }
}

/// A calendar field of a time column, usable as a dimension and in filters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DatePart {
    /// The year, e.g. 2024.
    Year,
    /// The quarter, 1 to 4.
    Quarter,
    /// The month, 1 to 12.
    Month,
    /// The ISO week of the year, 1 to 53.
    Week,
    /// The day of the month, 1 to 31.
    Day,
    /// The ISO day of the week, 1 (Monday) to 7 (Sunday).
    DayOfWeek,
    /// The day of the year, 1 to 366.
    DayOfYear,
    /// The hour, 0 to 23.
    Hour,
    /// The minute, 0 to 59.
    Minute,
}

impl DatePart {
    /// Every part, in the order of [`DatePart::name`]'s list.
    pub const ALL: [DatePart; 9] = [
        DatePart::Year,
        DatePart::Quarter,
        DatePart::Month,
        DatePart::Week,
        DatePart::Day,
        DatePart::DayOfWeek,
        DatePart::DayOfYear,
        DatePart::Hour,
        DatePart::Minute,
    ];

    /// The function name in formulas: `year`, `quarter`, `month`, `week`, `day`, `dow`, `doy`,
    /// `hour`, `minute`.
    pub fn name(self) -> &'static str {
        match self {
            DatePart::Year => "year",
            DatePart::Quarter => "quarter",
            DatePart::Month => "month",
            DatePart::Week => "week",
            DatePart::Day => "day",
            DatePart::DayOfWeek => "dow",
            DatePart::DayOfYear => "doy",
            DatePart::Hour => "hour",
            DatePart::Minute => "minute",
        }
    }

    /// The part a function name stands for.
    pub fn from_name(name: &str) -> Option<DatePart> {
        DatePart::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// Built-in scalar functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarFunc {
    /// First non-null argument.
    Coalesce,
    /// Null if both arguments are equal, else the first.
    NullIf,
    /// Absolute value.
    Abs,
    /// Round half away from zero, to an optional number of digits.
    Round,
    /// Round down.
    Floor,
    /// Round up.
    Ceil,
    /// Square root (null for negative input).
    Sqrt,
    /// `power(base, exponent)`.
    Power,
    /// Smallest non-null argument.
    Least,
    /// Largest non-null argument.
    Greatest,
    /// Lower-case text.
    Lower,
    /// Upper-case text.
    Upper,
    /// Days from the first timestamp to the second, with fraction.
    DaysBetween,
    /// Hours from the first timestamp to the second, with fraction.
    HoursBetween,
    /// Minutes from the first timestamp to the second, with fraction.
    MinutesBetween,
}

/// An expression tree whose leaves are `L`: columns for row-level expressions, aggregates and
/// time shifts for KPI-level expressions.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar<L> {
    /// A leaf.
    Leaf(L),
    /// A literal.
    Literal(Value),
    /// `a op b`.
    Binary(BinaryOp, Box<Scalar<L>>, Box<Scalar<L>>),
    /// `-a`, `not a`.
    Unary(UnaryOp, Box<Scalar<L>>),
    /// `a is [not] null` (`true` = negated).
    IsNull(Box<Scalar<L>>, bool),
    /// `a [not] in (...)`.
    InList(Box<Scalar<L>>, Vec<Scalar<L>>, bool),
    /// `a [not] between low and high`.
    Between(Box<Scalar<L>>, Box<Scalar<L>>, Box<Scalar<L>>, bool),
    /// `a [not] like pattern`.
    Like(Box<Scalar<L>>, Box<Scalar<L>>, bool),
    /// `case`, with the simple form already turned into `when operand = value`.
    Case(Vec<(Scalar<L>, Scalar<L>)>, Option<Box<Scalar<L>>>),
    /// A function call.
    Func(ScalarFunc, Vec<Scalar<L>>),
}

impl<L> Scalar<L> {
    /// Visits every leaf, depth first.
    pub fn for_each_leaf<'a>(&'a self, f: &mut impl FnMut(&'a L)) {
        match self {
            Scalar::Leaf(l) => f(l),
            Scalar::Literal(_) => {}
            Scalar::Binary(_, a, b) | Scalar::Like(a, b, _) => {
                a.for_each_leaf(f);
                b.for_each_leaf(f);
            }
            Scalar::Unary(_, a) | Scalar::IsNull(a, _) => a.for_each_leaf(f),
            Scalar::InList(a, list, _) => {
                a.for_each_leaf(f);
                list.iter().for_each(|x| x.for_each_leaf(f));
            }
            Scalar::Between(a, b, c, _) => {
                a.for_each_leaf(f);
                b.for_each_leaf(f);
                c.for_each_leaf(f);
            }
            Scalar::Case(branches, otherwise) => {
                for (w, t) in branches {
                    w.for_each_leaf(f);
                    t.for_each_leaf(f);
                }
                if let Some(e) = otherwise {
                    e.for_each_leaf(f);
                }
            }
            Scalar::Func(_, args) => args.iter().for_each(|x| x.for_each_leaf(f)),
        }
    }

    /// How many nodes the tree has, each leaf counting as `leaf` says.
    pub fn size(&self, leaf: &dyn Fn(&L) -> usize) -> usize {
        let all = |xs: &[&Scalar<L>]| xs.iter().fold(1usize, |n, x| n.saturating_add(x.size(leaf)));
        match self {
            Scalar::Leaf(l) => leaf(l),
            Scalar::Literal(_) => 1,
            Scalar::Binary(_, a, b) | Scalar::Like(a, b, _) => all(&[a, b]),
            Scalar::Unary(_, a) | Scalar::IsNull(a, _) => all(&[a]),
            Scalar::InList(a, list, _) => all(&std::iter::once(a.as_ref()).chain(list).collect::<Vec<_>>()),
            Scalar::Between(a, b, c, _) => all(&[a, b, c]),
            Scalar::Case(branches, otherwise) => {
                all(&branches.iter().flat_map(|(w, t)| [w, t]).chain(otherwise.as_deref()).collect::<Vec<_>>())
            }
            Scalar::Func(_, args) => all(&args.iter().collect::<Vec<_>>()),
        }
    }

    /// Rebuilds the tree with each leaf mapped by `f`.
    pub fn try_map_leaves<M, E>(&self, f: &mut impl FnMut(&L) -> Result<Scalar<M>, E>) -> Result<Scalar<M>, E> {
        let mut bx = |e: &Scalar<L>| e.try_map_leaves(f).map(Box::new);
        Ok(match self {
            Scalar::Leaf(l) => return f(l),
            Scalar::Literal(v) => Scalar::Literal(v.clone()),
            Scalar::Binary(op, a, b) => Scalar::Binary(*op, bx(a)?, bx(b)?),
            Scalar::Unary(op, a) => Scalar::Unary(*op, bx(a)?),
            Scalar::IsNull(a, n) => Scalar::IsNull(bx(a)?, *n),
            Scalar::InList(a, list, n) => {
                let a = bx(a)?;
                let list = list.iter().map(|x| x.try_map_leaves(f)).collect::<Result<_, _>>()?;
                Scalar::InList(a, list, *n)
            }
            Scalar::Between(a, b, c, n) => Scalar::Between(bx(a)?, bx(b)?, bx(c)?, *n),
            Scalar::Like(a, b, n) => Scalar::Like(bx(a)?, bx(b)?, *n),
            Scalar::Case(branches, otherwise) => {
                let branches = branches.iter().map(|(w, t)| Ok((w.try_map_leaves(f)?, t.try_map_leaves(f)?))).collect::<Result<_, E>>()?;
                let otherwise = match otherwise {
                    Some(e) => Some(Box::new(e.try_map_leaves(f)?)),
                    None => None,
                };
                Scalar::Case(branches, otherwise)
            }
            Scalar::Func(func, args) => Scalar::Func(*func, args.iter().map(|x| x.try_map_leaves(f)).collect::<Result<_, _>>()?),
        })
    }
}

/// A row-level expression: its leaves are columns.
pub type RowExpr = Scalar<ColumnRef>;

/// Aggregate functions. Equal and hashed by function and, for a percentile, the bits of its
/// fraction (so equality and hashing agree).
#[derive(Clone, Copy, Debug)]
pub enum AggFunc {
    /// Sum of non-null values.
    Sum,
    /// Rows (without argument) or non-null values.
    Count,
    /// Distinct non-null values.
    CountDistinct,
    /// Mean of non-null values.
    Avg,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// Median (continuous: mean of the two middle values).
    Median,
    /// Continuous percentile at the given fraction in `[0, 1]` (SQL `percentile_cont`).
    Percentile(f64),
    /// Discrete percentile: the smallest value whose cumulative share reaches the fraction
    /// (SQL `percentile_disc`), always one of the values.
    PercentileDisc(f64),
    /// Approximate continuous percentile from a t-digest (DataFusion's
    /// `approx_percentile_cont`): bounded memory per group, for large inputs.
    ApproxPercentile(f64),
}

/// The position, from 0, of the discrete percentile at `fraction` among `n` sorted values:
/// the smallest value whose cumulative share `k / n` reaches the fraction (SQL
/// `percentile_disc`; the first value for 0).
pub fn discrete_rank(fraction: f64, n: usize) -> usize {
    ((fraction * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1
}

impl PartialEq for AggFunc {
    fn eq(&self, other: &Self) -> bool {
        self.identity() == other.identity()
    }
}

impl Eq for AggFunc {}

impl std::hash::Hash for AggFunc {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.identity().hash(state);
    }
}

impl AggFunc {
    fn identity(self) -> (std::mem::Discriminant<AggFunc>, u64) {
        let fraction = match self {
            AggFunc::Percentile(p) | AggFunc::PercentileDisc(p) | AggFunc::ApproxPercentile(p) => p.to_bits(),
            _ => 0,
        };
        (std::mem::discriminant(&self), fraction)
    }

    /// Whether the value over several periods can be computed from per-period partial results
    /// (sum, count, min, max, and avg as sum/count); the others need the rows themselves.
    pub fn is_decomposable(self) -> bool {
        matches!(self, AggFunc::Sum | AggFunc::Count | AggFunc::Avg | AggFunc::Min | AggFunc::Max)
    }

    /// Whether the result over no rows is 0 rather than null.
    pub fn is_count(self) -> bool {
        matches!(self, AggFunc::Count | AggFunc::CountDistinct)
    }
}

/// Which rows, relative to a period, an aggregate covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// The period itself.
    Period,
    /// The calendar span ending with the period (at its end, or at the end of its first
    /// sub-period, or each sub-period's averaged: see [`Summary`]).
    Rolling(CalendarSpan, Summary),
    /// From the start of the enclosing calendar unit to the end of the period.
    ToDate(Grain),
    /// Everything up to the end of the period.
    Cumulative,
}

/// How a rolling window is summarised at a query grain coarser than the window's own unit
/// (a 30-day window asked by month): the window ending at the period's end, at the end of its
/// first sub-period, or the average over the windows ending at each sub-period (MetricFlow's
/// `period_agg`). At grains as fine as the unit there is one window per period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Summary {
    /// The window ending with the period. Default.
    #[default]
    Last,
    /// The window ending with the period's first sub-period of the window's unit.
    First,
    /// The average of the windows ending with each sub-period.
    Average,
}

impl Summary {
    /// The name written in formulas: `last`, `first` or `average`.
    pub fn as_str(self) -> &'static str {
        match self {
            Summary::Last => "last",
            Summary::First => "first",
            Summary::Average => "average",
        }
    }

    /// Reads a name written in formulas.
    pub fn parse(text: &str) -> Option<Summary> {
        [Summary::Last, Summary::First, Summary::Average].into_iter().find(|s| s.as_str() == text.trim().to_ascii_lowercase())
    }
}

/// An aggregate over one table, with its optional `where` filter and its window.
#[derive(Clone, Debug, PartialEq)]
pub struct Aggregate {
    /// The function.
    pub func: AggFunc,
    /// The table whose rows are aggregated.
    pub table: String,
    /// The argument; `None` for `count(table)`.
    pub arg: Option<RowExpr>,
    /// The `where` filter.
    pub filter: Option<RowExpr>,
    /// The rows covered relative to each period.
    pub window: Window,
    /// Semi-additive: only the rows at the period's last (or first) time.
    pub snapshot: Option<Snapshot>,
    /// A conversion count: `func` over the rows of another table matched to this table's rows
    /// (`arg` and `filter` are then `None`; the conversion carries its own).
    pub conversion: Option<Box<Conversion>>,
    /// Where the aggregate was written (for diagnostics after resolution).
    pub span: Span,
}

/// A semi-additive aggregate (`last(sum(balances.amount))`): balances, inventory levels and
/// other states summed across entities at one time, never across times (MetricFlow's
/// `non_additive_dimension`).
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// Whether the period's last or first time counts.
    pub at: SnapshotAt,
    /// Each entity (`last(sum(balances.amount), balances.account_id)`) at its own last time in
    /// the period, rather than every entity at the period's last time.
    pub per: Option<RowExpr>,
}

/// Which time of a period a snapshot takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SnapshotAt {
    /// The latest time (`last`).
    Last,
    /// The earliest time (`first`).
    First,
}

impl Aggregate {
    /// Every row-level expression of the aggregate: its argument and filter, its conversion's
    /// and its snapshot's entity.
    pub fn row_exprs(&self) -> Vec<&RowExpr> {
        let mut out: Vec<&RowExpr> = self.arg.iter().chain(self.filter.iter()).collect();
        if let Some(c) = &self.conversion {
            out.extend(c.arg.iter().chain(c.filter.iter()));
            out.extend(c.on.iter().flat_map(|(b, x)| [b, x]));
        }
        out.extend(self.snapshot.iter().flat_map(|s| s.per.iter()));
        out
    }

    /// Whether a row expression uses a per-entity value (`per(...)`), which reads the entity's
    /// rows of every period.
    pub fn reads_entities(&self) -> bool {
        let mut found = false;
        for e in self.row_exprs() {
            e.for_each_leaf(&mut |c| found |= c.per.is_some());
        }
        found
    }

    /// Whether the aggregate covers its period's rows only: no window, snapshot or conversion.
    pub fn is_plain(&self) -> bool {
        self.window == Window::Period && self.snapshot.is_none() && self.conversion.is_none()
    }

    /// Equal apart from where it was written (used to compute shared aggregates once).
    pub fn same_as(&self, other: &Aggregate) -> bool {
        self.func == other.func
            && self.table == other.table
            && self.arg == other.arg
            && self.filter == other.filter
            && self.window == other.window
            && self.snapshot == other.snapshot
            && self.conversion == other.conversion
    }
}

/// The conversion side of a funnel metric (MetricFlow's conversion metrics): each row of
/// `table` that meets `filter` is matched to the latest row of the base table (the aggregate's
/// own) with the same entity and constant properties at or before it, within `within`; the
/// matched rows are aggregated by the base row's period and dimensions.
#[derive(Clone, Debug, PartialEq)]
pub struct Conversion {
    /// The table of conversion events.
    pub table: String,
    /// The conversion measure's argument (`None` for `count(table)`).
    pub arg: Option<RowExpr>,
    /// The conversion events counted.
    pub filter: Option<RowExpr>,
    /// Pairs of base and conversion expressions that must be equal: the entity first, then the
    /// properties held constant.
    pub on: Vec<(RowExpr, RowExpr)>,
    /// How long after a base event a conversion counts; `None` for any time after.
    pub within: Option<CalendarSpan>,
}

/// A leaf of a KPI-level expression.
#[derive(Clone, Debug, PartialEq)]
pub enum MetricLeaf {
    /// An aggregate.
    Aggregate(Box<Aggregate>),
    /// The value of an expression at an earlier period of the series.
    Prev(Box<MetricExpr>, Shift, Span),
}

/// Which earlier period a shifted expression takes its value from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shift {
    /// `n` periods earlier (`prev(x, n)`).
    Periods(u32),
    /// The first period of the enclosing calendar unit (`at_start(x, 'month')`; MetricFlow's
    /// `offset_to_grain`). With weeks in months, the first week starting in the month.
    ToStart(Grain),
    /// The period starting where the period's start moved back by a calendar span lands
    /// (`prev(x, '1 year')`; MetricFlow's `offset_window`): the same day a year before at day
    /// grain, the period before when the span is one period of the query grain, none when the
    /// moved start starts no period.
    Span(CalendarSpan),
}

impl MetricLeaf {
    /// The nodes a leaf stands for: an aggregate is one, a shift one more than what it shifts.
    pub fn size(&self) -> usize {
        match self {
            MetricLeaf::Aggregate(_) => 1,
            MetricLeaf::Prev(x, _, _) => x.size(&MetricLeaf::size).saturating_add(1),
        }
    }
}

/// A KPI-level expression: its leaves are aggregates and time shifts.
pub type MetricExpr = Scalar<MetricLeaf>;
