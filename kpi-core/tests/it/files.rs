//! Parquet and CSV from files, hive-partitioned directories, globs and URLs (served by a
//! loopback HTTP server the test starts), compared with the same rows in memory.

use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::parquet::arrow::ArrowWriter;
use kpi_catalog::Catalog;
use kpi_core::Engine;
use kpi_formula::{Grain, Query};

pub use crate::file_server::FileServer;
use crate::support::{demo, engine, range};

fn orders() -> Vec<RecordBatch> {
    demo().batches("orders").unwrap().to_vec()
}

fn fresh() -> Engine {
    Engine::new(Catalog::standard().clone()).unwrap()
}

fn write_parquet(path: &Path, batches: &[RecordBatch]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut writer = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batches[0].schema(), None).unwrap();
    for b in batches {
        writer.write(b).unwrap();
    }
    writer.close().unwrap();
}

fn write_csv(path: &Path, batches: &[RecordBatch]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w = datafusion::arrow::csv::WriterBuilder::new().with_header(true).build(std::fs::File::create(path).unwrap());
    for b in batches {
        w.write(b).unwrap();
    }
}

/// The orders as a hive-partitioned directory: `dir/region=<region>/part<ext>`, the files
/// without the region column (its value is in the directory name).
fn write_hive(dir: &Path, extension: &str) {
    let all = datafusion::arrow::compute::concat_batches(&orders()[0].schema(), &orders()).unwrap();
    let region_index = all.schema().index_of("region").unwrap();
    let regions = all.column(region_index).as_string::<i32>().clone();
    let mut names: Vec<&str> = regions.iter().flatten().collect();
    names.sort_unstable();
    names.dedup();
    assert!(regions.null_count() == 0 && names.len() > 1, "the demo orders have regions");
    for name in names {
        let mask =
            datafusion::arrow::compute::kernels::cmp::eq(&regions, &datafusion::arrow::array::StringArray::new_scalar(name)).unwrap();
        let mut part = filter_record_batch(&all, &mask).unwrap();
        part.remove_column(region_index);
        let path = dir.join(format!("region={name}")).join(format!("part{extension}"));
        if extension == ".parquet" { write_parquet(&path, &[part]) } else { write_csv(&path, &[part]) }
    }
}

fn queries() -> Vec<Query> {
    let r = range("2024-01-01", "2024-07-01");
    ["revenue", "average_order_value", "order_count"]
        .into_iter()
        .map(|code| Query::kpi(code).with_grain(Grain::Month).by(["orders.region"]).with_range(r))
        .collect()
}

async fn assert_same_as_memory(e: &Engine, what: &str) {
    let memory = engine();
    for q in queries() {
        assert_eq!(e.calculate(&q).await.unwrap().rows(), memory.calculate(&q).await.unwrap().rows(), "{what}: {:?}", q.target);
    }
}

#[tokio::test]
async fn hive_partitions_and_globs_read_as_one_table() {
    let dir = tempfile::tempdir().unwrap();
    let e = fresh();

    write_hive(&dir.path().join("hive-parquet"), ".parquet");
    e.register_parquet("orders", dir.path().join("hive-parquet")).await.unwrap();
    assert_same_as_memory(&e, "hive Parquet").await;

    write_hive(&dir.path().join("hive-csv"), ".csv");
    e.register_csv("orders", dir.path().join("hive-csv")).await.unwrap();
    assert_same_as_memory(&e, "hive CSV").await;

    let all = orders();
    let third = all.len().div_ceil(3);
    for (i, chunk) in all.chunks(third).enumerate() {
        write_parquet(&dir.path().join(format!("split/orders-{i}.parquet")), chunk);
    }
    write_parquet(&dir.path().join("split/other.parquet"), &all[..1]);
    let glob = format!("{}/split/orders-*.parquet", dir.path().display());
    e.register_parquet("orders", glob.as_str()).await.unwrap();
    assert_same_as_memory(&e, "glob").await;

    let nothing = format!("{}/split/none-*.parquet", dir.path().display());
    let err = e.register_parquet("orders", nothing.as_str()).await.unwrap_err();
    assert_eq!(err.code(), "KPI_READ", "{err}");
}

#[tokio::test]
async fn parquet_and_csv_over_http_equal_local_files() {
    let dir = tempfile::tempdir().unwrap();
    write_parquet(&dir.path().join("data/orders.parquet"), &orders());
    write_csv(&dir.path().join("data/orders.csv"), &orders());
    let server = FileServer::start(dir.path().to_path_buf());
    let e = fresh();

    e.register_parquet("orders", server.url("data/orders.parquet")).await.unwrap();
    assert_same_as_memory(&e, "Parquet over HTTP").await;
    e.register_csv("orders", server.url("data/orders.csv")).await.unwrap();
    assert_same_as_memory(&e, "CSV over HTTP").await;

    for secret in [
        format!("http://reader:hunter2@127.0.0.1:{}/data/missing.parquet", server.port),
        format!("http://127.0.0.1:{}/data/orders.parquet?token=hunter2", server.port),
    ] {
        let err = e.register_parquet("orders", secret.as_str()).await.unwrap_err();
        let text = err.to_string();
        assert_eq!(err.code(), "KPI_READ", "{text}");
        assert!(text.contains(&format!("127.0.0.1:{}/data/", server.port)), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }
}

#[tokio::test]
async fn unreachable_and_unsupported_urls_fail_fast_with_the_location() {
    let e = fresh();
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let started = Instant::now();
    let err = e.register_parquet("orders", format!("http://127.0.0.1:{closed}/orders.parquet")).await.unwrap_err();
    assert_eq!(err.code(), "KPI_READ", "{err}");
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    assert!(err.to_string().contains(&format!("127.0.0.1:{closed}")), "{err}");

    let err = e.register_csv("orders", "ftp://example.com/orders.csv").await.unwrap_err();
    assert_eq!(err.code(), "KPI_READ");
    assert!(err.to_string().contains("unsupported URL scheme `ftp://`"), "{err}");
    let err = e.register_parquet("orders", "http://[::1/orders.parquet").await.unwrap_err();
    assert!(err.to_string().contains("not a valid URL"), "{err}");

    // The engine keeps serving its other data.
    e.register_batches("orders", orders()).unwrap();
    assert_same_as_memory(&e, "memory after failed URLs").await;
}
