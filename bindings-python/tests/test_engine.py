"""The engine through the public API: demo data, calculations, Arrow round trips with pyarrow,
polars and pandas, appends, explain, SQL export, and every error class."""

import datetime as dt

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.compute  # noqa: F401 (pa.compute)
import pytest

import kpi_engine as ke


@pytest.fixture(scope="module")
def cat():
    return ke.Catalog.standard()


@pytest.fixture(scope="module")
def data(cat):
    return ke.demo.generate(cat, rows=5_000, seed=42, start="2024-01-01", end="2025-01-01")


@pytest.fixture()
def eng(cat, data):
    eng = ke.Engine(cat, timezone="UTC")
    for name, table in data.items():
        eng.register(name, table)
    return eng


def test_demo_tables_are_arrow(data):
    orders = pa.table(data["orders"])
    assert orders.num_rows == len(data["orders"]) > 0
    assert "order_value" in orders.column_names


def test_calculate_by_month_and_region_with_a_filter(eng):
    res = eng.calculate(
        "perfect_order_rate",
        grain="month",
        by=["orders.region"],
        start="2024-01-01",
        end="2025-01-01",
        where="orders.channel = 'web'",
    )
    table = res.to_pyarrow()
    assert table.column_names == ["period", "orders.region", "value"]
    assert table.num_rows == len(res) > 0
    values = [v for v in table.column("value").to_pylist() if v is not None]
    assert values and all(0 <= v <= 100 for v in values)


def test_metrics_count_calculations_and_cache_hits(eng):
    before = eng.metrics()
    eng.calculate("revenue", grain="month")
    eng.calculate("revenue", grain="month")
    after = eng.metrics()
    assert after["calculations"] == before["calculations"] + 2
    assert after["cache_hits"] == before["cache_hits"] + 1
    assert after["rows_ingested"] > 0 and "shared" in after


def test_after_an_append_a_cached_result_recalculates_only_the_days_touched(eng, cat):
    query = dict(grain="day", start=dt.date(2024, 1, 1), end=dt.date(2025, 1, 1))
    before = eng.calculate("revenue", **query).to_pyarrow().to_pylist()
    day = ke.demo.generate(cat, rows=50, seed=7, start="2024-06-03", end="2024-06-04")
    eng.append("orders", day["orders"])
    after = eng.calculate("revenue", **query).to_pyarrow().to_pylist()
    assert eng.metrics()["cache_patches"] == 1
    changed = [b["period"] for b, a in zip(before, after) if a["value"] != b["value"]]
    assert [p.date() for p in changed] == [dt.date(2024, 6, 3)]
    assert len(after) == len(before)


def test_results_convert_to_polars_and_pandas_alike(eng):
    res = eng.calculate("revenue", grain="quarter", by=["orders.region"], start=dt.date(2024, 1, 1), end=dt.date(2025, 1, 1))
    frame = res.to_polars()
    assert isinstance(frame, pl.DataFrame)
    pandas = res.to_pandas()
    assert isinstance(pandas, pd.DataFrame)
    assert frame["value"].sum() == pytest.approx(pandas["value"].sum())
    assert pa.table(res).equals(res.to_pyarrow())
    assert res.to_dict()["rows"]


def test_a_formula_equals_the_same_sum_in_pyarrow(eng, data):
    res = eng.calculate_formula("sum(orders.order_value)")
    orders = pa.table(data["orders"])
    expected = float(pa.compute.sum(orders.column("order_value")).as_py())
    assert res.to_pyarrow().column("value")[0].as_py() == pytest.approx(expected)


def order(cat, order_id, at, value):
    """An order row with every column of the model; those not given are null."""
    model = next(m for m in cat.object_models() if m["code"] == "orders")
    row = {c["name"]: None for c in model["columns"]}
    row.update(order_id=order_id, customer_id=1, ordered_at=at, order_value=value, status="completed")
    return row


def test_polars_and_pandas_frames_register_and_append(cat):
    eng = ke.Engine(cat)
    rows = [order(cat, 1, dt.datetime(2024, 1, 5), 10.0), order(cat, 2, dt.datetime(2024, 2, 5), 20.0)]
    eng.register("orders", pl.DataFrame(rows))
    assert eng.calculate_formula("sum(orders.order_value)").to_pyarrow().column("value")[0].as_py() == 30.0
    report = eng.append("orders", pd.DataFrame([order(cat, 3, dt.datetime(2024, 1, 9), 5.0)]))
    assert report == ke.AppendReport(rows=1, late_rows=1, beyond_lateness=0)
    eng.append("orders", [order(cat, 4, dt.datetime(2024, 3, 1), 1.5)])
    res = eng.calculate_formula("sum(orders.order_value)", grain="month")
    assert res.to_pyarrow().column("value").to_pylist() == [15.0, 20.0, 1.5]
    assert eng.registered()[0]["memory_rows"] == 4


