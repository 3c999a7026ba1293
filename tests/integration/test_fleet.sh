#!/bin/bash
# test_fleet.sh MTASTS TLSRPT_RECORD MODULE - TLS-RPT for a fleet of MTAs
# in the test world: a real redis-server in the world's namespace
# (127.0.0.50, AOF persistence, an ACL user limited to mtasts:* keys and
# the commands mtasts uses - what docs/fleet.md recommends), three hosts (separate report directories, caches and host
# ids, the same policy domains) recording through the built module
# (tlsrpt_record), pushing, and one report per domain delivered to the
# world's HTTPS collector (tlsrpt_collector.py, test CA).  Fault cases:
# the store stopped and restarted during pushes, the claiming host killed
# while it sends, hosts that never pushed.
set -uo pipefail
MTASTS=${1:?usage: test_fleet.sh MTASTS TLSRPT_RECORD MODULE}
RECORD=${2:?usage: test_fleet.sh MTASTS TLSRPT_RECORD MODULE}
MODULE=${3:?usage: test_fleet.sh MTASTS TLSRPT_RECORD MODULE}
[ "$(id -u)" -eq 0 ] || { echo "SKIP test_fleet.sh: needs root (network namespaces; CI runs it as root)"; exit 77; }
command -v redis-server >/dev/null || { echo "redis-server missing (tools/install-deps.sh)"; exit 1; }
. "$(dirname "$0")/lib.sh"
world_up fleet >/dev/null || { echo "world did not start"; exit 1; }

RIP=127.0.0.50
PASS=s3cret-$$
T0=$(date +%s)
DAY0=$(( (T0 / 86400 - 1) * 86400 ))	# yesterday, UTC
D0=$(date -u -d "@$DAY0" +%F)

# --- the store ---------------------------------------------------------
mkdir -p "$TW/redis"
cat > "$TW/redis.conf" <<EOF
bind $RIP
port 6379
daemonize yes
pidfile $TW/run/redis.pid
dir $TW/redis
logfile $TW/log/redis.log
appendonly yes
appendfsync always
save ""
user default on >admin-$$ ~* &* +@all
user mtasts on >$PASS ~mtasts:* resetchannels -@all +get +set +del +expire +expireat +hset +hget +hgetall +pttl +eval +multi +exec +select
EOF
# The default user stays enabled (with a password): Redis replays the
# AOF's MULTI/EXEC blocks as the default user and, before the fix of
# redis/redis#14541, re-checks its ACL at EXEC - with the default user off
# every transaction is dropped on restart (docs/fleet.md)
redis_up() {
	wx redis-server "$TW/redis.conf" || return 1
	for _ in $(seq 1 250); do
		rc_ PING >/dev/null 2>&1 && return 0
		sleep 0.02
	done
	return 1
}
rc_() { wx redis-cli -h $RIP --pass "admin-$$" --no-auth-warning "$@"; }
redis_down() {	# stop it for good (SIGTERM: the AOF is complete)
	local pid
	pid=$(cat "$TW/run/redis.pid" 2>/dev/null) || return 0
	kill "$pid"
	for _ in $(seq 1 250); do [ -e "/proc/$pid" ] || return 0; sleep 0.02; done
}
redis_up || { echo "redis-server did not start"; exit 1; }
printf '%s\n' "$PASS" > "$TW/redis.pass"
chmod 600 "$TW/redis.pass"

# --- the collector -------------------------------------------------------
"$LIB_DIR/mkcerts.sh" leaf "$TW/certs" collector ca rua.fleet.test >/dev/null
set_a rua.fleet.test 127.0.0.41
COL=$TW/collector
wx python3 "$LIB_DIR/tlsrpt_collector.py" "$COL" 127.0.0.41 443 \
	"$TW/certs/collector.crt" "$TW/certs/collector.key" >"$TW/log/collector.log" 2>&1 &
for _ in $(seq 1 250); do [ -e "$COL/ready" ] && break; sleep 0.02; done
cp "$COL/pid" "$TW/run/collector.pid" 2>/dev/null
check "collector is up" yes "$([ -e "$COL/ready" ] && echo yes || echo no)"
for d in alpha beta gamma; do
	uctl local_data "_smtp._tls.$d.test. 300 IN TXT \"v=TLSRPTv1; rua=https://rua.fleet.test/$d\""
