#!/usr/bin/env bash
# Fails when a crate that is built on its own (by maturin, by the Node package's build script,
# by `cargo install`) would resolve any dependency with features other than the workspace build
# does: each such difference compiles DataFusion a second time. The cure is a line in
# workspace-hack/Cargo.toml. Takes a second: `cargo tree` only resolves.
set -euo pipefail
cd "$(dirname "$0")/.."
features() {
    cargo tree --locked "$@" -e normal,build -f '{p} {f}' --prefix none | sed 's/ (\*)$//' | sort -u
}
workspace=$(cargo tree --locked --workspace -e normal,build,dev -f '{p} {f}' --prefix none | sed 's/ (\*)$//' | sort -u)
status=0
for package in kpi-engine-python kpi-engine-node kpi-cli kpi-examples; do
    extra=$(comm -13 <(printf '%s\n' "$workspace") <(features -p "$package"))
    if [ -n "$extra" ]; then
        echo "check-features: $package alone resolves features the workspace build does not:" >&2
        printf '  %s\n' "$extra" >&2
        status=1
    fi
done
exit $status
