"""Python reaches everything a Rust user can do: the public operations of the Rust Engine,
Catalog and ClientConfig are read from the sources, and each must be in docs/api-parity.json
with the Python name that stands for it (or why there is none), and that name must exist. Every
error code maps to the class docs/api-parity.json names, the same in Python and Node."""

import json
import re
from pathlib import Path

import pytest

import kpi_engine as ke
from kpi_engine import _native

ROOT = Path(__file__).resolve().parents[2]
TABLE = json.loads((ROOT / "docs" / "api-parity.json").read_text())
TYPES = {"Engine": ROOT / "kpi-core" / "src", "Catalog": ROOT / "kpi-catalog" / "src", "ClientConfig": ROOT / "kpi-catalog" / "src"}
# Instances, so attributes set in constructors (`Engine.catalog`) count.
_CATALOG = ke.Catalog.standard()
OBJECTS = {
    "Engine": ke.Engine(_CATALOG),
    "Catalog": _CATALOG,
    "ClientConfig": ke.ClientConfig.from_dict({"id": "acme", "name": "Acme"}),
    "kpi_catalog::import": _CATALOG,
    "kpi_pricing": ke,
}


def rust_operations(source: Path, type_name: str) -> set[str]:
    """The `pub fn`s of every `impl Type { ... }` block under `source`."""
    found = set()
    block = re.compile(r"^impl (?:crate::)?%s \{\n(.*?)^\}" % type_name, re.S | re.M)
    for path in source.rglob("*.rs"):
        for m in block.finditer(path.read_text()):
            found.update(re.findall(r"^    pub (?:async )?fn (\w+)", m.group(1), re.M))
    return found


@pytest.mark.parametrize("type_name", sorted(TYPES))
def test_every_rust_operation_is_in_the_table(type_name):
    rust = rust_operations(TYPES[type_name], type_name)
    listed = set(TABLE[type_name])
    assert rust - listed == set(), f"public Rust operations of {type_name} with no Python or Node counterpart in docs/api-parity.json"
    assert listed - rust == set(), f"docs/api-parity.json lists operations {type_name} no longer has"


def test_free_functions_in_the_table_exist_in_rust():
    sources = {"kpi_catalog::import": ROOT / "kpi-catalog" / "src" / "import", "kpi_pricing": ROOT / "kpi-pricing" / "src"}
    for section, source in sources.items():
        text = "".join(p.read_text() for p in source.rglob("*.rs"))
        for name in TABLE[section]:
            assert re.search(r"pub fn %s\b" % name, text), f"{section}::{name}"


def python_names(entry: str) -> list[str]:
    """The attribute paths an entry's Python name stands for: `register`, `Catalog.from_yaml`."""
    names = []
    for part in entry.split(" / "):
        token = re.split(r"[ (]", part.strip(), maxsplit=1)[0]
        names.append(token.removeprefix("kpi_engine."))
    return names


def resolve(section: str, path: str):
    obj = OBJECTS[section]
    parts = path.split(".")
    if parts[0] in ("Engine", "Catalog", "ClientConfig", "pricing", "demo"):
        obj = ke
    for part in parts:
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("section", sorted(OBJECTS))
def test_every_python_name_exists(section):
    for rust, entry in TABLE[section].items():
        if entry["python"] is None:
            assert entry.get("why"), f"{section}::{rust} has no Python name and no reason"
            continue
        for name in python_names(entry["python"]):
            assert resolve(section, name) is not None, f"{section}::{rust} -> {name}"


def test_every_error_code_maps_to_the_same_class_as_in_node():
    codes = dict(_native.error_codes())
    assert set(codes) == set(TABLE["errors"]), "docs/api-parity.json lists every error code"
    for code, kind in codes.items():
        err = _native.error_from_json(json.dumps({"code": code, "kind": kind, "message": "m"}))
        assert type(err).__name__ == TABLE["errors"][code], code
        assert isinstance(err, ke.KpiError) and (err.code, err.kind) == (code, kind)
