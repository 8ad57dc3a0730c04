#!/usr/bin/env bash
# Builds the Node package `kpi-engine` as `npm run build` does (dev profile, the shared target
# directory; with the features unified by workspace-hack/ it reuses the workspace build) and
# runs its node:test suite, then the dashboard server's.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
target="${CARGO_TARGET_DIR:-$root/target}"
export CARGO_TARGET_DIR="$target"
cd bindings-node
KPI_ENGINE_PROFILE=dev node scripts/build.js
# The package's own install script would build again; the addon is there.
npm ci --ignore-scripts --no-audit --no-fund --silent
node --test test/
# index.d.ts is hand-written: its documented uses must type-check and misuses must not.
npx --no-install tsc --noEmit --strict --module nodenext --moduleResolution nodenext --types node test-d/index.ts

# The reference dashboard server, which embeds the package; its browser test leaves a
# screenshot in the target directory's artifacts.
export KPI_ARTIFACTS="$target/artifacts"
cd ../examples/dashboard-server
npm ci --ignore-scripts --no-audit --no-fund --silent
node --test test/
