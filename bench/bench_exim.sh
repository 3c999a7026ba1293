#!/bin/bash
# bench_exim.sh BUILD_DIR [ROUNDS] - what Exim pays end to end for MTA-STS.
#
# Three sending Exims in the Exim test world (tests/integration/exim/:
# receivers for every MX, the test PKI, unbound, nginx), run interleaved:
#   A   stock Exim: dnslookup router, smtp transport with Exim's defaults
#       (opportunistic TLS, nothing verified)
#   A'  stock Exim with TLS verification required of every host
#       (hosts_require_tls, tls_verify_hosts, tls_verify_cert_hostnames)
#   B   the shipped exim-config/ fragments with the built module
# A' and B trust the same bundle (the system store plus the test CA), A
# Exim's default "system": each pays the trust store a real host pays.
# Workloads (ten domains b1..b10.test, all MX mx1.example.test, the same
# enforced policy; the module's cache is warm, as with proactive refresh):
#   q1    200 messages to b1.test queued, then one `exim -qf`
#   qq1   the same with `exim -qqf` (routing first: connections reused)
#   q10   40 messages, each to one recipient in each of the ten domains, -qf
#   odi   one message, `exim -odi` (delivered before exim returns): p50 of
#         20 runs
# Each workload runs ROUNDS times (default 3) per configuration, the three
# configurations in a rotating order; the figure is the median of the
# rounds.  The receiving Exim counts connections and TLS handshakes (one
# per EHLO after STARTTLS).  Writes the table to docs/benchmarks.md
# (section "Exim end to end") and prints it.  Needs root.  About 5 minutes
# for 3 rounds on 2 cores.
set -uo pipefail
BUILD=$(cd "${1:?usage: bench_exim.sh BUILD_DIR [ROUNDS]}" && pwd)
ROUNDS=${2:-3}
# smaller runs to try the script (the table then says so): N1 messages for
# q1/qq1, N10 for q10, ODI single-message runs
N1=${N1:-200}
N10=${N10:-40}
ODI=${ODI:-20}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODULE=$BUILD/plugin/mtasts.so
HERE=$ROOT/tests/integration/exim
[ "$(id -u)" -eq 0 ] || { echo "bench_exim.sh: needs root" >&2; exit 1; }
[ -f "$MODULE" ] || { echo "build $MODULE first" >&2; exit 1; }
. "$ROOT/tests/integration/lib.sh"

TW=${TW:-/tmp/mtasts-bench-exim-$$}
export TW
EXTRA=$TW.extra
mkdir -p "$EXTRA/policies" "$TW.so"
install -m 644 "$MODULE" "$TW.so/mtasts.so"
install -m 644 "$BUILD/plugin/mtasts-net.so" "$TW.so/mtasts-net.so"
chmod 755 "$TW.so"
DOMAINS=""
for i in $(seq 1 10); do
	DOMAINS="$DOMAINS b$i.test"
	echo "local-data: \"b$i.test. 300 IN MX 10 mx1.example.test.\""
	printf 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n' \
		> "$EXTRA/policies/b$i.test"
done > "$EXTRA/bench.zone"
export MTASTS_SRC=$ROOT MTASTS_SO=$TW.so/mtasts.so
export WORLD_EXTRA_ZONE="$HERE/world.zone $EXTRA/bench.zone"
export WORLD_EXTRA_POLICIES="$HERE/policies $EXTRA/policies"
export WORLD_MX_NAMES="mx1.example.test mx2.example.test mx3.example.test mx4.example.test mx5.example.test mxc.example.test mx.other.test"
export WORLD_HOOK_START=$HERE/hook-start.sh
trap 'world_down; rm -rf "$TW.so" "$EXTRA"' EXIT
world_up bench-exim >/dev/null || { echo "bench_exim.sh: world did not start" >&2; exit 1; }
trap 'world_down; rm -rf "$TW.so" "$EXTRA"' EXIT	# world_up set its own

E=$TW/exim
BD=$TW/bench
RLOG=$E/recv/log/mainlog
mkdir -p "$BD"
cat /etc/ssl/certs/ca-certificates.crt "$TW/certs/ca.crt" > "$BD/bundle.crt"
chmod 644 "$BD/bundle.crt"

