//! Data lifecycle through the public API: retention policies applied on the engine's clock,
//! archives read together with active data, durable appends, clock sanity, and bad input.

use std::sync::Arc;
use std::time::Duration;

use kpi_catalog::{ArchivalUnit, Catalog, Compliance, RetentionPolicy, RetentionRule, RetentionUnit};
use kpi_core::{CachePolicy, CalculateOptions, Clock, Engine, EngineOptions, ManualClock};
use kpi_formula::{Grain, Query};
use proptest::prelude::*;

use crate::support::{assert_same_rows, demo, engine_with, range};

/// Active for `days`, then archived for a year (or deleted).
fn policy(days: u32, archive: bool) -> RetentionPolicy {
    let rule = RetentionRule {
        retention_period: days,
        retention_unit: RetentionUnit::Days,
        archival_enabled: archive,
        archival_period: 1,
        archival_unit: ArchivalUnit::Years,
    };
    RetentionPolicy { staged_source_data: rule.clone(), analytics_data: rule, ..RetentionPolicy::default() }
}

fn clock(at: &str) -> Arc<ManualClock> {
    Arc::new(ManualClock::new(at.parse().unwrap()))
}

/// An engine over the demo data (first half of 2024) with a data directory, a clock and a policy.
fn durable(dir: &std::path::Path, clock: Arc<ManualClock>, policy: Option<RetentionPolicy>) -> Engine {
    let mut options = EngineOptions::default().with_data_dir(dir).with_clock(clock);
    if let Some(policy) = policy {
        options = options.with_retention_policy(policy);
    }
    engine_with(options)
}

fn reference() -> Engine {
    engine_with(EngineOptions::default().with_cache(CachePolicy::disabled()))
}

#[tokio::test]
async fn a_policy_archives_old_rows_and_queries_reach_into_the_archive_transparently() {
    let dir = tempfile::tempdir().unwrap();
    let engine = durable(dir.path(), clock("2024-07-01T00:00:00Z"), Some(policy(60, true)));
    let plan = engine.retention_plan().unwrap();
    assert_eq!(plan.policy.as_deref(), Some("60 days active, archived 1 year"));
    let orders = plan.releases.iter().find(|r| r.object_model == "orders").unwrap();
    assert_eq!(orders.action, "archive");
    assert_eq!(orders.periods, ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]);
    let report = engine.apply_retention().await.unwrap();
    let run = report.models.iter().find(|m| m.object_model == "orders").unwrap();
    assert_eq!(run.archived_rows, orders.rows);
    assert_eq!(run.files.len(), 5);
    assert_eq!(engine.metrics().rows_archived, report.models.iter().map(|m| m.archived_rows).sum::<u64>());

    // The index lists each file with its period, rows, checksum and policy.
    let index = engine.archive_index();
    let january = index.entries.iter().find(|e| e.object_model == "orders" && e.period == "2024-01").unwrap();
    assert!(january.rows > 0 && january.sha256.len() == 64 && january.policy == "60 days active, archived 1 year");
    assert!(dir.path().join("archive").join(&january.file).exists());
    assert_eq!(january.expires_at.unwrap().to_rfc3339(), "2025-01-31T00:00:00+00:00");

    // Every KPI over the whole history equals the one of data never archived.
    let never = reference();
    for kpi in ["revenue", "order_count", "average_order_value", "active_customers"] {
        let query = Query::kpi(kpi).with_grain(Grain::Month).by(["orders.region"]).with_range(range("2024-01-01", "2024-07-01"));
        assert_same_rows(&engine.calculate(&query).await.unwrap(), &never.calculate(&query).await.unwrap());
    }
    // The plan scans the archive's Parquet files besides active data.
    let explain = engine.explain(&Query::kpi("revenue").with_grain(Grain::Month)).await.unwrap();
    assert!(
        explain.physical.contains("archive/staged_source_data/orders/2024-01/run-") && explain.physical.contains("file_type=parquet"),
        "{}",
        explain.physical
    );
    // Active data only: the archived months have no revenue.
    let query = Query::kpi("revenue").with_grain(Grain::Month).with_range(range("2024-01-01", "2024-07-01"));
    let active = engine.calculate_with(&query, &CalculateOptions::default().active_only()).await.unwrap();
    let values: Vec<Option<f64>> = active.rows().iter().map(|r| r.value).collect();
    assert_eq!(values[..4], [None, None, None, None], "{values:?}");
    assert!(values[5].unwrap() > 0.0);
    let storage = engine.storage();
    let orders = storage.models.iter().find(|m| m.object_model == "orders").unwrap();
    assert_eq!(orders.hot_rows + orders.cold_rows, 3_000);
    assert!(orders.cold_bytes > 0 && orders.cold_files == 5);
}

