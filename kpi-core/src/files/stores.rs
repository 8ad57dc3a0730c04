//! The object store a URL needs, built from the usual environment variables and registered in
//! the engine's DataFusion session, with bounded timeouts and retries so that an unreachable
//! store fails a registration or query within seconds rather than after object_store's default
//! three minutes of retries.

use std::sync::Arc;
use std::time::Duration;

use datafusion::datasource::listing::ListingTableUrl;
use datafusion::prelude::SessionContext;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::http::HttpBuilder;
use object_store::{BackoffConfig, ClientConfigKey, ObjectStore, RetryConfig};
use url::Url;

/// How long connecting to a store may take.
const CONNECT_TIMEOUT: &str = "5 seconds";

/// How long one request may take (a large Parquet range on a slow link included).
const REQUEST_TIMEOUT: &str = "60 seconds";

/// Retries of a failed request, and the time they may take in all.
fn retries() -> RetryConfig {
    RetryConfig { backoff: BackoffConfig::default(), max_retries: 3, retry_timeout: Duration::from_secs(15) }
}

/// The schemes read, as shown in errors.
const SCHEMES: &str = "s3://, s3a://, gs://, az://, adl://, azure://, abfs://, abfss://, http://, https:// and file://";

/// Registers the store `text` addresses in `ctx` and returns the listing URL of `text`.
pub(super) fn register(ctx: &SessionContext, text: &str) -> Result<ListingTableUrl, String> {
    let url = Url::parse(text).map_err(|e| format!("not a valid URL ({e})"))?;
    let Some(store) = store_of(&url, text)? else { return ListingTableUrl::parse(text).map_err(|e| e.to_string()) };
    let table = ListingTableUrl::parse(text).map_err(|e| e.to_string())?;
    ctx.register_object_store(table.object_store().as_ref(), store);
    Ok(table)
}

/// Writes `bytes` as the object `name` under the URL `directory` (reports delivered to a
/// store); the object's URL. A put is atomic in every store object_store writes to.
pub(crate) async fn put(directory: &str, name: &str, bytes: Vec<u8>) -> Result<String, String> {
    let url = Url::parse(directory).map_err(|e| format!("not a valid URL ({e})"))?;
    let store = store_of(&url, directory)?.ok_or("file:// URLs are written as local directories")?;
    let prefix = url.path().trim_matches('/');
    let path = if prefix.is_empty() { name.to_string() } else { format!("{prefix}/{name}") };
    let location = object_store::path::Path::parse(&path).map_err(|e| e.to_string())?;
    store.put_opts(&location, bytes.into(), object_store::PutOptions::default()).await.map_err(|e| e.to_string())?;
    Ok(format!("{}/{name}", directory.trim_end_matches('/')))
}

/// The store of the URL `directory` and the path prefix of its objects (archives kept there).
pub(crate) fn at(directory: &str) -> Result<(Arc<dyn ObjectStore>, String), String> {
    let url = Url::parse(directory).map_err(|e| format!("not a valid URL ({e})"))?;
    let store = store_of(&url, directory)?.ok_or("file:// URLs are local directories: give the path")?;
    Ok((store, url.path().trim_matches('/').to_string()))
}

/// Checks that a store can be built for the URL `directory` (its scheme, region, credentials).
pub(crate) fn check(directory: &str) -> Result<(), String> {
    let url = Url::parse(directory).map_err(|e| format!("not a valid URL ({e})"))?;
    store_of(&url, directory)?.map(|_| ()).ok_or_else(|| "file:// URLs are written as local directories".to_string())
}

/// The store of `url` (`text` as given), or `None` for a local `file://` URL.
pub(crate) fn store_of(url: &Url, text: &str) -> Result<Option<Arc<dyn ObjectStore>>, String> {
    let store: Arc<dyn ObjectStore> = match url.scheme() {
        "file" => return Ok(None),
        "s3" | "s3a" => {
            let builder = AmazonS3Builder::from_env()
                .with_url(text)
                .with_retry(retries())
                .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::ConnectTimeout), CONNECT_TIMEOUT)
                .with_config(AmazonS3ConfigKey::Client(ClientConfigKey::Timeout), REQUEST_TIMEOUT);
            Arc::new(builder.build().map_err(store_error)?)
        }
        "gs" => {
            let builder = GoogleCloudStorageBuilder::from_env()
                .with_url(text)
                .with_retry(retries())
                .with_config(GoogleConfigKey::Client(ClientConfigKey::ConnectTimeout), CONNECT_TIMEOUT)
                .with_config(GoogleConfigKey::Client(ClientConfigKey::Timeout), REQUEST_TIMEOUT);
            Arc::new(builder.build().map_err(store_error)?)
        }
        "az" | "adl" | "azure" | "abfs" | "abfss" => {
            let builder = MicrosoftAzureBuilder::from_env()
                .with_url(text)
                .with_retry(retries())
                .with_config(AzureConfigKey::Client(ClientConfigKey::ConnectTimeout), CONNECT_TIMEOUT)
                .with_config(AzureConfigKey::Client(ClientConfigKey::Timeout), REQUEST_TIMEOUT);
            Arc::new(builder.build().map_err(store_error)?)
        }
        "http" | "https" => {
            let origin = url.origin().ascii_serialization();
            let builder = HttpBuilder::new()
                .with_url(origin)
                .with_retry(retries())
                .with_config(ClientConfigKey::AllowHttp, "true")
                .with_config(ClientConfigKey::ConnectTimeout, CONNECT_TIMEOUT)
                .with_config(ClientConfigKey::Timeout, REQUEST_TIMEOUT);
            Arc::new(builder.build().map_err(store_error)?)
        }
        other => return Err(format!("unsupported URL scheme `{other}://`; the engine reads {SCHEMES}")),
    };
    Ok(Some(store))
}

/// A store that cannot be built says why (a missing region or credentials, a bad account name).
fn store_error(e: object_store::Error) -> String {
    format!("cannot set up the object store: {e}")
}
