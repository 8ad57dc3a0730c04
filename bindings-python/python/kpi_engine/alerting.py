"""Alerts, notifiers and scheduled reports of an :class:`~kpi_engine.Engine`.

Every rule, notifier and report is a document the engine checks in Rust (``KPI_ALERT`` and
``KPI_REPORT`` errors, raised as :class:`~kpi_engine.QueryError`), so Python, Node and the
dashboard server accept and refuse the same ones.
"""

from __future__ import annotations

import json
from typing import Any, Mapping, NamedTuple, Optional, Sequence, Union

__all__ = ["Alerting", "ReportDocument"]


class ReportDocument(NamedTuple):
    """A rendered report: its media type, file name and bytes (write them to a file, attach
    them to a mail, or return them from a web handler)."""

    content_type: str
    filename: str
    data: bytes


def _json(**fields: Any) -> str:
    from .engine import _document

    return _document(**fields)


def _spec(document: Optional[Mapping[str, Any]], fields: dict[str, Any]) -> str:
    """A document from a mapping and/or keywords (``where`` and ``for`` may be given as
    ``where_``/``for_``, being Python keywords)."""
    merged = dict(document or {})
    for key, value in fields.items():
        if value is not None:
            merged[key.rstrip("_")] = value
    return _json(**merged)