#[tokio::test]
async fn a_restart_restores_tables_and_archives_and_archives_expire_after_their_period() {
    let dir = tempfile::tempdir().unwrap();
    let now = clock("2024-07-01T00:00:00Z");
    let query = Query::kpi("revenue").with_grain(Grain::Month).with_range(range("2024-01-01", "2024-07-01"));
    let before = {
        let engine = durable(dir.path(), now.clone(), Some(policy(60, true)));
        engine.apply_retention().await.unwrap();
        engine.append_batches("orders", demo().batches("orders").unwrap()[..1].to_vec()).unwrap();
        engine.calculate(&query).await.unwrap()
    };
    let engine = Engine::with_options(
        Catalog::standard().clone(),
        EngineOptions::default().with_data_dir(dir.path()).with_clock(now.clone()).with_retention_policy(policy(60, true)),
    )
    .unwrap();
    let after = engine.calculate(&query).await.unwrap();
    assert_same_rows(&after, &before);
    // A year and a month later, January's archive has expired: removed, and the index says so.
    now.advance(Duration::from_secs(400 * 86_400));
    // The hourly enforcement wakes with the clock too; whichever run gets there first removes it.
    engine.apply_retention().await.unwrap();
    let index = engine.archive_index();
    let january = index.entries.iter().find(|e| e.object_model == "orders" && e.period == "2024-01").unwrap();
    assert!(january.removed_at.is_some());
    assert!(!dir.path().join("archive").join(&january.file).exists());
}

#[tokio::test]
async fn a_delete_policy_deletes_and_the_deletion_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let now = clock("2024-07-01T00:00:00Z");
    {
        let engine = durable(dir.path(), now.clone(), Some(policy(30, false)));
        let report = engine.apply_retention().await.unwrap();
        assert!(report.models.iter().all(|m| m.archived_rows == 0 && m.files.is_empty()));
        assert!(engine.metrics().rows_deleted > 0);
    }
    let engine =
        Engine::with_options(Catalog::standard().clone(), EngineOptions::default().with_data_dir(dir.path()).with_clock(now)).unwrap();
    let count = engine.calculate(&Query::formula("count(orders)").with_range(range("2024-01-01", "2024-07-01"))).await.unwrap();
    let oracle = reference().calculate(&Query::formula("count(orders)").with_range(range("2024-06-01", "2024-07-01"))).await.unwrap();
    assert_eq!(count.rows()[0].value, oracle.rows()[0].value, "only June is left");
}

#[tokio::test]
async fn appends_survive_a_restart_once_each_with_their_watermark() {
    let dir = tempfile::tempdir().unwrap();
    let now = clock("2024-07-01T00:00:00Z");
    let orders = demo().batches("orders").unwrap().to_vec();
    let query = Query::kpi("revenue").with_grain(Grain::Day).by(["orders.channel"]);
    let before = {
        let engine =
            Engine::with_options(Catalog::standard().clone(), EngineOptions::default().with_data_dir(dir.path()).with_clock(now.clone()))
                .unwrap();
        for table in demo().table_names().filter(|t| *t != "orders") {
            engine.register_batches(table, demo().batches(table).unwrap().to_vec()).unwrap();
        }
        for batch in &orders {
            engine.append_batches("orders", vec![batch.clone()]).unwrap();
        }
        engine.checkpoint().await.unwrap();
        // After the checkpoint, more appends live only in the log.
        engine.append_batches("orders", orders[..1].to_vec()).unwrap();
        engine.calculate(&query).await.unwrap()
    };
    let engine =
        Engine::with_options(Catalog::standard().clone(), EngineOptions::default().with_data_dir(dir.path()).with_clock(now)).unwrap();
    assert_same_rows(&engine.calculate(&query).await.unwrap(), &before);
    let registered = engine.registered();
    assert!(registered.iter().any(|r| r.object_model == "orders" && r.memory_rows == 3_000 + orders[0].num_rows()));
    // The watermark came back: an old row is late.
    let report = engine.append_batches("orders", vec![orders[0].slice(0, 1)]).unwrap();
    assert_eq!(report.late_rows, 1);
    // Another engine cannot open the same directory while this one has it.
    let second = Engine::with_options(Catalog::standard().clone(), EngineOptions::default().with_data_dir(dir.path())).err().unwrap();
    assert_eq!(second.code(), "KPI_STORAGE");
}

