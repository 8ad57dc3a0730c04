//! A live feed from a PostgreSQL table (a throwaway server): rows inserted there reach the
//! engine and its subscribers, late commits are read once, and a feed started again from its
//! checkpoint reads only what came after.

use std::time::{Duration, Instant};

use kpi_catalog::Catalog;
use kpi_core::{Engine, FollowOptions, PostgresTable, Refresh};
use kpi_formula::Query;

use crate::postgres::PgServer;
use crate::support::demo;

async fn orders_server() -> PgServer {
    let server = PgServer::start();
    server.load("orders", &demo().schema("orders").unwrap(), demo().batches("orders").unwrap()).await;
    server
}

/// Inserts a copy of an existing order with id `id`, ordered at the latest time plus `offset`.
async fn insert(client: &tokio_postgres::Client, id: i64, offset: &str) {
    insert_with(client, id, offset, "").await
}

/// As [`insert`], with more `, column = value` assignments.
async fn insert_with(client: &tokio_postgres::Client, id: i64, offset: &str, more: &str) {
    client
        .batch_execute(&format!(
            "CREATE TEMP TABLE one AS SELECT * FROM orders LIMIT 1;
             UPDATE one SET order_id = {id}, ordered_at = (SELECT max(ordered_at) FROM orders) + interval '{offset}'{more};
             INSERT INTO orders SELECT * FROM one; DROP TABLE one;"
        ))
        .await
        .unwrap();
}

async fn count_in_postgres(client: &tokio_postgres::Client) -> f64 {
    let n: i64 = client.query_one("SELECT count(*) FROM orders", &[]).await.unwrap().get(0);
    n as f64
}

async fn count_in_engine(engine: &Engine) -> f64 {
    let result = engine.calculate(&Query::formula("count(orders)")).await.unwrap();
    result.rows()[0].value.unwrap()
}

