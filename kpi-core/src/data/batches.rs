//! The in-memory batches of a table, shared between its versions: full chunks of batches are
//! shared, so a new version after an append copies at most one chunk of handles, and a scan
//! deals the batches out to partitions only when it runs.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::{DataSourceExec, MemorySourceConfig};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;

use super::Span;

/// Batches per shared chunk.
const CHUNK: usize = 64;

/// One batch and the span of its event times.
#[derive(Clone, Debug)]
pub(crate) struct Piece {
    pub(crate) batch: RecordBatch,
    pub(crate) span: Option<Span>,
}

/// A table's in-memory batches, in order.
#[derive(Clone, Debug, Default)]
pub(crate) struct Batches {
    /// Full chunks, shared with other versions.
    sealed: Vec<Arc<[Piece]>>,
    /// The last chunk, still filling.
    tail: Vec<Piece>,
    rows: usize,
}

impl Batches {
    /// `pieces`, in order.
    pub(crate) fn from_pieces(pieces: impl IntoIterator<Item = Piece>) -> Batches {
        let mut batches = Batches::default();
        pieces.into_iter().for_each(|p| batches.push_piece(p));
        batches
    }

    fn push_piece(&mut self, piece: Piece) {
        self.rows += piece.batch.num_rows();
        self.tail.push(piece);
        if self.tail.len() == CHUNK {
            self.sealed.push(Arc::from(std::mem::take(&mut self.tail)));
        }
    }

    /// Adds `piece`; a small one fills the last batch up to `batch_rows` rows instead, so a
    /// table of many small appends is still a few batches to scan.
    pub(crate) fn push(&mut self, piece: Piece, batch_rows: usize) -> Result<(), DataFusionError> {
        if let Some(last) = self.tail.last_mut()
            && last.batch.num_rows() + piece.batch.num_rows() <= batch_rows
        {
            last.batch = concat_batches(&last.batch.schema(), [&last.batch, &piece.batch])?;
            last.span = match (last.span, piece.span) {
                (Some((a, b)), Some((c, d))) => Some((a.min(c), b.max(d))),
                (a, b) => a.or(b),
            };
            self.rows += piece.batch.num_rows();
            return Ok(());
        }
        self.push_piece(piece);
        Ok(())
    }

    /// Drops the oldest pieces whose event times all fall before `before` (microseconds):
    /// whole chunks from the front, then the old pieces of the first chunk that has any left.
    /// Returns how many rows were dropped.
    pub(crate) fn release_before(&mut self, before: i64) -> usize {
        let old = |p: &Piece| p.span.is_some_and(|(_, last)| last < before);
        let rows = |pieces: &[Piece]| pieces.iter().map(|p| p.batch.num_rows()).sum::<usize>();
        let whole = self.sealed.iter().take_while(|c| c.iter().all(old)).count();
        let mut released: usize = self.sealed.drain(..whole).map(|c| rows(&c)).sum();
        if let Some(first) = self.sealed.first_mut() {
            if first.iter().any(old) {
                let (gone, kept): (Vec<Piece>, Vec<Piece>) = first.iter().cloned().partition(old);
                released += rows(&gone);
                *first = kept.into();
            }
        } else {
            let (gone, kept): (Vec<Piece>, Vec<Piece>) = std::mem::take(&mut self.tail).into_iter().partition(old);
            released += rows(&gone);
            self.tail = kept;
        }
        self.rows -= released;
        released
    }

    /// The pieces, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Piece> {
        self.sealed.iter().flat_map(|c| c.iter()).chain(&self.tail)
    }

    /// The record batches, in order.
    pub(crate) fn record_batches(&self) -> Vec<RecordBatch> {
        self.iter().map(|p| p.batch.clone()).collect()
    }

    /// How many rows there are.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }
}

/// In-memory batches as a table: dealt round-robin over `partitions` when scanned, so every
/// core scans a share.
#[derive(Debug)]
pub(crate) struct LiveTable {
    pub(crate) schema: SchemaRef,
    pub(crate) batches: Batches,
    pub(crate) partitions: usize,
}

#[async_trait]
impl TableProvider for LiveTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>, DataFusionError> {
        let partitions = self.partitions.max(1);
        let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions];
        for (i, piece) in self.batches.iter().enumerate() {
            parts[i % partitions].push(piece.batch.clone());
        }
        let source = MemorySourceConfig::try_new(&parts, self.schema.clone(), projection.cloned())?
            .with_show_sizes(state.config_options().explain.show_sizes);
        Ok(DataSourceExec::from_data_source(source))
    }
}
