"""The catalog through the public API."""

import pytest

import kpi_engine as ke


def test_the_standard_catalog_lists_kpis_models_modules_and_chains():
    cat = ke.Catalog.standard()
    kpis = cat.kpis()
    assert len(kpis) > 50
    assert any(k["code"] == "perfect_order_rate" for k in kpis)
    assert cat.kpi("perfect_order_rate")["formula"]
    assert {m["code"] for m in cat.object_models()} >= {"orders"}
    assert cat.modules() and cat.value_chains()
    module = cat.modules()[0]["code"]
    assert all(k["code"] in {x["code"] for x in kpis} for k in cat.kpis(module=module))


def test_required_objects_and_diagram():
    cat = ke.Catalog.standard()
    needed = cat.required_objects(["perfect_order_rate"])
    assert "orders" in str(needed)
    diagram = cat.diagram(["orders"])
    assert diagram.startswith("erDiagram") or "orders" in diagram


def test_yaml_and_json_round_trip(tmp_path):
    cat = ke.Catalog.standard()
    text = cat.to_yaml()
    again = ke.Catalog.from_yaml(text)
    assert len(again.kpis()) == len(cat.kpis())
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    assert len(ke.Catalog.from_yaml(path).kpis()) == len(cat.kpis())
    assert len(ke.Catalog.from_yaml(str(path)).kpis()) == len(cat.kpis())


def test_unknown_kpi_and_bad_yaml_are_catalog_errors():
    cat = ke.Catalog.standard()
    with pytest.raises(ke.CatalogError) as err:
        cat.kpi("perfect_ordr_rate")
    assert err.value.code == "KPI_CATALOG"
    assert "perfect_order_rate" in str(err.value)
    with pytest.raises(ke.CatalogError):
        ke.Catalog.from_yaml("kpis: [ {code: x, formula: ")
    with pytest.raises(ke.KpiError):
        cat.kpis(module="no_such_module")
