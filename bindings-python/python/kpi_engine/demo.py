"""Demo data: realistic rows for every object model of a catalog, deterministic in a seed."""

from __future__ import annotations

import datetime as _dt
from typing import Optional, Union

from . import _native
from .catalog import Catalog

When = Union[str, _dt.date, _dt.datetime]


def generate(
    catalog: Catalog,
    rows: int = 100_000,
    seed: int = 42,
    start: Optional[When] = None,
    end: Optional[When] = None,
    progress: Optional[bool] = None,
) -> dict[str, _native.Table]:
    """Demo data for every object model of ``catalog``: table name to an Arrow table.

    ``rows`` sets the size of the main fact tables; ``start`` and ``end`` the span of event
    times (both or neither). The tables implement ``__arrow_c_stream__``, so
    ``pyarrow.table(t)`` or ``polars.from_arrow(pyarrow.table(t))`` read them, and
    :meth:`Engine.register` takes them directly. ``progress`` shows a progress bar (tqdm,
    where installed) when generation takes more than a second; by default only in an
    interactive session.
    """
    from .notebook import progress_while

    if rows < 0:
        raise ValueError("rows must not be negative")
    tables = len(catalog.object_models())
    return progress_while(lambda: _native.generate_demo(catalog._native, rows, seed, _text(start), _text(end)), tables, "tables", progress)


def _text(value: Optional[When]) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()
