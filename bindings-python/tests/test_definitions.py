"""KPI definitions created, changed and removed in a running engine."""

import pytest

import kpi_engine as ke


@pytest.fixture()
def engine():
    cat = ke.Catalog.standard()
    eng = ke.Engine(cat)
    for name, table in ke.demo.generate(cat, rows=3_000, seed=4, start="2024-01-01", end="2024-07-01").items():
        eng.register(name, table)
    return eng


def total(eng, kpi):
    return eng.calculate(kpi, start="2024-01-01", end="2024-07-01").to_pyarrow().column("value")[0].as_py()


def test_define_change_and_remove_a_kpi(engine):
    change = engine.define_kpi("web_orders", "count(orders where orders.channel = 'web')", name="Web orders")
    assert change["action"] == "created"
    assert total(engine, "web_orders") > 0
    assert engine.catalog.kpi("web_orders")["name"] == "Web orders"

    revenue = total(engine, "revenue")
    definition = engine.catalog.kpi("revenue")
    change = engine.define_kpi({**definition, "formula": "sum(orders.order_value where orders.status != 'cancelled') * 2"})
    assert change["action"] == "updated" and "average_order_value" in change["affected"]
    assert total(engine, "revenue") == pytest.approx(revenue * 2)
    assert "average_order_value" in engine.dependants("revenue")

    with pytest.raises(ke.CatalogError, match="average_order_value") as e:
        engine.remove_kpi("revenue")
    assert e.value.code == "KPI_DEFINITION"
    removed = engine.remove_kpi("revenue", cascade=True)
    assert "average_order_value" in removed["removed"]
    with pytest.raises(ke.FormulaError):
        engine.calculate("revenue")


def test_refused_definitions_change_nothing(engine):
    before = total(engine, "revenue")
    with pytest.raises(ke.CatalogError, match="ordr_value"):
        engine.define_kpi("revenue", "sum(orders.ordr_value)")
    with pytest.raises(ke.CatalogError, match="used by"):
        engine.define_kpi({**engine.catalog.kpi("revenue"), "formula": "revenue_growth * 2"})
    with pytest.raises(ke.CatalogError):
        engine.define_kpi({"code": "x"})  # no formula
    assert total(engine, "revenue") == before
    assert engine.catalog.kpi("revenue")["formula"].startswith("sum(orders.order_value")


def test_subscribers_get_a_fresh_snapshot(engine):
    with engine.subscribe("order_count", grain="month", start="2024-01-01", end="2024-07-01") as sub:
        first = [sub.next(timeout=10) for _ in range(6)]
        engine.define_kpi({**engine.catalog.kpi("order_count"), "formula": "count(orders) * 10"})
        fresh = [sub.next(timeout=10) for _ in range(6)]
    assert {u["kind"] for u in first + fresh} == {"snapshot"}
    before = {u["period"]: u["value"] for u in first}
    for u in fresh:
        assert u["value"] == pytest.approx(before[u["period"]] * 10)


def test_a_client_engine_keeps_its_definitions_in_its_configuration():
    client = ke.ClientConfig.from_dict({"id": "acme", "name": "Acme"})
    eng = ke.Engine(ke.Catalog.standard(), client=client)
    eng.define_kpi("web_orders", "count(orders where orders.channel = 'web')")
    saved = eng.client_config().to_dict()
    assert [k["code"] for k in saved["custom_kpis"]] == ["web_orders"]
    again = ke.Engine(ke.Catalog.standard(), client=ke.ClientConfig.from_dict(saved))
    assert again.catalog.kpi("web_orders")["formula"].startswith("count(")
    assert ke.Engine(ke.Catalog.standard()).client_config() is None
