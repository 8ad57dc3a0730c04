//! Partial states per period and dimension group (a cell) of one table, shared by every
//! maintained view that groups that table the same way: each appended batch is keyed to its
//! cells once, then updates the states of every aggregate the views need, and each view
//! evaluates its formula only over the cells changed since it last looked.
//!
//! The row-level expressions and each view's formula over the aggregates come from the query's
//! [`IncrementalPlan`], lowered as the calculation lowers them and run as DataFusion physical
//! expressions, so periods, filters, nulls and division agree with a calculation on demand.
//! The cells follow the calculation's shape too: every period of the range (or of the data's
//! bounds) for every dimension group seen, or only cells with rows when empty periods are
//! omitted.

use std::collections::VecDeque;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array, RecordBatch};
use datafusion::arrow::compute::SortOptions;
use datafusion::arrow::compute::{cast, max, min};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use datafusion::arrow::row::{OwnedRow, RowConverter, SortField};
use datafusion::common::DFSchema;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::optimizer::simplify_expressions::ExprSimplifier;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::prelude::{Expr, SessionContext};
use foldhash::HashMap;
use foldhash::HashMapExt;
use futures::StreamExt;
use kpi_formula::ir::AggFunc;
use kpi_formula::{Calendar, EmptyPeriods, Grain, IncrementalPlan, TimeRange};

use super::states::States;
use crate::data::TableData;
use crate::options::Estimate;

/// The most periods a maintained view covers, as for a calculation.
const MAX_PERIODS: usize = 200_000;

/// How many changed cells the cube remembers for views that have not looked yet, beyond the
/// number of cells; a view further behind evaluates every cell again.
const TOUCHED_SLACK: usize = 65_536;

/// One aggregate's expressions and states.
struct Aggregator {
    /// Its identity among the cube's aggregates.
    key: AggregateKey,
    func: AggFunc,
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
}

/// The cells each change touched, by sequence number, for views to catch up from.
#[derive(Default)]
struct Touched {
    /// The last change's number.
    seq: u64,
    /// Changes after this number are all in `log`.
    since: u64,
    log: VecDeque<(u64, Vec<u32>)>,
    logged: usize,
    /// The cells the change being made has touched so far (`mark` flags them).
    current: Vec<u32>,
    mark: Vec<bool>,
}

/// How one grouping of one table is keyed: what makes two views' cells the same.
#[derive(Clone)]
struct Keying {
    table: String,
    grain: Grain,
    calendar: Calendar,
    range: Option<TimeRange>,
    empty_periods: EmptyPeriods,
    period: Arc<dyn PhysicalExpr>,
    period_type: DataType,
    dimensions: Vec<Arc<dyn PhysicalExpr>>,
    dimension_types: Vec<DataType>,
    rows: Option<Arc<dyn PhysicalExpr>>,
    schema: SchemaRef,
    distinct: Estimate,
    quantiles: Estimate,
}

/// Partial states per cell of one table's rows, for every aggregate of the views sharing it.
pub(crate) struct Cube {
    keying: Keying,
    aggregates: Vec<Aggregator>,
    groups: Groups,
    cells: Cells,
    touched: Touched,
    /// The earliest and latest period of the table's rows (for a view over the data's bounds).
    bounds: Option<(i64, i64)>,
    /// The periods every group has cells for, in order.
    spine: Vec<i64>,
    /// Groups `0..spine_groups` have a cell in every period of `spine`.
    spine_groups: u32,
    /// The table version the states include; `None` when they must be rebuilt.
    pub(crate) seen: Option<u64>,
    /// Counts rebuilds, so a view knows its view of the cells is void.
    epoch: u64,
}

/// One view's formula over a cube's aggregates, and how far it has looked.
pub(crate) struct Measure {
    /// The cube's aggregate for each `__a{i}` column of `value`.
    aggregates: Vec<usize>,
    value: Arc<dyn PhysicalExpr>,
    value_schema: SchemaRef,
    output: SchemaRef,
    /// The cube's epoch and change number the view has seen; `None` before its first look.
    cursor: Option<(u64, u64)>,
}

/// `expr` ready to run: coerced, then simplified as the calculation's planning does (the
/// physical planner expects e.g. `coalesce` rewritten).
fn physical(ctx: &SessionContext, expr: datafusion::prelude::Expr, schema: &DFSchema) -> Result<Arc<dyn PhysicalExpr>, DataFusionError> {
    let state = ctx.state();
    let context =
        SimplifyContext::builder().with_schema(Arc::new(schema.clone())).with_config_options(state.config_options().clone()).build();
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

/// What makes the cells of one plan those of another: its table, periods, groups and rows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct CubeKey {
    table: String,
    grain: Grain,
    calendar: Calendar,
    range: Option<TimeRange>,
    empty_periods: EmptyPeriods,
    period: Expr,
    dimensions: Vec<Expr>,
    rows: Option<Expr>,
}

