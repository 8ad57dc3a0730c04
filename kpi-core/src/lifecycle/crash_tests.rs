//! Crash tests: a writer stopped at every step of archiving, checkpointing and logging, the
//! engine dropped without cleanup and its directory opened again. Every row must be once in
//! the archive or in active data, and every KPI must give the numbers it gave before.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use kpi_catalog::{ArchivalUnit, Catalog, DemoOptions, RetentionPolicy, RetentionRule, RetentionUnit};
use kpi_formula::{Grain, Query};

use super::fault::{Fault, arm};
use crate::{Engine, EngineOptions, ManualClock};

/// One crash test at a time: the armed fault is global.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn policy() -> RetentionPolicy {
    let rule = RetentionRule {
        retention_period: 60,
        retention_unit: RetentionUnit::Days,
        archival_enabled: true,
        archival_period: 1,
        archival_unit: ArchivalUnit::Years,
    };
    RetentionPolicy { staged_source_data: rule.clone(), analytics_data: rule, ..RetentionPolicy::default() }
}

fn open(dir: &Path) -> Engine {
    let clock = Arc::new(ManualClock::new("2024-07-01T00:00:00Z".parse().unwrap()));
    let options = EngineOptions::default().with_data_dir(dir).with_clock(clock).with_retention_policy(policy());
    Engine::with_options(Catalog::standard().clone(), options).unwrap()
}

/// Three appends of the demo orders (first half of 2024) and their items.
fn load(engine: &Engine) {
    let data =
        Catalog::standard().demo_data(&DemoOptions::new(1_500).with_seed(5).with_range("2024-01-01", "2024-07-01").unwrap()).unwrap();
    for name in data.table_names() {
        let batches = data.batches(name).unwrap().to_vec();
        for chunk in batches.chunks(batches.len().div_ceil(3).max(1)) {
            engine.append_batches(name, chunk.to_vec()).unwrap();
        }
    }
}

/// Values of a few KPIs by period (and region), keyed by query, period and group.
type Numbers = BTreeMap<String, Option<f64>>;

async fn numbers(engine: &Engine) -> Numbers {
    let mut out = BTreeMap::new();
    let queries = [
        Query::kpi("revenue").with_grain(Grain::Month),
        Query::kpi("order_count").with_grain(Grain::Month).by(["orders.region"]),
        Query::kpi("average_order_value").with_grain(Grain::Week),
        Query::formula("count(orders)").with_grain(Grain::Day),
    ];
    for query in queries {
        let result = engine.calculate(&query).await.unwrap();
        for row in result.rows() {
            out.insert(format!("{:?} {:?} {:?}", query.target, row.period, row.dimensions), row.value);
        }
    }
    out
}

/// The same keys and values within a relative 1e-9 (sums add archived and active rows in
/// another order).
fn assert_close(ours: &Numbers, before: &Numbers, what: &str) {
    assert_eq!(ours.keys().collect::<Vec<_>>(), before.keys().collect::<Vec<_>>(), "{what}: groups differ");
    for (key, a) in ours {
        match (a, before[key]) {
            (Some(a), Some(b)) => assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0), "{what}: {key}: {a} vs {b}"),
            (a, b) => assert_eq!(*a, b, "{what}: {key}"),
        }
    }
}

/// Rows of orders in active data and in the archive.
fn rows(engine: &Engine) -> (u64, u64) {
    let storage = engine.storage();
    let orders = storage.models.iter().find(|m| m.object_model == "orders").cloned().unwrap_or_default();
    (orders.hot_rows, orders.cold_rows)
}

async fn crash_during_retention(fault: Fault) {
    let dir = tempfile::tempdir().unwrap();
    let (before, total) = {
        let engine = open(dir.path());
        load(&engine);
        let before = numbers(&engine).await;
        let (hot, cold) = rows(&engine);
        arm(Some(fault));
        let failed = engine.apply_retention().await;
        arm(None);
        assert!(failed.is_err(), "{fault:?}: the run should have stopped");
        (before, hot + cold)
    };
    let engine = open(dir.path());
    let (hot, cold) = rows(&engine);
    assert_eq!(hot + cold, total, "{fault:?}: every row once in archive or active data (hot {hot}, cold {cold})");
    assert_close(&numbers(&engine).await, &before, &format!("{fault:?}: numbers after the crash"));
    // The run completes once the engine is back, and the numbers stay.
    engine.apply_retention().await.unwrap();
    let (hot, cold) = rows(&engine);
    assert!(cold > 0, "{fault:?}: the second run archived");
    assert_eq!(hot + cold, total, "{fault:?}: after the second run");
    assert_close(&numbers(&engine).await, &before, &format!("{fault:?}: numbers after the second run"));
    drop(engine);
    let engine = open(dir.path());
    assert_eq!(rows(&engine).0 + rows(&engine).1, total, "{fault:?}: after reopening again");
    assert_close(&numbers(&engine).await, &before, &format!("{fault:?}: numbers after reopening again"));
}

