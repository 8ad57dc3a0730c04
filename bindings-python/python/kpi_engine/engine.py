"""The engine: register Arrow data, calculate KPIs and formulas, explain and export them."""

from __future__ import annotations

import datetime as _dt
import json
from dataclasses import dataclass
import threading
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Iterator, Optional, Sequence, Union

from . import _native
from .catalog import Catalog

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow

When = Union[str, _dt.date, _dt.datetime]


@dataclass(frozen=True)
class AppendReport:
    """What an append took in: its rows, how many were late (older than the latest event
    time seen before), and how many of those were beyond the allowed lateness. Every row is
    kept and calculated."""

    rows: int
    late_rows: int
    beyond_lateness: int


class Result:
    """A calculated result: one row per period and dimension group (``period``, the
    dimensions, ``value``). Implements ``__arrow_c_stream__``."""

    def __init__(self, native: _native.CalcResult) -> None:
        self._native = native
        self._table = native.table()

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The rows as an Arrow C stream (the Arrow PyCapsule protocol)."""
        return self._table.__arrow_c_stream__(requested_schema)

    def to_pyarrow(self) -> "pyarrow.Table":
        """The rows as a pyarrow Table (no copy)."""
        import pyarrow

        return pyarrow.table(self._table)

    def to_polars(self) -> "polars.DataFrame":
        """The rows as a polars DataFrame."""
        import polars

        return polars.from_arrow(self.to_pyarrow())

    def to_pandas(self) -> "pandas.DataFrame":
        """The rows as a pandas DataFrame."""
        return self.to_pyarrow().to_pandas()

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain Python: rows, summaries (latest value, status, trend) and timing."""
        return json.loads(self._native.to_json())

    @property
    def column_names(self) -> list[str]:
        """The column names: ``period``, the dimensions as written, ``value``."""
        return self._table.column_names

    def __len__(self) -> int:
        return self._table.num_rows

    def __repr__(self) -> str:
        return f"<Result: {len(self)} rows, columns {self.column_names}>"