#[tokio::test]
async fn rows_appended_over_a_parquet_table_come_back_when_it_is_registered_again() {
    let dir = tempfile::tempdir().unwrap();
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("orders.parquet");
    let orders = demo().batches("orders").unwrap().to_vec();
    let mut writer =
        datafusion::parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), orders[0].schema(), None).unwrap();
    for batch in &orders {
        writer.write(batch).unwrap();
    }
    writer.close().unwrap();
    let count = Query::formula("count(orders)");
    {
        let engine = Engine::with_options(Catalog::standard().clone(), EngineOptions::default().with_data_dir(dir.path())).unwrap();
        engine.register_parquet("orders", path.as_path()).await.unwrap();
        engine.append_batches("orders", orders[..1].to_vec()).unwrap();
        assert_eq!(engine.calculate(&count).await.unwrap().rows()[0].value, Some((3_000 + orders[0].num_rows()) as f64));
    }
    let engine = Engine::with_options(Catalog::standard().clone(), EngineOptions::default().with_data_dir(dir.path())).unwrap();
    engine.register_parquet("orders", path.as_path()).await.unwrap();
    assert_eq!(engine.calculate(&count).await.unwrap().rows()[0].value, Some((3_000 + orders[0].num_rows()) as f64));
}

#[tokio::test]
async fn a_row_from_the_future_is_counted_and_never_releases_history() {
    let now = clock("2024-07-01T00:00:00Z");
    let engine = engine_with(EngineOptions::default().with_clock(now).with_retention(Duration::from_secs(365 * 86_400)));
    let orders = demo().batches("orders").unwrap();
    // The first order again, stamped 2099.
    let mut columns = orders[0].slice(0, 1).columns().to_vec();
    let time = orders[0].schema().index_of("ordered_at").unwrap();
    columns[time] = Arc::new(datafusion::arrow::array::TimestampMicrosecondArray::from(vec![4_070_908_800_000_000i64]).with_timezone_opt(
        match orders[0].schema().field(time).data_type() {
            datafusion::arrow::datatypes::DataType::Timestamp(_, zone) => zone.clone(),
            _ => None,
        },
    ));
    let future = datafusion::arrow::array::RecordBatch::try_new(orders[0].schema(), columns).unwrap();
    let report = engine.append_batches("orders", vec![future]).unwrap();
    assert_eq!(report.future_rows, 1);
    assert!(report.watermark.unwrap() < "2024-07-01T00:05:01Z".parse::<chrono::DateTime<chrono::Utc>>().unwrap());
    assert_eq!(engine.metrics().rows_released, 0, "history is kept");
    assert_eq!(engine.metrics().rows_from_future, 1);
}

#[tokio::test]
async fn policies_that_break_a_regulation_or_cannot_be_enforced_are_refused_with_the_rule() {
    let mut sox = policy(90, false);
    sox.compliance = vec![Compliance::Sox];
    let err = Engine::with_options(Catalog::standard().clone(), EngineOptions::default().with_retention_policy(sox.clone())).err().unwrap();
    assert_eq!(err.code(), "KPI_RETENTION");
    assert!(err.to_string().contains("SOX (staged_source_data)") && err.to_string().contains("7 years"), "{err}");
    let engine = Engine::new(Catalog::standard().clone()).unwrap();
    assert_eq!(engine.set_retention_policy(sox).unwrap_err().code(), "KPI_RETENTION");
    // Archiving needs somewhere to archive to.
    let err = engine.set_retention_policy(policy(90, true)).unwrap_err();
    assert!(err.to_string().contains("no archive location"), "{err}");
    let mut gdpr = policy(90, true);
    gdpr.staged_source_data.archival_unit = ArchivalUnit::Indefinite;
    gdpr.compliance = vec![Compliance::Gdpr];
    let dir = tempfile::tempdir().unwrap();
    let err = Engine::with_options(
        Catalog::standard().clone(),
        EngineOptions::default().with_archive_location(dir.path()).with_retention_policy(gdpr),
    )
    .err()
    .unwrap();
    assert!(err.to_string().contains("GDPR"), "{err}");
}

