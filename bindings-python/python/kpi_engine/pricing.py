"""Service proposals: the questionnaire, and a priced proposal for a set of KPIs.

>>> import kpi_engine as ke
>>> cat = ke.Catalog.standard()
>>> answers = {
...     "license_term": 1,
...     "default_integration": {"method": "batch_conformed"},
...     "environment": {"platform": "none"},
...     "infrastructure": {"daily_gb": 1, "concurrent_users": 10, "refresh": "hour"},
...     "managed_services": {"retainer": False},
... }
>>> proposal = ke.pricing.price(cat, kpis=["revenue"], answers=answers)
>>> proposal.to_markdown().startswith("#")
True
"""

from __future__ import annotations

import json
import os
from typing import Any, Mapping, Optional, Sequence, Union

from . import _native
from .catalog import Catalog


class Proposal:
    """A priced service proposal."""

    def __init__(self, native: _native.Proposal) -> None:
        self._native = native

    def to_dict(self) -> dict[str, Any]:
        """The proposal as plain Python, with the specification's field names."""
        return json.loads(self._native.to_json())

    def to_json(self) -> str:
        """The proposal as JSON."""
        return self._native.to_json()

    def to_markdown(self) -> str:
        """The proposal as a Markdown document."""
        return self._native.to_markdown()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def questionnaire(catalog: Optional[Catalog] = None, kpis: Optional[Sequence[str]] = None, price_book: Optional[str] = None) -> dict[str, Any]:
    """The proposal questionnaire: its steps and questions, for ``kpis`` of ``catalog`` when
    given. ``price_book``: YAML overrides of the default prices."""
    native = catalog._native if catalog is not None else None
    return json.loads(_native.questionnaire_json(native, list(kpis) if kpis is not None else None, price_book))


def price(
    catalog: Catalog,
    kpis: Sequence[str],
    answers: Union[Mapping[str, Any], str, "os.PathLike[str]"],
    price_book: Optional[str] = None,
) -> Proposal:
    """Prices ``kpis`` of ``catalog`` from the questionnaire's ``answers``: a dict, YAML or
    JSON text, or a path to such a file. :class:`PricingError` names a wrong answer."""
    if isinstance(answers, Mapping):
        text = json.dumps(answers, default=str)
    elif isinstance(answers, os.PathLike) or (isinstance(answers, str) and "\n" not in answers and os.path.isfile(answers)):
        with open(answers, encoding="utf-8") as f:
            text = f.read()
    else:
        text = str(answers)
    return Proposal(_native.price(catalog._native, list(kpis), text, price_book))
