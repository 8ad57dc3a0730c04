//! Object models registered from a real PostgreSQL server, started for each test by
//! `scripts/postgres.sh` (its own data directory and port): every standard KPI gives the
//! in-memory engine's numbers, scans push their filters into the database, and bad sources
//! get typed errors naming the database but never the password.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Schema};
use kpi_catalog::{Catalog, ClientConfig, DataSource, FieldMapping};
use kpi_core::{Engine, EngineOptions, PostgresDsn, PostgresTable};
use kpi_formula::{Grain, Query};

use crate::support::{demo, engine, keyed, range};

/// A throwaway PostgreSQL server, stopped (and its directory removed) on drop.
pub struct PgServer {
    dir: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/postgres.sh")
}

impl PgServer {
    pub fn start() -> PgServer {
        let dir = tempfile::Builder::new().prefix("kpi-pg-").tempdir_in("/tmp").unwrap().keep();
        let out = std::process::Command::new("bash").arg(script()).arg("start").arg(&dir).output().unwrap();
        assert!(out.status.success(), "postgres.sh start: {}", String::from_utf8_lossy(&out.stderr));
        let port = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        PgServer { dir, port }
    }

    /// The connection string of the superuser (password `kpi-test`).
    pub fn dsn(&self) -> PostgresDsn {
        format!("postgresql://kpi:kpi-test@127.0.0.1:{}/postgres?sslmode=disable", self.port).parse().unwrap()
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(
            &format!("host=127.0.0.1 port={} user=kpi password=kpi-test dbname=postgres", self.port),
            tokio_postgres::NoTls,
        )
        .await
        .unwrap();
        tokio::spawn(connection);
        client
    }

    /// Creates table `name` from the Arrow schema of `batches` and loads them (CSV and `COPY`).
    pub async fn load(&self, name: &str, schema: &Schema, batches: &[RecordBatch]) {
        let columns: Vec<String> = schema.fields().iter().map(|f| format!("\"{}\" {}", f.name(), sql_type(f.data_type()))).collect();
        let client = self.client().await;
        client.batch_execute(&format!("CREATE TABLE \"{name}\" ({})", columns.join(", "))).await.unwrap();
        let file = self.dir.join(format!("{name}.csv"));
        {
            let mut writer = datafusion::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .with_timestamp_format("%Y-%m-%d %H:%M:%S%.f".to_string())
                .with_timestamp_tz_format("%Y-%m-%d %H:%M:%S%.f%:z".to_string())
                .build(std::fs::File::create(&file).unwrap());
            for b in batches {
                writer.write(b).unwrap();
            }
        }
        // The server runs as another user; it reads the file itself.
        std::process::Command::new("chmod").arg("a+r").arg(&file).status().unwrap();
        client.batch_execute(&format!("COPY \"{name}\" FROM '{}' WITH (FORMAT csv, HEADER true)", file.display())).await.unwrap();
    }

    /// Every demo table loaded under its object model's name.
    pub async fn load_demo(&self) {
        for name in demo().table_names() {
            self.load(name, &demo().schema(name).unwrap(), demo().batches(name).unwrap()).await;
        }
    }

