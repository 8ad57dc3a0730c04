"""PostgreSQL tables as object models, through the installed package: demo orders in a
throwaway server (conftest.py), the numbers compared with the same rows registered in memory,
pushed down or scanned."""

import time

import pytest

import kpi_engine as ke
from conftest import dsn, psql


def test_a_postgres_table_gives_the_in_memory_numbers(server, orders):
    port, _ = server
    memory = ke.Engine(ke.Catalog.standard())
    memory.register("orders", orders)
    pg = ke.Engine(ke.Catalog.standard())
    pg.register_postgres("orders", dsn(port), table="public.orders")
    for kpi in ("revenue", "order_count", "average_order_value"):
        a = memory.calculate(kpi, grain="month", by=["orders.region"], start="2024-01-01", end="2024-07-01").to_dict()["rows"]
        b = pg.calculate(kpi, grain="month", by=["orders.region"], start="2024-01-01", end="2024-07-01").to_dict()["rows"]
        assert [{k: v for k, v in r.items() if k != "value"} for r in a] == [{k: v for k, v in r.items() if k != "value"} for r in b]
        assert [r["value"] for r in b] == pytest.approx([r["value"] for r in a])
    plans = pg.explain("revenue", grain="month", start="2024-01-01", end="2024-07-01")
    assert plans["pushed_down"].startswith(f"pushed down to PostgreSQL at postgresql://kpi@127.0.0.1:{port}/postgres")
    assert "SqlExec" in plans["physical"] and "kpi-test" not in str(plans)
    scanned = ke.Engine(ke.Catalog.standard(), pushdown=False)
    scanned.register_postgres("orders", dsn(port), table="public.orders")
    assert scanned.explain("revenue", grain="month", start="2024-01-01", end="2024-07-01")["pushed_down"] is None
    a = memory.calculate("revenue", grain="month", start="2024-01-01", end="2024-07-01").to_dict()["rows"]
    b = scanned.calculate("revenue", grain="month", start="2024-01-01", end="2024-07-01").to_dict()["rows"]
    assert [r["value"] for r in b] == pytest.approx([r["value"] for r in a])


def test_renamed_columns_and_every_model_in_one_call(server, orders):
    port, _ = server
    picked = ", ".join("order_value AS total_amount" if c == "order_value" else f'"{c}"' for c in orders.column_names)
    psql(port, f"CREATE VIEW sales_orders AS SELECT {picked} FROM orders")
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
        pg.register_postgres("orders", dsn(port, password="sw0rdfish"), table="orders")
    assert wrong.value.code == "KPI_SOURCE"
    assert f"127.0.0.1:{port}/postgres" in str(wrong.value) and "sw0rdfish" not in str(wrong.value)
    with pytest.raises(ke.DataError) as missing:
        pg.register_postgres("orders", dsn(port), table="no_such_table")
    assert "no_such_table" in str(missing.value)
    with pytest.raises(ke.KpiError) as bad:
        pg.register_postgres("orders", "postgresql://kpi:sw0rdfish@127.0.0.1:notaport/db")
    assert "sw0rdfish" not in str(bad.value)


def test_a_feed_follows_new_rows_and_resumes_from_its_checkpoint(server, orders, tmp_path):
    port, _ = server
    psql(port, "CREATE TABLE feed_orders AS SELECT * FROM orders")
    checkpoint = tmp_path / "feed.json"
    eng = ke.Engine(ke.Catalog.standard())
    count = lambda: eng.calculate(formula="count(orders)").to_dict()["rows"][0]["value"]  # noqa: E731
    with eng.follow_postgres("orders", dsn(port), table="feed_orders", poll_interval="50ms", checkpoint=checkpoint) as feed:
        assert count() == orders.num_rows
        psql(port, "CREATE TABLE feed_new AS SELECT * FROM orders LIMIT 5; "
                   "UPDATE feed_new SET order_id = order_id + 1000000, ordered_at = (SELECT max(ordered_at) FROM feed_orders) + interval '1 minute'; "
                   "INSERT INTO feed_orders SELECT * FROM feed_new; DROP TABLE feed_new")
        deadline = time.monotonic() + 10
        while count() != orders.num_rows + 5:
            assert time.monotonic() < deadline, feed.status()
            time.sleep(0.05)
        assert feed.status()["errors"] == 0
    assert feed.status() is None
    assert checkpoint.exists()
    # Started again from its checkpoint: only what came after, nothing twice.
    resumed = eng.follow_postgres("orders", dsn(port), table="feed_orders", checkpoint=checkpoint)
    assert resumed.status()["rows_appended"] == 0 and count() == orders.num_rows + 5
    resumed.stop()
    with pytest.raises(ke.QueryError):
        eng.follow_postgres("orders", dsn(port), table="feed_orders", poll_interval=-1)
    with pytest.raises(ke.DataError) as e:
        eng.follow_postgres("orders", dsn(port), table="no_such_table")
    assert e.value.code == "KPI_SOURCE" and "kpi-test" not in str(e.value)
