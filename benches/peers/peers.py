"""The engine side by side with DuckDB, Polars and hand-written DataFusion SQL, in one process on
the same Arrow data (run by benches/peers/run.sh, which builds the release package first).

(a) one KPI (revenue) over the orders by month x region;
(b) a 100-KPI dashboard over demo data for every object model (DuckDB runs each KPI's SQL as
    the engine exports it for DuckDB: the same question, not a hand-tuned one);
(c) one KPI over 1,000 orders: a repeated shape, the first time in a fresh engine, a cache hit;
(d) the dashboard again after appending 1,000 orders (cache on: hits, patches, shared scans).

Prints a Markdown table of medians and ratios and writes it to --out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from typing import Any, Callable

import duckdb
import polars as pl
import pyarrow as pa

import kpi_engine as ke

START, END = "2024-01-01", "2025-01-01"
REVENUE_SQL = (
    "SELECT date_trunc('month', ordered_at) AS period, region, "
    "CAST(sum(order_value) FILTER (WHERE status != 'cancelled') AS DOUBLE) AS value "
    "FROM orders WHERE ordered_at >= TIMESTAMP '2024-01-01' AND ordered_at < TIMESTAMP '2025-01-01' "
    "GROUP BY 1, 2 ORDER BY 1, 2"
)


def median_ms(run: Callable[[], Any], repeat: int, warmup: int = 1) -> float:
    """The median wall time of ``run`` in milliseconds over ``repeat`` runs after ``warmup``."""
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class PeakRss:
    """The highest resident set size while the block runs: the kernel's high-water mark
    (`VmHWM`), reset on entry through `/proc/self/clear_refs` so that the data generation
    before does not count. (A sampling thread would not run while a call holds the GIL.)"""

    def __enter__(self) -> "PeakRss":
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return self

    def __exit__(self, *_: Any) -> None:
        with open("/proc/self/status") as f:
            hwm = next(line for line in f if line.startswith("VmHWM:"))
        self.peak = int(hwm.split()[1]) / 1024


def polars_revenue(orders: pl.LazyFrame) -> pl.DataFrame:
    start, end = dt.datetime(2024, 1, 1), dt.datetime(2025, 1, 1)
    return (
        orders.filter((pl.col("ordered_at") >= start) & (pl.col("ordered_at") < end))
        .group_by(pl.col("ordered_at").dt.truncate("1mo").alias("period"), "region")
        .agg(pl.col("order_value").filter(pl.col("status") != "cancelled").sum().cast(pl.Float64).alias("value"))
        .sort("period", "region")
        .collect()
    )


def dashboard_queries(catalog: ke.Catalog) -> list[dict[str, Any]]:
    """Every standard KPI at its default grain, then by its first dimensions, up to 100 (the
    Rust bench's dashboard)."""
    kpis = catalog.kpis()
    queries: list[dict[str, Any]] = []
    for by in range(3):
        for k in kpis:
            dims = k.get("dimensions") or []
            if len(queries) < 100 and (by == 0 or len(dims) >= by):
                queries.append({"kpi": k["code"], "grain": k.get("default_grain") or "month", "by": dims[:by]})
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=10_000_000, help="orders in the demo data (default 10M)")
    parser.add_argument("--repeat", type=int, default=5, help="measured runs per case (median)")
    parser.add_argument("--duckdb-repeat", type=int, default=1, help="runs of DuckDB's 100 queries in (b), slow at 10M")
    parser.add_argument("--out", default="benches/peers/RESULTS.md", help="where the Markdown table goes")
    args = parser.parse_args()
    rows: list[tuple[str, str, float, str]] = []
    catalog = ke.Catalog.standard()

    def record(case: str, who: str, ms: float, note: str = "") -> None:
        rows.append((case, who, ms, note))
        print(f"{case:<48} {who:<34} {ms:>10.2f} ms {note}", flush=True)

    # ---- the data, once, as Arrow ----------------------------------------------------------
    t = time.perf_counter()
    data = {name: pa.table(table) for name, table in ke.demo.generate(catalog, rows=args.orders, seed=1, start=START, end=END).items()}
    data_bytes = sum(t.nbytes for t in data.values())
    data_rows = sum(t.num_rows for t in data.values())
    print(f"demo data: {data_rows:,} rows in {len(data)} tables, {data_bytes / 2**20:,.0f} MiB of Arrow, "
          f"{time.perf_counter() - t:.1f} s", flush=True)
    orders = data["orders"]

    # ---- (a) one KPI over all orders by month x region ------------------------------------
    engine = ke.Engine(catalog, cache=False)
    engine.register("orders", orders)
    case_a = f"(a) revenue, {orders.num_rows:,} orders, month x region"
    a_engine = median_ms(lambda: engine.calculate("revenue", grain="month", by=["orders.region"], start=START, end=END), args.repeat)
    record(case_a, "engine (explicit range)", a_engine)
    record(case_a, "engine (default range)", median_ms(lambda: engine.calculate("revenue", grain="month", by=["orders.region"]), args.repeat))
    con = duckdb.connect()
    con.register("orders", orders)
    a_duck = median_ms(lambda: con.execute(REVENUE_SQL).to_arrow_table(), args.repeat)
    record(case_a, "DuckDB SQL by hand", a_duck)
    lazy = pl.from_arrow(orders).lazy()
    record(case_a, "Polars expressions by hand", median_ms(lambda: polars_revenue(lazy), args.repeat))
    try:
        import datafusion

        ctx = datafusion.SessionContext()
        ctx.register_record_batches("orders", [orders.to_batches()])
        record(case_a, f"DataFusion {datafusion.__version__} SQL by hand", median_ms(lambda: ctx.sql(REVENUE_SQL).collect(), args.repeat))
    except ImportError:
        pass
    ours = engine.calculate("revenue", grain="month", by=["orders.region"], start=START, end=END).to_pyarrow()
    theirs = con.execute(REVENUE_SQL).to_arrow_table()
    total = lambda t: sum(v for v in t.column("value").to_pylist() if v is not None)  # noqa: E731
    assert abs(total(ours) - total(theirs)) <= 1e-6 * abs(total(theirs)), (total(ours), total(theirs))
    del engine, lazy

    # ---- (b) the 100-KPI dashboard --------------------------------------------------------
    queries = dashboard_queries(catalog)
    case_b = f"(b) {len(queries)} KPIs, {orders.num_rows:,} orders ({data_rows / 1e6:.1f}M rows)"
    engine = ke.Engine(catalog, cache=False)
    for name, table in data.items():
        engine.register(name, table)
    before = rss_mb()
    with PeakRss() as peak:
        t = time.perf_counter()
        first = engine.dashboard(queries, start=START, end=END)
        elapsed = (time.perf_counter() - t) * 1e3
    record(case_b, "engine: first after registration", elapsed,
           f"{len(first.errors)} errors; process peak RSS {peak.peak:,.0f} MiB (registered: {before:,.0f} MiB) "
           f"for {data_bytes / 2**20:,.0f} MiB of Arrow data")
    shared_before = engine.metrics()["shared_scans"]
    b_engine = median_ms(lambda: engine.dashboard(queries, start=START, end=END), args.repeat, warmup=0)
    shared = (engine.metrics()["shared_scans"] - shared_before) / args.repeat
    record(case_b, "engine: again (no cache)", b_engine, f"{shared:.0f} of {len(queries)} KPIs in shared plans")
    del engine
    con_b = duckdb.connect()
    for name, table in data.items():
        con_b.register(name, table)
    sqls, refused = [], 0
    exporter = ke.Engine(catalog)
    for q in queries:
        try:
            sqls.append(exporter.to_sql(q["kpi"], dialect="duckdb", grain=q["grain"], by=q["by"], start=START, end=END))
        except ke.KpiError:
            refused += 1
    failed = 0

    def run_duckdb() -> None:
        nonlocal failed
        failed = 0
        for sql in sqls:
            try:
                con_b.execute(sql).to_arrow_table()
            except duckdb.Error:
                failed += 1

    b_duck = median_ms(run_duckdb, args.duckdb_repeat, warmup=0)
    record(case_b, "DuckDB: each KPI's exported SQL", b_duck, f"{len(sqls) - failed} of {len(queries)} ran ({refused} not exportable)")
    del con_b

    # ---- (c) one KPI over 1,000 orders ------------------------------------------------------
    small = {k: pa.table(v) for k, v in ke.demo.generate(catalog, rows=1_000, seed=2, start=START, end=END).items()}
    case_c = "(c) revenue, 1,000 orders, month x region"

    def fresh_engine(cache: bool) -> ke.Engine:
        e = ke.Engine(catalog) if cache else ke.Engine(catalog, cache=False)
        e.register("orders", small["orders"])
        return e

    repeated = fresh_engine(False)
    c_repeat = median_ms(lambda: repeated.calculate("revenue", grain="month", by=["orders.region"]), max(args.repeat, 50), warmup=3)
    record(case_c, "engine: repeated shape", c_repeat)
    engines = [fresh_engine(False) for _ in range(max(args.repeat, 20))]
    firsts = []
    for e in engines:
        t = time.perf_counter()
        e.calculate("revenue", grain="month", by=["orders.region"])
        firsts.append((time.perf_counter() - t) * 1e3)
    record(case_c, "engine: first time, fresh engine", statistics.median(firsts))
    cached = fresh_engine(True)
    c_hit = median_ms(lambda: cached.calculate("revenue", grain="month", by=["orders.region"]), max(args.repeat, 200), warmup=3)
    record(case_c, "engine: cache hit (through Python)", c_hit)
    con_c = duckdb.connect()
    con_c.register("orders", small["orders"])
    small_sql = REVENUE_SQL.replace("WHERE ordered_at >= TIMESTAMP '2024-01-01' AND ordered_at < TIMESTAMP '2025-01-01' ", "")
    record(case_c, "DuckDB SQL by hand", median_ms(lambda: con_c.execute(small_sql).to_arrow_table(), max(args.repeat, 50), warmup=3))
    small_lazy = pl.from_arrow(small["orders"]).lazy()
    record(case_c, "Polars expressions by hand", median_ms(lambda: polars_revenue(small_lazy), max(args.repeat, 50), warmup=3))

    # ---- (d) the dashboard after appending 1,000 orders -------------------------------------
    # The first append patches what it can; asked again after the next one, the queries that
    # partial states can follow are answered from them (built then), and from the third append
    # on the dashboard runs in its steady state, which the median reports.
    case_d = f"(d) {len(queries)} KPIs after appending 1,000 orders"
    engine = ke.Engine(catalog)
    for name, table in data.items():
        engine.register(name, table)
    engine.dashboard(queries, start=START, end=END)
    times, counts = [], []
    for i in range(args.repeat + 2):
        batch = pa.table(ke.demo.generate(catalog, rows=1_000, seed=100 + i, start="2024-12-30", end="2024-12-31")["orders"])
        engine.append("orders", batch)
        before = engine.metrics()
        t = time.perf_counter()
        engine.dashboard(queries, start=START, end=END)
        times.append((time.perf_counter() - t) * 1e3)
        counts.append({k: v - before[k] for k, v in engine.metrics().items()})

    def paths(m: dict[str, int]) -> str:
        return (f"{m['cache_hits']} hits, {m['cache_patches']} patched, {m['maintained_answers']} from maintained states, "
                f"{m['shared_scans']} in shared plans, {m['calculations'] - m['cache_hits'] - m['cache_patches'] - m['maintained_answers'] - m['shared_scans']} alone")

    record(case_d, "engine: first append (cache on)", times[0], paths(counts[0]))
    record(case_d, "engine: second append", times[1], paths(counts[1]) + " (states built)")
    d_steady = statistics.median(times[2:])
    record(case_d, "engine: later appends (steady)", d_steady, paths(counts[-1]))
    del engine

    # ---- the table ---------------------------------------------------------------------------
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"
    peers = f"duckdb {duckdb.__version__}, polars {pl.__version__}, pyarrow {pa.__version__}"
    lines = [
        f"Measured {dt.date.today().isoformat()} on {machine}; {peers}; medians of {args.repeat}+ runs",
        "(`benches/peers/run.sh --orders {0}`).".format(args.orders),
        "",
        "| case | who | median ms | note |",
        "|---|---|---:|---|",
    ]
    # Sub-millisecond figures (cache hits) keep three decimals.
    lines += [f"| {case} | {who} | {ms:,.3f} | {note} |" if ms < 1 else f"| {case} | {who} | {ms:,.2f} | {note} |" for case, who, ms, note in rows]
    lines += [
        "",
        f"Ratios: (a) engine / DuckDB {a_engine / a_duck:.2f}x; (b) engine / DuckDB {b_engine / b_duck:.2f}x; "
        f"(c) repeated shape {c_repeat:.2f} ms, cache hit {c_hit * 1e3:.0f} µs through Python; (d) steady {d_steady:,.0f} ms.",
    ]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    with open(args.out, "w") as f:
        f.write(text)


if __name__ == "__main__":
    sys.exit(main())
