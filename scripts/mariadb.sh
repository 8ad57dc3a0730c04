#!/usr/bin/env bash
# A throwaway MariaDB server for tests: its own data directory, a free loopback port, never a
# system service. `start DIR` creates DIR (mariadb-install-db on first use), starts the server
# with its socket and logs inside DIR, waits until it answers, and prints its port; `stop DIR`
# stops it and removes DIR. The server has a user `kpi` with password `kpi-test` and a
# database `kpi`.
#
# mariadbd refuses to run as root unless told which user to be: as root it runs as `mysql`
# when that user exists, otherwise `nobody`.
set -euo pipefail

cmd="${1:?usage: mariadb.sh start|stop DIR}"
dir="${2:?usage: mariadb.sh start|stop DIR}"

server=$(command -v mariadbd || ls /usr/sbin/mariadbd 2>/dev/null || true)
if [ -z "$server" ] || ! command -v mariadb-install-db >/dev/null; then
    echo "mariadb.sh: no MariaDB server binaries (run scripts/setup.sh --tests)" >&2
    exit 1
fi

user=$(id -un)
if [ "$(id -u)" = 0 ]; then
    user=mysql
    id "$user" >/dev/null 2>&1 || user=nobody
fi

case "$cmd" in
start)
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    [ "$(id -u)" = 0 ] && chown "$user" "$dir"
    if [ ! -d "$dir/data/mysql" ]; then
        mariadb-install-db --no-defaults --user="$user" --datadir="$dir/data" --auth-root-authentication-method=socket \
            --skip-test-db >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; exit 1; }
    fi
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    # --no-defaults: nothing from /etc/mysql; durability off, as for the PostgreSQL test servers.
    "$server" --no-defaults --user="$user" --datadir="$dir/data" --socket="$dir/mariadb.sock" \
        --pid-file="$dir/mariadb.pid" --log-error="$dir/server.log" --bind-address=127.0.0.1 --port="$port" \
        --skip-name-resolve --innodb-flush-log-at-trx-commit=0 --sync-binlog=0 --skip-log-bin \
        --default-time-zone=+00:00 --character-set-server=utf8mb4 >/dev/null 2>&1 &
    for _ in $(seq 1 300); do
        mariadb --no-defaults --socket="$dir/mariadb.sock" -u root -e 'SELECT 1' >/dev/null 2>&1 && break
        sleep 0.1
    done
    mariadb --no-defaults --socket="$dir/mariadb.sock" -u root -e "
        CREATE DATABASE IF NOT EXISTS kpi;
        CREATE USER IF NOT EXISTS 'kpi'@'%' IDENTIFIED BY 'kpi-test';
        GRANT ALL ON *.* TO 'kpi'@'%';" >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    echo "$port"
    ;;
stop)
    if [ -f "$dir/mariadb.pid" ]; then
        pid=$(cat "$dir/mariadb.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "mariadb.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
