//! Writing files so that a crash leaves either the old or the new content, never a torn one:
//! a unique temporary file in the same directory, fsync, rename over the target, fsync of the
//! directory (which makes the rename itself durable).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::EngineError;

/// Writes `bytes` to `path` atomically and durably.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    static UNIQUE: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.{}.tmp", std::process::id(), UNIQUE.fetch_add(1, Ordering::Relaxed)));
    let written = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)?;
        sync_dir(dir)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Makes the entries of `dir` (files created, renamed or removed in it) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// An I/O failure at `path` as the engine reports it.
pub(crate) fn storage_error(path: &Path, e: impl std::fmt::Display) -> EngineError {
    EngineError::Storage { path: path.display().to_string(), message: e.to_string() }
}

/// Fails with a storage error unless a file can be created, written and synced in `dir`
/// (creating it if needed): checked before anything is released to it.
pub(crate) fn check_writable(dir: &Path) -> Result<(), EngineError> {
    fs::create_dir_all(dir).map_err(|e| storage_error(dir, e))?;
    let probe = dir.join(format!(".write-check.{}", std::process::id()));
    write_atomically(&probe, b"ok").map_err(|e| storage_error(dir, format!("cannot write here: {e}")))?;
    fs::remove_file(&probe).map_err(|e| storage_error(&probe, e))
}
