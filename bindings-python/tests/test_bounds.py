"""Inputs at the edges of time and size, through Python: each is a typed KpiError within a
second, never a PanicException or a hang."""

import time

import pyarrow as pa
import pytest

import kpi_engine as ke


@pytest.fixture(scope="module")
def cat():
    return ke.Catalog.standard()


@pytest.fixture(scope="module")
def eng(cat):
    data = ke.demo.generate(cat, rows=2_000, seed=3, start="2024-01-01", end="2024-03-01")
    eng = ke.Engine(cat)
    for name, table in data.items():
        eng.register(name, table)
    return eng


def quickly(f, error):
    started = time.monotonic()
    with pytest.raises(error) as caught:
        f()
    assert time.monotonic() - started < 1.0
    return caught.value


@pytest.mark.parametrize(
    "call, error, code",
    [
        (lambda e: e.calculate("revenue", grain="day", start="2024-01-01", end="+262142-12-31T12:00"), ke.QueryError, "KPI_QUERY"),
        (lambda e: e.calculate("revenue", grain="week", start="-262143-01-01", end="2024-01-01"), ke.QueryError, "KPI_QUERY"),
        (lambda e: e.calculate(formula="rolling(count(orders), '100000000 days')", grain="day"), ke.FormulaError, "KPI_FORMULA"),
        (lambda e: e.calculate(formula="prev(count(orders), 10000)", grain="year"), ke.FormulaError, "KPI_FORMULA"),
    ],
)
def test_times_and_windows_out_of_range(eng, call, error, code):
    err = quickly(lambda: call(eng), error)
    assert err.code == code
    assert isinstance(err, ke.KpiError)


def test_a_row_at_the_end_of_time_is_a_data_error(eng):
    orders = eng.calculate("order_count", grain="year")
    table = pa.table(ke.demo.generate(ke.Catalog.standard(), rows=10, seed=1, start="2024-01-01", end="2024-01-02")["orders"])
    i = table.column_names.index("ordered_at")
    stamped = table.slice(0, 1).set_column(i, "ordered_at", pa.array([2**63 - 1], pa.int64()).cast(pa.timestamp("us")))
    err = quickly(lambda: eng.append("orders", stamped), ke.DataError)
    assert err.code == "KPI_DATA" and "orders.ordered_at" in str(err)
    assert len(eng.calculate("order_count", grain="year")) == len(orders)


def test_a_timeout_of_1e20_seconds(cat):
    assert quickly(lambda: ke.Engine(cat, timeout=1e20), ke.QueryError).code == "KPI_OPTION"


def test_kpis_that_double_at_every_level(cat):
    doubling = ke.Catalog.standard()
    doubling.add_kpi({"code": "k0", "name": "k0", "formula": "count(orders)"})
    for i in range(1, 30):
        doubling.add_kpi({"code": f"k{i}", "name": f"k{i}", "formula": f"k{i - 1} + k{i - 1}"})
    eng = ke.Engine(doubling)
    err = quickly(lambda: eng.calculate("k29"), ke.FormulaError)
    assert "expression nodes" in str(err) and "k29" in str(err)


def test_a_result_past_the_row_limit(cat, eng):
    small = ke.Engine(cat, max_result_rows=1_000)
    small.register("orders", ke.demo.generate(cat, rows=2_000, seed=3, start="2024-01-01", end="2024-03-01")["orders"])
    query = dict(grain="day", by=["orders.order_id"], start="2024-01-01", end="2024-03-01")
    err = quickly(lambda: small.calculate("revenue", **query), ke.QueryError)
    assert err.code == "KPI_QUERY" and "max_result_rows" in str(err)


@pytest.mark.parametrize("bad", [42, "orders", b"\x00" * 64, [1, 2, 3], {"a": [1]}, None])
def test_data_that_is_not_a_table_is_a_data_error(eng, bad):
    err = quickly(lambda: eng.append("orders", bad), ke.KpiError)
    assert err.kind != "internal"


def test_the_cache_is_bounded_by_bytes(cat):
    data = ke.demo.generate(cat, rows=2_000, seed=3, start="2024-01-01", end="2024-03-01")
    small = ke.Engine(cat, cache={"max_bytes": 64})
    roomy = ke.Engine(cat, cache={"max_bytes": 64 << 20})
    for engine in (small, roomy):
        for name, table in data.items():
            engine.register(name, table)
        engine.calculate("revenue", grain="day")
    assert (small.cached_results(), small.metrics()["cached_bytes"]) == (0, 0)
    assert roomy.cached_results() == 1 and 0 < roomy.metrics()["cached_bytes"] <= 64 << 20
    with pytest.raises(ke.QueryError):
        ke.Engine(cat, cache={"max_bytes": -1})


def test_a_hundred_thousand_dimensions_are_refused_at_once(eng):
    quickly(lambda: eng.calculate("revenue", by=["orders.region"] * 100_000), ke.FormulaError)
