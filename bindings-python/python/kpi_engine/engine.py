"""The engine: register Arrow data, calculate KPIs and formulas, explain and export them."""

from __future__ import annotations

import datetime as _dt
import json
import os
from typing import Any, Callable, List, Mapping, Optional, Sequence, Union

from . import _native
from .alerting import Alerting
from .cluster import Cluster
from .lifecycle import Lifecycle
from .catalog import Catalog, ClientConfig
from .results import AppendReport, Dashboard, Feed, Forecast, Result, Subscription

__all__ = ["AppendReport", "Dashboard", "Engine", "Feed", "Forecast", "Result", "Subscription", "forecast_series"]

When = Union[str, _dt.date, _dt.datetime]


class Engine(Alerting, Lifecycle, Cluster):
    """Calculates the KPIs of a catalog over registered Arrow data.

    Calculations run in Rust with the GIL released. Every query method takes the same
    keywords, which map field by field onto the engine's query document: ``grain``, ``by``,
    ``start``, ``end``, ``where``, ``security`` (a row filter per object model, e.g.
    ``{"orders": "orders.region = 'north'"}``), ``timezone``, ``week_start``,
    ``fiscal_year_start`` (``"april"``, ``"apr"`` or ``4``: fiscal years and quarters),
    ``retail_calendar`` (``"nrf"``, ``"4-4-5, last saturday of december"``: months, quarters
    and years of whole weeks; ``"none"`` for the civil calendar), ``calendar_table`` (a dict
    ``{"table": ..., "date": ..., "month": ..., "quarter": ..., "year": ...}`` naming a
    registered object model whose columns give each day's periods), ``empty_periods`` (``"include"`` or ``"omit"``), ``timeout`` (seconds or text such as
    ``"500ms"``) and ``bypass_cache``; ``formula=`` instead of a KPI code for an ad-hoc formula.
    A misspelt keyword is a :class:`QueryError` naming the fields there are.

    Alert rules, notifiers and scheduled reports: see :class:`~kpi_engine.alerting.Alerting`.
    Durable appends, retention, archives and KPI history: see
    :class:`~kpi_engine.lifecycle.Lifecycle`.
    """

    def __init__(
        self,
        catalog: Catalog,
        timezone: Optional[str] = None,
        timeout: Optional[Union[float, str]] = None,
        memory_limit: Optional[int] = None,
        *,
        client: Optional["ClientConfig"] = None,
        **settings: Any,
    ) -> None:
        """An engine over ``catalog``: periods follow ``timezone`` (IANA name); ``timeout``
        (seconds, or text such as ``"30s"``) and ``memory_limit`` (bytes) bound each
        calculation, which otherwise fails with :class:`CalculationError`.

        Further settings: ``week_start``, ``fiscal_year_start``, ``retail_calendar``,
        ``calendar_table`` (the defaults of queries, see :meth:`calculate`), ``lane_concurrency`` (calculations of one value chain
        at once), ``target_partitions``, ``cache`` (``False``, or a dict of ``ttl``,
        ``formula_ttl``, ``kpis``, ``modules``, ``value_chains``, ``max_entries``, ``max_bytes``),
        ``allowed_lateness``, ``retention``, ``distinct_counts`` and ``quantiles``
        (``"exact"`` or ``"approximate"``), ``pushdown`` (``False`` calculates over PostgreSQL
        tables in the engine instead of running whole KPIs in the database), ``data_dir`` (a
        directory that makes appends durable; the same directory restores the tables),
        ``archive_location`` (a directory or object-store URL for archives),
        ``retention_policy`` (a dict as a client configuration's ``retention``), ``history``
        (jobs and subscriptions record KPI history), ``clock_skew``, ``cluster`` (a Ballista
        scheduler, ``"df://host:50050"``, that runs calculations: see :mod:`kpi_engine.cluster`;
        the engine connects to it here) and ``cluster_connect_timeout``. With ``client`` (a :class:`ClientConfig`), the
        catalog is the client's and registered data is renamed by its field mappings.
        """
        if not isinstance(catalog, Catalog):
            raise TypeError(f"expected a kpi_engine.Catalog, got {type(catalog).__name__}")
        if settings.get("cache") is False:
            settings["cache"] = {"enabled": False}
        document = _document(timezone=timezone, timeout=timeout, memory_limit=memory_limit, **settings)
        native_client = client._native if client is not None else None
        self._native = _native.Engine(catalog._native, document, native_client)
        if self._native.cluster() is not None:
            self._native.check_cluster()
        self.catalog = Catalog(self._native.catalog()) if client is not None else catalog

    # -- data ---------------------------------------------------------------------------

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
        rows, late, beyond, future = self._native.append(object_model, _arrow(data))
        return AppendReport(rows, late, beyond, future)

    def register_parquet(self, object_model: str, path_or_url: "str | os.PathLike[str]") -> None:
        """Registers Parquet files as the rows of ``object_model``, read where they lie: a file,
        a directory (``key=value`` subdirectories become columns: hive partitions), a glob
        (``data/*.parquet``), or a URL (``s3://``, ``gs://``, ``az://``, ``https://``) with
        credentials from the usual environment variables (``AWS_*``, ``GOOGLE_*``,
        ``AZURE_*``)."""
        self._native.register_parquet(object_model, os.fspath(path_or_url))

    def register_csv(self, object_model: str, path_or_url: "str | os.PathLike[str]") -> None:
        """Registers CSV files with a header row as the rows of ``object_model``, read with the
        object model's schema, from the same kinds of locations as :meth:`register_parquet`."""
        self._native.register_csv(object_model, os.fspath(path_or_url))

    def register_postgres(
        self,
        object_model: str,
        dsn: str,
        table: Optional[str] = None,
        columns: Optional[Mapping[str, str]] = None,
    ) -> None:
        """Registers a PostgreSQL (or TimescaleDB) table or view as the rows of ``object_model``.

        ``dsn`` is a connection string, ``postgresql://user:password@host:5432/database`` or
        ``host=... port=... user=... dbname=...``; ``table`` is ``name`` or ``schema.name``
        (the object model's code when not given); ``columns`` maps model columns to table
        columns of other names. Calculations read the table where it lies: each scan is one
        ``SELECT`` with the filters PostgreSQL can run. A server that cannot be reached, a
        refused login or a missing table raises :class:`DataError` (code ``KPI_SOURCE``)
        naming the host and database, never the password.
        """
        pairs = list((columns or {}).items())
        self._native.register_postgres(object_model, dsn, table or object_model, pairs)

    def follow_postgres(
        self,
        object_model: str,
        dsn: str,
        table: Optional[str] = None,
        columns: Optional[Mapping[str, str]] = None,
        key: Optional[Sequence[str]] = None,
        poll_interval: "float | str | None" = None,
        lookback: "float | str | None" = None,
        checkpoint: "str | os.PathLike[str] | None" = None,
    ) -> "Feed":
        """Follows a PostgreSQL table: appends its rows to ``object_model`` now, then the rows
        that appear later, so subscriptions and cached results update.

        New rows are found by the model's time column and ``key`` (its primary key by default),
        polled every ``poll_interval`` (seconds or text such as ``"250ms"``; 0.25 s by default).
        Each poll reads again ``lookback`` (60 s by default) before the latest time seen, so rows
        committed late are read, and never twice. ``checkpoint`` is a file the feed keeps its
        position in: a feed started again with it resumes where it stopped. A bad connection or
        table raises :class:`DataError` here; later failures are counted in
        :meth:`Feed.status` while the feed keeps trying.
        """
        settings = {
            "table": table,
            "columns": dict(columns or {}),
            "key": list(key or []),
            "poll_interval": poll_interval,
            "lookback": lookback,
            "checkpoint": os.fspath(checkpoint) if checkpoint is not None else None,
        }
        document = json.dumps({k: v for k, v in settings.items() if v not in (None, [], {})})
        return Feed(self._native.follow_postgres(object_model, dsn, document))

    def register_postgres_models(self, dsn: str, schema: Optional[str] = None) -> List[str]:
        """Registers every object model of the catalog that has a table of its own name in
        ``schema`` of the database (the search path when not given); returns their codes."""
        return self._native.register_postgres_models(dsn, schema)

    def register_demo(self, rows: int = 10_000, seed: int = 42, start: Optional[When] = None, end: Optional[When] = None) -> None:
        """Generates demo data for every object model of the catalog and registers it."""
        from . import demo

        for name, table in demo.generate(self.catalog, rows=rows, seed=seed, start=start, end=end).items():
            self.register(name, table)

    def unregister(self, object_model: str) -> bool:
        """Removes the data of ``object_model``; whether it had any."""
        return self._native.unregister(object_model)

    def registered(self) -> list[dict[str, Any]]:
        """The object models with data: name, data version, rows in memory, whether all in memory."""
        return [
            {"object_model": name, "version": version, "memory_rows": rows, "in_memory": in_memory}
            for name, version, rows, in_memory in self._native.registered()
        ]

    # -- calculations -------------------------------------------------------------------

    def calculate(self, kpi: Optional[str] = None, grain: Optional[str] = None, by: Optional[Sequence[str]] = None,
                  start: Optional[When] = None, end: Optional[When] = None, where: Optional[str] = None, **query: Any) -> Result:
        """Calculates the catalog's KPI ``kpi`` (or ``formula=``).

        ``grain``: minute, hour, day, week, month, quarter or year; ``by``: dimensions such as
        ``orders.region`` or ``orders.customer.segment``; ``start``/``end``: the time range
        (both or neither; by default the data's bounds); ``where``: a filter in the formula
        language, e.g. ``"orders.channel = 'web'"``; the other keywords as the class says.
        """
        return Result(self._native.calculate(_query(kpi, grain, by, start, end, where, query)), self.catalog)

    def calculate_formula(self, formula: str, grain: Optional[str] = None, by: Optional[Sequence[str]] = None,
                          start: Optional[When] = None, end: Optional[When] = None, where: Optional[str] = None, **query: Any) -> Result:
        """Calculates an ad-hoc formula, e.g. ``"sum(orders.order_value) / count(orders)"``."""
        return self.calculate(None, grain, by, start, end, where, formula=formula, **query)

    def explain(self, kpi: Optional[str] = None, grain: Optional[str] = None, by: Optional[Sequence[str]] = None,
                start: Optional[When] = None, end: Optional[When] = None, where: Optional[str] = None, **query: Any) -> dict[str, Optional[str]]:
        """The logical, optimized and physical plans of a KPI's (or ``formula=``) calculation,
        and under ``pushed_down`` the statement that runs in PostgreSQL instead when every
        table it reads lives in one PostgreSQL database (``None`` otherwise)."""
        logical, optimized, physical, pushed = self._native.explain(_query(kpi, grain, by, start, end, where, query))
        return {"logical": logical, "optimized": optimized, "physical": physical, "pushed_down": pushed}

    def to_sql(self, kpi: Optional[str] = None, dialect: str = "postgres", grain: Optional[str] = None,
               by: Optional[Sequence[str]] = None, start: Optional[When] = None, end: Optional[When] = None,
               where: Optional[str] = None, **query: Any) -> str:
        """A KPI's (or ``formula=``) calculation as SQL for another database (postgres,
        timescale, mysql, sqlite, duckdb, bigquery)."""
        return self._native.to_sql(_query(kpi, grain, by, start, end, where, query), dialect)

    def dashboard(self, kpis: Sequence[Union[str, dict[str, Any]]], grain: Optional[str] = None,
                  by: Optional[Sequence[str]] = None, start: Optional[When] = None, end: Optional[When] = None,
                  where: Optional[str] = None, *, progress: Optional[bool] = None, **query: Any) -> "Dashboard":
        """Calculates several KPIs concurrently with the same settings; a failing KPI does not
        stop the others. An item may also be a dict of its own settings (``{"formula": ...}``,
        ``{"kpi": ..., "grain": ...}``) over the shared ones. ``progress`` shows a progress bar
        (tqdm, where installed) for dashboards that take more than a second; by default only in
        an interactive session."""
        documents, names = [], []
        for item in kpis:
            own = dict(item) if isinstance(item, dict) else {"kpi": item}
            merged = {"grain": grain, "by": by, "start": start, "end": end, "where": where, **query, **own}
            documents.append(_document(**merged))
            names.append(own.get("kpi") or own.get("formula") or "?")
        from .notebook import progress_while

        text, results = progress_while(lambda: self._native.dashboard(documents), len(documents), "KPIs", progress)
        return Dashboard(names, json.loads(text), [Result(r, self.catalog) if r is not None else None for r in results])

    def compare(self, kpi: Optional[str] = None, current: Optional[tuple[When, When]] = None,
                previous: Union[None, str, tuple[When, When]] = None, by: Optional[Sequence[str]] = None,
                where: Optional[str] = None, **query: Any) -> dict[str, Any]:
        """The KPI's value over ``current`` (a ``(start, end)`` pair) against ``previous``: a
        ``(start, end)`` pair, ``"previous_period"`` (the default: the range just before, as many
        months for whole months, else of the same length) or ``"last_year"`` (the same range a year earlier), per dimension group:
        both values, the absolute and relative change, and the status and trend by the KPI's
        direction."""
        if current is None:
            raise _native.QueryError("compare needs current=(start, end)")
        document = _query(kpi, None, by, None, None, where, query)
        if isinstance(previous, str):
            return json.loads(self._native.compare(document, _text(current[0]), _text(current[1]), None, None, previous))
        prev = previous or (None, None)
        return json.loads(self._native.compare(document, _text(current[0]), _text(current[1]), _text(prev[0]), _text(prev[1])))

    def define_kpi(self, definition: Union[str, Mapping[str, Any]], formula: Optional[str] = None,
                   **fields: Any) -> dict[str, Any]:
        """Creates or replaces a KPI in the running engine: a definition as the catalog's YAML
        has it (``{"code", "name", "formula", ...}``), or its code, formula and other fields as
        keywords. The change is checked against the whole catalog first (formula, dimensions,
        thresholds, cycles, the KPIs that use it) and refused with a :class:`CatalogError`
        that changes nothing; an accepted one drops exactly the cached results of the KPI and
        its users, and their subscribers get a fresh snapshot; ``catalog`` is then the new
        one. Returns ``{"kpi", "action",
        "affected", "invalidated_results", "refreshed_views", ...}``."""
        if isinstance(definition, str):
            body: dict[str, Any] = {"code": definition, "name": fields.pop("name", definition), **fields}
        else:
            body = {**definition, **fields}
        if formula is not None:
            body["formula"] = formula
        change = json.loads(self._native.define_kpi(json.dumps(body, default=_plain)))
        self.catalog = Catalog(self._native.catalog())
        return change

    def remove_kpi(self, code: str, cascade: bool = False) -> dict[str, Any]:
        """Removes a KPI from the running engine. A KPI others use is refused (a
        :class:`CatalogError` naming them) unless ``cascade``, which removes them too."""
        change = json.loads(self._native.remove_kpi(code, cascade))
        self.catalog = Catalog(self._native.catalog())
        return change

    def trigger(self, kpi: str) -> int:
        """Recalculates every live subscription of ``kpi`` now, past the cache, and pushes what
        changed; how many views there were."""
        return self._native.trigger(kpi)

    def client_config(self) -> Optional[ClientConfig]:
        """The client configuration of a client's engine, with the KPIs defined in the running
        engine among its ``custom_kpis``: save it to keep them. ``None`` without a client."""
        native = self._native.client()
        return ClientConfig(native) if native is not None else None

    def dependants(self, code: str) -> list[str]:
        """The KPIs that use ``code``, directly or through other KPIs."""
        return self._native.dependants(code)

    def forecast(self, kpi: Optional[str] = None, grain: Optional[str] = None, horizon: int = 6,
                 by: Optional[Sequence[str]] = None, start: Optional[When] = None, end: Optional[When] = None,
                 where: Optional[str] = None, season_length: Optional[int] = None, level: float = 0.95,
                 method: str = "auto", trend: Optional[str] = None, seasonal: Optional[bool] = None,
                 **query: Any) -> Forecast:
        """Forecasts the KPI ``horizon`` periods past its range, per dimension group, with
        prediction intervals at ``level``. ``method``: ``"auto"`` (the exponential smoothing
        model with the lowest AICc), ``"ets"`` (one model: ``trend`` ``"none"``,
        ``"additive"`` or ``"damped"``, ``seasonal``) or ``"seasonal_naive"``.
        ``season_length`` defaults from the grain (7 days, 12 months, 4 quarters, ...)."""
        document = _query(kpi, grain, by, start, end, where, query)
        settings = {"horizon": horizon, "season_length": season_length, "level": level, "method": method,
                    "trend": trend, "seasonal": seasonal}
        return Forecast(self._native.forecast(document, _document(**settings)))

    def trend(self, kpi: Optional[str] = None, grain: Optional[str] = None, by: Optional[Sequence[str]] = None,
              window: Optional[int] = None, start: Optional[When] = None, end: Optional[When] = None,
              where: Optional[str] = None, **query: Any) -> dict[str, Any]:
        """The KPI's trend per dimension group over the last ``window`` periods (all by
        default): ``slope`` per period, ``slope_pct``, ``r_squared``, ``p_value``,
        ``significant`` (p < 0.05) and ``improving`` by the KPI's direction."""
        document = _query(kpi, grain, by, start, end, where, query)
        return json.loads(self._native.trend(document, window))

    def subscribe(self, kpi: Optional[str] = None, grain: Optional[str] = None, by: Optional[Sequence[str]] = None,
                  start: Optional[When] = None, end: Optional[When] = None, where: Optional[str] = None,
                  refresh: Union[str, float] = "change", callback: Optional[Callable[[dict[str, Any]], None]] = None,
                  **query: Any) -> "Subscription":
        """Subscribes to a KPI's (or ``formula=``) values: a snapshot of every period and group
        first, then the ones that change, as appends arrive (``refresh="change"``), or each
        ``"minute"``, ``"hour"``, ``"day"``, number of seconds or interval text (``"500ms"``).

        Iterate the subscription (``for update in sub`` or ``async for update in sub``), or
        pass ``callback``, called from a background thread with each update.
        """
        native = self._native.subscribe(_query(kpi, grain, by, start, end, where, dict(query, refresh=refresh)))
        return Subscription(native, callback)

    # -- schedules ----------------------------------------------------------------------

    def schedule(self, name: str, cron: str, kpis: Sequence[Union[str, dict[str, Any]]], **query: Any) -> dict[str, Any]:
        """Recalculates ``kpis`` (codes or query dicts, with the shared keywords) on a
        five-field cron schedule read in the engine's time zone, refreshing their subscribers; the job."""
        documents = [_document(**{**query, **(dict(k) if isinstance(k, dict) else {"kpi": k})}) for k in kpis]
        return json.loads(self._native.schedule(name, cron, documents))

    def schedule_catalog(self) -> list[dict[str, Any]]:
        """Schedules every KPI of the catalog that has a ``schedule``; the jobs."""
        return json.loads(self._native.schedule_catalog())

    def jobs(self) -> list[dict[str, Any]]:
        """The scheduled jobs: id, name, schedule, queries, next and last run, errors."""
        return json.loads(self._native.jobs())

    def cancel_job(self, job_id: int) -> bool:
        """Cancels a job; whether it existed."""
        return self._native.cancel_job(job_id)

    def streams(self) -> list[dict[str, Any]]:
        """The views the engine maintains for subscribers: query, refresh, subscribers, size."""
        return json.loads(self._native.streams())

    # -- the engine itself --------------------------------------------------------------

    def metrics(self) -> dict[str, int]:
        """The engine's counters since it was created: ``calculations``, ``errors``,
        ``cache_hits``, ``cache_misses``, ``cache_patches`` (misses answered by recalculating
        only the periods appends touched in a cached result), ``maintained_answers`` (misses
        answered from partial states appends keep up to date), ``shared`` (calculations that
        took the result of an identical one in flight), ``shared_scans`` (calculations of a
        dashboard answered by one plan shared with KPIs that read the same rows), ``queued``, ``rows_ingested``,
        ``late_rows``, ...

        >>> from kpi_engine import Catalog, Engine
        >>> Engine(Catalog.standard()).metrics()["calculations"]
        0
        """
        return json.loads(self._native.metrics())

    def cached_results(self) -> int:
        """How many results the cache holds."""
        return self._native.cached_results()

    def clear_cache(self) -> None:
        """Empties the result cache."""
        self._native.clear_cache()

    def __repr__(self) -> str:
        return f"<Engine: {len(self.registered())} object models registered>"


