"""The catalog: the KPIs, object models, modules and value chains that can be measured."""

from __future__ import annotations

import json
import os
from typing import Any, Optional, Sequence

from . import _native
from .notebook import Diagram


class Catalog:
    """A catalog of KPIs, object models, modules and value chains.

    >>> cat = Catalog.standard()
    >>> cat.kpi("perfect_order_rate")["name"]
    'Perfect Order Fulfillment'
    """

    def __init__(self, native: _native.Catalog) -> None:
        self._native = native
        #: What an import (:meth:`from_dbt`) left out: ``{"what", "reason", "location", "file",
        #: "line", "column"}`` each; empty otherwise.
        self.skipped: list[dict[str, Any]] = []

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

    @staticmethod
    def from_dbt(path: "str | os.PathLike[str]") -> "Catalog":
        """A catalog from a dbt project's semantic models and metrics: a project directory,
        one of its YAML files, or ``target/semantic_manifest.json``. What cannot be imported
        exactly is listed in :attr:`skipped` with the reason and its location."""
        native, skipped = _native.Catalog.from_dbt(os.fspath(path))
        catalog = Catalog(native)
        catalog.skipped = json.loads(skipped)
        return catalog

    @staticmethod
    def empty() -> "Catalog":
        """A catalog with nothing in it, to build with :meth:`add_kpi` and the like."""
        return Catalog(_native.Catalog.empty())

    def kpis(self, module: Optional[str] = None, value_chain: Optional[str] = None) -> list[dict[str, Any]]:
        """The KPIs, optionally only those of a module and/or a value chain."""
        return json.loads(self._native.kpis_json(module, value_chain))

    def kpi(self, code: str) -> dict[str, Any]:
        """One KPI by code; :class:`CatalogError` (with suggestions) when there is none."""
        return json.loads(self._native.kpi_json(code))

    def search(self, text: str) -> list[dict[str, Any]]:
        """The KPIs matching every word of ``text`` in code, name, tags, module, value chain or
        description, best first: each ``{"kpi": {...}, "score": ...}``."""
        return json.loads(self._native.search_json(text))

    def object_models(self) -> list[dict[str, Any]]:
        """The object models (tables) with their columns and relationships."""
        return json.loads(self._native.object_models_json())

    def object_model(self, code: str) -> dict[str, Any]:
        """One object model by code."""
        return json.loads(self._native.object_model_json(code))

    def modules(self, value_chain: Optional[str] = None) -> list[dict[str, Any]]:
        """The modules, optionally only those of a value chain."""
        return json.loads(self._native.modules_json(value_chain))

    def module(self, code: str) -> dict[str, Any]:
        """One module by code."""
        return json.loads(self._native.module_json(code))

    def value_chains(self) -> list[dict[str, Any]]:
        """The value chains."""
        return json.loads(self._native.value_chains_json())

    def value_chain(self, code: str) -> dict[str, Any]:
        """One value chain by code."""
        return json.loads(self._native.value_chain_json(code))

    def required_objects(self, kpis: Sequence[str]) -> dict[str, Any]:
        """The object models and columns the given KPIs need."""
        return json.loads(self._native.required_objects_json(list(kpis)))

    def diagram(self, object_models: Sequence[str]) -> Diagram:
        """A Mermaid diagram of the given object models and their relationships; it renders in
        Jupyter, and ``str()`` gives its text."""
        return Diagram(self._native.diagram(list(object_models)))

    def problems(self) -> list[dict[str, Any]]:
        """Every validation problem: ``kind``, ``message``, ``help``, ``path``, ``line``, ``column``."""
        return json.loads(self._native.problems_json())

    def validate_formula(self, formula: str) -> list[dict[str, Any]]:
        """Every problem of ``formula`` over this catalog (an empty list when it is valid): ``code``
        (e.g. ``"unknown-column"``), ``message``, ``source`` (``"formula"``, or ``"kpi <code>"`` for a
        KPI it references), ``line``, ``column``, ``start``, ``end`` and, where known, ``expected``,
        ``found`` and ``help`` (a "did you mean")."""
        return json.loads(self._native.validate_formula_json(formula))

    def validate(self) -> None:
        """Raises :class:`CatalogError` listing every problem, if there are any."""
        self._native.validate()

    def add_kpi(self, definition: dict[str, Any]) -> None:
        """Adds (or replaces) a KPI: ``{"code", "name", "formula", ...}`` as in the catalog's
        YAML. Engines made before keep the catalog they were made with."""
        self._native.add_kpi(json.dumps(definition))

    def remove_kpi(self, code: str) -> Optional[dict[str, Any]]:
        """Removes a KPI; its definition, or ``None`` when there was none."""
        text = self._native.remove_kpi(code)
        return json.loads(text) if text is not None else None

    def add_object_model(self, definition: dict[str, Any]) -> None:
        """Adds (or replaces) an object model."""
        self._native.add_object_model(json.dumps(definition))

    def add_module(self, definition: dict[str, Any]) -> None:
        """Adds (or replaces) a module."""
        self._native.add_module(json.dumps(definition))

    def add_value_chain(self, definition: dict[str, Any]) -> None:
        """Adds (or replaces) a value chain."""
        self._native.add_value_chain(json.dumps(definition))

    def extend(self, other: "Catalog") -> None:
        """Adds everything of ``other``; its definitions replace these of the same code."""
        self._native.extend(other._native)

    def import_seed_json(self, definitions: "str | dict[str, Any] | list[dict[str, Any]]") -> list[str]:
        """Imports KPIs in the seed's ``KPIDefinition`` JSON shape (text, one dict or a list);
        the codes imported. Nothing is imported when any of them is invalid."""
        text = definitions if isinstance(definitions, str) else json.dumps(definitions)
        return self._native.import_seed_json(text)

    def import_sql(self, kpis: "list[dict[str, Any]]") -> list[str]:
        """Imports SQL-defined KPIs: ``[{"code", "query": "SELECT SUM(x) FROM t WHERE ...", "name"?,
        "schedule"?}]``; the codes imported."""
        return self._native.import_sql(json.dumps(kpis))

    def for_client(self, client: "ClientConfig") -> "Catalog":
        """The catalog as ``client`` sees it: its custom KPIs added, everything validated."""
        return Catalog(self._native.for_client(client._native))

    def to_yaml(self) -> str:
        """The catalog as YAML."""
        return self._native.to_yaml()

    def to_json(self) -> str:
        """The catalog as JSON."""
        return self._native.to_json()

    def save(self, path: "str | os.PathLike[str]") -> None:
        """Writes the catalog to a file, as JSON for ``.json`` and YAML otherwise."""
        self._native.save(os.fspath(path))

    def __repr__(self) -> str:
        return f"<Catalog: {len(self.kpis())} KPIs>"

    def _repr_html_(self) -> str:
        """The KPIs by module for notebooks."""
        import html

        rows = "".join(
            f"<tr><td>{html.escape(k['code'])}</td><td>{html.escape(k['name'])}</td><td>{html.escape(k.get('module') or '')}</td>"
            f"<td><code>{html.escape(k['formula'])}</code></td></tr>"
            for k in self.kpis()
        )
        return (
            f"<div><b>Catalog</b>: {len(self.kpis())} KPIs, {len(self.object_models())} object models, {len(self.modules())} modules</div>"
            f"<details><summary>KPIs</summary><table><tr><th>code</th><th>name</th><th>module</th><th>formula</th></tr>{rows}</table></details>"
        )


