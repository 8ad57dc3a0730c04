"""Parquet and CSV where analysts keep them: hive-partitioned directories, globs, and URLs served by
a loopback HTTP server started here (byte ranges, as object stores serve them)."""

import http.server
import os
import threading
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv
import pyarrow.parquet as pq
import pytest

import kpi_engine as ke

QUERY = {"grain": "month", "by": ["orders.region"], "start": "2024-01-01", "end": "2024-07-01"}


@pytest.fixture(scope="module")
def orders():
    data = ke.demo.generate(ke.Catalog.standard(), rows=1_000, seed=3, start="2024-01-01", end="2024-07-01")
    return pa.table(data["orders"])


def expected(orders):
    eng = ke.Engine(ke.Catalog.standard())
    eng.register("orders", orders)
    return eng.calculate("revenue", **QUERY).to_pyarrow()


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with `Range: bytes=a-b` answered 206, which object_store's HTTP store needs."""

    def send_head(self):
        path = self.translate_path(self.path)
        if not os.path.isfile(path):
            self.send_error(404)
            return None
        data = open(path, "rb").read()
        wanted = self.headers.get("Range")
        start, end = 0, len(data)
        if wanted:
            first, last = wanted.removeprefix("bytes=").split("-")
            start, end = (len(data) - int(last), len(data)) if first == "" else (int(first), min(int(last) + 1, len(data)) if last else len(data))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(end - start))
        self.end_headers()
        import io

        return io.BytesIO(data[start:end])

    def log_message(self, *args):
        pass


@pytest.fixture()
def served(tmp_path):
    handler = lambda *a, **k: RangeHandler(*a, directory=str(tmp_path), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield tmp_path, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_hive_partitions_and_globs(orders, tmp_path):
    for region in pc.unique(orders["region"]).to_pylist():
        part = orders.filter(pc.equal(orders["region"], region)).drop_columns(["region"])
        (tmp_path / "hive" / f"region={region}").mkdir(parents=True)
        pq.write_table(part, tmp_path / "hive" / f"region={region}" / "part.parquet")
    half = orders.num_rows // 2
    (tmp_path / "split").mkdir()
    pq.write_table(orders.slice(0, half), tmp_path / "split" / "a.parquet")
    pq.write_table(orders.slice(half), tmp_path / "split" / "b.parquet")
    pyarrow.csv.write_csv(orders, tmp_path / "split" / "all.csv")

    want = expected(orders)
    eng = ke.Engine(ke.Catalog.standard())
    eng.register_parquet("orders", tmp_path / "hive")
    assert eng.calculate("revenue", **QUERY).to_pyarrow().to_pylist() == want.to_pylist()
    eng.register_parquet("orders", str(tmp_path / "split" / "*.parquet"))
    assert eng.calculate("revenue", **QUERY).to_pyarrow().to_pylist() == want.to_pylist()
    eng.register_csv("orders", tmp_path / "split" / "all.csv")
    assert eng.calculate("revenue", **QUERY).to_pyarrow().to_pylist() == want.to_pylist()


def test_parquet_and_csv_over_http(orders, served):
    root, base = served
    pq.write_table(orders, root / "orders.parquet")
    pyarrow.csv.write_csv(orders, root / "orders.csv")
    want = expected(orders)
    eng = ke.Engine(ke.Catalog.standard())
    eng.register_parquet("orders", f"{base}/orders.parquet")
    assert eng.calculate("revenue", **QUERY).to_pyarrow().to_pylist() == want.to_pylist()
    eng.register_csv("orders", f"{base}/orders.csv")
    assert eng.calculate("revenue", **QUERY).to_pyarrow().to_pylist() == want.to_pylist()

    secret = base.replace("http://", "http://reader:hunter2@") + "/missing.parquet"
    with pytest.raises(ke.DataError) as e:
        eng.register_parquet("orders", secret)
    assert e.value.code == "KPI_READ" and "missing.parquet" in str(e.value) and "hunter2" not in str(e.value)


def test_unreachable_and_unsupported_urls_are_read_errors():
    eng = ke.Engine(ke.Catalog.standard())
    started = time.monotonic()
    with pytest.raises(ke.DataError) as e:
        eng.register_parquet("orders", "http://127.0.0.1:9/orders.parquet")
    assert e.value.code == "KPI_READ" and "127.0.0.1:9" in str(e.value)
    assert time.monotonic() - started < 30
    with pytest.raises(ke.DataError, match="unsupported URL scheme"):
        eng.register_csv("orders", "ftp://example.com/orders.csv")
