"""Calculations on an Apache Ballista cluster.

``Engine(catalog, cluster="df://host:50050")`` sends every calculation and dashboard to the
Ballista scheduler there, which runs it on its executors over the data where it lies: register
Parquet or CSV files every executor can read (a shared directory or an object store) with
:meth:`~kpi_engine.Engine.register_parquet`. Results equal local ones. Start the scheduler and
executors this project ships (``kpi-scheduler``, ``kpi-executor``): a stock Ballista does not
know the engine's calendar functions. Tables only this process holds (registered from Arrow or
pandas, appended to) raise :class:`~kpi_engine.QueryError` (``KPI_LOCAL_ONLY``); an unreachable
scheduler raises :class:`~kpi_engine.DataError` (``KPI_CLUSTER``) naming its address within
``cluster_connect_timeout`` (5 seconds by default).
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = ["Cluster"]


class Cluster:
    """The cluster methods of :class:`~kpi_engine.Engine`."""

    _native: Any

    @property
    def cluster(self) -> Optional[str]:
        """The scheduler calculations run on (``df://host:port``), or ``None`` to run here."""
        return self._native.cluster()

    def check_cluster(self) -> dict[str, Any]:
        """Connects to the scheduler within the connect timeout and returns ``{"url": ...,
        "round_trip_ms": ...}``; raises :class:`~kpi_engine.DataError` (``KPI_CLUSTER``) naming
        the address when it cannot be reached. The constructor calls it for an engine with a
        cluster."""
        round_trip = self._native.check_cluster()
        return {"url": self._native.cluster(), "round_trip_ms": round_trip}