#[tokio::test]
async fn an_unwritable_archive_location_fails_the_run_before_anything_is_released() {
    let dir = tempfile::tempdir().unwrap();
    let blocked = dir.path().join("not-a-directory");
    std::fs::write(&blocked, b"a file where the archive should be").unwrap();
    let options = EngineOptions::default()
        .with_clock(clock("2024-07-01T00:00:00Z"))
        .with_archive_location(blocked.join("archive"))
        .with_retention_policy(policy(30, true));
    let engine = engine_with(options);
    let err = engine.apply_retention().await.unwrap_err();
    assert_eq!(err.code(), "KPI_STORAGE");
    assert!(err.to_string().contains("not-a-directory"), "{err}");
    assert_eq!(engine.registered().iter().find(|r| r.object_model == "orders").unwrap().memory_rows, 3_000);
    assert_eq!(engine.metrics().rows_archived, 0);
}

#[tokio::test]
async fn a_corrupt_archive_file_is_reported_with_its_path_and_periods_never_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let options = EngineOptions::default()
        .with_clock(clock("2024-07-01T00:00:00Z"))
        .with_archive_location(dir.path())
        .with_retention_policy(policy(60, true));
    let engine = engine_with(options);
    engine.apply_retention().await.unwrap();
    let february = engine.archive_index().entries.into_iter().find(|e| e.object_model == "orders" && e.period == "2024-02").unwrap();
    let path = dir.path().join(&february.file);
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes.truncate(middle);
    std::fs::write(&path, bytes).unwrap();
    let query =
        Query::kpi("revenue").with_grain(Grain::Month).with_range(range("2024-01-01", "2024-07-01")).with_filter("orders.region = 'north'");
    let err = engine.calculate(&query).await.unwrap_err();
    assert_eq!(err.code(), "KPI_ARCHIVE", "{err}");
    assert!(err.to_string().contains(path.to_str().unwrap()) && err.to_string().contains("2024-02 of orders"), "{err}");
    assert_eq!(engine.verify_archive().await.unwrap_err().code(), "KPI_ARCHIVE");
}

#[tokio::test]
async fn an_engine_for_a_client_takes_the_clients_policy_and_names_the_client_in_the_index() {
    let dir = tempfile::tempdir().unwrap();
    let client =
        kpi_catalog::ClientConfig { id: "acme".into(), name: "Acme".into(), retention: Some(policy(60, true)), ..Default::default() };
    let options = EngineOptions::default().with_clock(clock("2024-07-01T00:00:00Z")).with_archive_location(dir.path());
    let engine = Engine::for_client(&Catalog::standard(), client, options).unwrap();
    engine.register_batches("orders", demo().batches("orders").unwrap().to_vec()).unwrap();
    engine.apply_retention().await.unwrap();
    let index = engine.archive_index();
    assert!(!index.entries.is_empty() && index.entries.iter().all(|e| e.client.as_deref() == Some("acme")));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// For random policies, appends, runs and ranges, archived + active data answers every
    /// query exactly as data never archived does.
    #[test]
    fn archived_and_active_data_answer_as_data_never_archived(
        days in 1u32..150,
        delete in any::<bool>(),
        pieces in 1usize..6,
        run_after in proptest::collection::vec(any::<bool>(), 6),
        start_month in 1u32..6,
        months in 1u32..4,
        kpi in proptest::sample::select(vec!["revenue", "order_count", "average_order_value", "active_customers"]),
        grain in proptest::sample::select(vec![Grain::Day, Grain::Week, Grain::Month]),
        by_region in any::<bool>(),
        restart in any::<bool>(),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let now = clock("2024-07-01T00:00:00Z");
            let options = || EngineOptions::default().with_data_dir(dir.path()).with_clock(now.clone()).with_retention_policy(policy(days, !delete));
            let mut engine = Engine::with_options(Catalog::standard().clone(), options()).unwrap();
            for table in demo().table_names().filter(|t| *t != "orders") {
                engine.register_batches(table, demo().batches(table).unwrap().to_vec()).unwrap();
            }
            let orders = demo().batches("orders").unwrap().to_vec();
            let mut kept = Vec::new();
            let chunk = orders.len().div_ceil(pieces);
            for (i, part) in orders.chunks(chunk).enumerate() {
                engine.append_batches("orders", part.to_vec()).unwrap();
                kept.extend(part.iter().cloned());
                if run_after[i] {
                    engine.apply_retention().await.unwrap();
                }
            }
            if restart {
                drop(engine);
                engine = Engine::with_options(Catalog::standard().clone(), options()).unwrap();
            }
            let end_month = (start_month + months).min(7);
            let mut query = Query::kpi(kpi).with_grain(grain).with_range(range(&format!("2024-{start_month:02}-01"), &format!("2024-{end_month:02}-01")));
            if by_region {
                query = query.by(["orders.region"]);
            }
            let ours = engine.calculate(&query).await.unwrap();
            // The oracle: the same rows never archived, less those a delete policy deleted.
            let oracle = Engine::with_options(Catalog::standard().clone(), EngineOptions::default().with_cache(CachePolicy::disabled())).unwrap();
            for table in demo().table_names().filter(|t| *t != "orders") {
                oracle.register_batches(table, demo().batches(table).unwrap().to_vec()).unwrap();
            }
            let ran = run_after.iter().take(orders.chunks(chunk).count()).any(|r| *r);
            let cutoff = now.now() - chrono::Duration::days(i64::from(days));
            let cutoff = cutoff.date_naive().and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_micros();
            let mut rows = Vec::new();
            for batch in kept {
                if delete && ran {
                    let times = datafusion::arrow::compute::cast(batch.column_by_name("ordered_at").unwrap(), &datafusion::arrow::datatypes::DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Microsecond, None)).unwrap();
                    let times = times.as_any().downcast_ref::<datafusion::arrow::array::TimestampMicrosecondArray>().unwrap();
                    let mask: datafusion::arrow::array::BooleanArray = times.iter().map(|t| Some(t.is_none_or(|t| t >= cutoff))).collect();
                    rows.push(datafusion::arrow::compute::filter_record_batch(&batch, &mask).unwrap());
                } else {
                    rows.push(batch);
                }
            }
            oracle.register_batches("orders", rows).unwrap();
            assert_same_rows(&ours, &oracle.calculate(&query).await.unwrap());
        });
    }
}

