"""Semantic-layer constructs through the package, checked against polars on the same demo
data: rolling windows that are not whole periods (MAU by month), their summaries, at_start,
date parts as dimensions and filters, discrete percentiles, cumulative without a grain."""

import datetime as dt

import polars as pl
import pyarrow as pa
import pytest

import kpi_engine as ke

START, END = "2024-01-01", "2024-07-01"


@pytest.fixture(scope="module")
def cat():
    return ke.Catalog.standard()


@pytest.fixture(scope="module")
def data(cat):
    return ke.demo.generate(cat, rows=4_000, seed=5, start=START, end=END)


@pytest.fixture()
def eng(cat, data):
    eng = ke.Engine(cat, timezone="UTC")
    for name, table in data.items():
        eng.register(name, table)
    return eng


def frame(data, name):
    return pl.from_arrow(pa.table(data[name]))


def month_starts():
    return [dt.datetime(2024, m, 1) for m in range(1, 7)]


def next_month(d):
    return d.replace(year=d.year + d.month // 12, month=d.month % 12 + 1)


def test_monthly_active_users_by_month_are_the_30_days_ending_with_each_month(eng, data):
    res = eng.calculate("monthly_active_users", grain="month", start=START, end=END).to_pyarrow().to_pylist()
    activity = frame(data, "user_activity").with_columns(pl.col("occurred_at").dt.replace_time_zone(None))
    want = []
    for m in month_starts():
        end = next_month(m)
        window = activity.filter((pl.col("occurred_at") >= end - dt.timedelta(days=30)) & (pl.col("occurred_at") < end))
        want.append(float(window["user_id"].n_unique()))
    assert [r["value"] for r in res] == want
    # DAU/MAU by month works too (it failed before: 30 days is not a whole number of months).
    ratio = eng.calculate("dau_mau_ratio", grain="month", start=START, end=END)
    assert len(ratio) == 6


def test_a_window_averaged_over_the_days_of_each_month(eng, data):
    res = eng.calculate(formula="rolling(count(orders), '7 days', 'average')", grain="month", start=START, end=END)
    orders = frame(data, "orders").with_columns(pl.col("ordered_at").dt.replace_time_zone(None))
    times = orders["ordered_at"]
    want = []
    for m in month_starts():
        days = []
        d = m
        while d < next_month(m):
            end = d + dt.timedelta(days=1)
            days.append(((times >= end - dt.timedelta(days=7)) & (times < end)).sum())
            d = end
        want.append(sum(days) / len(days))
    got = res.to_pyarrow().column("value").to_pylist()
    assert got == pytest.approx(want)
    with pytest.raises(ke.FormulaError, match="'last', 'first' or 'average'"):
        eng.calculate(formula="rolling(count(orders), '7 days', 'sometimes')", grain="month", start=START, end=END)


def test_change_since_the_start_of_the_month_and_date_parts(eng, data):
    res = eng.calculate(formula="count(orders) - at_start(count(orders), 'month')", grain="day", start="2024-02-10", end="2024-02-12")
    orders = frame(data, "orders").with_columns(pl.col("ordered_at").dt.replace_time_zone(None))
    per_day = orders.group_by(pl.col("ordered_at").dt.date().alias("d")).len()
    count = {r["d"]: r["len"] for r in per_day.to_dicts()}
    first = count.get(dt.date(2024, 2, 1), 0)
    assert res.to_pyarrow().column("value").to_pylist() == [
        float(count.get(dt.date(2024, 2, 10), 0) - first),
        float(count.get(dt.date(2024, 2, 11), 0) - first),
    ]

    by_weekday = eng.calculate(formula="count(orders)", by=["dow(orders.ordered_at)"]).to_pyarrow().to_pylist()
    want = orders.group_by(pl.col("ordered_at").dt.weekday().alias("dow")).len().sort("dow")
    assert [(r["dow(orders.ordered_at)"], r["value"]) for r in by_weekday] == [(d, float(n)) for d, n in want.rows()]
    weekend = eng.calculate(formula="count(orders)", where="dow(orders.ordered_at) >= 6")
    assert weekend.to_pyarrow().column("value").to_pylist() == [float(orders.filter(pl.col("ordered_at").dt.weekday() >= 6).height)]


def test_discrete_percentile_and_cumulative_without_a_grain(eng, data):
    orders = frame(data, "orders")
    values = sorted(v for v in orders["order_value"].cast(pl.Float64).to_list() if v is not None)
    res = eng.calculate(formula="percentile_disc(orders.order_value, 0.9)")
    k = max(1, -(-9 * len(values) // 10))
    assert res.to_pyarrow().column("value").to_pylist() == [values[k - 1]]
    total = eng.calculate(formula="cumulative(count(orders))")
    assert total.to_pyarrow().column("value").to_pylist() == [float(orders.height)]


def test_a_dbt_project_imports_with_what_was_skipped():
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    shop = ke.Catalog.from_dbt(root / "kpi-catalog" / "tests" / "dbt" / "shop")
    assert shop.kpi("average_order_value")["formula"] == "revenue / orders_placed"
    skipped = {s["what"]: s for s in shop.skipped}
    assert shop.kpi("checkout_conversion")["formula"].startswith("conversion_rate(count(customers.customer_id)")
    assert "metric checkout_conversion" not in skipped
    assert shop.kpi("revenue_mom")["formula"] == "revenue - prev(revenue, '1 month')"
    fiscal = skipped["metric revenue_fiscal_qtd"]
    assert "custom granularity" in fiscal["reason"]
    assert fiscal["file"].endswith("metrics.yml") and fiscal["line"] > 1
    assert ke.Catalog.standard().skipped == []
    with pytest.raises(ke.CatalogError):
        ke.Catalog.from_dbt(root / "no-such-project")


def test_validate_formula_locates_every_problem_with_a_suggestion():
    cat = ke.Catalog.standard()
    assert ke.validate_formula(cat, "revenue / order_count") == []
    [problem] = ke.validate_formula(cat, "sum(orders.ordr_value)")
    assert (problem["code"], problem["source"], problem["line"], problem["column"]) == ("unknown-column", "formula", 1, 12)
    assert "order_value" in problem["help"]
    many = cat.validate_formula("sum(orders.nope) +\n  revenu")
    assert [p["line"] for p in many] == [1, 2], many
    assert all(p["message"] for p in many)
