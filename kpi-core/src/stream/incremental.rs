//! A query maintained from partial states per period and dimension group (a cell): each
//! appended batch updates the cells its rows fall in, and only those cells are evaluated again.
//!
//! The row-level expressions and the formula over the aggregates come from the query's
//! [`IncrementalPlan`], lowered as the calculation lowers them and run as DataFusion physical
//! expressions, so periods, filters, nulls and division agree with a calculation on demand.
//! The cells follow the calculation's shape too: every period of the range (or of the data's
//! bounds) for every dimension group seen, or only cells with rows when empty periods are
//! omitted.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch};
use datafusion::arrow::compute::{cast, max, min};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use datafusion::arrow::row::{OwnedRow, RowConverter, SortField};
use datafusion::common::DFSchema;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::prelude::SessionContext;
use foldhash::HashMap;
use foldhash::HashMapExt;
use futures::StreamExt;
use kpi_formula::{Calendar, EmptyPeriods, Grain, IncrementalPlan, TimeRange};

use super::states::States;
use crate::data::TableData;
use crate::options::Estimate;

/// The most periods a maintained view covers, as for a calculation.
const MAX_PERIODS: usize = 200_000;

/// One aggregate's expressions and states.
struct Aggregator {
    arg: Option<Arc<dyn PhysicalExpr>>,
    filter: Option<Arc<dyn PhysicalExpr>>,
    states: States,
}

/// The dimension groups seen, numbered in order of appearance.
struct Groups {
    /// Turns dimension values into comparable bytes; `None` without dimensions (one group).
    converter: Option<RowConverter>,
    index: HashMap<Box<[u8]>, u32>,
    keys: Vec<OwnedRow>,
}

/// The cells, numbered in order of creation.
#[derive(Default)]
struct Cells {
    index: HashMap<(i64, u32), u32>,
    /// Period start (microseconds) and group of each cell.
    keys: Vec<(i64, u32)>,
    /// Rows counted in each cell.
    rows: Vec<u64>,
    /// Cells changed since the last output.
    dirty: Vec<u32>,
    is_dirty: Vec<bool>,
}

/// A query maintained incrementally.
pub(crate) struct Incremental {
    table: String,
    grain: Grain,
    calendar: Calendar,
    range: Option<TimeRange>,
    empty_periods: EmptyPeriods,
    period: Arc<dyn PhysicalExpr>,
    dimensions: Vec<Arc<dyn PhysicalExpr>>,
    rows: Option<Arc<dyn PhysicalExpr>>,
    aggregates: Vec<Aggregator>,
    value: Arc<dyn PhysicalExpr>,
    value_schema: SchemaRef,
    output: SchemaRef,
    period_type: DataType,
    groups: Groups,
    cells: Cells,
    /// The earliest and latest period of the table's rows (for a view over the data's bounds).
    bounds: Option<(i64, i64)>,
    /// The periods every group has cells for, in order.
    spine: Vec<i64>,
    /// Groups `0..spine_groups` have a cell in every period of `spine`.
    spine_groups: u32,
}

/// `expr` ready to run: coerced, then simplified as the calculation's planning does (the
/// physical planner expects e.g. `coalesce` rewritten).
fn physical(ctx: &SessionContext, expr: datafusion::prelude::Expr, schema: &DFSchema) -> Result<Arc<dyn PhysicalExpr>, DataFusionError> {
    let state = ctx.state();
    let context = SimplifyContext::builder()
        .with_schema(Arc::new(schema.clone()))
        .with_config_options(state.config_options().clone())
        .build();
    let simplifier = ExprSimplifier::new(context);
    let expr = simplifier.simplify(simplifier.coerce(expr, schema)?)?;
    ctx.create_physical_expr(expr, schema)
}

fn evaluate(expr: &Arc<dyn PhysicalExpr>, batch: &RecordBatch) -> Result<ArrayRef, DataFusionError> {
    expr.evaluate(batch)?.into_array(batch.num_rows())
}