done
posts() { find "$COL" -name '*.json' | wc -l; }
# "path domain ok failed" of every stored report of day $1, sorted
reports() {
	python3 - "$COL" "$1" <<'PY'
import glob, gzip, json, os, sys
col, day = sys.argv[1], sys.argv[2]
out = []
for meta in glob.glob(os.path.join(col, "*.json")):
    m = json.load(open(meta))
    r = json.loads(gzip.decompress(open(meta[:-5] + ".body", "rb").read()))
    if not r["date-range"]["start-datetime"].startswith(day):
        continue
    ok = sum(p["summary"]["total-successful-session-count"] for p in r["policies"])
    bad = sum(p["summary"]["total-failure-session-count"] for p in r["policies"])
    det = sum(d["failed-session-count"] for p in r["policies"] for d in p["failure-details"])
    assert det == bad, (det, bad)
    out.append("%s %s %d %d %s" % (m["path"], r["policies"][0]["policy"]["policy-domain"],
                                   ok, bad, r["report-id"]))
print("\n".join(sorted(out)))
PY
}

# --- three hosts -------------------------------------------------------
conf() {	# conf HOST [EXTRA-LINE...]
	local h=$1
	shift
	mkdir -p "$TW/$h"
	{
		echo "cache_path = $TW/$h/cache"
		echo "cache_size = 2M"
		echo "report_dir = $TW/$h/reports"
		echo "ca_file = $TW/certs/ca.crt"
		echo "report_org = Sender Org"
		echo "report_contact = tlsrpt@sender.test"
		echo "report_host = $h"
		echo "report_store_timeout = 1"
		echo "report_store_connect_timeout = 1"
		echo "report_claim_time = 8s"
		echo "report_push_deadline = 1h"
		echo "dns_timeout = 2"
		echo "log_level = warning"
		printf '%s\n' "$@"
	} > "$TW/$h.conf"
}
conf mx-a "report_store = redis://mtasts@$RIP:6379/0" \
	"report_store_password_file = $TW/redis.pass"
conf mx-b "report_store = redis://mtasts:$PASS@$RIP"
conf mx-c "report_store = redis://mtasts@$RIP/0" \
	"report_store_password_file = $TW/redis.pass"
at() {	# at TIME HOST ARGS...: mtasts on HOST, its clock at TIME
	local t=$1 h=$2
	shift 2
	MTASTS_FAKE_TIME=$t wx "$MTASTS" -c "$TW/$h.conf" "$@"
}
rec() {	# rec TIME HOST DOMAIN MX IP RESULT COUNT
	local t=$1 h=$2
	shift 2
	MTASTS_FAKE_TIME=$t wx "$RECORD" "$MODULE" "$TW/$h.conf" "$@" >/dev/null
}
record_day() {	# record_day DAY HOST-A HOST-B HOST-C: the same sessions
	local n=$(( $1 + 43200 ))
	rec $n "$2" alpha.test mx1.alpha.test 127.0.0.11 success 5
	rec $n "$2" alpha.test mx2.alpha.test 127.0.0.12 certificate-expired 2
	rec $n "$2" beta.test mx1.beta.test 127.0.0.13 success 3
	rec $n "$3" alpha.test mx1.alpha.test 127.0.0.11 success 7
	rec $n "$3" alpha.test mx2.alpha.test 127.0.0.12 certificate-expired 1
	rec $n "$3" alpha.test mx2.alpha.test - starttls-not-supported 1
	rec $n "$3" gamma.test mx1.gamma.test 127.0.0.14 success 4
	[ -n "${4:-}" ] || return 0
	rec $n "$4" alpha.test mx1.alpha.test 127.0.0.11 success 1
	rec $n "$4" beta.test mx1.beta.test - starttls-not-supported 2
}

# ===================== push, push again, one report ====================
record_day $DAY0 mx-a mx-b mx-c
check "the hosts recorded locally, one line per session" "10 13 3" \
	"$(wc -l < "$TW/mx-a/reports/results-$D0.tsv") $(wc -l < "$TW/mx-b/reports/results-$D0.tsv") $(wc -l < "$TW/mx-c/reports/results-$D0.tsv")"
NOW=$(( DAY0 + 86400 + 900 ))		# 00:15 the next day
for h in mx-a mx-b mx-c; do
	out=$(at $NOW $h report --push); rc=$?
	check "$h --push: exit 0" 0 "$rc"
	check_match "$h --push: the day pushed, final" "pushed $D0 as $h: [0-9]+ domains?, ok=[0-9]+ failed=[0-9]+ \(final\)" "$out"
