#!/bin/bash
# bench_fleet.sh BUILD_DIR [DOMAINS [HOSTS [ROUNDS]]] - run bench/bench_fleet
# against a redis-server of its own: once over a unix socket and once over
# TCP on loopback, each with AOF persistence (appendfsync everysec, what
# docs/fleet.md recommends).  No root needed; redis-server must be
# installed (tools/install-deps.sh).  About a minute on 2 cores.
set -euo pipefail
BUILD=$(cd "${1:?usage: bench_fleet.sh BUILD_DIR [DOMAINS [HOSTS [ROUNDS]]]}" && pwd)
shift
BENCH=$BUILD/bench/bench_fleet
[ -x "$BENCH" ] || { echo "build $BENCH first" >&2; exit 1; }
command -v redis-server >/dev/null || { echo "redis-server missing" >&2; exit 1; }
DIR=$(mktemp -d /tmp/mtasts-bench-redis.XXXXXX)
PORT=$((20000 + $$ % 20000))
stop() {
	[ -s "$DIR/redis.pid" ] && kill "$(cat "$DIR/redis.pid")" 2>/dev/null
	sleep 0.2
	rm -rf "$DIR"
}
trap stop EXIT
redis-server --port "$PORT" --bind 127.0.0.1 --unixsocket "$DIR/r.sock" \
	--daemonize yes --pidfile "$DIR/redis.pid" --dir "$DIR" \
	--logfile "$DIR/redis.log" --appendonly yes --appendfsync everysec \
	--save ""
for _ in $(seq 1 250); do [ -S "$DIR/r.sock" ] && break; sleep 0.02; done
echo "== unix socket"
"$BENCH" "unix:$DIR/r.sock" "$@"
echo "== TCP, 127.0.0.1"
"$BENCH" "redis://127.0.0.1:$PORT" "$@"
echo "== store memory: $(redis-cli -s "$DIR/r.sock" INFO memory | grep '^used_memory_human' | tr -d '\r')"
