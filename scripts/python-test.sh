#!/usr/bin/env bash
# The Python package as users install it: `pip install ./bindings-python` (maturin, from PyPI,
# builds the native module) into a fresh virtual environment, then its pytest suite, which runs
# the README's Python examples. Then a wheel made by `maturin build` goes into a second fresh
# environment with no Rust toolchain on PATH and runs the package README's example.
#
# Builds use the dev profile and the shared target directory; with the features unified
# (workspace-hack/), maturin's cargo build reuses what `cargo build --workspace` compiled.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export MATURIN_PEP517_ARGS="--profile dev"
pip_quiet=(-q --disable-pip-version-check)

venv="$CARGO_TARGET_DIR/python-test-venv"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install "${pip_quiet[@]}" -r bindings-python/requirements-test.txt
echo "python-test: pip install ./bindings-python"
"$venv/bin/pip" install "${pip_quiet[@]}" ./bindings-python
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')

# The sources are under python/, so `import kpi_engine` is the installed package.
(cd bindings-python && "$venv/bin/python" -m pytest -q -p no:cacheprovider tests --doctest-modules "$site/kpi_engine")

# The side-by-side benchmark harness (benches/peers) on a few thousand orders, so it cannot rot:
# every case runs and the engine's numbers are checked against DuckDB's on the way.
echo "python-test: benches/peers/peers.py, small"
"$venv/bin/python" benches/peers/peers.py --orders 3000 --repeat 1 --out "$CARGO_TARGET_DIR/peers-smoke.md" > /dev/null

echo "python-test: maturin build, then the wheel into an environment without Rust"
wheels="$CARGO_TARGET_DIR/wheels"
rm -rf "$wheels"
"$venv/bin/pip" install "${pip_quiet[@]}" 'maturin>=1.9,<2'
"$venv/bin/maturin" build --quiet --profile dev --manifest-path bindings-python/Cargo.toml --out "$wheels" --interpreter "$venv/bin/python"
clean="$CARGO_TARGET_DIR/python-wheel-venv"
rm -rf "$clean"
python3 -m venv "$clean"
no_rust_path=$(printf '%s' "$PATH" | tr ':' '\n' | grep -v -e cargo -e rustup | paste -sd: -)
wheel=$(ls "$wheels"/kpi_engine-*.whl)
PATH="$no_rust_path" "$clean/bin/pip" install "${pip_quiet[@]}" "$wheel"
# The package README's example, run by the wheel's environment away from the source tree.
readme="$root/bindings-python/README.md"
(cd "$CARGO_TARGET_DIR" && PATH="$no_rust_path" "$clean/bin/python" -c '
import re, sys
block = re.findall(r"```python\n(.*?)```", open(sys.argv[1]).read(), re.S)[0]
exec(compile(block, sys.argv[1], "exec"), {})
' "$readme")