# mkconf NAME: $BD/NAME.conf; the routers and transports from stdin
mkconf() {
	mkdir -p "$BD/$1/spool" "$BD/$1/log"
	chown -R Debian-exim:Debian-exim "$BD/$1"
	{
		cat <<-EOF
		MTASTS_SO   = $MTASTS_SO
		MTASTS_CONF = $E/mtasts.conf
		MTASTS_CA   = $BD/bundle.crt
		ROUTER_DNSLOOKUP_IGNORE_TARGET_HOSTS = <; 0.0.0.0 ; 127.0.0.0/29
		domainlist local_domains = sender.test
		primary_hostname = sender.test
		qualify_domain = sender.test
		spool_directory = $BD/$1/spool
		log_file_path = $BD/$1/log/%slog
		local_interfaces = 127.0.0.1
		disable_ipv6 = true
		deliver_drop_privilege = true
		keep_environment =
		host_lookup =
		rfc1413_hosts =
		tls_advertise_hosts =
		log_selector = +smtp_confirmation +tls_certificate_verified +outgoing_port
		begin acl
		EOF
		cat
		cat <<-EOF
		begin retry
		*  *  F,2h,1m
		EOF
	} > "$BD/$1.conf"
	chmod 644 "$BD/$1.conf"
}
stock_router='begin routers
dnslookup:
  driver = dnslookup
  domains = ! +local_domains
  transport = remote_smtp
  same_domain_copy_routing = yes
  ignore_target_hosts = ROUTER_DNSLOOKUP_IGNORE_TARGET_HOSTS
  self = send
  no_more
begin transports'
mkconf A <<EOF
$stock_router
remote_smtp:
  driver = smtp
  allow_localhost
EOF
mkconf A2 <<EOF
$stock_router
remote_smtp:
  driver = smtp
  allow_localhost
  hosts_require_tls = *
  tls_verify_hosts = *
  tls_verify_cert_hostnames = *
  tls_verify_certificates = MTASTS_CA
  tls_sni = \$host
EOF
mkconf B <<EOF
.include $E/mtasts-acl.conf
begin routers
.include $E/mtasts-routers.conf
begin transports
.include $E/mtasts-transports.conf
EOF
CONFS="A A2 B"
label() { case $1 in A) echo "A" ;; A2) echo "A'" ;; B) echo "B" ;; esac; }

X() { wx exim4 -C "$BD/$1.conf" "${@:2}"; }
now() { date +%s%N; }
queued() { find "$BD/$1/spool/input" -name '*-H' 2>/dev/null | wc -l; }
recv_conns() { grep -c "SMTP connection from \[127.0.0.1\] I=\[127.0.0.11\]:25 (TCP" "$RLOG" || true; }
recv_tls() { grep -c "TLS-HANDSHAKE I=\[127.0.0.11\]" "$RLOG" || true; }

# queue_msgs CONF N MULTI: N messages, to b1 or (MULTI) to b1..b10
queue_msgs() {
	local i rcpts d
	for i in $(seq 1 "$2"); do
		rcpts=""
		if [ "$3" = 1 ]; then
			for d in $DOMAINS; do rcpts="$rcpts u$i@$d"; done
		else
			rcpts="u$i@b1.test"
		fi
		# shellcheck disable=SC2086
		printf 'Subject: bench %s\n\nbody\n' "$i" |
			X "$1" -odq -f s@sender.test $rcpts >/dev/null 2>&1
	done
}

# run_queue CONF FLAG N MULTI: prints "seconds connections handshakes"
run_queue() {
	local c t0 t1 c0 h0 i
	c=$1
	queue_msgs "$c" "$3" "$4"
	rm -f "$BD/$c"/spool/db/retry* "$BD/$c"/spool/db/wait-*
	c0=$(recv_conns) h0=$(recv_tls)
	t0=$(now)
	X "$c" "$2" >/dev/null 2>&1
	# handed-over sessions finish after the queue runner returns
	for i in $(seq 1 6000); do
		[ "$(queued "$c")" -eq 0 ] && break
		sleep 0.01
	done
	t1=$(now)
	[ "$(queued "$c")" -eq 0 ] || echo "bench_exim.sh: $c $2: mail left in the queue" >&2
	echo "$(( (t1 - t0) / 1000000 )) $(( $(recv_conns) - c0 )) $(( $(recv_tls) - h0 ))"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# run_odi CONF: p50 of 20 single-message deliveries, in ms
run_odi() {
	local c=$1 i t0 t1
	for i in $(seq 1 "$ODI"); do
		t0=$(now)
		printf 'Subject: odi\n\nbody\n' |
			X "$c" -odi -f s@sender.test "odi$i@b1.test" >/dev/null 2>&1
		t1=$(now)
		echo $(( (t1 - t0) / 1000 ))
	done | median
}

# warm up: the module's cache (B), the page cache, every configuration
for c in $CONFS; do
	for d in $DOMAINS; do
		printf 'Subject: warm\n\nbody\n' | X "$c" -odi -f s@sender.test "warm@$d" >/dev/null 2>&1
	done
done
for c in $CONFS; do
	n=$(grep -c " => warm@" "$BD/$c/log/mainlog")
	[ "$n" -eq 10 ] || { echo "bench_exim.sh: $c delivered $n of 10 warm-up messages" >&2; exit 1; }
done
grep -q " T=mtasts_smtp_enforce .*CV=yes" "$BD/B/log/mainlog" ||
	{ echo "bench_exim.sh: B did not enforce" >&2; exit 1; }

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
declare -A R	# R[workload/conf] = "value value ..." (one per round)
declare -A CN HS
for round in $(seq 1 "$ROUNDS"); do
	set -- $CONFS
	order="$*"
	for _ in $(seq 2 "$round"); do order="$(echo $order | awk '{print $2, $3, $1}')"; done
	for w in q1 qq1 q10 odi; do
		for c in $order; do
			case $w in
			q1) out=$(run_queue "$c" -qf "$N1" 0) ;;
			qq1) out=$(run_queue "$c" -qqf "$N1" 0) ;;
			q10) out=$(run_queue "$c" -qf "$N10" 1) ;;
			odi) out="$(run_odi "$c") - -" ;;
			esac
			set -- $out
			R[$w/$c]="${R[$w/$c]:-} $1"
			CN[$w/$c]="${CN[$w/$c]:-} $2"
			HS[$w/$c]="${HS[$w/$c]:-} $3"
			echo "round $round $w $(label "$c"): $out" >&2
		done
	done