impl CubeKey {
    /// The key of `plan`'s cells.
    pub(crate) fn of(plan: &IncrementalPlan) -> CubeKey {
        CubeKey {
            table: plan.table.clone(),
            grain: plan.grain,
            calendar: plan.calendar.clone(),
            range: plan.range,
            empty_periods: plan.empty_periods,
            period: plan.period.clone(),
            dimensions: plan.dimensions.clone(),
            rows: plan.rows.clone(),
        }
    }
}

/// What makes one aggregate of a cube another's: its function, argument and filter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct AggregateKey {
    func: AggFunc,
    arg: Option<Expr>,
    filter: Option<Expr>,
}

impl AggregateKey {
    fn of(a: &kpi_formula::IncrementalAggregate) -> AggregateKey {
        AggregateKey { func: a.func, arg: a.arg.clone(), filter: a.filter.clone() }
    }
}

impl Keying {
    fn converter(&self) -> Result<Option<RowConverter>, DataFusionError> {
        Ok(match self.dimension_types.len() {
            0 => None,
            // Ascending with nulls last, as a calculation orders its groups.
            _ => {
                let order = SortOptions { descending: false, nulls_first: false };
                Some(RowConverter::new(self.dimension_types.iter().map(|t| SortField::new_with_options(t.clone(), order)).collect())?)
            }
        })
    }
}

impl Cube {
    /// The cells of `plan`'s table, periods, groups and rows (of `schema`), with no aggregate
    /// and no rows yet.
    pub(crate) fn new(
        ctx: &SessionContext,
        plan: &IncrementalPlan,
        schema: SchemaRef,
        distinct: Estimate,
        quantiles: Estimate,
    ) -> Result<Cube, DataFusionError> {
        let input = DFSchema::try_from_qualified_schema(plan.table.as_str(), &schema)?;
        let dimensions = plan.dimensions.iter().map(|d| physical(ctx, d.clone(), &input)).collect::<Result<Vec<_>, _>>()?;
        let dimension_types = dimensions.iter().map(|d| d.data_type(&schema)).collect::<Result<Vec<_>, _>>()?;
        let keying = Keying {
            table: plan.table.clone(),
            grain: plan.grain,
            calendar: plan.calendar.clone(),
            range: plan.range,
            empty_periods: plan.empty_periods,
            period: physical(ctx, plan.period.clone(), &input)?,
            period_type: plan.period_type.clone(),
            dimensions,
            dimension_types,
            rows: plan.rows.clone().map(|r| physical(ctx, r, &input)).transpose()?,
            schema,
            distinct,
            quantiles,
        };
        Cube::empty(keying, Vec::new(), 0)
    }

    fn empty(keying: Keying, aggregates: Vec<Aggregator>, epoch: u64) -> Result<Cube, DataFusionError> {
        let converter = keying.converter()?;
        let mut cube = Cube {
            keying,
            aggregates,
            groups: Groups { converter, index: HashMap::new(), keys: Vec::new() },
            cells: Cells::default(),
            touched: Touched::default(),
            bounds: None,
            spine: Vec::new(),
            spine_groups: 0,
            seen: None,
            epoch,
        };
        cube.densify()?;
        cube.commit();
        Ok(cube)
    }

    /// The same cells and aggregates with no rows yet, to be rebuilt from the table and then
    /// take this one's place (views see a new epoch).
    pub(crate) fn empty_like(&self) -> Result<Cube, DataFusionError> {
        let keying = self.keying.clone();
        let aggregates = self
            .aggregates
            .iter()
            .map(|a| Aggregator {
                key: a.key.clone(),
                func: a.func,
                arg: a.arg.clone(),
                filter: a.filter.clone(),
                states: States::new(a.func, keying.distinct, keying.quantiles),
            })
            .collect();
        Cube::empty(keying, aggregates, self.epoch + 1)
    }

    /// The table the cells are of.
    pub(crate) fn table(&self) -> &str {
        &self.keying.table
    }

    /// The time range covered: the query's, or `None` for the data's bounds.
    pub(crate) fn range(&self) -> Option<TimeRange> {
        self.keying.range
    }