done
# again: a re-push overwrites, never adds
at $NOW mx-a report --push >/dev/null
at $NOW mx-b report --push >/dev/null
st=$(at $NOW mx-c report --status "$D0"); rc=$?
check "--status: exit 0" 0 "$rc"
check "--status: every host, final, its own counts" \
"host: mx-a final ok=8 failed=2 domains=2
host: mx-b final ok=11 failed=2 domains=2
host: mx-c final ok=1 failed=2 domains=2" \
	"$(echo "$st" | grep '^host:' | sed 's/pushed=[^ ]* //')"
check "--status: totals are the sum over hosts, once" \
	"total: domains=3 ok=20 failed=6" "$(echo "$st" | grep '^total:')"
check "--status: nothing sent yet" "reports: sent=0 no-record=0 given-up=0 pending=3" \
	"$(echo "$st" | grep '^reports:')"
check "the store holds the ACL user's keys only under mtasts:" \
	"$(rc_ --scan | wc -l)" "$(rc_ --scan --pattern 'mtasts:tlsrpt:*' | wc -l)"
check "each host's counts: one key per host and day" 3 \
	"$(rc_ --scan --pattern "mtasts:tlsrpt:$D0:counts:*" | wc -l)"
ttl=$(rc_ TTL "mtasts:tlsrpt:$D0:counts:mx-a")
check "the day's keys expire 14 d (the retention) after the day's end" yes \
	"$([ "$ttl" -gt $((13 * 86400)) ] && [ "$ttl" -le $((14 * 86400)) ] && echo yes || echo "no: $ttl")"

out=$(at $NOW mx-b report); rc=$?
check "report on mx-b: exit 0" 0 "$rc"
check "report on mx-b: every domain sent once" \
"alpha.test: https://rua.fleet.test/alpha sent
beta.test: https://rua.fleet.test/beta sent
gamma.test: https://rua.fleet.test/gamma sent" "$(echo "$out" | grep sent)"
check "the collector: one report per domain, counts summed over the hosts" \
"/alpha alpha.test 13 4 ${D0}_alpha.test@sender.test
/beta beta.test 3 2 ${D0}_beta.test@sender.test
/gamma gamma.test 4 0 ${D0}_gamma.test@sender.test" "$(reports "$D0")"
out=$(at $((NOW + 60)) mx-a report); rc=$?
check "report on mx-a afterwards: exit 0" 0 "$rc"
check "report on mx-a afterwards: nothing sent" 3 "$(posts)"
check "report on mx-a afterwards: says nothing was sent" "" "$(echo "$out" | grep -E 'sent|failed')"
at $((NOW + 120)) mx-c report >/dev/null
check "report on mx-c afterwards: nothing sent" 3 "$(posts)"
check "--status: every report sent" "reports: sent=3 no-record=0 given-up=0 pending=0" \
	"$(at $NOW mx-a report --status "$D0" | grep '^reports:')"
check "the outcome in the store names the sender" "sent host=mx-b" \
	"$(rc_ HGET "mtasts:tlsrpt:$D0:state" alpha.test | sed 's/ at=[0-9]*//')"
check "a pushed day's results stay until the retention is over" yes \
	"$([ -e "$TW/mx-a/reports/results-$D0.tsv" ] && echo yes || echo no)"
check "... with the push remembered beside them" yes \
	"$([ -e "$TW/mx-a/reports/results-$D0.pushed" ] && echo yes || echo no)"
at $NOW mx-a report --day "$(date -u -d "@$NOW" +%F)" >/dev/null 2>&1
check "report --day today: refused in a fleet too" 2 "$?"

# ===================== the store stopped during pushes ==================
DAY1=$(( DAY0 + 86400 ))
D1=$(date -u -d "@$DAY1" +%F)
NOW1=$(( DAY1 + 86400 + 600 ))
record_day $DAY1 mx-a mx-b mx-c
kill -STOP "$(cat "$TW/run/redis.pid")"
t=$(date +%s%N)
out=$(at $NOW1 mx-a report --push 2>&1); rc=$?
el=$(( ($(date +%s%N) - t) / 1000000 ))
kill -CONT "$(cat "$TW/run/redis.pid")"
check "store not answering: push fails, exit 1" 1 "$rc"
check_match "store not answering: a clear error" \
	"127\.0\.0\.50:6379/0: .*no answer within report_store_timeout" "$out"