def test_explain_and_sql(eng):
    plans = eng.explain("revenue", grain="month")
    assert set(plans) == {"logical", "optimized", "physical", "pushed_down"}
    assert plans["pushed_down"] is None, "in-memory data is calculated in the engine"
    assert "Aggregate" in plans["logical"]
    sql = eng.to_sql("revenue", dialect="postgres", grain="month")
    assert "SELECT" in sql.upper() and "date_trunc" in sql.lower()


def test_formula_errors_carry_line_column_and_span(eng):
    with pytest.raises(ke.FormulaError) as err:
        eng.calculate_formula("sum(orders.ordr_value)")
    e = err.value
    assert isinstance(e, ke.KpiError)
    assert e.code == "KPI_FORMULA"
    assert (e.line, e.column) == (1, 12)
    assert (e.start, e.end) == (11, 21)
    assert "order_value" in str(e)
    with pytest.raises(ke.FormulaError):
        eng.calculate("revenue", where="orders.channel = ")


def test_query_errors(eng):
    with pytest.raises(ke.QueryError) as err:
        eng.calculate("revenue", grain="fortnight")
    assert err.value.code == "KPI_QUERY"
    with pytest.raises(ke.QueryError):
        eng.calculate("revenue", start="2024-01-01")
    with pytest.raises(ke.QueryError):
        eng.calculate("revenue", start="2025-01-01", end="2024-01-01")
    with pytest.raises(ke.KpiError):
        eng.to_sql("revenue", dialect="cobol")
    with pytest.raises(ke.QueryError):
        ke.Engine(ke.Catalog.standard(), timezone="Mars/Olympus")


def test_data_errors(cat):
    eng = ke.Engine(cat)
    with pytest.raises(ke.DataError) as err:
        eng.calculate("revenue")
    assert err.value.code == "KPI_DATA"
    with pytest.raises(ke.DataError):
        eng.register("no_such_model", pa.table({"x": [1]}))
    with pytest.raises(ke.DataError) as err:
        eng.register("orders", pa.Table.from_pylist([dict(order(cat, 1, dt.datetime(2024, 1, 1), None), order_value="x")]))
    assert err.value.code == "KPI_SCHEMA"
    with pytest.raises(ke.DataError) as err:
        eng.register("orders", 42)
    assert err.value.code == "KPI_DATA" and "got int" in str(err.value)


def test_an_empty_table_gives_an_empty_result(cat):
    eng = ke.Engine(cat)
    empty = pa.Table.from_pylist([order(cat, 1, dt.datetime(2024, 1, 1), 1.0)]).slice(0, 0)
    eng.register("orders", empty)
    assert len(eng.calculate_formula("sum(orders.order_value)", grain="month")) == 0


def test_a_calculation_over_its_memory_limit_is_a_calculation_error(cat, data):
    eng = ke.Engine(cat, memory_limit=16 * 1024)
    for name, table in data.items():
        eng.register(name, table)
    with pytest.raises(ke.CalculationError) as err:
        eng.calculate_formula(
            "count_distinct(order_lines.product_id) / count_distinct(order_lines.order_id)",
            grain="day",
            by=["order_lines.order.region", "order_lines.order.channel"],
        )
    assert err.value.code == "KPI_MEMORY"
    with pytest.raises(ke.QueryError):
        ke.Engine(cat, timeout=0)


def test_ctrl_c_interrupts_a_long_calculation(cat):
    import _thread
    import signal
    import threading

    eng = ke.Engine(cat)
    for name, table in ke.demo.generate(cat, rows=100_000, seed=1).items():
        eng.register(name, table)
    # A process started in the background by a non-interactive shell ignores SIGINT, and then
    # `interrupt_main` does nothing: give SIGINT Python's own handler, as in a terminal.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        # Signals the main thread as Ctrl-C does, well before the calculation could end.
        threading.Timer(0.2, _thread.interrupt_main).start()
        with pytest.raises(KeyboardInterrupt):
            eng.calculate_formula(
                "count_distinct(order_lines.product_id) / count_distinct(order_lines.order_id)",
                grain="hour",
                by=["order_lines.order.region", "order_lines.order.channel"],
            )
    finally:
        signal.signal(signal.SIGINT, previous)
    # The engine stays usable.
    assert len(eng.calculate("revenue", grain="year")) >= 1


def test_errors_form_one_hierarchy():
    for cls in (ke.FormulaError, ke.QueryError, ke.CatalogError, ke.DataError, ke.CalculationError):
        assert issubclass(cls, ke.KpiError)
    assert issubclass(ke.KpiError, Exception)