#[tokio::test]
async fn subscriptions_record_kpi_history_with_revisions_that_survive_restarts_and_archiving() {
    let dir = tempfile::tempdir().unwrap();
    let now = clock("2024-07-01T00:00:00Z");
    let mut analytics = policy(90, true);
    analytics.staged_source_data.retention_period = 3_650;
    analytics.granularity.daily_aggregates = false;
    let options = || {
        EngineOptions::default().with_data_dir(dir.path()).with_clock(now.clone()).with_history().with_retention_policy(analytics.clone())
    };
    let query = Query::kpi("revenue").with_grain(Grain::Month).with_range(range("2024-01-01", "2024-07-01"));
    let history = kpi_core::HistoryQuery { kpi: "revenue".into(), grain: Some(Grain::Month), ..Default::default() };
    {
        let engine = engine_with(options());
        let mut subscription = engine.subscribe(&query, kpi_core::Refresh::OnChange).await.unwrap();
        subscription.next().await;
        let first = engine.history(&history).await.unwrap();
        assert_eq!(first.len(), 6);
        assert!(first.iter().all(|r| r.revision == 1 && r.kpi == "revenue" && r.grain == "month"));
        // June changes: recorded as its second revision; the other months are unchanged.
        engine.append_batches("orders", vec![demo().batches("orders").unwrap().last().unwrap().slice(0, 5)]).unwrap();
        subscription.next().await;
        let latest = engine.history(&history).await.unwrap();
        let revised: Vec<_> = latest.iter().filter(|r| r.revision == 2).map(|r| r.period.to_rfc3339()).collect();
        assert!(!revised.is_empty() && revised.len() < 6, "{revised:?}");
        let all = engine.history(&kpi_core::HistoryQuery { all_revisions: true, ..history.clone() }).await.unwrap();
        assert_eq!(all.len(), 6 + revised.len());
        // Days are not a level the policy keeps.
        let daily = engine.calculate(&Query::kpi("revenue").with_grain(Grain::Day)).await.unwrap();
        assert_eq!(engine.record_history(&daily).unwrap(), 0);
    }
    // The view's task lets go of the engine (and its directory) once it sees no subscriber.
    let mut reopened = Engine::with_options(Catalog::standard().clone(), options());
    for _ in 0..100 {
        if reopened.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        reopened = Engine::with_options(Catalog::standard().clone(), options());
    }
    let engine = reopened.unwrap();
    let restored = engine.history(&kpi_core::HistoryQuery { all_revisions: true, ..history.clone() }).await.unwrap();
    assert!(restored.len() > 6);
    // Analytics data is kept active for 90 days: history of older periods goes to the archive,
    // and history queries still read it.
    let report = engine.apply_retention().await.unwrap();
    let archived = report.models.iter().find(|m| m.object_model == kpi_core::HISTORY_TABLE).unwrap();
    assert!(archived.archived_rows > 0, "{report:?}");
    assert!(
        engine
            .archive_index()
            .entries
            .iter()
            .any(|e| e.data == kpi_catalog::DataKind::AnalyticsData && e.file.starts_with("analytics_data/kpi_history/"))
    );
    assert_eq!(engine.history(&kpi_core::HistoryQuery { all_revisions: true, ..history }).await.unwrap(), restored);
}

