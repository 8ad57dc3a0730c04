#!/usr/bin/env bash
# Builds the Python package `kpi_engine` into a fresh virtual environment and runs its pytest
# suite. The native module is built by the same cargo invocation shape as the workspace tests
# (`cargo build --workspace --all-targets`, dev profile, same target directory), so DataFusion
# is not compiled again for it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --workspace --all-targets

venv="$target/python-test-venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check -r bindings-python/requirements-test.txt

site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cp -r bindings-python/python/kpi_engine "$site/"
cp "$target/debug/libkpi_engine_native.so" "$site/kpi_engine/_native.abi3.so"

cd bindings-python
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests --doctest-modules "$site/kpi_engine"