/// `array` as booleans; the plan's conditions are.
pub(crate) fn booleans(array: &ArrayRef) -> Result<&BooleanArray, DataFusionError> {
    array.as_boolean_opt().ok_or_else(|| DataFusionError::Internal(format!("a condition gave {}", array.data_type())))
}

impl Incremental {
    /// The maintained form of `plan` over rows of `schema`, with no rows yet. Fails when an
    /// aggregate needs a number and its argument is not one (e.g. `min` of a timestamp).
    pub(crate) fn new(
        ctx: &SessionContext,
        plan: IncrementalPlan,
        schema: SchemaRef,
        distinct: Estimate,
        quantiles: Estimate,
    ) -> Result<Incremental, DataFusionError> {
        let input = DFSchema::try_from_qualified_schema(plan.table.as_str(), &schema)?;
        let period = physical(ctx, plan.period, &input)?;
        let dimensions = plan.dimensions.into_iter().map(|d| physical(ctx, d, &input)).collect::<Result<Vec<_>, _>>()?;
        let rows = plan.rows.map(|r| physical(ctx, r, &input)).transpose()?;
        let mut value_fields = Vec::new();
        let mut aggregates = Vec::new();
        for (i, a) in plan.aggregates.into_iter().enumerate() {
            let states = States::new(a.func, distinct, quantiles);
            let arg = a.arg.map(|e| physical(ctx, e, &input)).transpose()?;
            if let Some(arg) = &arg
                && states.numeric()
                && !arg.data_type(&schema)?.is_numeric()
            {
                return Err(DataFusionError::Plan(format!("aggregate {i} reads a value that is not a number")));
            }
            let filter = a.filter.map(|e| physical(ctx, e, &input)).transpose()?;
            value_fields.push(Field::new(format!("__a{i}"), IncrementalPlan::input_type(a.func), true));
            aggregates.push(Aggregator { arg, filter, states });
        }
        let value_schema = Arc::new(Schema::new(value_fields));
        let value = physical(ctx, plan.value, &DFSchema::try_from(value_schema.as_ref().clone())?)?;
        let mut fields = vec![Field::new("period", plan.period_type.clone(), true)];
        for (d, label) in dimensions.iter().zip(&plan.dimension_labels) {
            fields.push(Field::new(label, d.data_type(&schema)?, true));
        }
        fields.push(Field::new("value", DataType::Float64, true));
        let converter = match dimensions.len() {
            0 => None,
            _ => Some(RowConverter::new(
                fields[1..=dimensions.len()].iter().map(|f| SortField::new(f.data_type().clone())).collect(),
            )?),
        };
        let mut maintained = Incremental {
            table: plan.table,
            grain: plan.grain,
            calendar: plan.calendar,
            range: plan.range,
            empty_periods: plan.empty_periods,
            period,
            dimensions,
            rows,
            aggregates,
            value,
            value_schema,
            output: Arc::new(Schema::new(fields)),
            period_type: plan.period_type,
            groups: Groups { converter, index: HashMap::new(), keys: Vec::new() },
            cells: Cells::default(),
            bounds: None,
            spine: Vec::new(),
            spine_groups: 0,
        };
        maintained.densify()?;
        Ok(maintained)
    }

    /// The table the view reads.
    pub(crate) fn table(&self) -> &str {
        &self.table
    }

    /// The time range covered: the query's, or `None` for the data's bounds.
    pub(crate) fn range(&self) -> Option<TimeRange> {
        self.range
    }

    /// The schema of the values [`Incremental::changes`] gives.
    pub(crate) fn schema(&self) -> SchemaRef {
        self.output.clone()
    }

