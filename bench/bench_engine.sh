#!/bin/bash
# bench_engine.sh BUILD_DIR [N [S]] - run bench/bench_engine in a test world
# of its own (tests/integration/world.sh), with the peer daemon
# postfix-mta-sts-resolver started in the same namespace when installed,
# then stop everything.  Prints the benchmark's figures and, as a check of
# its counting, the TXT queries and fetches that unbound and nginx saw.
#   N  cold-lookup domains (default 50), S  simulated domains (default 40);
#   N + S <= 100: the good server's certificate (certtool) holds at most
#   128 names and the world has policy domains of its own (26 today).
# Extra arguments for bench_engine: BENCH_ARGS (e.g. "-k 4 -r 60 -d 14").
# Needs root.  A few minutes on 2 cores.
set -uo pipefail
BUILD=$(cd "${1:?usage: bench_engine.sh BUILD_DIR [N [S]]}" && pwd)
N=${2:-50}
S=${3:-40}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$BUILD/bench/bench_engine
MODULE=$BUILD/plugin/mtasts.so
PEER_PORT=8461		# normal cache
PEER_COLD_PORT=8462	# one-entry cache: every lookup over N domains is cold
[ "$(id -u)" -eq 0 ] || { echo "bench_engine.sh: needs root" >&2; exit 1; }
if [ ! -x "$BENCH" ] || [ ! -f "$MODULE" ]; then
	echo "build $BENCH and $MODULE first" >&2
	exit 1
fi
[ $((N + S)) -le 100 ] || { echo "N + S must be <= 100" >&2; exit 2; }
. "$ROOT/tests/integration/lib.sh"

# Every benchmark domain is a policy domain of the world (a place in the
# good server's certificate, this policy) whose A and TXT records have TTL
# 0: no resolver cache keeps them, each lookup reaches unbound.
POL=$(mktemp -d /tmp/mtasts-bench-pol.XXXXXX)
POLICY='version: STSv1
mode: enforce
mx: mx1.example.test
mx: *.example.test
max_age: 604800
'
{
	for i in $(seq 0 $((N - 1))); do echo "b$i.bench.test"; done
	for i in $(seq 0 $((S - 1))); do echo "e$i.bench.test"; done
} | while read -r d; do
	printf '%s' "$POLICY" > "$POL/$d"
	echo "local-data: \"mta-sts.$d. 0 IN A 127.0.0.10\"" >> "$POL.zone"
	echo "local-data: '_mta-sts.$d. 0 IN TXT \"v=STSv1; id=1;\"'" >> "$POL.zone"
done

WORLD_EXTRA_POLICIES=$POL WORLD_EXTRA_ZONE=$POL.zone world_up bench >/dev/null ||
	{ echo "world did not start"; rm -rf "$POL" "$POL.zone"; exit 1; }
trap 'world_down; rm -rf "$POL" "$POL.zone"' EXIT
ndom=$(wc -l < "$TW/policy-domains")
nsan=$(openssl x509 -in "$TW/certs/policy.crt" -noout -ext subjectAltName | grep -o 'DNS:' | wc -l)
echo "world: $ndom policy domains, $nsan names in policy.crt"
if [ "$nsan" -lt "$ndom" ]; then
	echo "policy.crt cannot hold every policy domain: use a smaller N or S" >&2
	exit 1
fi

CONF=$TW/mtasts.conf
cat > "$CONF" <<CONF
cache_path = $TW/cache
cache_size = 16M
ca_file = $CA
log_level = err
CONF

start_peer() {	# PORT CACHE_SIZE
	cat > "$TW/peer-$1.yml" <<YML
host: 127.0.0.1
port: $1
cache:
  type: internal
  options:
    cache_size: $2
default_zone:
  strict_testing: false
  timeout: 4
YML
	# python's ssl (aiohttp) reads SSL_CERT_FILE; c-ares reads the
	# namespace's /etc/resolv.conf: the world's unbound
	wx env SSL_CERT_FILE="$CA" mta-sts-daemon -c "$TW/peer-$1.yml" \
		-l "$TW/log/peer-$1.log" -v info &
	echo $! > "$TW/run/peer-$1.pid"
	for i in $(seq 1 250); do
		wx bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null && return 0
		sleep 0.04
	done
	echo "peer on port $1 did not start" >&2
	return 1
}

port_arg=""
if command -v mta-sts-daemon >/dev/null; then
	start_peer $PEER_PORT 10000 && start_peer $PEER_COLD_PORT 1 &&
		port_arg="-p $PEER_PORT -q $PEER_COLD_PORT"
	echo "peer: $(dpkg-query -W postfix-mta-sts-resolver 2>/dev/null | tr '\t' ' ');" \
		"mta-sts-query b0.bench.test -> $(wx env SSL_CERT_FILE="$CA" mta-sts-query b0.bench.test 2>&1 | tr '\n' ' ')"
else
	echo "peer: mta-sts-daemon not installed, skipped"
fi

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
# shellcheck disable=SC2086
wx "$BENCH" -c "$CONF" -m "$MODULE" -n "$N" -s "$S" $port_arg ${BENCH_ARGS:-}
rc=$?
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# What the servers saw for the simulated domains (eI.bench.test), both
# simulations together; the benchmark's own totals should add up to these.
txt=$(grep -ciE ' info: [0-9.]+ _mta-sts\.e[0-9]+\.bench\.test\. TXT IN$' "$TW/log/unbound.log")
fet=$(cat "$TW"/log/nginx-*.log | grep -ciE '^mta-sts\.e[0-9]+\.bench\.test [0-9.]+ "GET /\.well-known/mta-sts\.txt ')
echo "servers saw for eI.bench.test: TXT queries $txt, policy fetches $fet"
ptxt=$(grep -ciE ' info: [0-9.]+ _mta-sts\.b[0-9]+\.bench\.test\. TXT IN$' "$TW/log/unbound.log")
pfet=$(cat "$TW"/log/nginx-*.log | grep -ciE '^mta-sts\.b[0-9]+\.bench\.test [0-9.]+ "GET /\.well-known/mta-sts\.txt ')
echo "servers saw for bI.bench.test (all cold parts, mtasts and peer): TXT queries $ptxt, policy fetches $pfet"
exit $rc
