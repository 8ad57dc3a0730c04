#!/usr/bin/env bash
# The main job (`make demo`): builds the engine's Node addon in release mode, installs the
# dashboard server's npm dependencies, and starts the server on demo data with live appends. It
# prints the URL and a first look at the KPIs, then runs until Ctrl-C (or KPI_DEMO_SECONDS).
# Only the addon is built in release (as `npm run build` does), so DataFusion is compiled once
# for the demo; cargo's progress shows while it does.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
if [ ! -d "$target/release" ]; then
  echo "building the engine in release mode (about half an hour on two cores the first time)..."
fi
(cd bindings-node && KPI_ENGINE_PROFILE=release node scripts/build.js)
cd examples/dashboard-server
# The addon is built; the package's install script has nothing to add.
npm ci --omit=dev --ignore-scripts --no-audit --no-fund --silent
exec node src/main.js --demo
