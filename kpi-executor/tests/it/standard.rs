//! Every standard KPI calculated on a cluster of two executors equals the local calculation.

use kpi_catalog::Catalog;
use kpi_core::KpiResult;
use kpi_formula::{Grain, Query};

use crate::support::{LocalCluster, engine};

/// Rows as text keys to values, for comparing results.
fn keyed(result: &KpiResult) -> Vec<(String, Option<f64>)> {
    let batch = datafusion::arrow::compute::concat_batches(&result.schema(), result.batches()).unwrap();
    let mut rows: Vec<(String, Option<f64>)> = (0..batch.num_rows())
        .map(|row| {
            let key = (0..batch.num_columns() - 1)
                .map(|c| datafusion::arrow::util::display::array_value_to_string(batch.column(c), row).unwrap())
                .collect::<Vec<_>>()
                .join("|");
            let value =
                datafusion::arrow::compute::cast(batch.column(batch.num_columns() - 1), &datafusion::arrow::datatypes::DataType::Float64)
                    .unwrap();
            let value = value.as_any().downcast_ref::<datafusion::arrow::array::Float64Array>().unwrap();
            (key, (!datafusion::arrow::array::Array::is_null(value, row)).then(|| value.value(row)))
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

pub fn assert_same(what: &str, local: &KpiResult, remote: &KpiResult) {
    let (a, b) = (keyed(local), keyed(remote));
    assert_eq!(a.len(), b.len(), "{what}: rows differ");
    for ((ka, va), (kb, vb)) in a.iter().zip(&b) {
        assert_eq!(ka, kb, "{what}");
        match (va, vb) {
            (Some(x), Some(y)) => assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{what} {ka}: {x} vs {y}"),
            _ => assert_eq!(va, vb, "{what} {ka}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_standard_kpi_equals_the_local_result() {
    let cluster = LocalCluster::start(2);
    let local = engine(None).await;
    let remote = engine(Some(&cluster.url())).await;
    remote.check_cluster().await.unwrap();
    let catalog = Catalog::standard();
    for kpi in catalog.kpis() {
        let query = Query::kpi(&kpi.code).with_grain(Grain::Month);
        let here = local.calculate(&query).await.unwrap_or_else(|e| panic!("{} locally: {e}", kpi.code));
        let there = remote.calculate(&query).await.unwrap_or_else(|e| panic!("{} on the cluster: {e}\n{}", kpi.code, cluster.logs()));
        assert_same(&kpi.code, &here, &there);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dimensions_calendars_and_dashboards_equal_the_local_results() {
    let cluster = LocalCluster::start(2);
    let local = engine(None).await;
    let remote = engine(Some(&cluster.url())).await;
    let berlin = kpi_formula::Calendar::new(chrono_tz::Europe::Berlin);
    let nrf = kpi_formula::Calendar::default().with_retail(kpi_formula::custom_calendar::RetailCalendar::NRF);
    let queries = [
        Query::kpi("revenue").with_grain(Grain::Week).by(["orders.region"]),
        Query::kpi("revenue").with_grain(Grain::Day).with_calendar(berlin.clone()),
        Query::kpi("average_order_value").with_grain(Grain::Month).with_calendar(nrf).by(["orders.channel"]),
        Query::kpi("resolution_time_p90").with_grain(Grain::Quarter).with_calendar(berlin),
        Query::formula("sum(orders.order_value) / prev(sum(orders.order_value), '1 month')").with_grain(Grain::Week),
        Query::kpi("revenue").with_grain(Grain::Month).with_filter("orders.region = 'EU'"),
    ];
    for query in &queries {
        let here = local.calculate(query).await.unwrap_or_else(|e| panic!("{query:?} locally: {e}"));
        let there = remote.calculate(query).await.unwrap_or_else(|e| panic!("{query:?} on the cluster: {e}\n{}", cluster.logs()));
        assert_same(&format!("{query:?}"), &here, &there);
    }
    assert_eq!(remote.metrics().cluster_jobs as usize, queries.len());

    // A dashboard shares scans on the cluster as it does here.
    let month: Vec<Query> = ["revenue", "order_count", "average_order_value"]
        .into_iter()
        .map(|k| Query::kpi(k).with_grain(Grain::Month).by(["orders.region"]))
        .collect();
    let here = local.dashboard(&month).await;
    let there = remote.dashboard(&month).await;
    for (a, b) in here.items.iter().zip(&there.items) {
        let (Ok(a), Ok(b)) = (&a.outcome, &b.outcome) else { panic!("{:?} / {:?}", a.outcome.as_ref().err(), b.outcome.as_ref().err()) };
        assert_same("dashboard", a, b);
    }
    assert!(remote.metrics().shared_scans > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_on_a_web_server_are_read_by_the_scheduler_and_executors() {
    // Object stores over HTTP (byte ranges): the scheduler lists and sizes the file, the
    // executors read its ranges, each building the store from its own environment.
    let server = crate::file_server::FileServer::start(crate::support::demo_parquet().to_path_buf());
    let cluster = LocalCluster::start(2);
    let options = kpi_core::EngineOptions { cluster: Some(kpi_core::ClusterOptions::parse(&cluster.url()).unwrap()), ..Default::default() };
    let remote = kpi_core::Engine::with_options(Catalog::standard().clone(), options).unwrap();
    remote.register_parquet("orders", server.url("orders/part-0.parquet").as_str()).await.unwrap();
    let half = kpi_core::Engine::new(Catalog::standard().clone()).unwrap();
    half.register_parquet("orders", crate::support::demo_parquet().join("orders/part-0.parquet")).await.unwrap();
    let query = Query::kpi("revenue").with_grain(Grain::Month).by(["orders.region"]);
    let there = remote.calculate(&query).await.unwrap_or_else(|e| panic!("{e}\n{}", cluster.logs()));
    assert_same("over HTTP", &half.calculate(&query).await.unwrap(), &there);
    assert_eq!(remote.metrics().cluster_jobs, 1);
}
