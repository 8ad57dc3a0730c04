"""Dashboards and subscriptions through the public API."""

import asyncio
import datetime as dt
import threading

import pyarrow as pa
import pytest

import kpi_engine as ke

from test_engine import order


@pytest.fixture()
def cat():
    return ke.Catalog.standard()


@pytest.fixture()
def eng(cat):
    eng = ke.Engine(cat)
    eng.register("orders", pa.Table.from_pylist([order(cat, 1, dt.datetime(2024, 1, 1, 10, 0, 5), 10.0)]))
    return eng


def test_a_dashboard_keeps_going_past_a_bad_kpi(cat):
    eng = ke.Engine(cat)
    for name, table in ke.demo.generate(cat, rows=1_000, seed=1, start="2024-01-01", end="2024-03-01").items():
        eng.register(name, table)
    board = eng.dashboard(["revenue", "perfect_order_rate", "no_such_kpi"], grain="month")
    assert set(board.results) == {"revenue", "perfect_order_rate"}
    assert board.errors["no_such_kpi"]["code"] == "KPI_FORMULA"
    assert len(board.to_dict()["items"]) == 3
    # revenue and perfect_order_rate read the same orders by month: one shared plan.
    assert eng.metrics()["shared_scans"] == 2
    alone = ke.Engine(cat, cache=False)
    alone.register("orders", ke.demo.generate(cat, rows=1_000, seed=1, start="2024-01-01", end="2024-03-01")["orders"])
    for kpi in ("revenue", "perfect_order_rate"):
        assert board.results[kpi].to_pyarrow().to_pylist() == alone.calculate(kpi, grain="month").to_pyarrow().to_pylist()


def test_a_subscriber_gets_a_snapshot_then_changes(cat, eng):
    with eng.subscribe("revenue", grain="minute") as sub:
        first = sub.next(timeout=10)
        assert first["kind"] == "snapshot" and first["value"] == 10.0 and first["revision"] == 1
        eng.append("orders", [order(cat, 2, dt.datetime(2024, 1, 1, 10, 0, 30), 5.0)])
        change = sub.next(timeout=10)
        assert (change["kind"], change["value"], change["previous_value"], change["revision"]) == ("change", 15.0, 10.0, 2)
        eng.append("orders", [order(cat, 3, dt.datetime(2024, 1, 1, 10, 2), 1.0)])
        # A new minute opens, and the empty minute before it, as a calculation lists them.
        opened = [sub.next(timeout=10), sub.next(timeout=10)]
        assert [(u["period"], u["value"]) for u in opened] == [("2024-01-01T10:01:00Z", None), ("2024-01-01T10:02:00Z", 1.0)]
        assert sub.next(timeout=0.1) is None
    assert sub.next(timeout=0.1) is None


def test_callbacks_and_async_iteration(cat, eng):
    seen = []
    arrived = threading.Event()

    def on_update(update):
        seen.append(update["value"])
        if update["value"] == 12.0:
            arrived.set()

    sub = eng.subscribe("revenue", grain="minute", callback=on_update)
    eng.append("orders", [order(cat, 2, dt.datetime(2024, 1, 1, 10, 0, 30), 2.0)])
    assert arrived.wait(10), seen
    sub.close()

    async def read_two():
        async_sub = eng.subscribe("revenue", grain="hour")
        values = []
        async for update in async_sub:
            values.append(update["value"])
            if len(values) == 1:
                eng.append("orders", [order(cat, 9, dt.datetime(2024, 1, 1, 10, 5), 3.0)])
            else:
                async_sub.close()
        return values

    assert asyncio.run(asyncio.wait_for(read_two(), 20)) == [12.0, 15.0]


def test_bad_refresh_and_kpi_errors(eng):
    with pytest.raises(ke.QueryError) as bad:
        eng.subscribe("revenue", grain="minute", refresh="fortnightly")
    assert (bad.value.code, bad.value.kind) == ("KPI_OPTION", "query")
    with pytest.raises(ke.QueryError):
        eng.subscribe("revenue", grain="minute", refresh=0)
    with pytest.raises(ke.QueryError):
        eng.subscribe("revenue", grain="minute", refresh=float("inf"))
    with pytest.raises(ke.FormulaError):
        eng.subscribe("revenu", grain="minute")