class ClientConfig:
    """One client's configuration: selected and custom KPIs, data sources, field mappings
    (the client's field names for object-model columns) and retention.

    >>> client = ClientConfig.from_dict({"id": "acme", "name": "Acme", "selected_kpis": ["revenue"]})
    >>> client.to_dict()["id"]
    'acme'
    """

    def __init__(self, native: _native.ClientConfig) -> None:
        self._native = native

    @staticmethod
    def from_yaml(path_or_text: "str | os.PathLike[str]") -> "ClientConfig":
        """A client configuration from a YAML file, or from YAML text."""
        if _is_path(path_or_text):
            with open(path_or_text, encoding="utf-8") as f:
                return ClientConfig(_native.ClientConfig.from_yaml(f.read()))
        return ClientConfig(_native.ClientConfig.from_yaml(str(path_or_text)))

    @staticmethod
    def from_json(text: str) -> "ClientConfig":
        """A client configuration from JSON text."""
        return ClientConfig(_native.ClientConfig.from_json(text))

    @staticmethod
    def from_dict(config: dict[str, Any]) -> "ClientConfig":
        """A client configuration from a dict of its fields."""
        return ClientConfig.from_json(json.dumps(config))

    def to_dict(self) -> dict[str, Any]:
        """The configuration as a dict."""
        return json.loads(self._native.to_json())

    def to_yaml(self) -> str:
        """The configuration as YAML."""
        return self._native.to_yaml()

    def to_json(self) -> str:
        """The configuration as JSON."""
        return self._native.to_json()

    def __repr__(self) -> str:
        d = self.to_dict()
        return f"<ClientConfig {d.get('id')!r}: {len(d.get('selected_kpis', []))} KPIs>"


def _is_path(value: "str | os.PathLike[str]") -> bool:
    if isinstance(value, os.PathLike):
        return True
    return "\n" not in value and len(value) < 4096 and os.path.isfile(value)


def validate_formula(catalog: Catalog, formula: str) -> list[dict[str, Any]]:
    """Every problem of ``formula`` over ``catalog`` (see :meth:`Catalog.validate_formula`)."""
    return catalog.validate_formula(formula)
