"""Forecasts and trends, checked against statsmodels' exponential smoothing on the same series.

The model is checked exactly: statsmodels' ETSModel run with the parameters and initial states
the engine fitted gives the same fitted values, forecasts and prediction intervals (1e-9). The
fit is checked against statsmodels' own maximum-likelihood fit: our squared errors at most 1%
above its (our seasonal states sum to zero, statsmodels' are free), our forecasts inside its 95%
intervals, the next period within 4% of the series' level and its interval within 5% of the
width.
"""

import math
import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from statsmodels.tsa.exponential_smoothing.ets import ETSModel

import kpi_engine as ke

MODELS = [
    ("none", False),
    ("additive", False),
    ("damped", False),
    ("none", True),
    ("additive", True),
    ("damped", True),
]


def series(seasonal: bool, seed: int = 7, n: int = 48) -> pd.Series:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    season = 25 * np.sin(2 * np.pi * t / 12) if seasonal else 0
    level = 200 + 3 * t + np.cumsum(rng.normal(0, 2, n))
    return pd.Series(level + season + rng.normal(0, 6, n), index=pd.date_range("2021-01-01", periods=n, freq="MS"))


def statsmodels_trend(trend: str):
    return None if trend == "none" else "add"


def statsmodels_ets(y: pd.Series, trend: str, seasonal: bool, **initialization) -> ETSModel:
    """statsmodels' ETSModel of the engine's model: additive errors, `trend`, and an additive
    season of 12 when `seasonal`; estimated initial states unless given."""
    return ETSModel(
        y,
        error="add",
        trend=statsmodels_trend(trend),
        damped_trend=trend == "damped",
        seasonal="add" if seasonal else None,
        seasonal_periods=12 if seasonal else None,
        **(initialization or {"initialization_method": "estimated"}),
    )


@pytest.mark.parametrize("trend,seasonal", MODELS)
def test_the_model_is_statsmodels_ets_with_the_same_parameters(trend, seasonal):
    y = series(seasonal)
    ours = ke.forecast_series(list(y), horizon=14, season_length=12, method="ets", trend=trend, seasonal=seasonal)
    p = ours["parameters"]
    model = statsmodels_ets(
        y,
        trend,
        seasonal,
        initialization_method="known",
        initial_level=p["initial_level"],
        initial_trend=p["initial_trend"] if trend != "none" else None,
        initial_seasonal=p["initial_seasonal"] if seasonal else None,
    )
    fixed = {"smoothing_level": p["alpha"]}
    if trend != "none":
        fixed["smoothing_trend"] = p["beta"]
    if seasonal:
        fixed["smoothing_seasonal"] = p["gamma"]
    if trend == "damped":
        fixed["damping_trend"] = p["phi"]
    with warnings.catch_warnings(), model.fix_params(fixed):
        warnings.simplefilter("ignore")
        result = model.fit(disp=False)
    frame = result.get_prediction(start=len(y), end=len(y) + 13).summary_frame(alpha=0.05)
    assert np.allclose(ours["fitted"], result.fittedvalues.values, rtol=1e-9, atol=1e-8)
    assert np.allclose([q["value"] for q in ours["points"]], frame["mean"].values, rtol=1e-9)
    assert np.allclose([q["lower"] for q in ours["points"]], frame["pi_lower"].values, rtol=1e-9)
    assert np.allclose([q["upper"] for q in ours["points"]], frame["pi_upper"].values, rtol=1e-9)
    if seasonal:
        assert abs(sum(p["initial_seasonal"])) < 1e-9


@pytest.mark.parametrize("seed", [3, 11, 19])
@pytest.mark.parametrize("trend,seasonal", MODELS)
def test_fits_and_forecasts_are_statsmodels_ets(trend, seasonal, seed):
    y = series(seasonal, seed=seed)
    ours = ke.forecast_series(list(y), horizon=12, season_length=12, method="ets", trend=trend, seasonal=seasonal)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = statsmodels_ets(y, trend, seasonal).fit(disp=False)
    sse = float(np.sum((y.values - np.array(ours["fitted"])) ** 2))
    assert sse <= theirs.sse * 1.01, (sse, theirs.sse)
    frame = theirs.get_prediction(start=len(y), end=len(y) + 11).summary_frame(alpha=0.05)
    values = np.array([q["value"] for q in ours["points"]])
    widths = np.array([q["upper"] - q["lower"] for q in ours["points"]])
    # Trend models' likelihoods can be flat: where the two fits settle apart (ours never worse),
    # our forecasts still lie inside statsmodels' 95% intervals, and the next period's within 4%.
    assert np.all(frame["pi_lower"].values < values) and np.all(values < frame["pi_upper"].values)
    assert abs(values[0] - frame["mean"].values[0]) < 0.04 * float(np.mean(np.abs(y)))
    assert widths[0] / (frame["pi_upper"] - frame["pi_lower"]).values[0] == pytest.approx(1.0, abs=0.05)
    assert ours["sigma"] == pytest.approx(math.sqrt(sse / len(y)))


def test_auto_chooses_a_seasonal_model_for_a_seasonal_series_and_not_otherwise():
    assert ke.forecast_series(list(series(True)), season_length=12)["model"].endswith(",A)")
    assert ke.forecast_series(list(series(False)), season_length=12)["model"].endswith(",N)")


