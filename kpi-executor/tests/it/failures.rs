//! What goes wrong on a cluster, and what the user is told: an unreachable scheduler, a stock
//! Ballista without the engine's functions, tables only this process holds, an executor lost
//! in the middle of a query.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kpi_catalog::Catalog;
use kpi_core::{ClusterOptions, Engine, EngineOptions};
use kpi_formula::{Grain, Query};

use crate::support::{LocalCluster, demo, engine, free_port};

fn on(url: &str, connect_timeout: Duration) -> Engine {
    let cluster = ClusterOptions::parse(url).unwrap().with_connect_timeout(connect_timeout);
    Engine::with_options(Catalog::standard().clone(), EngineOptions { cluster: Some(cluster), ..EngineOptions::default() }).unwrap()
}

#[tokio::test]
async fn an_unreachable_scheduler_is_a_typed_error_naming_it_within_the_timeout() {
    let port = free_port();
    let engine = on(&format!("df://127.0.0.1:{port}"), Duration::from_secs(2));
    let started = Instant::now();
    let e = engine.check_cluster().await.unwrap_err();
    assert_eq!(e.code(), "KPI_CLUSTER", "{e}");
    assert!(e.to_string().contains(&format!("df://127.0.0.1:{port}")) && e.to_string().contains("kpi-scheduler"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());

    // A calculation says the same; Parquet registration itself needs no cluster.
    for name in demo().table_names() {
        engine.register_parquet(name, crate::support::demo_parquet().join(name)).await.unwrap();
    }
    let started = Instant::now();
    let e = engine.calculate(&Query::kpi("revenue").with_grain(Grain::Month)).await.unwrap_err();
    assert_eq!(e.code(), "KPI_CLUSTER", "{e}");
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());

    // An address that never answers ends at the connect timeout.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let engine = on(&format!("df://127.0.0.1:{port}"), Duration::from_secs(1));
    let started = Instant::now();
    let e = engine.check_cluster().await.unwrap_err();
    assert_eq!(e.code(), "KPI_CLUSTER", "{e}");
    assert!(started.elapsed() < Duration::from_secs(4), "{:?}: {e}", started.elapsed());
}

