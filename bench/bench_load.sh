#!/bin/bash
# bench_load.sh BUILD_DIR [RUNS]: what a delivery process pays for the
# module, measured as Exim uses it (bench_load.c): a cache seeded with one
# enforce policy, then fresh processes that load mtasts.so, open it,
# decide once and close it; and the same with the network half loaded.
# Needs no root and no network; writes only under a temporary directory.
set -euo pipefail
B=$(cd "${1:?usage: bench_load.sh BUILD_DIR [RUNS]}" && pwd)
RUNS=${2:-1000}
T=$(mktemp -d /tmp/mtasts-bench-load.XXXXXX)
trap 'rm -rf "$T"' EXIT
printf 'cache_path = %s/cache\n' "$T" >"$T/mtasts.conf"
"$B/bench/bench_seed" "$T/cache" enforce.example mx.enforce.example
echo "module $B/plugin/mtasts.so, $(nproc) cores, $RUNS runs a round," \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "libraries: mtasts.so $(ldd "$B/plugin/mtasts.so" | grep -c '=>')," \
	"mtasts-net.so $(ldd "$B/plugin/mtasts-net.so" | grep -c '=>')"
"$B/bench/bench_load" "$B/plugin/mtasts.so" "$T/mtasts.conf" \
	enforce.example mx.enforce.example "$RUNS" "$B/bench/libempty_module.so"
