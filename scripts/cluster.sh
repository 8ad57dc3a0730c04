#!/usr/bin/env bash
# A throwaway Ballista cluster on loopback for tests and examples: `kpi-scheduler` and N
# `kpi-executor` processes on free ports, logs and shuffle files inside DIR.
#   cluster.sh start DIR [EXECUTORS]   starts them (2 executors by default), prints the
#                                      scheduler's df://127.0.0.1:PORT once it listens
#   cluster.sh stop DIR                stops them and removes DIR
# Each executor runs $KPI_EXECUTOR_TASKS tasks at once (2 by default).
# The binaries come from $KPI_CLUSTER_BIN, else the dev build in $CARGO_TARGET_DIR (or
# target/), else PATH (`cargo install --path kpi-executor`).
set -euo pipefail

cmd="${1:?usage: cluster.sh start|stop DIR [EXECUTORS]}"
dir="${2:?usage: cluster.sh start|stop DIR [EXECUTORS]}"
root="$(cd "$(dirname "$0")/.." && pwd)"

bin_dir() {
    for d in "${KPI_CLUSTER_BIN:-}" "${CARGO_TARGET_DIR:-$root/target}/debug"; do
        [ -n "$d" ] && [ -x "$d/kpi-scheduler" ] && [ -x "$d/kpi-executor" ] && { echo "$d"; return; }
    done
    command -v kpi-scheduler >/dev/null && { dirname "$(command -v kpi-scheduler)"; return; }
    echo "cluster.sh: no kpi-scheduler/kpi-executor binaries (cargo build -p kpi-executor)" >&2
    exit 1
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

case "$cmd" in
start)
    executors="${3:-2}"
    bin="$(bin_dir)"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    port="$(free_port)"
    nohup "$bin/kpi-scheduler" --bind-port "$port" --executor-timeout-seconds 10 >"$dir/scheduler.log" 2>&1 &
    echo $! >"$dir/scheduler.pid"
    for _ in $(seq 1 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        kill -0 "$(cat "$dir/scheduler.pid")" 2>/dev/null || { cat "$dir/scheduler.log" >&2; exit 1; }
        sleep 0.1
    done
    for i in $(seq 1 "$executors"); do
        mkdir -p "$dir/executor-$i"
        nohup "$bin/kpi-executor" --scheduler-port "$port" --bind-port "$(free_port)" --bind-grpc-port "$(free_port)" \
            --concurrent-tasks "${KPI_EXECUTOR_TASKS:-2}" --heartbeat-seconds 2 --work-dir "$dir/executor-$i" >"$dir/executor-$i.log" 2>&1 &
        echo $! >"$dir/executor-$i.pid"
    done
    echo "df://127.0.0.1:$port" >"$dir/url"
    cat "$dir/url"
    ;;
stop)
    for pid in "$dir"/*.pid; do
        [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
    done
    rm -rf "$dir"
    ;;
*)
    echo "cluster.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
