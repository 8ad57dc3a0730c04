"""Data lifecycle through the package: durable appends across engines, a retention policy
archiving to Parquet with calculations reading archive and active rows together, KPI history,
and refused policies."""

import datetime as dt
import math

import pyarrow as pa
import pytest

import kpi_engine as ke

CAT = ke.Catalog.standard()
TODAY = dt.date.today()
# Three months of orders up to yesterday, so a 30-day policy archives most of them today.
DATA = ke.demo.generate(CAT, rows=2_000, seed=4, start=TODAY - dt.timedelta(days=90), end=TODAY - dt.timedelta(days=1))


def policy(days, archive, **extra):
    rule = {"retention_period": days, "archival_enabled": archive, "archival_period": 1}
    return {"staged_source_data": rule, "analytics_data": rule, **extra}


def values(result):
    return [(r["period"], r["value"]) for r in result.to_pyarrow().to_pylist()]


def assert_close(ours, theirs):
    assert [p for p, _ in ours] == [p for p, _ in theirs]
    for (p, a), (_, b) in zip(ours, theirs):
        assert (a is None and b is None) or math.isclose(a, b, rel_tol=1e-9), (p, a, b)


def test_a_policy_archives_and_calculations_read_archive_and_active_rows(tmp_path):
    window = {"grain": "month", "start": TODAY - dt.timedelta(days=120), "end": TODAY + dt.timedelta(days=1)}
    with ke.Engine(CAT, data_dir=tmp_path, retention_policy=policy(30, True)) as engine:
        for name, table in DATA.items():
            engine.register(name, table)
        before = values(engine.calculate("revenue", **window))
        plan = engine.retention_plan()
        orders = next(r for r in plan["releases"] if r["object_model"] == "orders")
        assert orders["action"] == "archive" and orders["rows"] > 0
        report = engine.apply_retention()
        assert next(m for m in report["models"] if m["object_model"] == "orders")["archived_rows"] == orders["rows"]
        assert_close(values(engine.calculate("revenue", **window)), before)
        active = values(engine.calculate("revenue", active_only=True, **window))
        assert active[0][1] is None or active[0][1] < before[0][1]
        index = engine.archive_index()
        assert all((tmp_path / "archive" / e["file"]).exists() and len(e["sha256"]) == 64 for e in index["entries"])
        storage = next(m for m in engine.storage()["models"] if m["object_model"] == "orders")
        assert storage["hot_rows"] + storage["cold_rows"] == 2_000
        assert engine.data_dir == str(tmp_path)
    # Closed by the with block: a new engine opens the directory and has everything back.
    again = ke.Engine(CAT, data_dir=tmp_path)
    assert_close(values(again.calculate("revenue", **window)), before)
    report = again.append("orders", pa.table(DATA["orders"]).slice(0, 1))
    assert report.rows == 1 and report.future_rows == 0
    again.close()
    with pytest.raises(ke.DataError) as e:
        again.append("orders", pa.table(DATA["orders"]).slice(0, 1))
    assert e.value.code == "KPI_STORAGE"


def test_kpi_history_records_revisions():
    engine = ke.Engine(CAT, history=True)
    for name, table in DATA.items():
        engine.register(name, table)
    result = engine.calculate("revenue", grain="month")
    assert engine.record_history(result) > 0
    assert engine.record_history(result) == 0
    rows = engine.history("revenue", grain="month")
    assert rows and all(r["revision"] == 1 and r["kpi"] == "revenue" for r in rows)
    with pytest.raises(ke.QueryError):
        engine.history("revenue", start="2024-01-01")


def test_policies_breaking_a_regulation_are_refused_with_the_rule(tmp_path):
    with pytest.raises(ke.QueryError) as e:
        ke.Engine(CAT, retention_policy=policy(90, False, compliance=["sox"]))
    assert e.value.code == "KPI_RETENTION" and "SOX" in str(e.value)
    engine = ke.Engine(CAT)
    with pytest.raises(ke.QueryError, match="no archive location"):
        engine.set_retention_policy(policy(90, True))
    engine = ke.Engine(CAT, archive_location=tmp_path)
    engine.set_retention_policy(policy(90, True))
    assert engine.retention_policy()["staged_source_data"]["retention_period"] == 90
