#!/usr/bin/env bash
# The user's install paths, each into a fresh place (the Python ones are in python-test.sh):
#   * `npm pack` of bindings-node (Rust sources inside, no prebuilt addon), installed into a
#     fresh project, which builds the addon at install; then the README's JavaScript examples.
#   * `npm install ./bindings-node` into a fresh project; the package README's example.
#   * `cargo install --path kpi-cli` into a fresh root; `kpi --version` and a catalog check.
#   * `cargo install --path kpi-executor` into the same root; both binaries answer --version.
#   * `cargo package` of the four library crates (metadata, license, readme, versions).
# Builds use the dev profile and the shared target directory (CARGO_TARGET_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
# Cargo fingerprints the linker's path: builds of the copies of the sources (the npm tarball's
# native/ folder) must name the same one as .cargo/config.toml does for the checkout, or they
# would rebuild every dependency in the shared target directory.
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER="$root/scripts/linker/cc"
# A fixed place under the target directory: the tarball's crates then build at the same paths
# every run, so cargo reuses (and replaces) their artifacts instead of adding new ones.
scratch="$CARGO_TARGET_DIR/install-test"
rm -rf "$scratch"
mkdir -p "$scratch"
addon=$(cd bindings-node && node -p "require('./scripts/addon').file")
aside="$scratch/prebuilt.node"
pg_dir="$scratch/postgres"
restore() {
    [ -e "$aside" ] && mv "$aside" "$addon"
    [ -d "$pg_dir" ] && bash "$root/scripts/postgres.sh" stop "$pg_dir"
    rm -rf "$scratch"
}
trap restore EXIT

# The README's PostgreSQL example reads the test orders from a throwaway server.
pg_port=$(bash scripts/postgres.sh start "$pg_dir")
node -e 'require(process.argv[1]).loadReadmeOrders(process.argv[2])' "$root/bindings-node/test/postgres-server.js" "$pg_port"
export KPI_POSTGRES_DSN="postgresql://kpi:kpi-test@127.0.0.1:$pg_port/postgres?sslmode=disable"

# Run a README's ```js blocks in a project directory, as its own files (require resolves the
# installed package from there).
run_js_blocks() {
    local readme=$1 dir=$2
    node -e '
const fs = require("fs"), path = require("path")
const blocks = [...fs.readFileSync(process.argv[1], "utf8").matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1])
if (!blocks.length) { console.error(`${process.argv[1]} has no js examples`); process.exit(1) }
blocks.forEach((b, i) => fs.writeFileSync(path.join(process.argv[2], `example-${i}.js`), b))
' "$readme" "$dir"
    for example in "$dir"/example-*.js; do
        (cd "$dir" && node "$example")
        rm "$example"
    done
}

echo "install-test: npm pack (sources, no prebuilt addon) and install of the tarball"
[ -e "$addon" ] && mv "$addon" "$aside"
(cd bindings-node && npm pack --silent --pack-destination "$scratch" >/dev/null)
tarball=$(ls "$scratch"/kpi-engine-*.tgz)
tar -tzf "$tarball" > "$scratch/contents"
if grep -q '\.node$' "$scratch/contents"; then
    echo "install-test: the tarball should hold no addon here" >&2
    exit 1
fi
grep -q 'package/native/kpi-core/src/lib.rs' "$scratch/contents"
grep -q 'package/lib/results.js' "$scratch/contents"
mkdir "$scratch/from-tarball"
(cd "$scratch/from-tarball" && npm init -y >/dev/null &&
    KPI_ENGINE_PROFILE=dev npm install --no-audit --no-fund --foreground-scripts "$tarball")
run_js_blocks "$root/README.md" "$scratch/from-tarball"
run_js_blocks "$root/bindings-node/README.md" "$scratch/from-tarball"

echo "install-test: npm install ./bindings-node"
[ -e "$aside" ] && mv "$aside" "$addon"
mkdir "$scratch/from-folder"
(cd "$scratch/from-folder" && npm init -y >/dev/null &&
    KPI_ENGINE_PROFILE=dev npm install --no-audit --no-fund --foreground-scripts "$root/bindings-node")
run_js_blocks "$root/bindings-node/README.md" "$scratch/from-folder"

echo "install-test: cargo install --path kpi-cli"
cargo install --quiet --debug --locked --path kpi-cli --root "$scratch/cargo-root"
"$scratch/cargo-root/bin/kpi" --version
printf 'kpis:\n  - code: broken\n    name: Broken\n    formula: sum(orders.value\n' > "$scratch/broken.yaml"
if "$scratch/cargo-root/bin/kpi" check "$scratch/broken.yaml" > "$scratch/check.out" 2>&1; then
    echo "install-test: kpi check passed a broken catalog" >&2
    exit 1
fi
grep -q "broken.yaml:4:" "$scratch/check.out" || { cat "$scratch/check.out" >&2; exit 1; }

# Without verification: it builds each crate alone, with other features than the workspace,
# which would compile DataFusion four more times (docs/decisions.md, "Packaging and installs").
echo "install-test: cargo install --path kpi-executor"
cargo install --quiet --debug --locked --path kpi-executor --root "$scratch/cargo-root"
"$scratch/cargo-root/bin/kpi-scheduler" --version
"$scratch/cargo-root/bin/kpi-executor" --version

echo "install-test: cargo package of the library crates"
cargo package --quiet --locked --allow-dirty --no-verify -p kpi-formula -p kpi-catalog -p kpi-core -p kpi-pricing
for crate in kpi-formula kpi-catalog kpi-core kpi-pricing; do
    listing=$(cargo package --locked --allow-dirty --list -p "$crate")
    for file in LICENSE README.md Cargo.toml src/lib.rs; do
        grep -qx "$file" <<<"$listing" || { echo "install-test: $crate's package lacks $file" >&2; exit 1; }
    done
done
echo "install-test: ok"
