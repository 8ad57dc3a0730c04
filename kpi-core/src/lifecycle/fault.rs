//! Crash points of the lifecycle's writers. The crash tests arm one for a directory: the writer
//! stops there with an error as if the process died, the test drops the engine without any
//! cleanup and opens the directory again. Outside tests nothing is ever armed.

use crate::error::EngineError;

/// A step of a writer a crash may interrupt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// A log record written but not synced (nor acknowledged).
    WalBeforeSync,
    /// An archive file written but not synced.
    ArchiveBeforeSync,
    /// Archive files written and synced, the index not updated.
    ArchiveAfterParquet,
    /// The index updated, rows not released from active data.
    ArchiveAfterIndex,
    /// Rows released in memory, nothing else (the next checkpoint would record it).
    ArchiveBeforeRelease,
    /// A checkpoint's table files written, the manifest not.
    CheckpointAfterTables,
    /// The manifest written, old log segments not removed.
    CheckpointAfterManifest,
}

#[cfg(test)]
static ARMED: std::sync::Mutex<Option<Fault>> = std::sync::Mutex::new(None);

/// Arms `fault` for the next time a writer reaches it (one at a time: the crash tests hold a
/// lock while they run).
#[cfg(test)]
pub(crate) fn arm(fault: Option<Fault>) {
    *ARMED.lock().unwrap_or_else(|p| p.into_inner()) = fault;
}

/// Stops the writer at `fault` when it is armed.
pub(crate) fn hit(fault: Fault) -> Result<(), EngineError> {
    #[cfg(test)]
    {
        let mut armed = ARMED.lock().unwrap_or_else(|p| p.into_inner());
        if *armed == Some(fault) {
            *armed = None;
            return Err(EngineError::Internal(format!("injected crash at {fault:?}")));
        }
    }
    let _ = fault;
    Ok(())
}