    /// About how many bytes its states and keys hold.
    pub(crate) fn bytes(&self) -> usize {
        let keys = self.cells.keys.len() * 40 + self.groups.keys.iter().map(|k| k.as_ref().len() + 32).sum::<usize>();
        keys + self.aggregates.iter().map(|a| a.states.bytes()).sum::<usize>()
    }

    /// Whether the cube has every aggregate of `plan`.
    pub(crate) fn has_all(&self, plan: &IncrementalPlan) -> bool {
        plan.aggregates.iter().all(|a| {
            let key = AggregateKey::of(a);
            self.aggregates.iter().any(|x| x.key == key)
        })
    }

    /// `plan`'s formula over this cube (which must have `plan`'s key), adding the aggregates it
    /// needs that the cube lacks; those are filled from `rows`, the table's rows so far.
    pub(crate) fn measure(
        &mut self,
        ctx: &SessionContext,
        plan: &IncrementalPlan,
        rows: &[RecordBatch],
    ) -> Result<Measure, DataFusionError> {
        let first_new = self.aggregates.len();
        // All or nothing: an aggregate left half-filled would give a later view wrong values.
        let indices = self.add_aggregates(ctx, plan, rows).inspect_err(|_| self.aggregates.truncate(first_new))?;
        let value_fields: Vec<Field> = plan
            .aggregates
            .iter()
            .enumerate()
            .map(|(i, a)| Field::new(format!("__a{i}"), IncrementalPlan::input_type(a.func), true))
            .collect();
        let value_schema = Arc::new(Schema::new(value_fields));
        let value = physical(ctx, plan.value.clone(), &DFSchema::try_from(value_schema.as_ref().clone())?)?;
        let mut fields = vec![Field::new("period", plan.period_type.clone(), true)];
        for (t, label) in self.keying.dimension_types.iter().zip(&plan.dimension_labels) {
            fields.push(Field::new(label, t.clone(), true));
        }
        fields.push(Field::new("value", DataType::Float64, true));
        Ok(Measure { aggregates: indices, value, value_schema, output: Arc::new(Schema::new(fields)), cursor: None })
    }

    /// The cube's aggregate for each of `plan`'s, adding those it lacks, filled from `rows`.
    fn add_aggregates(
        &mut self,
        ctx: &SessionContext,
        plan: &IncrementalPlan,
        rows: &[RecordBatch],
    ) -> Result<Vec<usize>, DataFusionError> {
        let schema = self.keying.schema.clone();
        let input = DFSchema::try_from_qualified_schema(plan.table.as_str(), &schema)?;
        let first_new = self.aggregates.len();
        let mut indices = Vec::new();
        for (i, a) in plan.aggregates.iter().enumerate() {
            let key = AggregateKey::of(a);
            if let Some(found) = self.aggregates.iter().position(|x| x.key == key) {
                indices.push(found);
                continue;
            }
            let mut states = States::new(a.func, self.keying.distinct, self.keying.quantiles);
            let arg = a.arg.clone().map(|e| physical(ctx, e, &input)).transpose()?;
            if let Some(arg) = &arg
                && states.numeric()
                && !arg.data_type(&schema)?.is_numeric()
            {
                return Err(DataFusionError::Plan(format!("aggregate {i} reads a value that is not a number")));
            }
            let filter = a.filter.clone().map(|e| physical(ctx, e, &input)).transpose()?;
            (0..self.cells.keys.len()).for_each(|_| states.push());
            indices.push(self.aggregates.len());
            self.aggregates.push(Aggregator { key, func: a.func, arg, filter, states });
        }
        if self.aggregates.len() > first_new {
            for batch in rows {
                let cells = self.key_rows(batch, false)?;
                for a in &mut self.aggregates[first_new..] {
                    a.update(batch, &cells)?;
                }
            }
            self.densify()?;
            self.commit();
        }
        Ok(indices)
    }

    /// Takes in `batches` of the table's rows (in its schema), which make it `version`. On an
    /// error the cube needs a rebuild.
    pub(crate) fn ingest(&mut self, batches: &[RecordBatch], version: u64) -> Result<(), DataFusionError> {
        let ingested = batches.iter().try_for_each(|b| self.ingest_batch(b)).and_then(|()| self.densify());
        self.commit();
        self.seen = match ingested {
            Ok(()) => Some(version),
            Err(_) => None,
        };
        ingested
    }

