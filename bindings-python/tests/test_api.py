"""The API a Rust user has, through Python: query documents (security, formulas everywhere,
calendars), bad input with the same codes as Rust and Node, files, comparisons, schedules,
client configurations, catalog edits and imports, and what a notebook shows."""

import datetime as dt
import json

import pyarrow as pa
import pyarrow.csv
import pyarrow.parquet as pq
import pytest

import kpi_engine as ke


@pytest.fixture(scope="module")
def cat():
    return ke.Catalog.standard()


@pytest.fixture(scope="module")
def data(cat):
    return ke.demo.generate(cat, rows=3_000, seed=7, start="2024-01-01", end="2025-01-01")


@pytest.fixture()
def eng(cat, data):
    eng = ke.Engine(cat)
    for name, table in data.items():
        eng.register(name, table)
    return eng


def test_security_filters_every_query_method(eng):
    north = {"orders": "orders.region = 'europe'"}
    everything = eng.calculate(formula="count(orders)").to_dict()["rows"][0]["value"]
    secured = eng.calculate(formula="count(orders)", security=north).to_dict()["rows"][0]["value"]
    assert 0 < secured < everything
    assert "europe" in eng.to_sql(formula="count(orders)", security=north)
    assert "europe" in eng.explain("revenue", security=north)["logical"]
    board = eng.dashboard(["revenue", {"formula": "count(orders)"}], security=north)
    assert board.results["count(orders)"].to_dict()["rows"][0]["value"] == secured


@pytest.mark.parametrize(
    "call, code",
    [
        (lambda e: e.calculate("revenue", grian="month"), "KPI_QUERY"),
        (lambda e: e.calculate("revenue", by=3), "KPI_QUERY"),
        (lambda e: e.calculate("revenue", timeout=0), "KPI_OPTION"),
        (lambda e: e.calculate("revenue", timeout=-1), "KPI_OPTION"),
        (lambda e: e.subscribe("revenue", grain="day", refresh="sometimes"), "KPI_OPTION"),
        (lambda e: e.calculate("revenue", start="2024-01-01"), "KPI_QUERY"),
        (lambda e: ke.Engine(ke.Catalog.standard(), timeout=1e20), "KPI_OPTION"),
        (lambda e: ke.Engine(ke.Catalog.standard(), lane_concurrency=0), "KPI_OPTION"),
        (lambda e: ke.Engine(ke.Catalog.standard(), colour="red"), "KPI_QUERY"),
    ],
)
def test_bad_input_is_a_typed_error_with_the_cores_code(eng, call, code):
    with pytest.raises(ke.QueryError) as caught:
        call(eng)
    assert caught.value.code == code and caught.value.kind == "query"


def test_calendar_and_empty_periods_per_query(eng):
    sunday = eng.calculate("revenue", grain="week", start="2024-03-01", end="2024-04-01", week_start="sunday")
    first = sunday.to_pyarrow().column("period")[0].as_py()
    assert first.weekday() == 6
    berlin = eng.calculate("revenue", grain="day", start="2024-03-01", end="2024-03-02", timezone="Europe/Berlin")
    assert berlin.to_dict()["rows"][0]["period"] == "2024-02-29T23:00:00Z"
    fiscal = eng.calculate("revenue", grain="year", start="2023-04-01", end="2025-04-01", fiscal_year_start="april")
    assert [r["period"] for r in fiscal.to_dict()["rows"]] == ["2023-04-01T00:00:00Z", "2024-04-01T00:00:00Z"]
    by_number = eng.calculate("revenue", grain="quarter", start="2024-02-01", end="2024-05-01", fiscal_year_start=2)
    assert by_number.to_dict()["rows"][0]["period"] == "2024-02-01T00:00:00Z"
    with pytest.raises(ke.QueryError, match="unknown month"):
        eng.calculate("revenue", grain="year", fiscal_year_start="smarch")


def test_retail_months_of_whole_weeks(eng):
    months = eng.calculate("revenue", grain="month", start="2024-02-04", end="2024-05-05", retail_calendar="nrf")
    rows = months.to_dict()["rows"]
    assert [r["period"] for r in rows] == ["2024-02-04T00:00:00Z", "2024-03-03T00:00:00Z", "2024-04-07T00:00:00Z"]
    # The retail February is four weeks: its days add up to it.
    days = eng.calculate("revenue", grain="day", start="2024-02-04", end="2024-03-03").to_dict()["rows"]
    assert len(days) == 28
    assert sum(d["value"] or 0 for d in days) == pytest.approx(rows[0]["value"])
    with pytest.raises(ke.QueryError, match="calendar `4-4-4`"):
        eng.calculate("revenue", grain="month", retail_calendar="4-4-4")
    with pytest.raises(ke.QueryError, match="leave out week_start"):
        eng.calculate("revenue", grain="week", retail_calendar="nrf", week_start="monday")
    with pytest.raises(ke.QueryError, match="unknown object model `calendar`"):
        eng.calculate("revenue", grain="month", calendar_table={"table": "calendar", "date": "day", "month": "period"})


