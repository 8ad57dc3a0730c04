//! The write-ahead log of an engine with a data directory: every registration, append and
//! removal of in-memory data is written and synced here before it is acknowledged.
//!
//! A segment is a sequence of frames: `KWA1`, the body's length (u32 LE), the first 8 bytes of
//! the body's SHA-256, then the body: the record kind (u8), its log position (u64 LE), the
//! object model (u16 LE length and UTF-8), and the batches as an Arrow IPC stream. A crash can
//! only tear the last frame of the last segment (it was never acknowledged): reading stops
//! there and the segment is cut back. A bad frame anywhere else is an error, never skipped.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::ipc::reader::StreamReader;
use datafusion::arrow::ipc::writer::StreamWriter;
use sha2::{Digest, Sha256};

use super::durable::{storage_error, sync_dir};
use crate::error::EngineError;

const MAGIC: &[u8; 4] = b"KWA1";
const HEADER: usize = 4 + 4 + 8;

/// One change of in-memory data.
#[derive(Clone, Debug)]
pub(crate) enum Record {
    /// The model's data replaced by these batches.
    Register { model: String, batches: Vec<RecordBatch> },
    /// Batches appended to the model's data.
    Append { model: String, batches: Vec<RecordBatch> },
    /// The model's data removed.
    Unregister { model: String },
    /// The model's data now comes from a table provider (a file or a database, durable where
    /// it is); appends that follow sit on top of it.
    Provider { model: String },
}

impl Record {
    fn kind(&self) -> u8 {
        match self {
            Record::Register { .. } => 1,
            Record::Append { .. } => 2,
            Record::Unregister { .. } => 3,
            Record::Provider { .. } => 4,
        }
    }

    /// The object model it changes.
    pub(crate) fn model(&self) -> &str {
        match self {
            Record::Register { model, .. } | Record::Append { model, .. } | Record::Unregister { model } | Record::Provider { model } => {
                model
            }
        }
    }
}

/// The log, open for appending to its newest segment.
pub(crate) struct Wal {
    dir: PathBuf,
    file: File,
    /// The position of the last record written (0 before any).
    pub(crate) lsn: u64,
    /// Bytes in segments since the last checkpoint.
    pub(crate) bytes: u64,
    /// Set once the engine closed the directory: nothing more is logged (or acknowledged).
    pub(crate) closed: bool,
}

impl Wal {
    /// Opens the log in `dir` for writing after position `lsn`: a new segment, so nothing read
    /// at recovery is ever written over.
    pub(crate) fn open(dir: &Path, lsn: u64, bytes: u64) -> Result<Wal, EngineError> {
        fs::create_dir_all(dir).map_err(|e| storage_error(dir, e))?;
        let file = new_segment(dir, lsn + 1)?;
        Ok(Wal { dir: dir.to_path_buf(), file, lsn, bytes, closed: false })
    }

    /// Writes `record` and syncs it; its position.
    pub(crate) fn write(&mut self, record: &Record) -> Result<u64, EngineError> {
        if self.closed {
            return Err(storage_error(&self.dir, "the engine closed its data directory; open the directory again to change data"));
        }
        let lsn = self.lsn + 1;
        let frame = encode(record, lsn)?;
        let path = self.dir.clone();
        self.file.write_all(&frame).map_err(|e| storage_error(&path, e))?;
        super::fault::hit(super::fault::Fault::WalBeforeSync)?;
        self.file.sync_data().map_err(|e| storage_error(&path, e))?;
        self.lsn = lsn;
        self.bytes += frame.len() as u64;
        Ok(lsn)
    }

    /// Starts a new segment after the current position (a checkpoint is taken at it).
    pub(crate) fn rotate(&mut self) -> Result<(), EngineError> {
        self.file = new_segment(&self.dir, self.lsn + 1)?;
        self.bytes = 0;
        Ok(())
    }

    /// Removes the segments whose records are all at or before `lsn` (a checkpoint holds them).
    pub(crate) fn remove_through(dir: &Path, lsn: u64) -> Result<(), EngineError> {
        let segments = segments(dir)?;
        for pair in segments.windows(2) {
            // Every record of a segment comes before the first of the next.
            if pair[1].0 <= lsn + 1 {
                fs::remove_file(&pair[0].1).map_err(|e| storage_error(&pair[0].1, e))?;
            }
        }
        sync_dir(dir).map_err(|e| storage_error(dir, e))
    }
}