    /// Takes in every row of `data` (at its version), after which the cube is up to date.
    pub(crate) async fn ingest_all(&mut self, ctx: &SessionContext, data: &TableData) -> Result<(), DataFusionError> {
        match data.batches() {
            Some(batches) => self.ingest(&batches, data.version),
            None => {
                let mut stream = ctx.read_table(data.provider.clone())?.execute_stream().await?;
                while let Some(batch) = stream.next().await {
                    let batch = batch?;
                    if let Err(e) = self.ingest_batch(&batch) {
                        self.seen = None;
                        return Err(e);
                    }
                }
                self.ingest(&[], data.version)
            }
        }
    }

    fn ingest_batch(&mut self, batch: &RecordBatch) -> Result<(), DataFusionError> {
        let cells = self.key_rows(batch, true)?;
        self.aggregates.iter_mut().try_for_each(|a| a.update(batch, &cells))
    }

    /// The cell of each row of `batch`, `None` for rows that do not count; with `count`, the
    /// rows are counted in their cells (and the cells marked touched).
    fn key_rows(&mut self, batch: &RecordBatch, count: bool) -> Result<Vec<Option<u32>>, DataFusionError> {
        let n = batch.num_rows();
        if n == 0 {
            return Ok(Vec::new());
        }
        let periods = evaluate(&self.keying.period, batch)?;
        let periods = periods
            .as_primitive_opt::<Int64Type>()
            .ok_or_else(|| DataFusionError::Internal(format!("a period gave {}", periods.data_type())))?;
        if self.keying.range.is_none()
            && let (Some(lo), Some(hi)) = (min(periods), max(periods))
        {
            self.bounds = Some(self.bounds.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        }
        let counted = match &self.keying.rows {
            Some(r) => Some(evaluate(r, batch)?),
            None => None,
        };
        let counted = counted.as_ref().map(booleans).transpose()?;
        let keep: Vec<bool> = (0..n).map(|r| periods.is_valid(r) && counted.is_none_or(|c| c.is_valid(r) && c.value(r))).collect();
        let dims = self.keying.dimensions.iter().map(|d| evaluate(d, batch)).collect::<Result<Vec<_>, _>>()?;
        let groups = self.groups.ids(&dims, &keep)?;
        let mut cells = Vec::with_capacity(n);
        let mut last: Option<((i64, u32), u32)> = None;
        for r in 0..n {
            if !keep[r] {
                cells.push(None);
                continue;
            }
            let key = (periods.value(r), groups.as_ref().map_or(0, |g| g[r]));
            // Rows come in runs of one period, often of one group: skip the lookup for a repeat.
            let c = match last {
                Some((k, c)) if k == key => c,
                _ => self.cell(key, count),
            };
            last = Some((key, c));
            if count {
                self.cells.rows[c as usize] += 1;
            }
            cells.push(Some(c));
        }
        Ok(cells)
    }

    /// The cell of `key` (period, group), created empty if new; with `touch`, marked touched.
    fn cell(&mut self, key: (i64, u32), touch: bool) -> u32 {
        let cells = &mut self.cells;
        let (c, new) = match cells.index.get(&key) {
            Some(c) => (*c, false),
            None => {
                let c = cells.keys.len() as u32;
                cells.index.insert(key, c);
                cells.keys.push(key);
                cells.rows.push(0);
                self.touched.mark.push(false);
                self.aggregates.iter_mut().for_each(|a| a.states.push());
                (c, true)
            }
        };
        if (touch || new) && !self.touched.mark[c as usize] {
            self.touched.mark[c as usize] = true;
            self.touched.current.push(c);
        }
        c
    }

    /// Ends a change: the cells it touched are logged for the views.
    fn commit(&mut self) {
        let t = &mut self.touched;
        if t.current.is_empty() {
            return;
        }
        let touched = std::mem::take(&mut t.current);
        touched.iter().for_each(|&c| t.mark[c as usize] = false);
        t.seq += 1;
        t.logged += touched.len();
        t.log.push_back((t.seq, touched));
        while t.logged > self.cells.keys.len() + TOUCHED_SLACK {
            let Some((seq, cells)) = t.log.pop_front() else { break };
            t.since = seq;
            t.logged -= cells.len();
        }
    }

    /// The periods covered now: the range's, or from the first to the last period of the data.
    fn periods(&self) -> Result<Vec<i64>, DataFusionError> {
        let (from, to) = match (self.keying.range, self.bounds) {
            (Some(r), _) => (r.start, r.end),
            (None, Some((lo, hi))) => {
                let instant = |us: i64| {
                    chrono::DateTime::from_timestamp_micros(us).ok_or_else(|| DataFusionError::Plan(format!("period {us} out of range")))
                };
                (instant(lo)?, instant(hi)? + chrono::Duration::microseconds(1))
            }
            (None, None) => return Ok(Vec::new()),
        };
        let periods =
            self.keying.calendar.periods(from, to, self.keying.grain, MAX_PERIODS).map_err(|e| DataFusionError::Plan(e.to_string()))?;
        Ok(periods.into_iter().map(|p| p.timestamp_micros()).collect())
    }

    /// Gives every group a cell in every period covered, as a calculation lists them, unless
    /// empty periods are omitted.
    fn densify(&mut self) -> Result<(), DataFusionError> {
        if self.keying.empty_periods == EmptyPeriods::Omit {
            return Ok(());
        }
        let groups = self.groups.count();
        let spine_changed = match (self.keying.range, self.bounds, self.spine.first(), self.spine.last()) {
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
                    self.cell((p, g), false);
                }
            }
            self.spine = periods;
        }
        for g in self.spine_groups..groups {
            for i in 0..self.spine.len() {
                self.cell((self.spine[i], g), false);
            }
        }
        self.spine_groups = groups;
        Ok(())
    }

    /// `measure`'s values of the cells changed since it last looked (all of them the first
    /// time, or after a rebuild), in the result's shape and order (period, then dimensions);
    /// `None` when nothing changed.
    pub(crate) fn changes(&mut self, measure: &mut Measure) -> Result<Option<RecordBatch>, DataFusionError> {
        let t = &mut self.touched;
        let mut dirty: Vec<u32> = match measure.cursor {
            Some((epoch, seq)) if epoch == self.epoch && seq >= t.since => {
                let mut dirty = Vec::new();
                for (_, cells) in t.log.iter().rev().take_while(|(s, _)| *s > seq) {
                    for &c in cells {
                        if !t.mark[c as usize] {
                            t.mark[c as usize] = true;
                            dirty.push(c);
                        }
                    }
                }
                dirty.iter().for_each(|&c| t.mark[c as usize] = false);
                dirty
            }
            _ => (0..self.cells.keys.len() as u32).collect(),
        };
        measure.cursor = Some((self.epoch, t.seq));
        if self.keying.empty_periods == EmptyPeriods::Omit {
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
        let mut columns = vec![cast(&periods, &self.keying.period_type)?];
        if let Some(converter) = &self.groups.converter {
            columns.extend(converter.convert_rows(dirty.iter().map(|&c| groups[keys[c as usize].1 as usize].row()))?);
        }
        let inputs = measure.aggregates.iter().map(|&a| self.aggregates[a].states.values(&dirty)).collect();
        let inputs = RecordBatch::try_new(measure.value_schema.clone(), inputs)?;
        let value = evaluate(&measure.value, &inputs)?;
        columns.push(if value.data_type() == &DataType::Float64 { value } else { cast(&value, &DataType::Float64)? });
        Ok(Some(RecordBatch::try_new(measure.output.clone(), columns)?))
    }
}

