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
# The PostgreSQL tests start throwaway servers of their own (scripts/postgres.sh): only the
# binaries are needed, not Debian's default cluster or its service.
if [ $for_tests = yes ] && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    need_apt+=(postgresql postgresql-client)
    if [ "$(id -u)" = 0 ]; then
        mkdir -p /etc/postgresql-common/createcluster.d
        echo "create_main_cluster = false" >/etc/postgresql-common/createcluster.d/kpi-engine.conf
    fi
fi
# Report PDFs are read back (pdftotext) and rendered (pdftoppm) by the tests.
[ $for_tests = yes ] && ! command -v pdftotext >/dev/null 2>&1 && need_apt+=(poppler-utils)
# The exported SQL is checked on a throwaway MariaDB server too (scripts/mariadb.sh).
[ $for_tests = yes ] && ! command -v mariadbd >/dev/null 2>&1 && ! [ -x /usr/sbin/mariadbd ] && need_apt+=(mariadb-server)
# OpenSSL is built into the shipped artifacts from source (openssl-src): it needs perl and make.
command -v perl >/dev/null 2>&1 || need_apt+=(perl)
command -v make >/dev/null 2>&1 || need_apt+=(make)

if ((${#need_apt[@]})); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "setup: installing ${need_apt[*]}"
        export DEBIAN_FRONTEND=noninteractive
        # Database packages would start a system service: forbid that while installing.
        policy=/usr/sbin/policy-rc.d
        own_policy=no
        if ! [ -e $policy ]; then
            printf '#!/bin/sh\nexit 101\n' >$policy && chmod +x $policy && own_policy=yes
        fi
        apt-get install -y -q "${need_apt[@]}" >/dev/null 2>&1 ||
            { apt-get update -q >/dev/null && apt-get install -y -q "${need_apt[@]}" >/dev/null; }
        if [ $own_policy = yes ]; then rm -f $policy; fi
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