#[tokio::test]
async fn a_crash_at_any_step_of_archiving_or_checkpointing_loses_and_duplicates_nothing() {
    let _serial = SERIAL.lock().await;
    for fault in [
        Fault::ArchiveBeforeSync,
        Fault::ArchiveAfterParquet,
        Fault::ArchiveAfterIndex,
        Fault::ArchiveBeforeRelease,
        Fault::CheckpointAfterTables,
        Fault::CheckpointAfterManifest,
    ] {
        crash_during_retention(fault).await;
    }
}

#[tokio::test]
async fn an_append_cut_before_its_sync_is_there_at_most_once_and_acknowledged_ones_always() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let data = Catalog::standard().demo_data(&DemoOptions::new(600).with_seed(9).with_range("2024-06-01", "2024-07-01").unwrap()).unwrap();
    let orders = data.batches("orders").unwrap().to_vec();
    let acknowledged: usize = {
        let engine = open(dir.path());
        let (first, second) = orders.split_at(orders.len() / 2);
        engine.append_batches("orders", first.to_vec()).unwrap();
        arm(Some(Fault::WalBeforeSync));
        assert!(engine.append_batches("orders", second.to_vec()).is_err(), "the append is not acknowledged");
        arm(None);
        first.iter().map(|b| b.num_rows()).sum()
    };
    let all: usize = orders.iter().map(|b| b.num_rows()).sum();
    let engine = open(dir.path());
    let (hot, _) = rows(&engine);
    // Written before the crash, so the process's writes reached the file: the append is there,
    // once. Were the machine to lose power before the sync, it would be absent; never twice.
    assert!(hot as usize == all || hot as usize == acknowledged, "{hot} rows after the crash");
    assert_eq!(hot as usize, all);
}

#[tokio::test]
async fn a_torn_last_log_record_is_cut_and_the_records_before_it_survive() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let data = Catalog::standard().demo_data(&DemoOptions::new(600).with_seed(9).with_range("2024-06-01", "2024-07-01").unwrap()).unwrap();
    let orders = data.batches("orders").unwrap().to_vec();
    let (first, second) = orders.split_at(orders.len() / 2);
    {
        let engine = open(dir.path());
        engine.append_batches("orders", first.to_vec()).unwrap();
        engine.append_batches("orders", second.to_vec()).unwrap();
    }
    // A crash in the middle of writing the last record: its tail never reached the disk.
    let segment = std::fs::read_dir(dir.path().join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| std::fs::metadata(p).unwrap().len() > 0)
        .max()
        .unwrap();
    let length = std::fs::metadata(&segment).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&segment).unwrap().set_len(length - 100).unwrap();
    let engine = open(dir.path());
    assert_eq!(rows(&engine).0 as usize, first.iter().map(|b| b.num_rows()).sum::<usize>());
    // The log goes on after the cut: a new append is kept too.
    engine.append_batches("orders", second.to_vec()).unwrap();
    drop(engine);
    assert_eq!(rows(&open(dir.path())).0 as usize, orders.iter().map(|b| b.num_rows()).sum::<usize>());
}

#[tokio::test]
async fn a_corrupt_log_record_before_the_last_is_an_error_not_a_silent_loss() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let data = Catalog::standard().demo_data(&DemoOptions::new(300).with_seed(9).with_range("2024-06-01", "2024-07-01").unwrap()).unwrap();
    {
        let engine = open(dir.path());
        engine.append_batches("orders", data.batches("orders").unwrap().to_vec()).unwrap();
        drop(engine);
        // A second session writes its own segment.
        let engine = open(dir.path());
        engine.append_batches("orders", data.batches("orders").unwrap().to_vec()).unwrap();
    }
    let mut segments: Vec<_> = std::fs::read_dir(dir.path().join("wal"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| std::fs::metadata(p).unwrap().len() > 0)
        .collect();
    segments.sort();
    let mut bytes = std::fs::read(&segments[0]).unwrap();
    bytes[40] ^= 0xff;
    std::fs::write(&segments[0], bytes).unwrap();
    let clock = Arc::new(ManualClock::new("2024-07-01T00:00:00Z".parse().unwrap()));
    let err = Engine::with_options(Catalog::standard().clone(), EngineOptions::default().with_data_dir(dir.path()).with_clock(clock))
        .err()
        .unwrap();
    assert_eq!(err.code(), "KPI_STORAGE");
    assert!(err.to_string().contains("write-ahead log is corrupt"), "{err}");
}