/// Every record of the log in `dir` after position `after`, in order, and the bytes read. A
/// torn last frame is cut off.
pub(crate) fn replay(dir: &Path, after: u64) -> Result<(Vec<(u64, Record)>, u64), EngineError> {
    let segments = segments(dir)?;
    let mut out = Vec::new();
    let mut total = 0;
    for (i, (_, path)) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let mut bytes = Vec::new();
        File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)).map_err(|e| storage_error(path, e))?;
        let mut at = 0;
        while at < bytes.len() {
            match decode(&bytes[at..]) {
                Ok((lsn, record, used)) => {
                    if lsn > after {
                        out.push((lsn, record));
                    }
                    at += used;
                }
                Err(why) if last => {
                    tracing::warn!(path = %path.display(), at, why, "cutting a torn write-ahead log frame (never acknowledged)");
                    let file = OpenOptions::new().write(true).open(path).map_err(|e| storage_error(path, e))?;
                    file.set_len(at as u64).and_then(|()| file.sync_all()).map_err(|e| storage_error(path, e))?;
                    break;
                }
                Err(why) => {
                    return Err(storage_error(
                        path,
                        format!("the write-ahead log is corrupt at byte {at} ({why}); restore the data directory from a backup"),
                    ));
                }
            }
        }
        total += at as u64;
    }
    Ok((out, total))
}

/// The segments of `dir` by their first position.
fn segments(dir: &Path) -> Result<Vec<(u64, PathBuf)>, EngineError> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(storage_error(dir, e)),
    };
    for entry in entries {
        let path = entry.map_err(|e| storage_error(dir, e))?.path();
        let first = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".wal")).and_then(|n| n.parse::<u64>().ok());
        if let Some(first) = first {
            out.push((first, path));
        }
    }
    out.sort();
    Ok(out)
}

fn new_segment(dir: &Path, first: u64) -> Result<File, EngineError> {
    let path = dir.join(format!("{first:020}.wal"));
    // A segment of this name left empty by a crash before its first record is reused.
    let file = OpenOptions::new().create(true).append(true).open(&path).map_err(|e| storage_error(&path, e))?;
    sync_dir(dir).map_err(|e| storage_error(dir, e))?;
    Ok(file)
}

fn encode(record: &Record, lsn: u64) -> Result<Vec<u8>, EngineError> {
    let model = record.model().as_bytes();
    let mut body = Vec::with_capacity(64);
    body.push(record.kind());
    body.extend_from_slice(&lsn.to_le_bytes());
    let len = u16::try_from(model.len()).map_err(|_| EngineError::Internal("object model code longer than 65535 bytes".into()))?;
    body.extend_from_slice(&len.to_le_bytes());
    body.extend_from_slice(model);
    if let Record::Register { batches, .. } | Record::Append { batches, .. } = record
        && let Some(first) = batches.first()
    {
        let mut writer = StreamWriter::try_new(&mut body, &first.schema()).map_err(|e| EngineError::Execution(e.into()))?;
        for batch in batches {
            writer.write(batch).map_err(|e| EngineError::Execution(e.into()))?;
        }
        writer.finish().map_err(|e| EngineError::Execution(e.into()))?;
    }
    let len = u32::try_from(body.len()).map_err(|_| EngineError::InvalidOption {
        option: "data_dir",
        message: "one append of more than 4 GiB cannot be logged; append in smaller batches".into(),
    })?;
    let mut frame = Vec::with_capacity(HEADER + body.len());
    frame.extend_from_slice(MAGIC);
    frame.extend_from_slice(&len.to_le_bytes());
    frame.extend_from_slice(&Sha256::digest(&body)[..8]);
    frame.extend_from_slice(&body);
    Ok(frame)
}

/// One frame at the start of `bytes`: its position, record and length.
fn decode(bytes: &[u8]) -> Result<(u64, Record, usize), &'static str> {
    if bytes.len() < HEADER {
        return Err("short header");
    }
    if &bytes[..4] != MAGIC {
        return Err("bad magic");
    }
    let len = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    let body = bytes.get(HEADER..HEADER + len).ok_or("short body")?;
    if Sha256::digest(body)[..8] != bytes[8..16] {
        return Err("checksum mismatch");
    }
    let kind = body[0];
    let lsn = u64::from_le_bytes(body.get(1..9).ok_or("short body")?.try_into().map_err(|_| "short body")?);
    let model_len = u16::from_le_bytes(body.get(9..11).ok_or("short body")?.try_into().map_err(|_| "short body")?) as usize;
    let model = std::str::from_utf8(body.get(11..11 + model_len).ok_or("short body")?).map_err(|_| "bad model name")?.to_string();
    let rest = &body[11 + model_len..];
    let batches = || -> Result<Vec<RecordBatch>, &'static str> {
        if rest.is_empty() {
            return Ok(Vec::new());
        }
        let reader = StreamReader::try_new(rest, None).map_err(|_| "bad batches")?;
        reader.collect::<Result<Vec<_>, _>>().map_err(|_| "bad batches")
    };
    let record = match kind {
        1 => Record::Register { model, batches: batches()? },
        2 => Record::Append { model, batches: batches()? },
        3 => Record::Unregister { model },
        4 => Record::Provider { model },
        _ => return Err("unknown record kind"),
    };
    Ok((lsn, record, HEADER + len))
}
