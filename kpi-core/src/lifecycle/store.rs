//! The cold-storage location archives go to: a local directory (written with fsync) or an
//! object store (a put is durable once acknowledged, and atomic).

use std::path::{Path, PathBuf};
#[cfg(feature = "object-stores")]
use std::sync::Arc;

use datafusion::datasource::listing::ListingTableUrl;
use datafusion::prelude::SessionContext;

use super::durable::{check_writable, storage_error, write_atomically};
use crate::error::EngineError;
use crate::files::DataLocation;

/// Where archives and their index are kept.
#[derive(Debug)]
pub(crate) enum ArchiveStore {
    /// A local directory.
    Directory(PathBuf),
    /// An object-store URL and the store behind it.
    #[cfg(feature = "object-stores")]
    Url { url: String, store: Arc<dyn object_store::ObjectStore>, prefix: String },
}

impl ArchiveStore {
    /// The store at `location`.
    pub(crate) fn open(location: &DataLocation) -> Result<ArchiveStore, EngineError> {
        match location {
            DataLocation::Path(path) => Ok(ArchiveStore::Directory(absolute(path))),
            DataLocation::Url(url) if url.starts_with("file://") => Ok(ArchiveStore::Directory(PathBuf::from(&url["file://".len()..]))),
            #[cfg(feature = "object-stores")]
            DataLocation::Url(url) => {
                let (store, prefix) =
                    crate::files::stores::at(url).map_err(|e| EngineError::Storage { path: location.to_string(), message: e })?;
                Ok(ArchiveStore::Url { url: url.trim_end_matches('/').to_string(), store, prefix })
            }
            #[cfg(not(feature = "object-stores"))]
            DataLocation::Url(_) => Err(EngineError::Storage {
                path: location.to_string(),
                message: "object-store locations need the `object-stores` feature".into(),
            }),
        }
    }

    /// The location as shown to users.
    pub(crate) fn describe(&self) -> String {
        match self {
            ArchiveStore::Directory(path) => path.display().to_string(),
            #[cfg(feature = "object-stores")]
            ArchiveStore::Url { url, .. } => DataLocation::Url(url.clone()).to_string(),
        }
    }

    /// `relative` as shown to users (a path or URL).
    pub(crate) fn describe_file(&self, relative: &str) -> String {
        match self {
            ArchiveStore::Directory(path) => path.join(relative).display().to_string(),
            #[cfg(feature = "object-stores")]
            ArchiveStore::Url { url, .. } => DataLocation::Url(format!("{url}/{relative}")).to_string(),
        }
    }

    /// Fails unless objects can be written there: before anything is released to it.
    pub(crate) async fn check_writable(&self) -> Result<(), EngineError> {
        match self {
            ArchiveStore::Directory(path) => check_writable(path),
            #[cfg(feature = "object-stores")]
            ArchiveStore::Url { .. } => {
                let probe = format!(".write-check-{}", std::process::id());
                self.put(&probe, b"ok".to_vec()).await?;
                self.delete(&probe).await
            }
        }
    }

    /// Writes `bytes` as `relative`, durably, replacing what was there atomically.
    pub(crate) async fn put(&self, relative: &str, bytes: Vec<u8>) -> Result<(), EngineError> {
        match self {
            ArchiveStore::Directory(root) => {
                let path = root.join(relative);
                write_atomically(&path, &bytes).map_err(|e| storage_error(&path, e))
            }
            #[cfg(feature = "object-stores")]
            ArchiveStore::Url { store, .. } => {
                let location = self.object(relative)?;
                store
                    .put_opts(&location, bytes.into(), object_store::PutOptions::default())
                    .await
                    .map(|_| ())
                    .map_err(|e| EngineError::Storage { path: self.describe_file(relative), message: e.to_string() })
            }
        }
    }

    /// The bytes of `relative`; `None` when there is no such file.
    pub(crate) async fn get(&self, relative: &str) -> Result<Option<Vec<u8>>, EngineError> {
        match self {
            ArchiveStore::Directory(root) => {
                let path = root.join(relative);
                match std::fs::read(&path) {
                    Ok(bytes) => Ok(Some(bytes)),
                    // Nothing there yet (writing there fails later, with the reason).
                    Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => Ok(None),
                    Err(e) => Err(storage_error(&path, e)),
                }
            }
            #[cfg(feature = "object-stores")]
            ArchiveStore::Url { store, .. } => {
                let location = self.object(relative)?;
                let failed = |e: object_store::Error| EngineError::Storage { path: self.describe_file(relative), message: e.to_string() };
                match object_store::ObjectStoreExt::get(store.as_ref(), &location).await {
                    Ok(got) => Ok(Some(got.bytes().await.map_err(failed)?.to_vec())),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(failed(e)),
                }
            }
        }
    }

    /// Removes `relative`; a file already gone is not an error.
    pub(crate) async fn delete(&self, relative: &str) -> Result<(), EngineError> {
        match self {
            ArchiveStore::Directory(root) => {
                let path = root.join(relative);
                match std::fs::remove_file(&path) {
                    Ok(()) => path.parent().map_or(Ok(()), |dir| super::durable::sync_dir(dir).map_err(|e| storage_error(dir, e))),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(storage_error(&path, e)),
                }
            }
            #[cfg(feature = "object-stores")]
            ArchiveStore::Url { store, .. } => match object_store::ObjectStoreExt::delete(store.as_ref(), &self.object(relative)?).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(EngineError::Storage { path: self.describe_file(relative), message: e.to_string() }),
            },
        }
    }

    /// The URL DataFusion scans `relative` at, with the store registered in `ctx`.
    pub(crate) fn scan_url(&self, ctx: &SessionContext, relative: &str) -> Result<ListingTableUrl, EngineError> {
        let failed =
            |e: datafusion::error::DataFusionError| EngineError::Storage { path: self.describe_file(relative), message: e.to_string() };
        match self {
            ArchiveStore::Directory(root) => {
                ListingTableUrl::parse(root.join(relative).to_str().ok_or_else(|| storage_error(root, "the path is not UTF-8"))?)
                    .map_err(failed)
            }
            #[cfg(feature = "object-stores")]
            ArchiveStore::Url { url, store, .. } => {
                let table = ListingTableUrl::parse(format!("{url}/{relative}")).map_err(failed)?;
                ctx.register_object_store(table.object_store().as_ref(), store.clone());
                Ok(table)
            }
        }
    }

    #[cfg(feature = "object-stores")]
    fn object(&self, relative: &str) -> Result<object_store::path::Path, EngineError> {
        let ArchiveStore::Url { prefix, .. } = self else { return Err(EngineError::Internal("not an object store".into())) };
        let path = if prefix.is_empty() { relative.to_string() } else { format!("{prefix}/{relative}") };
        object_store::path::Path::parse(&path)
            .map_err(|e| EngineError::Storage { path: self.describe_file(relative), message: e.to_string() })
    }
}

/// `path` made absolute against the working directory (so a later change of directory does
/// not move the archive).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
