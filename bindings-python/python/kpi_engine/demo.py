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
) -> dict[str, _native.Table]:
    """Demo data for every object model of ``catalog``: table name to an Arrow table.

    ``rows`` sets the size of the main fact tables; ``start`` and ``end`` the span of event
    times (both or neither). The tables implement ``__arrow_c_stream__``, so
    ``pyarrow.table(t)`` or ``polars.from_arrow(pyarrow.table(t))`` read them, and
    :meth:`Engine.register` takes them directly.
    """
    if rows < 0:
        raise ValueError("rows must not be negative")
    return _native.generate_demo(catalog._native, rows, seed, _text(start), _text(end))


def _text(value: Optional[When]) -> Optional[str]:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()
