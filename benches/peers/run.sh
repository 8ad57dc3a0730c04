#!/usr/bin/env bash
# The side-by-side benchmark: builds the release Python package into its own virtual
# environment with DuckDB and Polars, then runs benches/peers/peers.py (the engine, DuckDB,
# Polars and hand-written DataFusion SQL in one process on the same Arrow data). Arguments go to
# peers.py (`--orders 10000000 --repeat 5 --out benches/peers/RESULTS.md`).
#
# A release build of its own target directory (KPI_BENCH_TARGET, default /var/tmp/kpi-bench-
# release): the dev build `make test` shares would measure debug code.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${KPI_BENCH_TARGET:-/var/tmp/kpi-bench-release}"
venv="$CARGO_TARGET_DIR/peers-venv"
pip_quiet=(-q --disable-pip-version-check)
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install "${pip_quiet[@]}" -r benches/peers/requirements.txt
echo "peers: building the release Python package (maturin, $CARGO_TARGET_DIR)" >&2
VIRTUAL_ENV="$venv" "$venv/bin/maturin" develop --quiet --release --manifest-path bindings-python/Cargo.toml >&2
exec "$venv/bin/python" benches/peers/peers.py "$@"
