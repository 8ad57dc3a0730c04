#!/usr/bin/env bash
# Builds the Node package `kpi-engine` and runs its node:test suite. The addon is built by the
# same cargo invocation shape as the workspace tests (`cargo build --workspace --all-targets`,
# dev profile, same target directory), so DataFusion is not compiled again for it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --workspace --all-targets
cp "$target/debug/libkpi_engine_node.so" bindings-node/kpi-engine.node
cd bindings-node
npm ci --no-audit --no-fund --silent
node --test test/
# index.d.ts is hand-written: its documented uses must type-check and misuses must not.
npx --no-install tsc --noEmit --strict --module nodenext --moduleResolution nodenext --types node test-d/index.ts

# The reference dashboard server, which embeds the package; its browser test leaves a
# screenshot in the target directory's artifacts.
export KPI_ARTIFACTS="$target/artifacts"
cd ../examples/dashboard-server
npm ci --no-audit --no-fund --silent
node --test test/
