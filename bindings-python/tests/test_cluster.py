"""Calculations on a Ballista cluster (conftest.py starts kpi-scheduler and two kpi-executors)
through the installed package: the numbers equal local ones, and what cannot run there says so."""

import socket
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import kpi_engine as ke


@pytest.fixture(scope="module")
def parquet(tmp_path_factory):
    """Demo data as one Parquet file per object model."""
    where = tmp_path_factory.mktemp("cluster-data")
    for name, table in ke.demo.generate(ke.Catalog.standard(), rows=3_000, seed=3, start="2024-01-01", end="2025-01-01").items():
        pq.write_table(pa.table(table), where / f"{name}.parquet")
    return where


def engine(parquet, **settings):
    e = ke.Engine(ke.Catalog.standard(), **settings)
    for path in sorted(parquet.glob("*.parquet")):
        e.register_parquet(path.stem, path)
    return e


def test_kpis_and_dashboards_on_the_cluster_equal_local_ones(cluster, parquet):
    local = engine(parquet)
    remote = engine(parquet, cluster=cluster)
    assert remote.cluster == cluster and local.cluster is None
    assert remote.check_cluster()["url"] == cluster
    for kpi, by in (("revenue", ["orders.region"]), ("average_order_value", []), ("resolution_time_p90", [])):
        a = local.calculate(kpi, grain="month", by=by).to_dict()["rows"]
        b = remote.calculate(kpi, grain="month", by=by).to_dict()["rows"]
        assert [{k: v for k, v in r.items() if k != "value"} for r in a] == [{k: v for k, v in r.items() if k != "value"} for r in b]
        assert [r["value"] for r in b] == pytest.approx([r["value"] for r in a])
    board = remote.dashboard(["revenue", "order_count"], grain="week", by=["orders.channel"])
    assert board.errors == {} and len(board.results) == 2
    assert remote.metrics()["cluster_jobs"] >= 4


def test_unreachable_schedulers_and_local_tables_raise_typed_errors(cluster, parquet):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    started = time.monotonic()
    with pytest.raises(ke.DataError) as unreachable:
        ke.Engine(ke.Catalog.standard(), cluster=f"df://127.0.0.1:{port}", cluster_connect_timeout="2s")
    assert unreachable.value.code == "KPI_CLUSTER" and f"127.0.0.1:{port}" in str(unreachable.value)
    assert time.monotonic() - started < 5
    with pytest.raises(ke.QueryError) as bad:
        ke.Engine(ke.Catalog.standard(), cluster="http://127.0.0.1:50050")
    assert bad.value.code == "KPI_OPTION"

    remote = ke.Engine(ke.Catalog.standard(), cluster=cluster)
    remote.register("orders", ke.demo.generate(ke.Catalog.standard(), rows=200, seed=1)["orders"])
    with pytest.raises(ke.QueryError) as local_only:
        remote.calculate("revenue", grain="month")
    assert local_only.value.code == "KPI_LOCAL_ONLY" and "`orders`" in str(local_only.value)
