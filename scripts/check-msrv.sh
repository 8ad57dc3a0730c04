#!/usr/bin/env bash
# The declared minimum Rust version (workspace.package.rust-version) must be at least every
# dependency's own: cargo would refuse to build with the version we declare otherwise. (Our
# own code's use of newer std APIs is clippy's `incompatible_msrv` lint, in `make check`.)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo metadata --format-version 1 --locked > "${TMPDIR:-/tmp}/kpi-metadata.$$.json"
trap 'rm -f "${TMPDIR:-/tmp}/kpi-metadata.$$.json"' EXIT
python3 - "${TMPDIR:-/tmp}/kpi-metadata.$$.json" <<'PY'
import json, sys

meta = json.load(open(sys.argv[1]))
ours = {p["id"]: p for p in meta["packages"] if p["id"] in meta["workspace_members"]}
declared = {p["rust_version"] for p in ours.values() if p.get("rust_version")}
if len(declared) != 1:
    sys.exit(f"check-msrv: the workspace crates declare {sorted(declared) or 'no'} rust-version; expected one")
msrv = declared.pop()


def version(v):
    parts = [int(x) for x in v.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


newer = sorted(
    f"{p['name']} {p['version']} needs Rust {p['rust_version']}"
    for p in meta["packages"]
    if p["id"] not in ours and p.get("rust_version") and version(p["rust_version"]) > version(msrv)
)
if newer:
    sys.exit(f"check-msrv: dependencies need a newer Rust than the declared {msrv}:\n  " + "\n  ".join(newer))
print(f"check-msrv: Rust {msrv} covers every dependency")
PY