impl Measure {
    /// The schema of the values [`Cube::changes`] gives.
    pub(crate) fn schema(&self) -> SchemaRef {
        self.output.clone()
    }

    /// Forgets how far it has looked, so [`Cube::changes`] gives every cell again.
    pub(crate) fn rewind(&mut self) {
        self.cursor = None;
    }
}

impl Aggregator {
    /// Adds the rows of `batch`, row `r` to cell `cells[r]`.
    fn update(&mut self, batch: &RecordBatch, cells: &[Option<u32>]) -> Result<(), DataFusionError> {
        if cells.is_empty() {
            return Ok(());
        }
        let arg = self.arg.as_ref().map(|e| evaluate(e, batch)).transpose()?;
        let filter = self.filter.as_ref().map(|e| evaluate(e, batch)).transpose()?;
        self.states.update(cells, arg.as_ref(), filter.as_ref().map(booleans).transpose()?)
    }
}

impl Groups {
    /// How many groups there are; without dimensions, the one group.
    fn count(&self) -> u32 {
        if self.converter.is_none() { 1 } else { self.keys.len() as u32 }
    }

    /// The group number of each row to `keep` (0 for the others; `None` without dimensions:
    /// all rows are group 0), numbering new groups.
    fn ids(&mut self, dims: &[ArrayRef], keep: &[bool]) -> Result<Option<Vec<u32>>, DataFusionError> {
        let Some(converter) = &self.converter else { return Ok(None) };
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
        Ok(Some(ids))
    }
}
