#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine. Idempotent and quiet when
# everything is already there; safe to run before every `make` target. `--tests` adds what
# only the tests need (Chromium), so `make demo` does not wait for a browser download.
set -euo pipefail

for_tests=no
[ "${1:-}" = --tests ] && for_tests=yes

need_apt=()
command -v mold >/dev/null 2>&1 || need_apt+=(mold)
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
# The dashboard server's browser test drives Debian's Chromium (playwright-core).
[ $for_tests = yes ] && ! [ -x /usr/bin/chromium ] && need_apt+=(chromium)

if ((${#need_apt[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing ${need_apt[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q "${need_apt[@]}" >/dev/null 2>&1 ||
            { apt-get update -q >/dev/null && apt-get install -y -q "${need_apt[@]}" >/dev/null; }
    else
        echo "setup: ${need_apt[*]} missing and cannot be installed here (not root or no apt-get); continuing without" >&2
    fi
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "setup: cargo not found; install Rust (https://rustup.rs) first" >&2
    exit 1
fi
# The Node package, the dashboard server (`make demo`) and their tests.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    echo "setup: node and npm not found; install Node.js 18 or newer first" >&2
    exit 1
fi
