//! Archive files checked against the checksums of their index entries: a file that changed,
//! was cut short or went missing is reported with its path and periods, never skipped.

use kpi_formula::Query;
use sha2::{Digest, Sha256};

use super::run::hex;
use crate::engine::Engine;
use crate::error::EngineError;

impl Engine {
    /// Checks every archive file still kept against its checksum; the first that does not
    /// match (or cannot be read) is a [`EngineError::CorruptArchive`].
    pub async fn verify_archive(&self) -> Result<(), EngineError> {
        self.verify_models(None).await
    }

    /// Checks the archive files of `models` (all when `None`).
    async fn verify_models(&self, models: Option<&[String]>) -> Result<(), EngineError> {
        let Some(store) = &self.inner.lifecycle.archive else { return Ok(()) };
        let index = self.archive_index();
        let wanted = |m: &String| models.is_none_or(|ms| ms.contains(m));
        for entry in index.entries.iter().filter(|e| e.removed_at.is_none() && wanted(&e.object_model)) {
            let corrupt = |message: String| EngineError::CorruptArchive {
                path: store.describe_file(&entry.file),
                periods: format!("{} of {}", entry.period, entry.object_model),
                message,
            };
            match store.get(&entry.file).await {
                Ok(Some(bytes)) if hex(&Sha256::digest(&bytes)) == entry.sha256 => {}
                Ok(Some(bytes)) => {
                    return Err(corrupt(format!(
                        "its checksum does not match the index ({} bytes, {} expected)",
                        bytes.len(),
                        entry.bytes
                    )));
                }
                Ok(None) => return Err(corrupt("the file is missing".into())),
                Err(e) => return Err(corrupt(e.to_string())),
            }
        }
        Ok(())
    }

    /// `error`, a failed execution of `query`, or the corrupt archive file behind it when the
    /// tables it reads have one.
    pub(crate) async fn explain_failure(&self, query: &Query, error: EngineError) -> EngineError {
        let catalog = self.catalog();
        let Ok(resolved) = crate::maintenance::resolve(query, &catalog) else { return error };
        let tables: Vec<String> = resolved.tables.into_iter().filter(|t| self.inner.lifecycle.archive_of(t).is_some()).collect();
        if tables.is_empty() {
            return error;
        }
        match self.verify_models(Some(&tables)).await {
            Err(corrupt) => corrupt,
            Ok(()) => error,
        }
    }
}
