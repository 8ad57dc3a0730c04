#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests: its own data directory, a free loopback port, never
# a system service. `start DIR` creates DIR (initdb on first use), starts the server with
# sockets and logs inside DIR, and prints its port; `stop DIR` stops it and removes DIR.
# The server has a superuser `kpi` whose password is `kpi-test` (password authentication over
# TCP, so tests can check what a wrong password does).
#
# PostgreSQL refuses to run as root; as root the server runs as the `postgres` user when it
# exists, otherwise `nobody`.
set -euo pipefail

cmd="${1:?usage: postgres.sh start|stop DIR}"
dir="${2:?usage: postgres.sh start|stop DIR}"

bin=""
for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/postgres" ] && bin="$d"
done
if [ -z "$bin" ]; then
    echo "postgres.sh: no PostgreSQL server binaries (run scripts/setup.sh --tests)" >&2
    exit 1
fi

as_owner=()
if [ "$(id -u)" = 0 ]; then
    user=postgres
    id "$user" >/dev/null 2>&1 || user=nobody
    as_owner=(setpriv --reuid="$(id -u $user)" --regid="$(id -g $user)" --clear-groups --)
fi

case "$cmd" in
start)
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    [ "$(id -u)" = 0 ] && chown "$(id -u $user):$(id -g $user)" "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        printf 'kpi-test\n' >"$dir/pwfile"
        [ "$(id -u)" = 0 ] && chown "$(id -u $user)" "$dir/pwfile"
        "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U kpi --pwfile="$dir/pwfile" \
            --auth-host=scram-sha-256 --auth-local=trust -E UTF8 --locale=C.UTF-8 -N >"$dir/initdb.log" 2>&1 ||
            { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # A free port: bind port 0 and read what the kernel chose.
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    echo "$port" >"$dir/port"
    echo "$port"
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "postgres.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