done

table() {
	local w c v n what
	echo "| workload | A | A' | B | B / A' | connections A / A' / B | TLS handshakes A / A' / B |"
	echo "|---|---:|---:|---:|---:|---|---|"
	for w in q1 qq1 q10 odi; do
		case $w in
		q1) what="$N1 messages, one enforced domain, \`-qf\` (msg/s)"; n=$N1 ;;
		qq1) what="same, \`-qqf\` (msg/s)"; n=$N1 ;;
		q10) what="$N10 messages x 10 enforced domains, one MX, \`-qf\` (msg/s)"; n=$N10 ;;
		odi) what="one message \`-odi\`, p50 latency of $ODI (ms)"; n=0 ;;
		esac
		declare -A val
		for c in $CONFS; do
			v=$(echo "${R[$w/$c]}" | median)
			if [ $n -gt 0 ]; then
				val[$c]=$(awk -v n=$n -v ms="$v" 'BEGIN {printf "%.1f", n * 1000 / ms}')
			else
				val[$c]=$(awk -v us="$v" 'BEGIN {printf "%.1f", us / 1000}')
			fi
		done
		if [ $n -gt 0 ]; then
			ratio=$(awk -v b="${val[B]}" -v a="${val[A2]}" 'BEGIN {printf "%.2f", b / a}')
			conns="$(echo "${CN[$w/A]}" | median) / $(echo "${CN[$w/A2]}" | median) / $(echo "${CN[$w/B]}" | median)"
			hs="$(echo "${HS[$w/A]}" | median) / $(echo "${HS[$w/A2]}" | median) / $(echo "${HS[$w/B]}" | median)"
		else
			ratio=$(awk -v b="${val[B]}" -v a="${val[A2]}" 'BEGIN {printf "%.2f (latency)", b / a}')
			conns="1 each" hs="-"
		fi
		echo "| $what | ${val[A]} | ${val[A2]} | ${val[B]} | $ratio | $conns | $hs |"
	done
}
TABLE=$(table)
echo "$TABLE"

# docs/benchmarks.md: replace the generated part of "Exim end to end"
DOC=$ROOT/docs/benchmarks.md
{
	echo "<!-- bench_exim.sh begin -->"
	echo "Run: $(date -u +%Y-%m-%d), $ROUNDS rounds, $(nproc) cores, $(exim4 -bV 2>/dev/null | sed -n 's/^Exim version \([^ ]*\).*/Exim \1/p'), module $(git -C "$ROOT" log -1 --format=%h 2>/dev/null || echo '?'), load average $LOAD0 at the start and $(cut -d' ' -f1-3 /proc/loadavg) at the end."
	echo
	echo "$TABLE"
	echo "<!-- bench_exim.sh end -->"
} > "$TW.table"
if grep -q '^<!-- bench_exim.sh begin -->$' "$DOC"; then
	awk -v f="$TW.table" '
		/^<!-- bench_exim.sh begin -->$/ { while ((getline l < f) > 0) print l; skip = 1; next }
		/^<!-- bench_exim.sh end -->$/ { skip = 0; next }
		!skip { print }' "$DOC" > "$DOC.new" && mv "$DOC.new" "$DOC"
else
	{ echo; echo "## Exim end to end"; echo; cat "$TW.table"; } >> "$DOC"
fi
rm -f "$TW.table"