#[tokio::test]
async fn close_lets_go_of_the_directory_and_refuses_later_changes() {
    let dir = tempfile::tempdir().unwrap();
    let engine = durable(dir.path(), clock("2024-07-01T00:00:00Z"), None);
    engine.close().await.unwrap();
    let err = engine.append_batches("orders", demo().batches("orders").unwrap()[..1].to_vec()).unwrap_err();
    assert_eq!(err.code(), "KPI_STORAGE");
    // Calculations go on over what is in memory, and the directory opens elsewhere.
    engine.calculate(&Query::kpi("revenue")).await.unwrap();
    let reopened = Engine::with_options(Catalog::standard().clone(), EngineOptions::default().with_data_dir(dir.path())).unwrap();
    assert_eq!(reopened.registered().iter().find(|r| r.object_model == "orders").unwrap().memory_rows, 3_000);
}

#[tokio::test]
async fn archives_go_to_an_object_store_and_are_read_back_from_it() {
    let root = tempfile::tempdir().unwrap();
    let server = crate::files::FileServer::start(root.path().to_path_buf());
    let location = server.url("cold/kpi");
    let options = || {
        EngineOptions::default()
            .with_clock(clock("2024-07-01T00:00:00Z"))
            .with_archive_location(location.as_str())
            .with_retention_policy(policy(60, true))
    };
    let engine = engine_with(options());
    let report = engine.apply_retention().await.unwrap();
    let orders = report.models.iter().find(|m| m.object_model == "orders").unwrap();
    assert!(orders.files.iter().all(|f| f.starts_with(&location)), "{:?}", orders.files);
    assert!(root.path().join("cold/kpi/index.json").exists());
    let query = Query::kpi("revenue").with_grain(Grain::Month).by(["orders.channel"]).with_range(range("2024-01-01", "2024-07-01"));
    assert_same_rows(&engine.calculate(&query).await.unwrap(), &reference().calculate(&query).await.unwrap());
    engine.verify_archive().await.unwrap();
    // Another engine on the same store reads the index back over HTTP.
    let other = Engine::with_options(Catalog::standard().clone(), options()).unwrap();
    assert_eq!(other.archive_index(), engine.archive_index());
}

#[test]
fn expired_archives_are_planned_then_removed_and_reported() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let now = clock("2024-07-01T00:00:00Z");
    // Built outside a runtime, the engine starts no hourly task: the runs here are the only ones.
    let engine = engine_with(
        EngineOptions::default().with_clock(now.clone()).with_archive_location(dir.path()).with_retention_policy(policy(60, true)),
    );
    rt.block_on(engine.apply_retention()).unwrap();
    assert!(engine.retention_plan().unwrap().expiring_files.is_empty());
    now.advance(Duration::from_secs(400 * 86_400));
    let plan = engine.retention_plan().unwrap();
    assert!(plan.expiring_files.iter().any(|f| f.contains("2024-01")), "{:?}", plan.expiring_files);
    let report = rt.block_on(engine.apply_retention()).unwrap();
    assert_eq!(report.expired_files, plan.expiring_files);
    // The rest of May and June are past their archive period already: deleted, not written.
    let orders = report.models.iter().find(|m| m.object_model == "orders").unwrap();
    assert!(orders.deleted_rows > 0 && orders.archived_rows == 0 && orders.files.is_empty(), "{orders:?}");
    assert!(engine.archive_index().entries.iter().all(|e| e.removed_at.is_some()));
}
