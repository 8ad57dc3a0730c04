"""The catalog: the KPIs, object models, modules and value chains that can be measured."""

from __future__ import annotations

import json
import os
from typing import Any, Optional, Sequence

from . import _native


class Catalog:
    """A catalog of KPIs, object models, modules and value chains.

    >>> cat = Catalog.standard()
    >>> cat.kpi("perfect_order_rate")["name"]
    'Perfect Order Fulfillment'
    """

    def __init__(self, native: _native.Catalog) -> None:
        self._native = native

    @staticmethod
    def standard() -> "Catalog":
        """The standard catalog that ships with the engine."""
        return Catalog(_native.Catalog.standard())

    @staticmethod
    def from_yaml(path_or_text: "str | os.PathLike[str]") -> "Catalog":
        """A catalog from a YAML file, or from YAML text."""
        if _is_path(path_or_text):
            return Catalog(_native.Catalog.load(os.fspath(path_or_text)))
        return Catalog(_native.Catalog.from_yaml(str(path_or_text)))

    @staticmethod
    def from_json(path_or_text: "str | os.PathLike[str]") -> "Catalog":
        """A catalog from a JSON file, or from JSON text."""
        if _is_path(path_or_text):
            return Catalog(_native.Catalog.load(os.fspath(path_or_text)))
        return Catalog(_native.Catalog.from_json(str(path_or_text)))

    def kpis(self, module: Optional[str] = None, value_chain: Optional[str] = None) -> list[dict[str, Any]]:
        """The KPIs, optionally only those of a module and/or a value chain."""
        return json.loads(self._native.kpis_json(module, value_chain))

    def kpi(self, code: str) -> dict[str, Any]:
        """One KPI by code; :class:`CatalogError` (with suggestions) when there is none."""
        return json.loads(self._native.kpi_json(code))

    def object_models(self) -> list[dict[str, Any]]:
        """The object models (tables) with their columns and relationships."""
        return json.loads(self._native.object_models_json())

    def modules(self) -> list[dict[str, Any]]:
        """The modules."""
        return json.loads(self._native.modules_json())

    def value_chains(self) -> list[dict[str, Any]]:
        """The value chains."""
        return json.loads(self._native.value_chains_json())

    def required_objects(self, kpis: Sequence[str]) -> dict[str, Any]:
        """The object models and columns the given KPIs need."""
        return json.loads(self._native.required_objects_json(list(kpis)))

    def diagram(self, object_models: Sequence[str]) -> str:
        """A Mermaid diagram of the given object models and their relationships."""
        return self._native.diagram(list(object_models))

    def to_yaml(self) -> str:
        """The catalog as YAML."""
        return self._native.to_yaml()

    def __repr__(self) -> str:
        return f"<Catalog: {len(self.kpis())} KPIs>"


def _is_path(value: "str | os.PathLike[str]") -> bool:
    if isinstance(value, os.PathLike):
        return True
    return "\n" not in value and len(value) < 4096 and os.path.isfile(value)
