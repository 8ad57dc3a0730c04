"""Fixtures shared by the tests: a throwaway PostgreSQL server started by scripts/postgres.sh
(its own data directory and port) with demo orders in table ``orders``."""

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


def psql(port, sql):
    """Runs ``sql`` on the test server as its superuser."""
    env = dict(os.environ, PGPASSWORD="kpi-test")
    subprocess.run([PSQL, "-q", "-h", "127.0.0.1", "-p", port, "-U", "kpi", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql], env=env, check=True)


def sql_type(t):
    if pa.types.is_timestamp(t):
        return "timestamptz" if t.tz else "timestamp"
    if pa.types.is_decimal(t):
        return f"numeric({t.precision},{t.scale})"
    return TYPES.get(str(t), "text")


def dsn(port, password="kpi-test"):
    return f"postgresql://kpi:{password}@127.0.0.1:{port}/postgres?sslmode=disable"


@pytest.fixture(scope="session")
def server():
    """(port, directory) of a running server, stopped after the session."""
    if PSQL is None:
        pytest.fail("psql not found: run scripts/setup.sh --tests")
    where = tempfile.mkdtemp(prefix="kpi-pg-py-", dir="/tmp")
    port = subprocess.check_output(["bash", str(SCRIPT), "start", where], text=True).strip()
    yield port, Path(where)
    subprocess.run(["bash", str(SCRIPT), "stop", where], check=False)


@pytest.fixture(scope="session")
def orders(server):
    """2,000 demo orders of the first half of 2024, as a pyarrow table and as table ``orders``."""
    port, where = server
    table = pa.table(ke.demo.generate(ke.Catalog.standard(), rows=2_000, seed=5, start="2024-01-01", end="2024-07-01")["orders"])
    columns = ", ".join(f'"{f.name}" {sql_type(f.type)}' for f in table.schema)
    psql(port, f"CREATE TABLE orders ({columns})")
    path = where / "orders.csv"
    pyarrow.csv.write_csv(table, path)
    psql(port, f"\\copy orders FROM '{path}' WITH (FORMAT csv, HEADER true)")
    return table


@pytest.fixture(scope="session")
def mariadb():
    """A pymysql connection to a throwaway MariaDB server (scripts/mariadb.sh), database ``kpi``."""
    import pymysql

    where = tempfile.mkdtemp(prefix="kpi-mariadb-py-", dir="/tmp")
    port = subprocess.check_output(["bash", str(ROOT / "scripts" / "mariadb.sh"), "start", where], text=True).strip()
    connection = pymysql.connect(host="127.0.0.1", port=int(port), user="kpi", password="kpi-test", database="kpi", autocommit=True)
    yield connection
    connection.close()
    subprocess.run(["bash", str(ROOT / "scripts" / "mariadb.sh"), "stop", where], check=False)


@pytest.fixture(scope="session")
def cluster():
    """``df://127.0.0.1:PORT`` of a Ballista cluster (scripts/cluster.sh: kpi-scheduler and two
    kpi-executor processes of the dev build), stopped after the session."""
    where = tempfile.mkdtemp(prefix="kpi-cluster-py-", dir="/tmp")
    url = subprocess.check_output(["bash", str(ROOT / "scripts" / "cluster.sh"), "start", where, "2"], text=True).strip()
    yield url
    subprocess.run(["bash", str(ROOT / "scripts" / "cluster.sh"), "stop", where], check=False)