check "store not answering: bounded by the timeouts (< 4 s)" yes \
	"$([ "$el" -lt 4000 ] && echo yes || echo "no: $el ms")"
check "store not answering: the results stay, not marked pushed" "yes no" \
	"$([ -e "$TW/mx-a/reports/results-$D1.tsv" ] && echo yes || echo no) $([ -e "$TW/mx-a/reports/results-$D1.pushed" ] && echo yes || echo no)"
redis_down
out=$(at $NOW1 mx-b report --push 2>&1); rc=$?
check "store down: push fails, exit 1" 1 "$rc"
check_match "store down: a clear error" '127\.0\.0\.50:6379/0: connect: Connection refused' "$out"
out=$(at $NOW1 mx-b report 2>&1); rc=$?
check "store down: report fails, exit 1, nothing sent" "1 3" "$rc $(posts)"
out=$(at $NOW1 mx-b report --status 2>&1); rc=$?
check "store down: --status fails, exit 1" 1 "$rc"
redis_up || echo "FAIL redis-server did not restart"
check "after the restart: the earlier day's state survived (AOF)" "sent host=mx-b" \
	"$(rc_ HGET "mtasts:tlsrpt:$D0:state" beta.test | sed 's/ at=[0-9]*//')"
for h in mx-a mx-b mx-c; do
	at $((NOW1 + 300)) $h report --push >/dev/null; rc=$?
	check "after the restart: $h pushes, exit 0" 0 "$rc"
done
check "after the restart: totals complete, nothing lost or doubled" \
	"total: domains=3 ok=20 failed=6" \
	"$(at $((NOW1 + 300)) mx-c report --status "$D1" | grep '^total:')"

# ===================== the claiming host killed while it sends ==========
echo /alpha > "$COL/hang"
rm -f "$COL/hung"
MTASTS_FAKE_TIME=$((NOW1 + 400)) wx "$MTASTS" -c "$TW/mx-a.conf" report >"$TW/a-killed.out" 2>&1 &
apid=$!
for _ in $(seq 1 500); do [ -e "$COL/hung" ] && break; sleep 0.02; done
check "mx-a claimed alpha.test and is sending it" yes "$([ -e "$COL/hung" ] && echo yes || echo no)"
check_match "the claim is in the store, mx-a's, expiring" '^mx-a [0-9]+ [0-9]+$' \
	"$(rc_ GET "mtasts:tlsrpt:$D1:claim:alpha.test")"
kill -9 "$apid"
wait "$apid" 2>/dev/null
rm -f "$COL/hang"
check "--status: pending, alpha.test claimed by mx-a" \
"pending: alpha.test claimed-by=mx-a
pending: beta.test
pending: gamma.test" "$(at $((NOW1 + 405)) mx-c report --status "$D1" | grep '^pending:')"
out=$(at $((NOW1 + 410)) mx-b report); rc=$?
check "mx-b while the claim holds: alpha.test left to mx-a" \
	"alpha.test: being sent by mx-a" "$(echo "$out" | grep '^alpha')"
check "mx-b while the claim holds: the others sent" \
"beta.test: https://rua.fleet.test/beta sent
gamma.test: https://rua.fleet.test/gamma sent" "$(echo "$out" | grep ' sent$')"
# report_claim_time (8 s): the dead host's claim expires by itself
for _ in $(seq 1 600); do
	[ "$(rc_ EXISTS "mtasts:tlsrpt:$D1:claim:alpha.test")" = 0 ] && break
	sleep 0.02
done
check "the dead host's claim expired" 0 "$(rc_ EXISTS "mtasts:tlsrpt:$D1:claim:alpha.test")"
out=$(at $((NOW1 + 420)) mx-b report); rc=$?
check "after the claim expired: mx-b sends alpha.test, exit 0" \
	"0 alpha.test: https://rua.fleet.test/alpha sent" "$rc $(echo "$out" | grep sent)"
check "the collector: each domain once, counts summed" \
"/alpha alpha.test 13 4 ${D1}_alpha.test@sender.test
/beta beta.test 3 2 ${D1}_beta.test@sender.test
/gamma gamma.test 4 0 ${D1}_gamma.test@sender.test" "$(reports "$D1")"
at $((NOW1 + 430)) mx-c report >/dev/null
check "and nobody sends again" 6 "$(posts)"