def test_bad_series_get_clear_errors():
    with pytest.raises(ke.DataError, match="at least 5 periods with values, the series has 3") as e:
        ke.forecast_series([1.0, 2.0, 3.0])
    assert e.value.code == "KPI_FORECAST"
    with pytest.raises(ke.DataError, match="no values"):
        ke.forecast_series([None, None, None, None, None, None])
    flat = ke.forecast_series([4.0] * 10)
    assert flat["model"] == "constant" and flat["points"][0] == {"value": 4.0, "lower": 4.0, "upper": 4.0}
    gaps = ke.forecast_series([10.0, None, 12.0, 13.0, None, 15.0, 16.0, 17.0, float("nan"), 19.0], horizon=2)
    assert gaps["missing"] == 3 and gaps["observed"] == 7
    with pytest.raises(ke.QueryError, match="horizon"):
        ke.forecast_series(list(series(False)), horizon=100_000_000)
    with pytest.raises(ke.QueryError, match="level"):
        ke.forecast_series(list(series(False)), level=1.5)
    with pytest.raises(ke.QueryError, match="auto, ets, seasonal_naive"):
        ke.forecast_series(list(series(False)), method="arima")


@pytest.fixture(scope="module")
def engine():
    cat = ke.Catalog.standard()
    eng = ke.Engine(cat)
    data = ke.demo.generate(cat, rows=20_000, seed=5, start="2022-01-01", end="2025-01-01")
    for name, table in data.items():
        eng.register(name, table)
    return eng


def test_a_kpi_forecast_has_the_named_columns_and_matches_statsmodels(engine):
    forecast = engine.forecast("revenue", grain="month", horizon=6, by=["orders.region"])
    assert forecast.column_names == ["period", "orders.region", "value", "lower", "upper"]
    table = forecast.to_pyarrow()
    assert table.num_rows == 4 * 6
    assert table.column("period")[0].as_py().isoformat().startswith("2025-01-01")
    frame = forecast.to_polars()
    assert (frame["lower"] <= frame["value"]).all() and (frame["value"] <= frame["upper"]).all()
    doc = forecast.to_dict()
    assert doc["season_length"] == 12
    for group in doc["groups"]:
        history = pd.Series(
            [h["value"] for h in group["history"]],
            index=pd.date_range("2022-01-01", periods=len(group["history"]), freq="MS"),
        )
        assert len(history) == 36
        ours = np.array([f["value"] for f in group["forecast"]])
        # statsmodels' fit of the same series with the model the engine chose.
        name = group["model"]
        trend = {"N": "none", "A": "additive", "Ad": "damped"}[name.split(",")[1]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = statsmodels_ets(history, trend, name.endswith(",A)")).fit(disp=False)
        sse = float(np.nansum((history.values - np.array([h["fitted"] for h in group["history"]])) ** 2))
        assert sse <= theirs.sse * 1.02, (group["dimensions"], name, sse, theirs.sse)
        assert np.max(np.abs(ours - theirs.forecast(6).values)) < 0.05 * float(history.mean()), name
    assert {m["model"] for m in forecast.models} <= {f"ETS(A,{t},{s})" for t in ("N", "A", "Ad") for s in ("N", "A")}


def test_kpi_forecast_methods_and_errors(engine):
    naive = engine.forecast("order_count", grain="month", horizon=3, method="seasonal_naive")
    doc = naive.to_dict()["groups"][0]
    history = [h["value"] for h in doc["history"]]
    assert [f["value"] for f in doc["forecast"]] == history[-12:-9]
    damped = engine.forecast("order_count", grain="quarter", horizon=2, method="ets", trend="damped", seasonal=False)
    assert damped.models[0]["model"] == "ETS(A,Ad,N)"
    with pytest.raises(ke.DataError, match="needs at least"):
        engine.forecast("revenue", grain="year")
    with pytest.raises(ke.QueryError, match="grain"):
        engine.forecast("revenue")
    with pytest.raises(ke.QueryError, match="horizon"):
        engine.forecast("revenue", grain="month", horizon=0)


def test_trends_report_slope_and_significance(engine):
    report = engine.trend("order_count", grain="month", window=24, by=["orders.channel"])
    assert report["grain"] == "month"
    for group in report["groups"]:
        assert group["observed"] == 24
        assert 0.0 <= group["p_value"] <= 1.0
        assert group["significant"] == (group["p_value"] < 0.05)
        # The slope is numpy's least-squares line through the same values.
    rows = engine.calculate("order_count", grain="month", by=["orders.channel"]).to_pandas()
    channel = report["groups"][0]["dimensions"][0]
    values = rows[rows["orders.channel"] == channel].sort_values("period")["value"].values[-24:]
    assert report["groups"][0]["slope"] == pytest.approx(np.polyfit(np.arange(24), values, 1)[0])
    with pytest.raises(ke.QueryError, match="window"):
        engine.trend("order_count", grain="month", window=1)


def test_forecast_rows_cross_the_arrow_stream(engine):
    forecast = engine.forecast("revenue", grain="quarter", horizon=2)
    assert pa.table(forecast).num_rows == 2
    assert len(forecast) == 2
    assert "Forecast" in repr(forecast)


def test_compare_against_last_year_and_the_previous_period(engine):
    current = ("2024-04-01", "2024-07-01")
    year = engine.compare("revenue", current=current, previous="last_year", by=["orders.region"])
    assert year["previous"]["start"] == "2023-04-01T00:00:00Z" and year["previous"]["end"] == "2023-07-01T00:00:00Z"
    before = engine.compare("revenue", current=current)
    assert before["previous"]["start"] == "2024-01-01T00:00:00Z"
    for row in year["rows"]:
        assert row["trend"]["change"] == pytest.approx(row["current"] - row["previous"])
        assert row["trend"]["improving"] in (True, False, None)
    with pytest.raises(ke.QueryError, match="not a baseline"):
        engine.compare("revenue", current=current, previous="last_week")