class Dashboard:
    """The outcome of :meth:`Engine.dashboard`: per KPI its result or its error."""

    def __init__(self, kpis: list[str], document: dict[str, Any], results: list[Optional[Result]]) -> None:
        self.kpis = kpis
        self._document = document
        self.results: dict[str, Result] = {k: r for k, r in zip(kpis, results) if r is not None}
        self.errors: dict[str, dict[str, str]] = {
            k: item["error"] for k, item in zip(kpis, document["items"]) if not item["ok"]
        }

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain Python: per KPI the result with summaries, or the error's code
        and message; each item's and the whole dashboard's elapsed milliseconds."""
        return self._document

    def __repr__(self) -> str:
        return f"<Dashboard: {len(self.results)} results, {len(self.errors)} errors>"


class Subscription:
    """Updates of a subscribed KPI. Each update is a dict: ``kpi``, ``period``,
    ``dimensions``, ``value``, ``previous_value``, ``status``, ``revision``, ``computed_at``,
    ``kind`` (``snapshot``, ``change`` or ``correction``) and ``lagged`` (newer values replaced
    some this reader had not read yet). A slow reader never holds up the engine."""

    def __init__(self, native: _native.Subscription, callback: Optional[Callable[[dict[str, Any]], None]] = None) -> None:
        self._native = native
        self._pending: list[dict[str, Any]] = []
        self._closed = False
        self._thread: Optional[threading.Thread] = None
        if callback is not None:
            self._thread = threading.Thread(target=self._deliver, args=(callback,), daemon=True)
            self._thread.start()

    def next(self, timeout: Optional[float] = None) -> Optional[dict[str, Any]]:
        """The next update, waiting at most ``timeout`` seconds (``None``: until one comes);
        ``None`` when the time passed or the subscription is closed. A failed refresh raises
        :class:`KpiError` (the values before it stay)."""
        while not self._pending:
            if self._closed:
                return None
            text = self._native.next_json(timeout)
            if text is None:
                return None
            batch = json.loads(text)
            if batch.get("error"):
                raise _native.CalculationError(batch["error"])
            self._pending = [dict(u, lagged=batch["lagged"]) for u in batch["updates"]]
        return self._pending.pop(0)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            update = self.next()
            if update is None:
                return
            yield update

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self._async_updates()

    async def _async_updates(self) -> AsyncIterator[dict[str, Any]]:
        import asyncio

        while True:
            update = await asyncio.to_thread(self.next, 0.5)
            if update is not None:
                yield update
            elif self._closed:
                return

    def _deliver(self, callback: Callable[[dict[str, Any]], None]) -> None:
        while not self._closed:
            update = self.next(0.5)
            if update is not None:
                callback(update)

    def close(self) -> None:
        """Unsubscribes; iteration ends."""
        self._closed = True
        self._native.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class Engine:
    """Calculates the KPIs of a catalog over registered Arrow data.

    Calculations run in Rust with the GIL released.
    """

    def __init__(
        self,
        catalog: Catalog,
        timezone: str = "UTC",
        timeout: Optional[float] = None,
        memory_limit: Optional[int] = None,
    ) -> None:
        """An engine over ``catalog``: periods follow ``timezone`` (IANA name); ``timeout``
        (seconds) and ``memory_limit`` (bytes) bound each calculation, which otherwise fails
        with :class:`CalculationError`."""
        if not isinstance(catalog, Catalog):
            raise TypeError(f"expected a kpi_engine.Catalog, got {type(catalog).__name__}")
        self.catalog = catalog
        self._native = _native.Engine(catalog._native, timezone, timeout, memory_limit)

    def register(self, object_model: str, data: Any) -> None:
        """Registers ``data`` as the rows of ``object_model``, replacing any before.

        ``data``: a pyarrow Table or RecordBatchReader, a polars or pandas DataFrame, a list of
        dicts, or any object with ``__arrow_c_stream__``. Columns are matched by name and cast
        to the object model's types where compatible; extra columns are ignored.
        """
        self._native.register(object_model, _arrow(data))

    def append(self, object_model: str, data: Any) -> AppendReport:
        """Appends rows to ``object_model`` (as :meth:`register` takes them); subscriptions and
        later calculations see them."""
        rows, late, beyond = self._native.append(object_model, _arrow(data))
        return AppendReport(rows, late, beyond)

    def calculate(
        self,
        kpi: str,
        grain: Optional[str] = None,
        by: Optional[Sequence[str]] = None,
        start: Optional[When] = None,
        end: Optional[When] = None,
        where: Optional[str] = None,
    ) -> Result:
        """Calculates the catalog's KPI ``kpi``.

        ``grain``: minute, hour, day, week, month, quarter or year; ``by``: dimensions such as
        ``orders.region`` or ``orders.customer.segment``; ``start``/``end``: the time range
        (both or neither; by default the data's bounds); ``where``: a filter in the formula
        language, e.g. ``"orders.channel = 'web'"``.
        """
        return Result(self._native.calculate(kpi, *_args(grain, by, start, end, where)))

    def calculate_formula(
        self,
        formula: str,
        grain: Optional[str] = None,
        by: Optional[Sequence[str]] = None,
        start: Optional[When] = None,
        end: Optional[When] = None,
        where: Optional[str] = None,
    ) -> Result:
        """Calculates an ad-hoc formula, e.g. ``"sum(orders.order_value) / count(orders)"``."""
        return Result(self._native.calculate_formula(formula, *_args(grain, by, start, end, where)))

    def explain(
        self,
        kpi: str,
        grain: Optional[str] = None,
        by: Optional[Sequence[str]] = None,
        start: Optional[When] = None,
        end: Optional[When] = None,
        where: Optional[str] = None,
    ) -> dict[str, str]:
        """The logical, optimized and physical plans of a KPI's calculation."""
        logical, optimized, physical = self._native.explain(kpi, *_args(grain, by, start, end, where))
        return {"logical": logical, "optimized": optimized, "physical": physical}

    def to_sql(
        self,
        kpi: str,
        dialect: str = "postgres",
        grain: Optional[str] = None,
        by: Optional[Sequence[str]] = None,
        start: Optional[When] = None,
        end: Optional[When] = None,
        where: Optional[str] = None,
    ) -> str:
        """A KPI's calculation as SQL for another database (postgres, mysql, sqlite, bigquery,
        timescale, ...)."""
        return self._native.to_sql(kpi, dialect, *_args(grain, by, start, end, where))

    def dashboard(
        self,
        kpis: Sequence[str],
        grain: Optional[str] = None,
        by: Optional[Sequence[str]] = None,
        start: Optional[When] = None,
        end: Optional[When] = None,
        where: Optional[str] = None,
    ) -> "Dashboard":
        """Calculates several KPIs concurrently with the same settings; a failing KPI does not
        stop the others."""
        text, results = self._native.dashboard(list(kpis), *_args(grain, by, start, end, where))
        return Dashboard(list(kpis), json.loads(text), [Result(r) if r is not None else None for r in results])

    def subscribe(
        self,
        kpi: str,
        grain: Optional[str] = None,
        by: Optional[Sequence[str]] = None,
        start: Optional[When] = None,
        end: Optional[When] = None,
        where: Optional[str] = None,
        refresh: Union[str, float] = "change",
        callback: Optional[Callable[[dict[str, Any]], None]] = None,
    ) -> "Subscription":
        """Subscribes to a KPI's values: a snapshot of every period and group first, then the
        ones that change, as appends arrive (``refresh="change"``), or each ``"minute"``,
        ``"hour"``, ``"day"`` or number of seconds.

        Iterate the subscription (``for update in sub`` or ``async for update in sub``), or
        pass ``callback``, called from a background thread with each update.
        """
        native = self._native.subscribe(kpi, refresh, *_args(grain, by, start, end, where))
        return Subscription(native, callback)

    def metrics(self) -> dict[str, int]:
        """The engine's counters since it was created: ``calculations``, ``errors``,
        ``cache_hits``, ``cache_misses``, ``cache_patches`` (misses answered by recalculating
        only the periods appends touched in a cached result), ``shared`` (calculations that
        took the result of an identical one in flight), ``queued``, ``rows_ingested``,
        ``late_rows``, ...

        >>> from kpi_engine import Catalog, Engine
        >>> Engine(Catalog.standard()).metrics()["calculations"]
        0
        """
        return dict(self._native.metrics())

    def registered(self) -> list[dict[str, Any]]:
        """The object models with data: name, data version, rows in memory, whether all in memory."""
        return [
            {"object_model": name, "version": version, "memory_rows": rows, "in_memory": in_memory}
            for name, version, rows, in_memory in self._native.registered()
        ]


def _arrow(data: Any) -> Any:
    """``data`` as something with ``__arrow_c_stream__``."""
    if type(data).__module__.startswith("polars") and hasattr(data, "to_arrow"):
        # Polars exports all-null (Null dtype) columns in a form Arrow's Rust reader refuses;
        # through pyarrow they arrive as plain null arrays.
        if any(str(dtype) == "Null" for dtype in getattr(data, "dtypes", [])):
            return data.to_arrow()
    if hasattr(data, "__arrow_c_stream__"):
        return data
    if isinstance(data, list):
        import pyarrow

        return pyarrow.Table.from_pylist(data)
    if type(data).__module__.startswith("pandas"):
        import pyarrow

        return pyarrow.Table.from_pandas(data, preserve_index=False)
    return data


def _args(grain: Optional[str], by: Optional[Sequence[str]], start: Optional[When], end: Optional[When], where: Optional[str]) -> tuple:
    """A query's settings as the native module takes them."""
    return grain, list(by or []), _text(start), _text(end), where


def _text(value: Optional[When]) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()
