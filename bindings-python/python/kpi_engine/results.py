"""What calculations give back: results and forecasts as Arrow rows, dashboards, and the
live objects (subscriptions, feeds)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Iterator, Optional

from . import _native
from .catalog import Catalog

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow


@dataclass(frozen=True)
class AppendReport:
    """What an append took in: its rows, how many were late (older than the latest event
    time seen before), how many of those were beyond the allowed lateness, and how many were
    stamped in the future. Every row is kept and calculated."""

    rows: int
    late_rows: int
    beyond_lateness: int
    #: Rows stamped further ahead of the clock than the allowed skew: kept, but they do not
    #: move the watermark.
    future_rows: int = 0


class _Rows:
    """Arrow rows: the Arrow PyCapsule stream and conversions to pyarrow, polars and pandas."""

    _table: Any

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        """The rows as an Arrow C stream (the Arrow PyCapsule protocol)."""
        return self._table.__arrow_c_stream__(requested_schema)

    def to_pyarrow(self) -> "pyarrow.Table":
        """The rows as a pyarrow Table (no copy)."""
        import pyarrow

        return pyarrow.table(self._table)

    def to_polars(self) -> "polars.DataFrame":
        """The rows as a polars DataFrame (through the Arrow C stream; pyarrow not needed)."""
        import polars

        return polars.DataFrame(self._table)

    def to_pandas(self) -> "pandas.DataFrame":
        """The rows as a pandas DataFrame."""
        return self.to_pyarrow().to_pandas()

    @property
    def column_names(self) -> list[str]:
        """The column names."""
        return self._table.column_names

    def __len__(self) -> int:
        return self._table.num_rows


class Result(_Rows):
    """A calculated result: one row per period and dimension group (``period``, the
    dimensions, ``value``). Implements ``__arrow_c_stream__``."""

    def __init__(self, native: _native.CalcResult, catalog: Optional[Catalog] = None) -> None:
        self._native = native
        self._table = native.table()
        self._catalog = catalog
        self._document: Optional[dict[str, Any]] = None

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain Python: rows, summaries (latest value, status, trend) and timing."""
        if self._document is None:
            self._document = json.loads(self._native.to_json())
        return self._document

    @property
    def summaries(self) -> list[dict[str, Any]]:
        """Per dimension group: ``dimensions`` and ``summary`` (the latest ``value``,
        ``previous``, ``status`` by the KPI's thresholds, and ``trend``)."""
        return self.to_dict()["summaries"]

    def _repr_html_(self) -> str:
        """A compact table for notebooks: the latest value per group with its status colour
        and trend, and the rows."""
        from .notebook import result_html

        return result_html(self.to_dict())

    def plot(self, ax: Any = None) -> Any:
        """Plots the result with matplotlib: periods on x, a line per dimension group, the
        KPI's warning and critical thresholds as bands; returns the Axes."""
        from .notebook import plot

        doc = self.to_dict()
        thresholds, direction = None, None
        if self._catalog is not None and doc.get("kpi"):
            kpi = self._catalog.kpi(doc["kpi"])
            thresholds, direction = kpi.get("thresholds"), kpi.get("direction")
        return plot(doc, thresholds, direction, ax)

    @property
    def cache_outcome(self) -> str:
        """How the result came about: ``full`` (calculated), ``hit`` (cached over the same
        data), ``shared`` (an identical calculation in flight), ``patched`` (a cached result
        brought up to date after appends) or ``maintained`` (read from partial states that
        appends keep up to date, for a query asked again as data arrives)."""
        return self.to_dict()["cache"]

    def __repr__(self) -> str:
        return f"<Result: {len(self)} rows, columns {self.column_names}>"


class Forecast(_Rows):
    """A KPI's forecast: one row per dimension group and forecast period (``period``, the
    dimensions, ``value``, ``lower``, ``upper``), plus each group's model, its fitted values
    and its history in :meth:`to_dict`. Implements ``__arrow_c_stream__``."""

    def __init__(self, native: _native.ForecastResult) -> None:
        self._native = native
        self._table = native.table()
        self._document: Optional[dict[str, Any]] = None

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain Python: per group the ``model`` (``ETS(A,Ad,A)``, ``seasonal
        naive``, ...), its ``parameters``, ``aicc`` and ``sigma``, the ``history`` with fitted
        values, the ``forecast`` rows; and the groups ``skipped`` with the reason."""
        if self._document is None:
            self._document = json.loads(self._native.to_json())
        return self._document

    @property
    def models(self) -> list[dict[str, Any]]:
        """Per dimension group: its ``dimensions`` and the ``model`` chosen."""
        return [{"dimensions": g["dimensions"], "model": g["model"]} for g in self.to_dict()["groups"]]

    def __repr__(self) -> str:
        return f"<Forecast: {len(self)} rows, models {sorted({m['model'] for m in self.models})}>"


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

    def _repr_html_(self) -> str:
        """One line per KPI for notebooks: latest value with status colour and trend, or its error."""
        from .notebook import dashboard_html

        return dashboard_html(self.results, self.errors)


class Feed:
    """A live feed from a PostgreSQL table (:meth:`Engine.follow_postgres`); a context manager
    that stops it on exit."""

    def __init__(self, native: _native.Feed) -> None:
        self._native = native

    def status(self) -> Optional[dict[str, Any]]:
        """``polls``, ``rows_appended``, ``errors``, ``last_error``, ``last_poll`` and
        ``position``; ``None`` once stopped."""
        text = self._native.status_json()
        return None if text is None else json.loads(text)

    def stop(self) -> None:
        """Stops the feed, waiting for a poll in progress; nothing is appended after."""
        self._native.stop()

    def __enter__(self) -> "Feed":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        status = self.status()
        return "<Feed: stopped>" if status is None else f"<Feed: {status['rows_appended']} rows in {status['polls']} polls>"


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
                raise _native.error_from_json(json.dumps(batch["error"]))
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
