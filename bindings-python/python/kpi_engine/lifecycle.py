"""Data lifecycle of an :class:`~kpi_engine.Engine`: durable appends, retention, archives and
KPI history.

Open an engine with ``data_dir=`` to make it durable: every registration and append is written
to a write-ahead log there before it returns, and ``Engine(catalog, data_dir=same_path)``
restores the tables after a restart. A retention policy (``retention_policy=`` or
:meth:`Lifecycle.set_retention_policy`, the ``retention`` section of a client configuration)
moves rows past their active period to zstd Parquet archives (``archive_location=``, by default
``archive/`` in the data directory), and calculations read archived and active rows together.
Every rule lives in the Rust engine (``KPI_RETENTION``, ``KPI_STORAGE`` and ``KPI_ARCHIVE``
errors), the same from Python, Node and the ``kpi`` command line.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, Optional, Union

__all__ = ["Lifecycle"]


class Lifecycle:
    """The lifecycle methods of :class:`~kpi_engine.Engine`."""

    _native: Any

    def set_retention_policy(self, policy: Union[Mapping[str, Any], str]) -> None:
        """Enforces ``policy`` (a dict or YAML/JSON text shaped as a client configuration's
        ``retention``: ``staged_source_data`` and ``analytics_data`` rules with
        ``retention_period``, ``retention_unit``, ``archival_enabled``, ``archival_period``,
        ``archival_unit``; ``granularity``; ``compliance`` such as ``["sox"]``). A policy that
        breaks a regulation it names, or archives with no archive location, raises
        :class:`~kpi_engine.QueryError` naming the rule. The engine applies it every hour."""
        text = policy if isinstance(policy, str) else json.dumps(policy)
        self._native.set_retention_policy(text)

    def retention_policy(self) -> Optional[dict[str, Any]]:
        """The policy enforced, or ``None``."""
        return json.loads(self._native.retention_policy())

    def retention_plan(self) -> dict[str, Any]:
        """What :meth:`apply_retention` would do now: ``policy``, ``before`` (rows older leave
        active data), ``releases`` (per object model: ``action``, ``rows``, ``periods``,
        ``bytes``) and ``expiring_files``."""
        return json.loads(self._native.retention_plan())

    def apply_retention(self) -> dict[str, Any]:
        """Applies the policy now: archives (or deletes) rows past their active period and
        removes archives past theirs. Rows are released only once their archive is durable.
        Returns per object model the rows archived and deleted and the files written."""
        return json.loads(self._native.apply_retention())

    def archive_index(self) -> dict[str, Any]:
        """The archive's index: ``entries`` (file, period, rows, bytes, sha256, client, policy,
        expiry) and ``runs``."""
        return json.loads(self._native.archive_index())

    def verify_archive(self) -> None:
        """Checks every archive file against its checksum; a corrupt or missing one raises
        :class:`~kpi_engine.DataError` with its path and periods."""
        self._native.verify_archive()

    def checkpoint(self) -> None:
        """Writes every table to the data directory as Parquet and trims the write-ahead log
        (reopening then reads Parquet instead of replaying appends)."""
        self._native.checkpoint()

    def close(self) -> None:
        """Writes a checkpoint and lets go of the data directory, so another engine can open
        it; calculations go on, changing data raises :class:`~kpi_engine.DataError`. Engines
        are context managers: ``with Engine(cat, data_dir=path) as engine: ...`` closes."""
        self._native.close()

    def __enter__(self) -> "Lifecycle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def data_dir(self) -> Optional[str]:
        """The data directory, or ``None`` for an engine in memory only."""
        return self._native.data_dir()

    def storage(self) -> dict[str, Any]:
        """Rows and bytes hot (active) and cold (archived) per object model, with what the
        policy's storage estimate expects hot at the current rate, and the log's size."""
        return json.loads(self._native.storage())

    def record_history(self, result: Any) -> int:
        """Records the values of a :class:`~kpi_engine.Result` as KPI history (new or changed
        values only, as their next revision); the rows recorded. With ``history=True``, jobs
        and subscriptions record what they calculate."""
        return self._native.record_history(result._native)

    def history(
        self,
        kpi: str,
        grain: Optional[str] = None,
        start: Any = None,
        end: Any = None,
        all_revisions: bool = False,
    ) -> list[dict[str, Any]]:
        """Recorded values of ``kpi`` (archived ones included): one dict per period and group
        with ``period``, ``dimensions``, ``value``, ``revision`` and ``computed_at``; every
        revision with ``all_revisions=True``."""
        from .engine import _document

        return json.loads(self._native.history(_document(kpi=kpi, grain=grain, start=start, end=end, all_revisions=all_revisions or None)))