# ===================== hosts that never pushed =========================
DAY2=$(( DAY1 + 86400 ))
D2=$(date -u -d "@$DAY2" +%F)
record_day $DAY2 mx-a mx-b mx-c
# mx-d is only named by the configuration; mx-c pushed before, not now
echo "report_hosts = mx-a mx-b mx-c mx-d" >> "$TW/mx-a.conf"
at $((DAY2 + 86400 + 300)) mx-b report --push >/dev/null
out=$(at $((DAY2 + 86400 + 600)) mx-a report); rc=$?
check "before the push deadline: exit 0, waiting for the missing hosts" \
	"0 $D2: waiting for mx-c, mx-d to push (until 01:00 UTC)" "$rc $out"
check "before the push deadline: nothing sent" 6 "$(posts)"
out=$(at $((DAY2 + 86400 + 3700)) mx-a report 2>"$TW/missing.err"); rc=$?
check "after the deadline: sent, exit 0" 0 "$rc"
check_match "after the deadline: the missing hosts named" \
	"$D2: no final push from mx-c, mx-d: the reports go out without their counts" "$out"
check_match "... and in the log" \
	"event=fleet-hosts-missing day=$D2 hosts=\"mx-c, mx-d\"" "$(cat "$TW/missing.err")"
check "after the deadline: the reports hold the hosts that pushed" \
"/alpha alpha.test 12 4 ${D2}_alpha.test@sender.test
/beta beta.test 3 0 ${D2}_beta.test@sender.test
/gamma gamma.test 4 0 ${D2}_gamma.test@sender.test" "$(reports "$D2")"
st=$(at $((DAY2 + 86400 + 3800)) mx-a report --status "$D2")
# mx-c pushed the day while it ran (as "today"), never after its end
check "--status: who pushed and who did not" \
"host: mx-a final
host: mx-b final
host: mx-c partial
host: mx-d not-pushed" "$(echo "$st" | grep '^host:' | awk '{print $1, $2, ($3 ~ /^pushed=/ ? $4 : $3)}')"
check "mx-c's results stay: never pushed" "yes no" \
	"$([ -e "$TW/mx-c/reports/results-$D2.tsv" ] && echo yes || echo no) $([ -e "$TW/mx-c/reports/results-$D2.pushed" ] && echo yes || echo no)"

# ===================== retention keeps what was not pushed ==============
# 20 days on: the pushed days go, mx-c's day never pushed after its end
# stays (its counts are nowhere else)
LATE=$(( DAY2 + 20 * 86400 ))
out=$(at $LATE mx-a report); rc=$?
check_match "retention: mx-a's pushed days removed" 'removed [0-9]+ files of days past the retention' "$out"
check "retention: mx-a's old results gone" 0 \
	"$(ls "$TW/mx-a/reports" | grep -c -e "$D0" -e "$D1" -e "$D2")"
out=$(at $LATE mx-c report 2>&1); rc=$?
check_match "retention: mx-c's day never pushed is kept, and said so" \
	'kept 1 day past the retention: not pushed yet' "$out"
check "retention: mx-c's unpushed results kept, its pushed ones gone" "yes 0" \
	"$([ -e "$TW/mx-c/reports/results-$D2.tsv" ] && echo yes || echo no) $(ls "$TW/mx-c/reports" | grep -c -e "$D0" -e "$D1")"

# ===================== misuse =========================================
at $NOW mx-a report --push --dry-run >/dev/null 2>&1
check "--push with --dry-run: usage, exit 2" 2 "$?"
conf mx-x "report_store = redis://mtasts@$RIP" "report_store_password_file = $TW/none"
out=$(at $NOW mx-x report --push 2>&1); rc=$?
check "a missing password file: exit 2, named" "2 yes" \
	"$rc $(echo "$out" | grep -q "$TW/none" && echo yes || echo no)"
conf mx-y "report_store = redis://mtasts:wrong@$RIP"
out=$(at $NOW mx-y report --push 2>&1); rc=$?
check_match "a wrong password: exit 1, the server's word" '^1 .*AUTH: WRONGPASS' "$rc $out"
check "the password is never printed" "" "$(echo "$out" | grep -e wrong -e "$PASS" | grep -v WRONGPASS)"
conf mx-z "report_store = local"
out=$(at $NOW mx-z report --push); rc=$?
check "--push with a local store: nothing to do, exit 0" \
	"0 report_store is local: nothing to push" "$rc $out"
summary