    /// Takes in every row of `data`.
    pub(crate) async fn ingest_all(&mut self, ctx: &SessionContext, data: &TableData) -> Result<(), DataFusionError> {
        match data.batches() {
            Some(batches) => batches.iter().try_for_each(|b| self.ingest(b)),
            None => {
                let mut stream = ctx.read_table(data.provider.clone())?.execute_stream().await?;
                while let Some(batch) = stream.next().await {
                    self.ingest(&batch?)?;
                }
                Ok(())
            }
        }
    }

    /// Takes in a batch of the table's rows (in its schema).
    pub(crate) fn ingest(&mut self, batch: &RecordBatch) -> Result<(), DataFusionError> {
        let n = batch.num_rows();
        if n == 0 {
            return Ok(());
        }
        let periods = evaluate(&self.period, batch)?;
        let periods = periods
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| DataFusionError::Internal(format!("a period gave {}", periods.data_type())))?;
        if self.range.is_none()
            && let (Some(lo), Some(hi)) = (min(periods), max(periods))
        {
            self.bounds = Some(self.bounds.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        }
        let counted = match &self.rows {
            Some(r) => Some(evaluate(r, batch)?),
            None => None,
        };
        let counted = counted.as_ref().map(booleans).transpose()?;
        let keep: Vec<bool> = (0..n).map(|r| periods.is_valid(r) && counted.is_none_or(|c| c.is_valid(r) && c.value(r))).collect();
        let dims = self.dimensions.iter().map(|d| evaluate(d, batch)).collect::<Result<Vec<_>, _>>()?;
        let groups = self.groups.ids(&dims, &keep)?;
        let mut cells = vec![None; n];
        for (r, cell) in cells.iter_mut().enumerate().filter(|(r, _)| keep[*r]) {
            let c = self.cell(periods.value(r), groups[r]);
            self.cells.rows[c as usize] += 1;
            *cell = Some(c);
        }
        for a in &mut self.aggregates {
            let arg = a.arg.as_ref().map(|e| evaluate(e, batch)).transpose()?;
            let filter = a.filter.as_ref().map(|e| evaluate(e, batch)).transpose()?;
            a.states.update(&cells, arg.as_ref(), filter.as_ref().map(booleans).transpose()?)?;
        }
        self.densify()
    }

    /// The cell of `period` and `group`, created empty if new, marked changed.
    fn cell(&mut self, period: i64, group: u32) -> u32 {
        let cells = &mut self.cells;
        let c = match cells.index.get(&(period, group)) {
            Some(c) => *c,
            None => {
                let c = cells.keys.len() as u32;
                cells.index.insert((period, group), c);
                cells.keys.push((period, group));
                cells.rows.push(0);
                cells.is_dirty.push(false);
                self.aggregates.iter_mut().for_each(|a| a.states.push());
                c
            }
        };
        if !cells.is_dirty[c as usize] {
            cells.is_dirty[c as usize] = true;
            cells.dirty.push(c);
        }
        c
    }

    /// The periods covered now: the range's, or from the first to the last period of the data.
    fn periods(&self) -> Result<Vec<i64>, DataFusionError> {
        let (from, to) = match (self.range, self.bounds) {
            (Some(r), _) => (r.start, r.end),
            (None, Some((lo, hi))) => {
                let instant = |us: i64| {
                    chrono::DateTime::from_timestamp_micros(us).ok_or_else(|| DataFusionError::Plan(format!("period {us} out of range")))
                };
                (instant(lo)?, instant(hi)? + chrono::Duration::microseconds(1))
            }
            (None, None) => return Ok(Vec::new()),
        };
        let periods = self.calendar.periods(from, to, self.grain, MAX_PERIODS).map_err(|e| DataFusionError::Plan(e.to_string()))?;
        Ok(periods.into_iter().map(|p| p.timestamp_micros()).collect())
    }

