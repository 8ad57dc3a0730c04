# The two commands of README.md: `make demo` (the main job) and `make test` (every test).
# Both install what they need through scripts/setup.sh.

CARGO ?= cargo
NEXTEST := $(shell cargo nextest --version >/dev/null 2>&1 && echo yes)

.PHONY: demo quickstart test setup bench check install-cli

setup:
	@bash scripts/setup.sh

## The main job: the reference dashboard server on embedded demo data with live appends, its
## engine built for speed (release). Prints the URL; runs until Ctrl-C (or KPI_DEMO_SECONDS).
demo: setup
	bash scripts/demo.sh

## The Rust quickstart: a 20-KPI dashboard printed to the terminal (release).
quickstart: setup
	$(CARGO) run --release -q -p kpi-examples --bin quickstart

## Every test: each criterion benchmark once as a test (so they cannot rot), the doctests
## (README included), unit and integration tests of all crates (the `kpi` command line's
## included), the forecast backtest of the standard KPIs (the model must beat the seasonal
## naive baseline), the cluster benchmark on a small table (so it cannot rot), then the Python package installed by pip into a fresh virtual environment
## with its pytest suite, the Node package's node:test suite, and the install paths users take
## (npm tarball and folder, cargo install, cargo package). One dev profile, one set of
## features (scripts/check-features.sh) and one target dir for all, so DataFusion compiles once.
test:
	@bash scripts/setup.sh --tests
	bash scripts/check-features.sh
	bash scripts/check-msrv.sh
	$(CARGO) build --workspace --all-targets
	$(CARGO) test --workspace --bench '*'
	$(CARGO) test --workspace --doc
ifeq ($(NEXTEST),yes)
	$(CARGO) nextest run --workspace --no-fail-fast
else
	$(CARGO) test --workspace --lib --bins --tests --no-fail-fast
endif
	"$${CARGO_TARGET_DIR:-target}/debug/forecast-backtest" --rows 50000 --check
	"$${CARGO_TARGET_DIR:-target}/debug/cluster-scaling" --rows 20000 --executors 1,2 --runs 1
	bash scripts/python-test.sh
	bash scripts/node-test.sh
	bash scripts/install-test.sh

## The `kpi` command line, installed into ~/.cargo/bin (release).
install-cli: setup
	$(CARGO) install --locked --path kpi-cli

## Criterion benchmarks (release build; numbers in target/criterion).
bench: setup
	$(CARGO) bench -p kpi-benches

## Lints as CI would want them.
check: setup
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) fmt --all -- --check
