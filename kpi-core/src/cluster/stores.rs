//! The object stores of the URLs a plan reads, built on first use from the environment of the
//! process that reads them: a scheduler listing a table's files or an executor scanning them
//! reaches `s3://`, `gs://`, `az://` and `https://` data as the engine that registered it does.

use std::sync::Arc;

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::object_store::{DefaultObjectStoreRegistry, ObjectStoreRegistry};
use object_store::ObjectStore;
use url::Url;

/// An object-store registry that builds a store for an unknown URL from the usual environment
/// variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`), with the engine's timeouts and retries.
#[derive(Debug, Default)]
pub struct EnvironmentStores {
    known: DefaultObjectStoreRegistry,
}

impl ObjectStoreRegistry for EnvironmentStores {
    fn register_store(&self, url: &Url, store: Arc<dyn ObjectStore>) -> Option<Arc<dyn ObjectStore>> {
        self.known.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        self.known.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> Result<Arc<dyn ObjectStore>> {
        if let Ok(store) = self.known.get_store(url) {
            return Ok(store);
        }
        match crate::files::stores::store_of(url, url.as_str()) {
            Ok(Some(store)) => {
                self.known.register_store(url, store.clone());
                Ok(store)
            }
            Ok(None) => self.known.get_store(url),
            Err(e) => Err(DataFusionError::Configuration(format!("{url}: {e}"))),
        }
    }
}
