"""Proposals through the public API: the questionnaire, the specification's worked proposal,
and pricing errors."""

from pathlib import Path

import pytest

import kpi_engine as ke

ANSWERS = Path(__file__).resolve().parents[2] / "examples" / "proposal" / "answers.yaml"
KPIS = ["perfect_order_rate", "on_time_delivery_rate", "new_customers"]


def test_the_questionnaire_has_steps():
    q = ke.pricing.questionnaire()
    assert q["steps"]
    for_kpis = ke.pricing.questionnaire(ke.Catalog.standard(), KPIS)
    assert "perfect_order_rate" in str(for_kpis)


def test_the_specifications_proposal():
    p = ke.pricing.price(ke.Catalog.standard(), KPIS, ANSWERS)
    licensing = p.to_dict()["licensing"]
    assert licensing["annualTotal"] == 65_000
    assert licensing["termTotal"] == 195_000
    assert "Acme Retail" in p.to_markdown()
    same = ke.pricing.price(ke.Catalog.standard(), KPIS, ANSWERS.read_text())
    assert same.to_dict() == p.to_dict()


def test_bad_answers_are_pricing_errors():
    with pytest.raises(ke.PricingError) as err:
        ke.pricing.price(ke.Catalog.standard(), KPIS, {"license_term": 4})
    assert isinstance(err.value, ke.KpiError)
    assert err.value.code == "KPI_PRICING"
    with pytest.raises(ke.KpiError):
        ke.pricing.price(ke.Catalog.standard(), ["no_such_kpi"], {"license_term": 1})
