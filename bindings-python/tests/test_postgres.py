"""PostgreSQL tables as object models, through the installed package: a throwaway server
started by scripts/postgres.sh (its own data directory and port), demo orders loaded with
psql, and the numbers compared with the same rows registered in memory."""

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv
import pytest

import kpi_engine as ke

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "postgres.sh"
PSQL = shutil.which("psql") or next(iter(glob.glob("/usr/lib/postgresql/*/bin/psql")), None)
TYPES = {"int64": "bigint", "int32": "integer", "double": "double precision", "bool": "boolean", "date32[day]": "date"}


@pytest.fixture(scope="module")
def server():
    if PSQL is None:
        pytest.fail("psql not found: run scripts/setup.sh --tests")
    where = tempfile.mkdtemp(prefix="kpi-pg-py-", dir="/tmp")
    port = subprocess.check_output(["bash", str(SCRIPT), "start", where], text=True).strip()
    yield port, Path(where)
    subprocess.run(["bash", str(SCRIPT), "stop", where], check=False)


def psql(port, sql):
    env = dict(os.environ, PGPASSWORD="kpi-test")
    subprocess.run([PSQL, "-q", "-h", "127.0.0.1", "-p", port, "-U", "kpi", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql], env=env, check=True)


def sql_type(t):
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    if pa.types.is_decimal(t):
        return f"numeric({t.precision},{t.scale})"
    return TYPES.get(str(t), "text")


@pytest.fixture(scope="module")
def orders(server):
    port, where = server
    cat = ke.Catalog.standard()
    table = pa.table(ke.demo.generate(cat, rows=2_000, seed=5, start="2024-01-01", end="2024-07-01")["orders"])
    columns = ", ".join(f'"{f.name}" {sql_type(f.type)}' for f in table.schema)
    psql(port, f"CREATE TABLE erp_orders ({columns})")
    path = where / "orders.csv"
    pyarrow.csv.write_csv(table, path)
    psql(port, f"\\copy erp_orders FROM '{path}' WITH (FORMAT csv, HEADER true)")
    return table


def dsn(port, password="kpi-test"):
    return f"postgresql://kpi:{password}@127.0.0.1:{port}/postgres?sslmode=disable"


def test_a_postgres_table_gives_the_in_memory_numbers(server, orders):
    port, _ = server
    memory = ke.Engine(ke.Catalog.standard())
    memory.register("orders", orders)
    pg = ke.Engine(ke.Catalog.standard())
    pg.register_postgres("orders", dsn(port), table="public.erp_orders")
    for kpi in ("revenue", "order_count", "average_order_value"):
        a = memory.calculate(kpi, grain="month", by=["orders.region"], start="2024-01-01", end="2024-07-01").to_dict()["rows"]
        b = pg.calculate(kpi, grain="month", by=["orders.region"], start="2024-01-01", end="2024-07-01").to_dict()["rows"]
        assert [{k: v for k, v in r.items() if k != "value"} for r in a] == [{k: v for k, v in r.items() if k != "value"} for r in b]
        assert [r["value"] for r in b] == pytest.approx([r["value"] for r in a])
    plans = pg.explain("revenue", grain="month", start="2024-01-01", end="2024-07-01")
    assert plans["pushed_down"].startswith(f"pushed down to PostgreSQL at postgresql://kpi@127.0.0.1:{port}/postgres")
    assert "SqlExec" in plans["physical"] and "kpi-test" not in str(plans)
    scanned = ke.Engine(ke.Catalog.standard(), pushdown=False)
    scanned.register_postgres("orders", dsn(port), table="public.erp_orders")
    assert scanned.explain("revenue", grain="month", start="2024-01-01", end="2024-07-01")["pushed_down"] is None
    a = memory.calculate("revenue", grain="month", start="2024-01-01", end="2024-07-01").to_dict()["rows"]
    b = scanned.calculate("revenue", grain="month", start="2024-01-01", end="2024-07-01").to_dict()["rows"]
    assert [r["value"] for r in b] == pytest.approx([r["value"] for r in a])


def test_renamed_columns_and_every_model_in_one_call(server, orders):
    port, _ = server
    psql(port, "CREATE VIEW orders AS SELECT * FROM erp_orders")
    psql(port, "CREATE VIEW sales_orders AS SELECT order_value AS total_amount, * FROM erp_orders")
    pg = ke.Engine(ke.Catalog.standard())
    assert pg.register_postgres_models(dsn(port)) == ["orders"]
    expected = pg.calculate(formula="sum(orders.order_value)").to_dict()["rows"][0]["value"]
    assert expected == pytest.approx(float(sum(orders.column("order_value").to_pylist())))
    renamed = ke.Engine(ke.Catalog.standard())
    renamed.register_postgres("orders", dsn(port), table="sales_orders", columns={"order_value": "total_amount"})
    assert renamed.calculate(formula="sum(orders.order_value)").to_dict()["rows"][0]["value"] == pytest.approx(expected)


def test_bad_sources_raise_data_errors_without_the_password(server, orders):
    port, _ = server
    pg = ke.Engine(ke.Catalog.standard())
    with pytest.raises(ke.DataError) as wrong:
        pg.register_postgres("orders", dsn(port, password="sw0rdfish"), table="erp_orders")
    assert wrong.value.code == "KPI_SOURCE"
    assert f"127.0.0.1:{port}/postgres" in str(wrong.value) and "sw0rdfish" not in str(wrong.value)
    with pytest.raises(ke.DataError) as missing:
        pg.register_postgres("orders", dsn(port), table="no_such_table")
    assert "no_such_table" in str(missing.value)
    with pytest.raises(ke.KpiError) as bad:
        pg.register_postgres("orders", "postgresql://kpi:sw0rdfish@127.0.0.1:notaport/db")
    assert "sw0rdfish" not in str(bad.value)