class Alerting:
    """The alerting and reporting methods of :class:`~kpi_engine.Engine`."""

    _native: Any

    # -- alert rules --------------------------------------------------------------------

    def add_alert_rule(self, name: Union[str, Mapping[str, Any]], kpi: Optional[str] = None, when: Optional[str] = None,
                       **rule: Any) -> dict[str, Any]:
        """Adds an alert rule; the rule with its state.

        ``when`` is ``"thresholds"`` (the KPI's own; the default), ``"above"`` or ``"below"``
        (with ``warning`` and/or ``critical`` levels), ``"change"`` (percent against
        ``against="previous_period"`` or ``"last_year"``, ``direction`` ``"up"``, ``"down"`` or
        ``"either"``), ``"no_data"`` (``periods``), or a source rule on ``source``:
        ``"source_stale"`` (``after``, such as ``"15min"``), ``"source_errors"``,
        ``"late_rows"``. Also ``grain``, ``by`` (one state per group), ``where``, ``for``
        (``for_="10min"``: how long a breach lasts before it fires), ``hysteresis`` (fraction
        of the threshold, 0.01) and ``refresh``. A dict with these fields works too.

        >>> from kpi_engine import Catalog, Engine
        >>> eng = Engine(Catalog.standard())
        >>> eng.register_demo(rows=500, seed=3)
        >>> rule = eng.add_alert_rule("late orders", kpi="on_time_delivery_rate", by=["orders.region"])
        >>> rule["when"], rule["kpi"]
        ('thresholds', 'on_time_delivery_rate')
        """
        if isinstance(name, Mapping):
            document = _spec(name, {"kpi": kpi, "when": when, **rule})
        else:
            document = _spec(None, {"name": name, "kpi": kpi, "when": when, **rule})
        return json.loads(self._native.add_alert_rule(document))

    def remove_alert_rule(self, name: str) -> bool:
        """Removes a rule and its alerts; whether it existed."""
        return self._native.remove_alert_rule(name)

    def alert_rules(self) -> list[dict[str, Any]]:
        """The rules: their documents with ``active``, ``groups``, ``evaluations`` and ``last_error``."""
        return json.loads(self._native.alert_rules())

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts active now, critical first: ``rule``, ``kpi``, ``source``, ``level``,
        ``group``, ``period``, ``value``, ``threshold``, ``since``, ``message``."""
        return json.loads(self._native.alerts())

    def alert_history(self, limit: int = 100) -> list[dict[str, Any]]:
        """The last ``limit`` events, oldest first: ``id``, ``event`` (``fired`` or
        ``resolved``), ``rule``, ``level``, ``previous_level``, ``group``, ``value``, ``message``, ``at``..."""
        return json.loads(self._native.alert_history(limit))

    def evaluate_alerts(self) -> list[dict[str, Any]]:
        """Judges every rule now on its latest values; the events that caused."""
        return json.loads(self._native.evaluate_alerts())

    # -- notifiers ----------------------------------------------------------------------

    def set_mail(self, host: str, port: Optional[int] = None, sender: Optional[str] = None, *, tls: Optional[str] = None,
                 username: Optional[str] = None, password: Optional[str] = None, timeout: Union[float, str, None] = None) -> None:
        """Sets the SMTP server email notifiers and reports go through; ``sender`` is the
        From address, ``tls`` ``"starttls"`` (default), ``"tls"`` or ``"none"``."""
        self._native.set_mail(_json(host=host, port=port, **{"from": sender}, tls=tls, username=username,
                                    password=password, timeout=timeout))

    def add_notifier(self, name: Union[str, Mapping[str, Any]], *, webhook: Optional[str] = None,
                     email: Optional[Sequence[str]] = None, **options: Any) -> dict[str, Any]:
        """Adds a notifier: ``webhook`` (a URL; ``secret`` signs each body with HMAC-SHA256 in
        the ``X-KPI-Signature`` header, ``headers`` adds more) or ``email`` (addresses, through
        :meth:`set_mail`). ``retries`` (3), ``backoff`` (``"500ms"``, doubling), ``timeout``
        (``"5s"`` a try), ``min_level`` (``"warning"`` or ``"critical"``), ``rules`` (names).
        Events that fail every try are kept in :meth:`dead_letters`."""
        fields = {"webhook": webhook, "email": list(email) if email is not None else None, **options}
        if isinstance(name, Mapping):
            document = _spec(name, fields)
        else:
            document = _spec(None, {"name": name, **fields})
        return json.loads(self._native.add_notifier(document))

    def remove_notifier(self, name: str) -> bool:
        """Removes a notifier; whether it existed."""
        return self._native.remove_notifier(name)

    def notifiers(self) -> list[dict[str, Any]]:
        """The notifiers with ``delivered``, ``failed``, ``attempts``, ``queued`` and ``last_error``."""
        return json.loads(self._native.notifiers())

    def dead_letters(self) -> list[dict[str, Any]]:
        """Events no try could deliver: ``notifier``, ``target``, ``event``, ``attempts``, ``error``, ``at``."""
        return json.loads(self._native.dead_letters())

    # -- reports ------------------------------------------------------------------------

    def add_report(self, name: Union[str, Mapping[str, Any]], kpis: Optional[Sequence[str]] = None,
                   **report: Any) -> dict[str, Any]:
        """Adds a report; the report with its ``id`` and ``next_run``.

        ``kpis``, ``grain`` (``"day"``; ``"none"`` for one value each), ``by``, ``where``,
        ``range`` (``"last_month"`` (default), ``"last_7_days"``, ``"last_30_days"``,
        ``"yesterday"``, ``"last_week"``, ``"last_quarter"``, ``"last_year"``,
        ``"month_to_date"``, ``"year_to_date"``, or ``{"start": ..., "end": ...}``),
        ``format`` (``"pdf"``, ``"csv"`` or ``"json"``), ``schedule`` (five-field cron read in
        ``timezone``, daylight saving included), ``recipients`` (mail addresses; see
        :meth:`set_mail`), ``directory`` (a local directory or an object store URL such as
        ``"s3://bucket/reports/"``), ``title``."""
        return json.loads(self._native.add_report(self._report(name, kpis, report)))

    def update_report(self, report_id: int, name: Union[str, Mapping[str, Any]], kpis: Optional[Sequence[str]] = None,
                      **report: Any) -> dict[str, Any]:
        """Replaces report ``report_id``'s definition (as :meth:`add_report` takes it)."""
        return json.loads(self._native.update_report(report_id, self._report(name, kpis, report)))

    def remove_report(self, report_id: int) -> bool:
        """Removes a report and its schedule; whether it existed."""
        return self._native.remove_report(report_id)

    def reports(self) -> list[dict[str, Any]]:
        """The reports with ``id``, ``next_run``, ``last_run`` and ``runs``."""
        return json.loads(self._native.reports())

    def report(self, report_id: int) -> Optional[dict[str, Any]]:
        """Report ``report_id``, or ``None``."""
        found = [r for r in self.reports() if r["id"] == report_id]
        return found[0] if found else None

    def report_runs(self, report_id: int) -> list[dict[str, Any]]:
        """A report's runs, oldest first: ``at``, ``start``, ``end``, ``bytes``,
        ``delivered_to``, ``failed_kpis``, ``ok``, ``error``."""
        return json.loads(self._native.report_runs(report_id))

    def run_report(self, report_id: int) -> tuple[dict[str, Any], ReportDocument]:
        """Runs a report now, delivering it to its recipients and directory; the run (which
        says what failed) and the document."""
        run, content_type, filename, data = self._native.run_report(report_id)
        return json.loads(run), ReportDocument(content_type, filename, bytes(data))

    def render_report(self, name: Union[str, Mapping[str, Any]], kpis: Optional[Sequence[str]] = None,
                      **report: Any) -> ReportDocument:
        """Renders a report now without keeping or delivering it.

        >>> from kpi_engine import Catalog, Engine
        >>> eng = Engine(Catalog.standard())
        >>> eng.register_demo(rows=500, seed=3, start="2024-01-01", end="2024-03-01")
        >>> doc = eng.render_report("January", ["revenue"], range={"start": "2024-01-01", "end": "2024-02-01"}, format="csv")
        >>> doc.content_type, doc.data.splitlines()[0]
        ('text/csv', b'kpi,name,period,value,status')
        """
        content_type, filename, data = self._native.render_report(self._report(name, kpis, report))
        return ReportDocument(content_type, filename, bytes(data))

    @staticmethod
    def _report(name: Union[str, Mapping[str, Any]], kpis: Optional[Sequence[str]], report: dict[str, Any]) -> str:
        fields = {"kpis": list(kpis) if kpis is not None else None, **report}
        if isinstance(name, Mapping):
            return _spec(name, fields)
        return _spec(None, {"name": name, **fields})
