"""What results, dashboards and catalogs show in a notebook: HTML tables with status colours
and trends, plots with threshold bands, Mermaid diagrams, and progress bars for long calls."""

from __future__ import annotations

import html
import sys
import threading
import time
from typing import Any, Callable, Optional, TypeVar

T = TypeVar("T")

#: Background colour of each status.
STATUS_COLOURS = {
    "good": "#d4edda",
    "warning": "#fff3cd",
    "critical": "#f8d7da",
    "not_rated": "#eeeeee",
}
_TREND_ARROWS = {"up": "▲", "down": "▼", "stable": "▶"}
_MAX_ROWS = 12


def _value(v: Any, unit: Optional[str]) -> str:
    if v is None:
        return "–"
    if unit == "ratio" and isinstance(v, (int, float)):
        return f"{v:.1%}"
    if isinstance(v, float):
        return f"{v:,.2f}"
    return html.escape(str(v))


def _cell(text: str, style: str = "") -> str:
    return f'<td style="padding:2px 8px;{style}">{text}</td>'


def summaries_html(document: dict[str, Any]) -> str:
    """A table of the latest value per dimension group with its status colour and trend."""
    unit = document.get("unit")
    rows = []
    for item in document.get("summaries", []):
        s = item["summary"]
        dims = ", ".join(f"{html.escape(str(v))}" for v in item["dimensions"].values()) or "all"
        status = s.get("status", "not_rated")
        trend = s.get("trend") or {}
        arrow = _TREND_ARROWS.get(trend.get("direction", "stable"), "")
        colour = "green" if trend.get("improving") else ("red" if trend.get("improving") is False else "grey")
        change = trend.get("change_pct")
        change_text = f" {change:+.1f}%" if isinstance(change, (int, float)) else ""
        rows.append(
            "<tr>"
            + _cell(dims)
            + _cell(_value(s.get("value"), unit), f"background:{STATUS_COLOURS.get(status, '#eee')}")
            + _cell(html.escape(status.replace("_", " ")))
            + _cell(f'<span style="color:{colour}">{arrow}{change_text}</span>')
            + "</tr>"
        )
    head = "<tr>" + "".join(f'<th style="padding:2px 8px;text-align:left">{h}</th>' for h in ["group", "latest", "status", "trend"]) + "</tr>"
    return f"<table>{head}{''.join(rows[:_MAX_ROWS])}</table>" + (f"<div>… {len(rows) - _MAX_ROWS} more groups</div>" if len(rows) > _MAX_ROWS else "")


def result_html(document: dict[str, Any]) -> str:
    """A result: its title, range, latest value per group, and the first rows."""
    title = html.escape(document.get("name") or document.get("kpi") or document.get("formula") or "formula")
    rng = document.get("range")
    where = f" · {html.escape(rng['start'][:10])} – {html.escape(rng['end'][:10])}" if rng else ""
    grain = f" · by {html.escape(document['grain'])}" if document.get("grain") else ""
    rows = document.get("rows", [])
    columns = list(rows[0].keys()) if rows else []
    head = "<tr>" + "".join(f'<th style="padding:2px 8px;text-align:left">{html.escape(c)}</th>' for c in columns) + "</tr>"
    body = "".join(
        "<tr>" + "".join(_cell(_value(r[c], document.get("unit")) if c == "value" else html.escape(str(r[c]))) for c in columns) + "</tr>"
        for r in rows[-_MAX_ROWS:]
    )
    more = f"<div>{len(rows)} rows; the last {_MAX_ROWS} shown</div>" if len(rows) > _MAX_ROWS else f"<div>{len(rows)} rows</div>"
    return (
        f"<div><b>{title}</b>{grain}{where}</div>"
        + summaries_html(document)
        + f"<details><summary>rows</summary><table>{head}{body}</table>{more}</details>"
    )