/// Waits (up to 10 s) until the engine counts `want` orders.
async fn settle(engine: &Engine, want: f64) {
    let started = Instant::now();
    while count_in_engine(engine).await != want {
        assert!(started.elapsed() < Duration::from_secs(10), "the feed did not deliver {want} orders");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn options(checkpoint: &std::path::Path) -> FollowOptions {
    FollowOptions { poll_interval: Duration::from_millis(50), checkpoint: Some(checkpoint.to_path_buf()), ..Default::default() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_appends_new_rows_once_and_resumes_from_its_checkpoint() {
    let server = orders_server().await;
    let client = server.client().await;
    // Sessions in a zone far from UTC: the feed's boundary must not move by the offset.
    client.batch_execute("ALTER DATABASE postgres SET timezone TO 'Asia/Kolkata'").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let checkpoint = dir.path().join("orders.feed.json");
    let engine = Engine::new(Catalog::standard().clone()).unwrap();
    let table = PostgresTable::new("orders");

    let feed = engine.follow_postgres("orders", &server.dsn(), &table, options(&checkpoint)).await.unwrap();
    assert_eq!(count_in_engine(&engine).await, count_in_postgres(&client).await, "the first poll reads the table");
    for id in 0..5 {
        insert(&client, 9_000_000 + id, "1 minute").await;
    }
    // A transaction that commits after later rows: its time is earlier than the latest seen.
    insert(&client, 9_000_100, "-30 seconds").await;
    settle(&engine, count_in_postgres(&client).await).await;
    feed.stop().await;

    // While no feed runs, more rows arrive; a feed started from the checkpoint reads only those.
    for id in 0..3 {
        insert(&client, 9_100_000 + id, "1 minute").await;
    }
    let before = count_in_engine(&engine).await;
    let resumed = engine.follow_postgres("orders", &server.dsn(), &table, options(&checkpoint)).await.unwrap();
    assert_eq!(resumed.status().rows_appended, 3);
    assert_eq!(count_in_engine(&engine).await, before + 3.0);
    assert_eq!(count_in_engine(&engine).await, count_in_postgres(&client).await, "nothing lost, nothing twice");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(resumed.status().rows_appended, 3, "polls after the last row append nothing");
    assert_eq!(resumed.status().errors, 0);

    // A row the model refuses (no customer) fails the poll and moves nothing; fixed in the
    // database, it is appended.
    insert_with(&client, 9_300_000, "2 minutes", ", customer_id = NULL").await;
    let started = Instant::now();
    while resumed.status().errors == 0 {
        assert!(started.elapsed() < Duration::from_secs(10), "the refused row fails a poll");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(resumed.status().last_error.unwrap().contains("customer_id"));
    assert_eq!(count_in_engine(&engine).await, before + 3.0);
    client.batch_execute("UPDATE orders SET customer_id = 1 WHERE order_id = 9300000").await.unwrap();
    settle(&engine, count_in_postgres(&client).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_inserted_in_postgresql_reaches_a_subscriber_within_a_second() {
    let server = orders_server().await;
    let client = server.client().await;
    let engine = Engine::new(Catalog::standard().clone()).unwrap();
    let follow = FollowOptions { poll_interval: Duration::from_millis(100), ..Default::default() };
    let feed = engine.follow_postgres("orders", &server.dsn(), &PostgresTable::new("orders"), follow).await.unwrap();
    let mut subscription = engine.subscribe(&Query::formula("count(orders)"), Refresh::OnChange).await.unwrap();
    let mut count = count_in_postgres(&client).await;
    let mut latencies = Vec::new();
    for id in 0..30 {
        let started = Instant::now();
        insert(&client, 9_200_000 + id, "1 second").await;
        count += 1.0;
        loop {
            let updates = tokio::time::timeout(Duration::from_secs(5), subscription.next()).await.expect("an update within 5 s");
            if updates.updates.iter().any(|u| u.value == Some(count)) {
                break;
            }
        }
        latencies.push(started.elapsed());
    }
    latencies.sort();
    let (p50, p99) = (latencies[latencies.len() / 2], latencies[latencies.len() * 99 / 100]);
    eprintln!("feed latency, insert to subscriber (100 ms polls): p50 {p50:?}, p99 {p99:?}");
    assert!(p99 < Duration::from_secs(1), "p50 {p50:?}, p99 {p99:?}");
    assert_eq!(feed.status().errors, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_feeds_are_refused_and_a_dead_database_is_counted_not_fatal() {
    let server = orders_server().await;
    let engine = Engine::new(Catalog::standard().clone()).unwrap();
    let dsn = server.dsn();
    let unknown_key = FollowOptions { key: vec!["nope".into()], ..Default::default() };
    let err = engine.follow_postgres("orders", &dsn, &PostgresTable::new("orders"), unknown_key).await.err().unwrap();
    assert_eq!(err.code(), "KPI_OPTION", "{err}");
    assert!(err.to_string().contains("nope"), "{err}");
    let err = engine.follow_postgres("orders", &dsn, &PostgresTable::new("missing"), FollowOptions::default()).await.err().unwrap();
    assert_eq!(err.code(), "KPI_SOURCE", "{err}");
    assert!(!err.to_string().contains("kpi-test"), "{err}");

    let quick = FollowOptions { poll_interval: Duration::from_millis(20), ..Default::default() };
    let feed = engine.follow_postgres("orders", &dsn, &PostgresTable::new("orders"), quick).await.unwrap();
    let loaded = count_in_engine(&engine).await;
    // The feed's source raises an alert of its own when its polls fail.
    let mut events = engine.alert_events();
    let rule = kpi_core::AlertRuleSpec::from_json(r#"{"name": "orders feed", "when": "source_errors", "source": "orders"}"#).unwrap();
    engine.add_alert_rule(rule).await.unwrap();
    drop(server);
    let started = Instant::now();
    while feed.status().errors == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the failed polls are counted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = feed.status();
    let error = status.last_error.unwrap();
    assert!(error.contains("127.0.0.1") && !error.contains("kpi-test"), "{error}");
    assert_eq!(count_in_engine(&engine).await, loaded, "the engine keeps serving what it has");
    let alert = tokio::time::timeout(Duration::from_secs(30), events.next()).await.expect("the feed's alert").unwrap();
    assert_eq!((alert.rule.as_str(), alert.level, alert.source.as_deref()), ("orders feed", kpi_core::Level::Critical, Some("orders")));
    assert!(alert.message.contains("127.0.0.1") && !alert.message.contains("kpi-test"), "{}", alert.message);
}
