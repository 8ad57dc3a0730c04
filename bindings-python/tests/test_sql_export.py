"""The SQL the engine exports runs on real engines of each dialect and gives the engine's numbers:
every standard KPI, by month and its first dimension, over the same demo data loaded into
DuckDB, SQLite and a throwaway MariaDB server (PostgreSQL: kpi-core's tests). What a dialect
cannot express is refused with the reason; BigQuery's text is checked without the service."""

import datetime as dt
import decimal
import math
import sqlite3

import pyarrow as pa
import pytest

import kpi_engine as ke

START, END = "2024-01-01", "2024-07-01"


@pytest.fixture(scope="module")
def tables():
    data = ke.demo.generate(ke.Catalog.standard(), rows=1_500, seed=9, start=START, end=END)
    return {name: pa.table(t) for name, t in data.items()}


@pytest.fixture(scope="module")
def eng(tables):
    e = ke.Engine(ke.Catalog.standard())
    for name, table in tables.items():
        e.register(name, table)
    return e


def queries():
    """(code, query keywords) for every standard KPI."""
    out = []
    for kpi in ke.Catalog.standard().kpis():
        by = kpi.get("dimensions", [])[:1]
        out.append((kpi["code"], {"grain": kpi.get("default_grain") or "month", "by": by, "start": START, "end": END}))
    return out


def key(value):
    """A dimension or period value as text, the same whichever database returned it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, (int, float, decimal.Decimal)) and float(value).is_integer():
        return str(int(value))
    text = str(value).replace("T", " ")
    # SQLite and MariaDB give periods as text: '2024-01-01 00:00:00' (with fractions, or a zone).
    for suffix in ("+00:00", ".000000", ".000"):
        text = text.removesuffix(suffix)
    return text


def keyed(rows):
    """{(period, dimensions...): value} of rows whose last column is the value."""
    out = {}
    for row in rows:
        *keys, value = row
        out[tuple(key(k) for k in keys)] = None if value is None else float(value)
    return out


def expected_rows(result):
    table = result.to_pyarrow()
    return keyed(zip(*(table.column(i).to_pylist() for i in range(table.num_columns))))


def tolerance(code):
    formula = ke.Catalog.standard().kpi(code)["formula"]
    # DataFusion's percentile_cont interpolates with weights quantized to 1e-6.
    return 1e-6 if ("percentile" in formula or "median" in formula) else 1e-9


def compare(eng, dialect, run):
    """Runs every standard KPI's export through ``run(sql) -> rows``; (ran, refused, failures)."""
    ran, refused, failures = 0, {}, []
    for code, query in queries():
        try:
            expected = expected_rows(eng.calculate(code, **query))
        except ke.KpiError:
            continue
        try:
            sql = eng.to_sql(code, dialect=dialect, **query)
        except ke.KpiError as e:
            assert e.code == "KPI_SQL", (code, e)
            refused[code] = str(e)
            continue
        try:
            got = keyed(run(sql))
        except Exception as e:  # the database's own error, shown with the statement
            failures.append(f"{code}: {type(e).__name__}: {e}\n  {sql[:400]}")
            continue
        ran += 1
        if sorted(got) != sorted(expected):
            failures.append(f"{code}: groups differ: {sorted(expected)[:3]} vs {sorted(got)[:3]}")
            continue
        for k, want in expected.items():
            have = got[k]
            same = (want is None and have is None) or (
                want is not None and have is not None and abs(want - have) <= tolerance(code) * max(abs(want), 1.0)
            ) or (want is not None and have is not None and math.isnan(want) and math.isnan(have))
            if not same:
                failures.append(f"{code} {k}: engine {want}, {dialect} {have}")
                break
    return ran, refused, failures


def assert_runs(eng, dialect, run, may_refuse=()):
    ran, refused, failures = compare(eng, dialect, run)
    assert not failures, f"{len(failures)} of {ran + len(failures)} differ on {dialect}:\n" + "\n".join(failures)
    unexpected = {c: r for c, r in refused.items() if not any(word in r for word in may_refuse)}
    assert not unexpected, unexpected
    assert ran >= 50, (ran, refused)


# ---- DuckDB ----------------------------------------------------------------------------------


def test_exported_duckdb_sql_gives_the_engines_numbers(eng, tables):
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, table in tables.items():
        con.register(f"arrow_{name}", table)
        con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM arrow_{name}')
    assert_runs(eng, "duckdb", lambda sql: con.execute(sql).fetchall(), may_refuse=("calendar", "offset"))


# ---- SQLite ----------------------------------------------------------------------------------


def sqlite_value(v):
    if isinstance(v, dt.datetime):
        return v.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(sep=" ") if v.tzinfo else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    return v


def load_sqlite(tables):
    con = sqlite3.connect(":memory:")
    for name, table in tables.items():
        con.execute(f'CREATE TABLE "{name}" ({", ".join(f"{chr(34)}{f.name}{chr(34)}" for f in table.schema)})')
        marks = ", ".join("?" for _ in table.schema)
        rows = zip(*(table.column(i).to_pylist() for i in range(table.num_columns)))
        con.executemany(f'INSERT INTO "{name}" VALUES ({marks})', ([sqlite_value(v) for v in r] for r in rows))
    return con


def test_exported_sqlite_sql_gives_the_engines_numbers(eng, tables):
    con = load_sqlite(tables)
    assert_runs(eng, "sqlite", lambda sql: con.execute(sql).fetchall(), may_refuse=("percentile", "median", "calendar", "offset"))


# ---- MariaDB ---------------------------------------------------------------------------------


def mariadb_type(t):
    if pa.types.is_timestamp(t):
        return "DATETIME(6)"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_integer(t):
        return "BIGINT"
    if pa.types.is_floating(t):
        return "DOUBLE"
    if pa.types.is_decimal(t):
        return f"DECIMAL({t.precision},{t.scale})"
    return "VARCHAR(255)"


def test_exported_mysql_sql_gives_the_engines_numbers_on_mariadb(eng, tables, mariadb):
    with mariadb.cursor() as cur:
        for name, table in tables.items():
            columns = ", ".join(f"`{f.name}` {mariadb_type(f.type)}" for f in table.schema)
            cur.execute(f"CREATE TABLE `{name}` ({columns})")
            marks = ", ".join("%s" for _ in table.schema)
            rows = [[sqlite_value(v) for v in r] for r in zip(*(table.column(i).to_pylist() for i in range(table.num_columns)))]
            cur.executemany(f"INSERT INTO `{name}` VALUES ({marks})", rows)

    def run(sql):
        with mariadb.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()

    assert_runs(eng, "mysql", run, may_refuse=("percentile", "median", "calendar", "offset"))


# ---- BigQuery --------------------------------------------------------------------------------


def test_exported_bigquery_sql_uses_bigquerys_functions(eng):
    written = 0
    for code, query in queries():
        try:
            sql = eng.to_sql(code, dialect="bigquery", **query)
        except ke.KpiError as e:
            assert e.code == "KPI_SQL"
            continue
        written += 1
        lowered = sql.lower()
        assert "date_trunc(" not in lowered, (code, sql[:300])
        assert "timestamp_trunc(" in lowered, (code, sql[:300])
        assert "filter (where" not in lowered, (code, "BigQuery has no aggregate FILTER", sql[:300])
        assert '"' not in sql.replace('\\"', ""), (code, "BigQuery quotes names with backticks", sql[:300])
    assert written >= 50