def test_files_are_registered_where_they_lie(eng, data, tmp_path):
    orders = pa.table(data["orders"])
    pq.write_table(orders, tmp_path / "orders.parquet")
    pyarrow.csv.write_csv(orders.drop_columns([c for c in orders.column_names if c not in ("order_id", "customer_id", "ordered_at", "order_value", "status")]), tmp_path / "orders.csv")
    expected = eng.calculate(formula="sum(orders.order_value)").to_dict()["rows"][0]["value"]
    files = ke.Engine(ke.Catalog.standard())
    files.register_parquet("orders", tmp_path / "orders.parquet")
    assert files.calculate(formula="sum(orders.order_value)").to_dict()["rows"][0]["value"] == pytest.approx(expected)
    with pytest.raises(ke.DataError) as missing:
        files.register_parquet("orders", tmp_path / "nope.parquet")
    assert missing.value.code == "KPI_READ"


def test_compare_against_the_range_before(eng):
    out = eng.compare("revenue", current=("2024-07-01", "2024-10-01"), by=["orders.region"])
    assert out["previous"]["start"] == "2024-04-01T00:00:00Z" or out["previous"]["end"] == "2024-07-01T00:00:00Z"
    assert out["rows"] and {"current", "previous"} <= set(out["rows"][0])


def test_schedules_and_jobs(eng):
    job = eng.schedule("nightly", "0 2 * * *", ["revenue", {"kpi": "perfect_order_rate", "grain": "day"}])
    assert [j["id"] for j in eng.jobs()] == [job["id"]]
    assert job["queries"][1]["grain"] == "day"
    assert eng.cancel_job(job["id"]) and eng.jobs() == []


def test_client_field_mappings_rename_data_on_registration(cat, data):
    client = ke.ClientConfig.from_dict(
        {
            "id": "acme",
            "name": "Acme",
            "selected_kpis": ["revenue"],
            "data_sources": [{"name": "erp", "kind": "postgresql"}],
            "field_mappings": [{"object_model": "orders", "column": "order_value", "source": "erp", "field": "sales.orders.total_amount"}],
            "custom_kpis": [{"code": "big_orders", "name": "Big orders", "formula": "count(orders where orders.order_value > 100)"}],
        }
    )
    eng = ke.Engine(cat, client=client)
    assert eng.catalog.kpi("big_orders")["name"] == "Big orders"
    orders = pa.table(data["orders"])
    theirs = orders.rename_columns(["total_amount" if n == "order_value" else n for n in orders.column_names])
    eng.register("orders", theirs)
    plain = ke.Engine(cat)
    plain.register("orders", orders)
    formula = "count(orders where orders.order_value > 100)"
    assert eng.calculate("big_orders").to_dict()["rows"] == plain.calculate(formula=formula).to_dict()["rows"]
    with pytest.raises(ke.CatalogError):
        ke.Engine(cat, client=ke.ClientConfig.from_dict({"id": "x", "name": "X", "selected_kpis": ["nope"]}))


def test_catalog_search_edit_and_import(cat):
    assert cat.search("churn")[0]["kpi"]["code"]
    mine = ke.Catalog.from_yaml(cat.to_yaml())
    mine.add_kpi({"code": "web_orders", "name": "Web orders", "formula": "count(orders where orders.channel = 'web')"})
    assert mine.kpi("web_orders")["name"] == "Web orders"
    with pytest.raises(ke.CatalogError):
        cat.kpi("web_orders")
    assert mine.remove_kpi("web_orders")["code"] == "web_orders"
    codes = mine.import_sql([{"code": "completed_value", "query": "SELECT SUM(order_value) FROM orders WHERE status = 'completed'"}])
    assert codes == ["completed_value"] and mine.problems() == []
    with pytest.raises(ke.CatalogError):
        mine.add_kpi({"code": "x"})


def test_results_show_themselves_in_a_notebook(eng, cat):
    res = eng.calculate("perfect_order_rate", grain="month", by=["orders.region"])
    page = res._repr_html_()
    assert "Perfect Order Fulfillment" in page and "background:" in page and "%" in page
    assert "<table>" in eng.dashboard(["revenue", "nope"])._repr_html_()
    assert "mermaid" in cat.diagram(["orders"])._repr_markdown_()
    assert "KPIs" in cat._repr_html_()
    import matplotlib

    matplotlib.use("Agg")
    ax = res.plot()
    assert len(ax.get_lines()) == 4 and ax.get_title() == "Perfect Order Fulfillment"
    assert res.to_polars().shape == (len(res), 3)


def test_a_failed_refresh_raises_its_own_class(cat):
    eng = ke.Engine(cat)
    with pytest.raises(ke.DataError) as caught:
        eng.calculate("revenue")
    assert caught.value.kind == "data"


def test_each_result_says_its_path_through_the_cache(eng, data):
    query = dict(grain="day", by=["orders.region"], start="2024-01-01", end="2024-07-01")
    assert eng.calculate("revenue", **query).cache_outcome == "full"
    assert eng.calculate("revenue", **query).cache_outcome == "hit"
    eng.append("orders", pa.table(data["orders"]).slice(0, 20))
    assert eng.calculate("revenue", **query).cache_outcome == "patched"
    # Asked again as more rows arrive: from then on read from partial states appends update.
    eng.append("orders", pa.table(data["orders"]).slice(20, 20))
    assert eng.calculate("revenue", **query).cache_outcome == "maintained"
    assert eng.metrics()["maintained_answers"] == 1
    # A view of an aggregate of one table is maintained from partial states.
    sub = eng.subscribe("order_count", grain="day")
    assert [s["maintenance"] for s in eng.streams()] == ["cube"]
    sub.close()