    /// Gives every group a cell in every period covered, as a calculation lists them, unless
    /// empty periods are omitted.
    fn densify(&mut self) -> Result<(), DataFusionError> {
        if self.empty_periods == EmptyPeriods::Omit {
            return Ok(());
        }
        let groups = self.groups.count();
        let spine_changed = match (self.range, self.bounds, self.spine.first(), self.spine.last()) {
            (Some(_), _, Some(_), _) => false,
            (None, Some((lo, hi)), Some(first), Some(last)) => lo < *first || hi > *last,
            (_, _, None, _) => true,
            _ => false,
        };
        if spine_changed {
            let periods = self.periods()?;
            let (first, last) = (self.spine.first().copied(), self.spine.last().copied());
            for &p in periods.iter().filter(|&&p| first.is_none_or(|f| p < f) || last.is_none_or(|l| p > l)) {
                for g in 0..self.spine_groups {
                    self.cell(p, g);
                }
            }
            self.spine = periods;
        }
        for g in self.spine_groups..groups {
            for i in 0..self.spine.len() {
                self.cell(self.spine[i], g);
            }
        }
        self.spine_groups = groups;
        Ok(())
    }

    /// The values of the cells changed since the last call, in the result's shape and order
    /// (period, then dimensions); `None` when nothing changed.
    pub(crate) fn changes(&mut self) -> Result<Option<RecordBatch>, DataFusionError> {
        let mut dirty = std::mem::take(&mut self.cells.dirty);
        for &c in &dirty {
            self.cells.is_dirty[c as usize] = false;
        }
        if self.empty_periods == EmptyPeriods::Omit {
            dirty.retain(|&c| self.cells.rows[c as usize] > 0);
        }
        if dirty.is_empty() {
            return Ok(None);
        }
        let (keys, groups) = (&self.cells.keys, &self.groups.keys);
        let by_dimensions = |a: u32, b: u32| match self.groups.converter {
            Some(_) => groups[a as usize].row().cmp(&groups[b as usize].row()),
            None => std::cmp::Ordering::Equal,
        };
        dirty.sort_unstable_by(|&a, &b| {
            let ((pa, ga), (pb, gb)) = (keys[a as usize], keys[b as usize]);
            pa.cmp(&pb).then_with(|| by_dimensions(ga, gb))
        });
        let periods: ArrayRef = Arc::new(dirty.iter().map(|&c| keys[c as usize].0).collect::<Int64Array>());
        let mut columns = vec![cast(&periods, &self.period_type)?];
        if let Some(converter) = &self.groups.converter {
            columns.extend(converter.convert_rows(dirty.iter().map(|&c| groups[keys[c as usize].1 as usize].row()))?);
        }
        let inputs = self.aggregates.iter_mut().map(|a| a.states.values(&dirty)).collect();
        let inputs = RecordBatch::try_new(self.value_schema.clone(), inputs)?;
        let value = evaluate(&self.value, &inputs)?;
        columns.push(if value.data_type() == &DataType::Float64 { value } else { cast(&value, &DataType::Float64)? });
        Ok(Some(RecordBatch::try_new(self.output.clone(), columns)?))
    }
}

impl Groups {
    /// How many groups there are; without dimensions, the one group.
    fn count(&self) -> u32 {
        if self.converter.is_none() { 1 } else { self.keys.len() as u32 }
    }

    /// The group number of each row to `keep` (0 for the others), numbering new groups.
    fn ids(&mut self, dims: &[ArrayRef], keep: &[bool]) -> Result<Vec<u32>, DataFusionError> {
        let Some(converter) = &self.converter else { return Ok(vec![0; keep.len()]) };
        let rows = converter.convert_columns(dims)?;
        let mut ids = Vec::with_capacity(keep.len());
        for (row, keep) in rows.iter().zip(keep) {
            if !keep {
                ids.push(0);
                continue;
            }
            let id = match self.index.get(row.as_ref()) {
                Some(id) => *id,
                None => {
                    let id = self.keys.len() as u32;
                    self.index.insert(Box::from(row.as_ref()), id);
                    self.keys.push(row.owned());
                    id
                }
            };
            ids.push(id);
        }
        Ok(ids)
    }
}