    fn stop(&self) {
        let _ = std::process::Command::new("bash").arg(script()).arg("stop").arg(&self.dir).output();
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn sql_type(t: &DataType) -> String {
    match t {
        DataType::Decimal128(p, s) => format!("numeric({p},{s})"),
        other => plain_sql_type(other).to_string(),
    }
}

fn plain_sql_type(t: &DataType) -> &'static str {
    match t {
        DataType::Int8 | DataType::Int16 => "smallint",
        DataType::Int32 | DataType::UInt16 => "integer",
        DataType::Int64 | DataType::UInt32 | DataType::UInt64 => "bigint",
        DataType::Float32 => "real",
        DataType::Float64 => "double precision",
        DataType::Boolean => "boolean",
        DataType::Date32 | DataType::Date64 => "date",
        DataType::Timestamp(_, None) => "timestamp",
        DataType::Timestamp(_, Some(_)) => "timestamptz",
        _ => "text",
    }
}

/// How far apart the engine's and PostgreSQL's values of a formula may be, relatively:
/// DataFusion's `percentile_cont` quantizes its interpolation weight to 1e-6 (see
/// docs/decisions.md), PostgreSQL's does not; everything else agrees to rounding.
fn tolerance(formula: &str) -> f64 {
    if formula.contains("percentile") { 1e-6 } else { 1e-9 }
}

/// An engine over the standard catalog with nothing registered.
fn postgres_engine() -> Engine {
    Engine::new(Catalog::standard().clone()).unwrap()
}

/// Asserts two results of `kpi` have the same groups and values (within [`tolerance`]).
fn assert_same_values(kpi: &kpi_catalog::KpiDefinition, path: &str, a: &kpi_core::KpiResult, b: &kpi_core::KpiResult) {
    let (a, b) = (keyed(a.batches()), keyed(b.batches()));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>(), "{} {path}: groups differ", kpi.code);
    for (k, x) in &a {
        match (x, b[k]) {
            (Some(x), Some(y)) => {
                assert!((x - y).abs() <= tolerance(&kpi.formula) * x.abs().max(1.0), "{} {path} {k:?}: {x} vs {y}", kpi.code)
            }
            (x, y) => assert_eq!(*x, y, "{} {path} {k:?}", kpi.code),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_standard_kpi_from_postgres_equals_the_in_memory_result_pushed_down_or_scanned() {
    let server = PgServer::start();
    server.load_demo().await;
    let pushed = postgres_engine();
    let registered = pushed.register_postgres_models(&server.dsn(), None).await.unwrap();
    let mut expected: Vec<String> = demo().table_names().map(str::to_string).collect();
    expected.sort();
    let mut got = registered.clone();
    got.sort();
    assert_eq!(got, expected);
    let scanned = Engine::with_options(Catalog::standard().clone(), EngineOptions { pushdown: false, ..Default::default() }).unwrap();
    scanned.register_postgres_models(&server.dsn(), None).await.unwrap();
    let memory = engine();
    let r = range("2024-01-01", "2024-07-01");
    for kpi in memory.catalog().kpis() {
        let grain = kpi.default_grain.unwrap_or(Grain::Month);
        let q = Query::kpi(&kpi.code).with_grain(grain).by(kpi.dimensions.iter().take(1).cloned()).with_range(r);
        let expected = memory.calculate(&q).await;
        for (path, pg) in [("pushed down", &pushed), ("scanned", &scanned)] {
            match (&expected, pg.calculate(&q).await) {
                (Ok(a), Ok(b)) => assert_same_values(kpi, path, a, &b),
                (Err(a), Err(b)) => assert_eq!(a.code(), b.code(), "{} {path}", kpi.code),
                (a, b) => panic!("{} {path}: in memory {:?}, from PostgreSQL {:?}", kpi.code, a.as_ref().err(), b.err()),
            }
        }
    }
    assert_eq!(scanned.metrics().pushed_down, 0);
    let pushed_down = pushed.metrics().pushed_down;
    assert!(pushed_down * 10 >= memory.catalog().kpis().count() as u64 * 9, "most standard KPIs run in PostgreSQL: {pushed_down}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_run_their_filters_and_projections_in_the_database() {
    let server = PgServer::start();
    server.load_demo().await;
    let pg = postgres_engine();
    pg.register_postgres("orders", &server.dsn(), &PostgresTable::new("orders")).await.unwrap();
    let q = Query::kpi("revenue").with_grain(Grain::Month).with_range(range("2024-02-01", "2024-03-01"));
    let explain = pg.explain(&q).await.unwrap();
    let physical = explain.physical.to_lowercase();
    assert!(physical.contains("sqlexec"), "{physical}");
    assert!(physical.contains("where"), "the time filter runs in PostgreSQL: {physical}");
    assert!(!physical.contains("kpi-test"), "no password in explain output");
    let pushed = explain.pushed_down.clone().expect("the whole KPI runs in PostgreSQL");
    assert!(pushed.contains(&format!("PostgreSQL at postgresql://kpi@127.0.0.1:{}/postgres", server.port)), "{pushed}");
    assert!(pushed.contains(r#"WITH "orders" AS NOT MATERIALIZED (SELECT"#) && !pushed.contains("kpi-test"), "{pushed}");
    assert!(explain.to_string().starts_with("pushed down to PostgreSQL"));
    // A row inserted after registration is read by the next (uncached) calculation.
    let before = pg.calculate(&q).await.unwrap();
    server
        .client()
        .await
        .batch_execute("INSERT INTO orders SELECT * FROM orders WHERE ordered_at >= '2024-02-01' AND ordered_at < '2024-03-01' LIMIT 1")
        .await
        .unwrap();
    pg.clear_cache();
    let after = pg.calculate(&q).await.unwrap();
    assert_ne!(keyed(before.batches()), keyed(after.batches()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_mappings_and_table_renames_name_the_columns() {
    let server = PgServer::start();
    let schema = demo().schema("orders").unwrap();
    server.load("erp_orders", &schema, demo().batches("orders").unwrap()).await;
    server.client().await.batch_execute("ALTER TABLE erp_orders RENAME COLUMN order_value TO total_amount").await.unwrap();
    let q = Query::kpi("revenue").with_grain(Grain::Quarter).with_range(range("2024-01-01", "2024-07-01"));
    let expected = keyed(engine().calculate(&q).await.unwrap().batches());

    let by_table = postgres_engine();
    let table = PostgresTable::parse("public.erp_orders").unwrap().with_column("order_value", "total_amount");
    by_table.register_postgres("orders", &server.dsn(), &table).await.unwrap();
    assert_eq!(keyed(by_table.calculate(&q).await.unwrap().batches()), expected);

    let client = ClientConfig {
        id: "acme".into(),
        data_sources: vec![DataSource { name: "erp".into(), kind: "postgresql".into(), ..Default::default() }],
        field_mappings: vec![FieldMapping {
            object_model: "orders".into(),
            column: "order_value".into(),
            source: "erp".into(),
            field: "sales.erp_orders.total_amount".into(),
        }],
        ..Default::default()
    };
    let by_client = Engine::for_client(&Catalog::standard(), client, EngineOptions::default()).unwrap();
    by_client.register_postgres("orders", &server.dsn(), &PostgresTable::new("erp_orders")).await.unwrap();
    assert_eq!(keyed(by_client.calculate(&q).await.unwrap().batches()), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sources_get_typed_errors_without_the_password() {
    let server = PgServer::start();
    server.load_demo().await;
    let client = server.client().await;
    client.batch_execute("CREATE TABLE no_value AS SELECT * FROM orders; ALTER TABLE no_value DROP COLUMN order_value").await.unwrap();
    client.batch_execute("CREATE TABLE text_value AS SELECT *, 'many'::text AS order_value_text FROM orders").await.unwrap();
    client.batch_execute("ALTER TABLE text_value DROP COLUMN order_value").await.unwrap();
    client.batch_execute("ALTER TABLE text_value RENAME COLUMN order_value_text TO order_value").await.unwrap();
    let pg = postgres_engine();
    let check = |e: kpi_core::EngineError, code: &str, needle: &str| {
        let text = e.to_string();
        assert_eq!(e.code(), code, "{text}");
        assert!(text.contains(needle), "{text}");
        assert!(!text.contains("kpi-test") && !format!("{e:?}").contains("kpi-test"), "password leaked: {text}");
    };

    let wrong: PostgresDsn =
        format!("postgresql://kpi:not-the-password@127.0.0.1:{}/postgres?sslmode=disable", server.port).parse().unwrap();
    let e = pg.register_postgres("orders", &wrong, &PostgresTable::new("orders")).await.unwrap_err();
    check(e, "KPI_SOURCE", &format!("127.0.0.1:{}/postgres", server.port));

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = closed.local_addr().unwrap().port();
    drop(closed);
    let dead: PostgresDsn = format!("postgresql://kpi:kpi-test@127.0.0.1:{dead_port}/sales?connect_timeout=3").parse().unwrap();
    let started = Instant::now();
    let e = pg.register_postgres("orders", &dead, &PostgresTable::new("orders")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    check(e, "KPI_SOURCE", &format!("127.0.0.1:{dead_port}/sales"));

    let e = pg.register_postgres("orders", &server.dsn(), &PostgresTable::new("no_such_table")).await.unwrap_err();
    check(e, "KPI_SOURCE", "no_such_table");
    let e = pg.register_postgres("orders", &server.dsn(), &PostgresTable::new("no_value")).await.unwrap_err();
    // The missing column, and the columns the table has.
    assert!(e.to_string().contains("it has `order_id`, `customer_id`"), "{e}");
    check(e, "KPI_SCHEMA", "order_value");
    let e = pg.register_postgres("orders", &server.dsn(), &PostgresTable::new("text_value")).await.unwrap_err();
    check(e, "KPI_SCHEMA", "order_value");

    // The database going away: a typed error, and other sources keep serving.
    pg.register_postgres("orders", &server.dsn(), &PostgresTable::new("orders")).await.unwrap();
    pg.register_batches("customers", demo().batches("customers").unwrap().to_vec()).unwrap();
    server.stop();
    let r = range("2024-01-01", "2024-07-01");
    let started = Instant::now();
    let e = pg.calculate(&Query::kpi("revenue").with_grain(Grain::Month).with_range(r)).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(15), "{:?}", started.elapsed());
    assert!(!e.to_string().contains("kpi-test"), "{e}");
    let customers = pg.calculate(&Query::kpi("new_customers").with_grain(Grain::Month).with_range(r)).await;
    assert!(customers.is_ok(), "{:?}", customers.err());
}

/// The rows of `sql` run on the server, keyed like [`keyed`]: the columns `names` but the last,
/// as text, to the last as a number.
async fn rows_of(
    client: &tokio_postgres::Client,
    sql: &str,
    names: &[String],
) -> Result<std::collections::BTreeMap<Vec<String>, Option<f64>>, String> {
    let wrapped = format!("SELECT coalesce(json_agg(row_to_json(t)), '[]')::text FROM ({sql}) AS t");
    let row = client.query_one(&wrapped, &[]).await.map_err(|e| format!("{e}: {}", e.as_db_error().map(|d| d.message()).unwrap_or("")))?;
    let text: String = row.get(0);
    let rows: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(&text).unwrap();
    let (value, keys) = names.split_last().unwrap();
    let mut out = std::collections::BTreeMap::new();
    for r in rows {
        let key = keys
            .iter()
            .map(|k| match &r[k.as_str()] {
                serde_json::Value::String(s) => s.trim_end_matches("+00:00").to_string(),
                serde_json::Value::Null => "null".to_string(),
                other => other.to_string(),
            })
            .collect();
        out.insert(key, r[value.as_str()].as_f64());
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_postgres_sql_gives_the_engines_numbers_on_postgresql() {
    let server = PgServer::start();
    server.load_demo().await;
    let client = server.client().await;
    client.batch_execute("SET TIME ZONE 'UTC'").await.unwrap();
    let memory = engine();
    let r = range("2024-01-01", "2024-07-01");
    let mut failures = Vec::new();
    for kpi in memory.catalog().kpis() {
        let grain = kpi.default_grain.unwrap_or(Grain::Month);
        let q = Query::kpi(&kpi.code).with_grain(grain).by(kpi.dimensions.iter().take(1).cloned()).with_range(r);
        let Ok(expected) = memory.calculate(&q).await else { continue };
        let sql = memory.to_sql(&q, kpi_core::SqlDialect::Postgres).await.unwrap();
        let names: Vec<String> = expected.schema().fields().iter().map(|f| f.name().clone()).collect();
        match rows_of(&client, &sql, &names).await {
            Ok(got) => {
                let want = keyed(expected.batches());
                if want.keys().collect::<Vec<_>>() != got.keys().collect::<Vec<_>>() {
                    failures.push(format!(
                        "{}: groups differ: {:?} vs {:?}",
                        kpi.code,
                        want.keys().take(3).collect::<Vec<_>>(),
                        got.keys().take(3).collect::<Vec<_>>()
                    ));
                    continue;
                }
                for (k, x) in &want {
                    let y = got[k];
                    let same = match (x, y) {
                        (Some(x), Some(y)) => (x - y).abs() <= tolerance(&kpi.formula) * x.abs().max(1.0),
                        (x, y) => *x == y,
                    };
                    if !same {
                        failures.push(format!("{} {k:?}: engine {x:?}, PostgreSQL {y:?}", kpi.code));
                        break;
                    }
                }
            }
            Err(e) => failures.push(format!("{}: {e}\n{}", kpi.code, &sql[..sql.len().min(300)])),
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_whose_dimension_is_null_keeps_its_values_pushed_down() {
    let server = PgServer::start();
    server.load_demo().await;
    server.client().await.batch_execute("UPDATE orders SET region = NULL, channel = NULL WHERE order_id % 7 = 0").await.unwrap();
    let pushed = postgres_engine();
    pushed.register_postgres("orders", &server.dsn(), &PostgresTable::new("orders")).await.unwrap();
    let scanned = Engine::with_options(Catalog::standard().clone(), EngineOptions { pushdown: false, ..Default::default() }).unwrap();
    scanned.register_postgres("orders", &server.dsn(), &PostgresTable::new("orders")).await.unwrap();
    let r = range("2024-01-01", "2024-07-01");
    for code in ["revenue", "average_order_value", "perfect_order_rate", "order_count"] {
        let q = Query::kpi(code).with_grain(Grain::Month).by(["orders.region", "orders.channel"]).with_range(r);
        let (a, b) = (scanned.calculate(&q).await.unwrap(), pushed.calculate(&q).await.unwrap());
        assert!(keyed(a.batches()).keys().any(|k| k[1] == "null"), "{code}: a group without a region");
        assert_same_values(pushed.catalog().kpi(code).unwrap(), "pushed down", &a, &b);
    }
    assert_eq!(pushed.metrics().pushed_down, 4);
}