def _arrow(data: Any) -> Any:
    """``data`` as something with ``__arrow_c_stream__``."""
    if type(data).__module__.startswith("polars") and hasattr(data, "to_arrow"):
        # Polars exports all-null (Null dtype) columns in a form Arrow's Rust reader refuses;
        # through pyarrow they arrive as plain null arrays.
        if any(str(dtype) == "Null" for dtype in getattr(data, "dtypes", [])):
            return data.to_arrow()
    if hasattr(data, "__arrow_c_stream__"):
        return data
    import pyarrow

    try:
        if isinstance(data, list):
            return pyarrow.Table.from_pylist(data)
        if type(data).__module__.startswith("pandas"):
            return pyarrow.Table.from_pandas(data, preserve_index=False)
    except (pyarrow.ArrowException, TypeError, ValueError, AttributeError) as e:
        detail = {"code": "KPI_DATA", "kind": "data", "message": f"could not read the rows as Arrow data: {e}"}
        raise _native.error_from_json(json.dumps(detail)) from e
    return data


def _query(kpi: Optional[str], grain: Optional[str], by: Optional[Sequence[str]], start: Optional[When],
           end: Optional[When], where: Optional[str], query: dict[str, Any]) -> str:
    """A query's keywords as the engine's query document (JSON)."""
    return _document(kpi=kpi, grain=grain, by=by, start=start, end=end, where=where, **query)


def _document(**fields: Any) -> str:
    """Keywords as a JSON document: ``None`` left out, dates and times as ISO 8601, durations
    in seconds, tuples as lists. The engine checks every field and value."""
    return json.dumps({k: v for k, v in fields.items() if v is not None}, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} cannot be part of a query")


def _text(value: Optional[When]) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def forecast_series(values: Sequence[Optional[float]], horizon: int = 6, season_length: Optional[int] = None,
                    level: float = 0.95, method: str = "auto", trend: Optional[str] = None,
                    seasonal: Optional[bool] = None) -> dict[str, Any]:
    """Forecasts a plain series (one value per period, ``None`` for a period without one) as
    :meth:`Engine.forecast` does a KPI: ``model``, ``parameters``, ``aicc``, ``sigma``,
    ``fitted`` and ``points`` (``value``, ``lower``, ``upper``)."""
    settings = {"horizon": horizon, "season_length": season_length, "level": level, "method": method,
                "trend": trend, "seasonal": seasonal}
    return json.loads(_native.forecast_series([None if v is None else float(v) for v in values], _document(**settings)))
