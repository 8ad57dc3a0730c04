//! `percentile_disc`: the discrete percentile as a DataFusion aggregate.
//!
//! DataFusion 55 has the continuous `percentile_cont` and an approximate one, not the discrete
//! SQL `percentile_disc`; building it from `array_agg` would need DataFusion's nested-type
//! functions, a feature (and a second compile of DataFusion) for one aggregate. It keeps the
//! values like DataFusion's median, so its memory is the same.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Float64Array, ListArray};
use datafusion::arrow::buffer::{OffsetBuffer, ScalarBuffer};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Float64Type};
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility};

use crate::ir::discrete_rank;

/// The aggregate `percentile_disc` at `fraction` over a `Float64` argument.
pub(crate) fn percentile_disc(fraction: f64) -> Arc<AggregateUDF> {
    Arc::new(AggregateUDF::from(PercentileDisc {
        signature: Signature::exact(vec![DataType::Float64], Volatility::Immutable),
        fraction: fraction.to_bits(),
    }))
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub(super) struct PercentileDisc {
    signature: Signature,
    /// The fraction's bits (`f64` is neither `Eq` nor `Hash`).
    pub(super) fraction: u64,
}

impl AggregateUDFImpl for PercentileDisc {
    fn name(&self) -> &str {
        "percentile_disc"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let item = Field::new_list_field(DataType::Float64, true);
        Ok(vec![Field::new(format!("{}[percentile_disc]", args.name), DataType::List(Arc::new(item)), true).into()])
    }

    fn accumulator(&self, _: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(Values { values: Vec::new(), fraction: f64::from_bits(self.fraction) }))
    }
}

#[derive(Debug)]
struct Values {
    values: Vec<f64>,
    fraction: f64,
}

impl Accumulator for Values {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let Some(array) = values.first() else { return Ok(()) };
        self.values.extend(array.as_primitive::<Float64Type>().iter().flatten());
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let Some(lists) = states.first() else { return Ok(()) };
        for list in lists.as_list::<i32>().iter().flatten() {
            self.update_batch(&[list])?;
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let values = Float64Array::from(std::mem::take(&mut self.values));
        let offsets = OffsetBuffer::new(ScalarBuffer::from(vec![0, values.len() as i32]));
        let list = ListArray::new(Arc::new(Field::new_list_field(DataType::Float64, true)), offsets, Arc::new(values), None);
        Ok(vec![ScalarValue::List(Arc::new(list))])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.values.is_empty() {
            return Ok(ScalarValue::Float64(None));
        }
        let k = discrete_rank(self.fraction, self.values.len());
        let (_, value, _) = self.values.select_nth_unstable_by(k, f64::total_cmp);
        Ok(ScalarValue::Float64(Some(*value)))
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.values.capacity() * size_of::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::discrete_rank;

    #[test]
    fn ranks_follow_percentile_disc() {
        // Sorted 10, 20, 30, 40: p ≤ 0.25 → 10, (0.25, 0.5] → 20, …, 1 → 40.
        let rank = |p| discrete_rank(p, 4);
        assert_eq!([rank(0.0), rank(0.25), rank(0.26), rank(0.5), rank(0.75), rank(0.9), rank(1.0)], [0, 0, 1, 1, 2, 3, 3]);
        assert_eq!(discrete_rank(0.5, 1), 0);
    }
}