def dashboard_html(results: dict[str, Any], errors: dict[str, dict[str, str]]) -> str:
    """One line per KPI: latest value with status colour and trend, or its error."""
    lines = []
    for code, result in results.items():
        doc = result.to_dict()
        unit = doc.get("unit")
        summary = next(iter(doc.get("summaries", [])), None)
        s = summary["summary"] if summary else {}
        status = s.get("status", "not_rated")
        arrow = _TREND_ARROWS.get((s.get("trend") or {}).get("direction", "stable"), "")
        lines.append(
            "<tr>" + _cell(html.escape(doc.get("name") or code)) + _cell(_value(s.get("value"), unit), f"background:{STATUS_COLOURS.get(status)}")
            + _cell(html.escape(status.replace("_", " "))) + _cell(arrow) + "</tr>"
        )
    for code, error in errors.items():
        lines.append("<tr>" + _cell(html.escape(code)) + _cell(html.escape(f"{error.get('code')}: {error.get('message')}"), "color:#a00") + "<td></td><td></td></tr>")
    return f"<table>{''.join(lines)}</table>"


def plot(document: dict[str, Any], thresholds: Optional[dict[str, Any]], direction: Optional[str], ax: Any = None) -> Any:
    """A line per dimension group over the periods, with the warning and critical thresholds
    as shaded bands; the matplotlib Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    dims = document.get("dimensions", [])
    series: dict[tuple, tuple[list, list]] = {}
    for row in document.get("rows", []):
        key = tuple(row[d] for d in dims)
        xs, ys = series.setdefault(key, ([], []))
        xs.append(_period(row.get("period")))
        ys.append(row["value"])
    for key, (xs, ys) in series.items():
        label = ", ".join(str(k) for k in key) or (document.get("name") or "value")
        ax.plot(xs, [float("nan") if y is None else y for y in ys], marker="o", markersize=3, label=label)
    if thresholds and direction in ("higher_is_better", "lower_is_better"):
        warning, critical = thresholds.get("warning"), thresholds.get("critical")
        lo, hi = ax.get_ylim()
        if direction == "higher_is_better":
            if critical is not None:
                ax.axhspan(min(lo, critical), critical, color=STATUS_COLOURS["critical"], alpha=0.6, label="critical")
            if warning is not None:
                ax.axhspan(critical if critical is not None else lo, warning, color=STATUS_COLOURS["warning"], alpha=0.6, label="warning")
        else:
            if critical is not None:
                ax.axhspan(critical, max(hi, critical), color=STATUS_COLOURS["critical"], alpha=0.6, label="critical")
            if warning is not None:
                ax.axhspan(warning, critical if critical is not None else hi, color=STATUS_COLOURS["warning"], alpha=0.6, label="warning")
        ax.set_ylim(lo, hi)
    ax.set_title(document.get("name") or document.get("kpi") or "formula")
    ax.set_xlabel(document.get("grain") or "")
    if document.get("unit") == "ratio":
        from matplotlib.ticker import PercentFormatter

        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    if len(series) > 1 or thresholds:
        ax.legend(fontsize="small")
    return ax


def _period(text: Optional[str]) -> Any:
    if text is None:
        return "all"
    import datetime as dt

    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class Diagram(str):
    """A Mermaid diagram: its text (a ``str``), rendered in Jupyter through mermaid.js."""

    @property
    def text(self) -> str:
        """The Mermaid source."""
        return str(self)

    def _repr_markdown_(self) -> str:
        return f"```mermaid\n{self.text}\n```"

    def _repr_html_(self) -> str:
        escaped = html.escape(self.text)
        return (
            f'<pre class="mermaid">{escaped}</pre>'
            '<script type="module">import mermaid from "https://cdn.jsdelivr.net/npm/mermaid@11/dist/mermaid.esm.min.mjs";'
            "mermaid.run();</script>"
        )


def progress_while(work: Callable[[], T], total: int, unit: str, show: Optional[bool]) -> T:
    """Runs ``work`` (a native call that releases the GIL); after a second, shows a tqdm bar
    until it ends, where tqdm is installed and ``show`` allows (default: interactive sessions)."""
    if show is None:
        show = hasattr(sys, "ps1") or "ipykernel" in sys.modules
    if not show:
        return work()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return work()
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as e:  # re-raised in the caller's thread
            box["error"] = e

    thread = threading.Thread(target=run, daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(1.0)
    if thread.is_alive():
        with tqdm(total=total, unit=unit, desc="calculating") as bar:
            while thread.is_alive():
                thread.join(0.1)
                bar.set_postfix_str(f"{time.monotonic() - started:.1f} s")
            bar.update(total)
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
