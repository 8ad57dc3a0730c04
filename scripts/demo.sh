#!/usr/bin/env bash
# The main job (`make demo`): builds the engine's Node addon in release mode, installs the
# dashboard server's npm dependencies, and starts the server on demo data with live appends. It
# prints the URL and a first look at the KPIs, then runs until Ctrl-C (or KPI_DEMO_SECONDS).
# Only the addon is built in release, so DataFusion is compiled once for the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
if [ ! -e "$target/release/libkpi_engine_node.so" ]; then
  echo "building the engine in release mode (about half an hour on two cores the first time)..."
fi
cargo build --release -q -p kpi-engine-node
cp "$target/release/libkpi_engine_node.so" bindings-node/kpi-engine.node
cd examples/dashboard-server
npm ci --omit=dev --no-audit --no-fund --silent
exec node src/main.js