#[test]
fn bad_cluster_urls_are_option_errors() {
    for url in ["http://127.0.0.1:50050", "df://", "df://host:0", "df://host:99999", "df://a/b", "127.0.0.1:50050", "df://user@host:1"] {
        let e = ClusterOptions::parse(url).unwrap_err();
        assert_eq!(e.code(), "KPI_OPTION", "{url}: {e}");
        assert!(e.to_string().contains("df://host:port"), "{e}");
    }
    assert_eq!(ClusterOptions::parse("df://scheduler").unwrap().address(), "scheduler:50050");
    assert_eq!(ClusterOptions::parse("df://[::1]:7000").unwrap().address(), "[::1]:7000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_only_this_process_holds_are_refused_by_name() {
    let cluster = LocalCluster::start(1);
    let engine = engine(Some(&cluster.url())).await;
    engine.register_batches("tickets", demo().batches("tickets").unwrap().to_vec()).unwrap();
    let e = engine.calculate(&Query::kpi("resolution_time_p90").with_grain(Grain::Month)).await.unwrap_err();
    assert_eq!(e.code(), "KPI_LOCAL_ONLY", "{e}");
    assert!(e.to_string().contains("`tickets`") && e.to_string().contains("register_parquet"), "{e}");

    let orders = demo().batches("orders").unwrap()[..1].to_vec();
    engine.append_batches("orders", orders).unwrap();
    let e = engine.calculate(&Query::kpi("revenue").with_grain(Grain::Month)).await.unwrap_err();
    assert_eq!(e.code(), "KPI_LOCAL_ONLY", "{e}");
    assert!(e.to_string().contains("appended"), "{e}");
}

/// A stock Ballista scheduler (Ballista's own codecs) in this process.
pub async fn stock_scheduler() -> u16 {
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::SchedulerConfig;
    let port = free_port();
    let config = SchedulerConfig { bind_port: port, ..SchedulerConfig::default() };
    let cluster = BallistaCluster::new_from_config(&config).await.unwrap();
    let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    tokio::spawn(ballista_scheduler::scheduler_process::start_server(cluster, address, Arc::new(config)));
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(address).await.is_err() {
        assert!(Instant::now() < deadline, "the stock scheduler did not listen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stock_ballista_is_told_apart_from_kpi_scheduler() {
    let port = stock_scheduler().await;
    let engine = engine(Some(&format!("df://127.0.0.1:{port}"))).await;
    engine.check_cluster().await.unwrap();
    // Days in Berlin are the engine's own calendar function. (A range of its own: this
    // scheduler has no executors to find the data's bounds, and needs none to refuse the plan.)
    let berlin = kpi_formula::Calendar::new(chrono_tz::Europe::Berlin);
    let range = kpi_formula::TimeRange::parse("2024-01-01", "2024-03-01", &berlin).unwrap();
    let query = Query::kpi("revenue").with_grain(Grain::Day).with_calendar(berlin).with_range(range);
    let started = Instant::now();
    let e = engine.calculate(&query).await.unwrap_err();
    assert_eq!(e.code(), "KPI_CLUSTER", "{e}");
    assert!(e.to_string().contains("kpi-scheduler and kpi-executor"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_executor_lost_mid_query_ends_in_a_result_or_a_typed_error() {
    let mut cluster = LocalCluster::start(2);
    let local = engine(None).await;
    let options = EngineOptions {
        cluster: Some(ClusterOptions::parse(&cluster.url()).unwrap()),
        timeout: Some(Duration::from_secs(60)),
        ..EngineOptions::default()
    };
    let remote = Engine::with_options(Catalog::standard().clone(), options).unwrap();
    for name in demo().table_names() {
        remote.register_parquet(name, crate::support::demo_parquet().join(name)).await.unwrap();
    }
    let by_region = ["revenue", "order_count", "average_order_value"].map(|k| Query::kpi(k).by(["orders.region"]));
    let alone = ["monthly_active_users", "resolution_time_p90"].map(Query::kpi);
    let queries: Vec<Query> =
        by_region.into_iter().chain(alone).flat_map(|q| [Grain::Day, Grain::Week].map(|g| q.clone().with_grain(g))).collect();
    let started = Instant::now();
    let running = {
        let remote = remote.clone();
        let queries = queries.clone();
        tokio::spawn(async move { remote.calculate_batch(&queries).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lost = &mut cluster.executors[0];
    lost.kill().unwrap();
    lost.wait().unwrap();
    let killed_at = started.elapsed();
    let outcomes = running.await.unwrap();
    eprintln!(
        "executor killed at {killed_at:?}, batch ended at {:?}: {:?}",
        started.elapsed(),
        outcomes.iter().map(|o| o.as_ref().map(|_| "ok").map_err(|e| e.code())).collect::<Vec<_>>()
    );
    assert!(started.elapsed() < Duration::from_secs(90), "{:?}", started.elapsed());
    for (query, outcome) in queries.iter().zip(outcomes) {
        match outcome {
            Ok(result) => crate::standard::assert_same(&format!("{query:?}"), &local.calculate(query).await.unwrap(), &result),
            Err(e) => assert!(["KPI_CLUSTER", "KPI_TIMEOUT"].contains(&e.code()), "{query:?}: {e}"),
        }
    }
    // The executor left answers the next calculation.
    let query = Query::kpi("revenue").with_grain(Grain::Month);
    let result = remote.calculate(&query).await.unwrap_or_else(|e| panic!("{e}\n{}", cluster.logs()));
    crate::standard::assert_same("after the loss", &local.calculate(&query).await.unwrap(), &result);
}
