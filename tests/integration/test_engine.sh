#!/bin/bash
# test_engine.sh MTASTS - the policy engine against real servers: RFC 8461
# caching semantics (§3.3, §5, §5.1) driven through `mtasts query`, with
# the queries and fetches that reach unbound and nginx counted in their
# logs.  Time is moved with MTASTS_FAKE_TIME (read by common/clock.c).
set -uo pipefail
MTASTS=${1:?usage: test_engine.sh PATH-TO-mtasts}
[ "$(id -u)" -eq 0 ] || { echo "SKIP test_engine.sh: needs root (network namespaces; CI runs it as root)"; exit 77; }
. "$(dirname "$0")/lib.sh"
world_up engine >/dev/null || { echo "world did not start"; exit 1; }

T0=$(date +%s)
CONF=$TW/mtasts.conf
cat > "$CONF" <<CONF
cache_path = $TW/cache
cache_size = 4M
ca_file = $TW/certs/ca.crt
txt_check_interval = 1h
negative_ttl = 1h
fetch_timeout = 3
dns_timeout = 2
lease_time = 20
log_level = err
CONF

q() {	# q OFFSET DOMAIN [MX...] -> "verdict source reason mode id" per MX
	local off=$1
	shift
	MTASTS_FAKE_TIME=$((T0 + off)) wx "$MTASTS" -c "$CONF" query --store --json "$@" |
		python3 -c 'import json,sys
for l in sys.stdin:
    o=json.loads(l)
    print(o["verdict"], o["source"], o["reason"], o["mode"], o["policy_id"])'
}
field() { awk -v n="$1" 'NR==1{print $n}'; }

# --- first sight: one TXT query, one fetch; then the cache answers --------
tq=$(count_txt_queries good.test); fc=$(count_fetches good.test)
r=$(q 0 good.test mx1.example.test)
check "good.test: enforce, MX listed -> require-tls" "require-tls fetch mx-match/fetched enforce 1" "$r"
check "good.test: one TXT query" $((tq + 1)) "$(count_txt_queries good.test)"
check "good.test: one fetch" $((fc + 1)) "$(count_fetches good.test)"
r=$(q 10 good.test evil.test)
check "good.test: MX not listed -> refuse-mx, from the cache" "refuse-mx cache mx-mismatch/cached enforce 1" "$r"
check "cached: no new TXT query" $((tq + 1)) "$(count_txt_queries good.test)"
check "cached: no new fetch" $((fc + 1)) "$(count_fetches good.test)"
r=$(q 20 good.test a.example.test)
check "wildcard *.example.test matches one label" "require-tls" "$(echo "$r" | field 1)"
r=$(q 20 good.test a.b.example.test)
check "wildcard does not match two labels" "refuse-mx" "$(echo "$r" | field 1)"

# --- id unchanged, file changed: the cached policy stays (§5.1) -----------
set_policy good.test "$(printf 'version: STSv1\nmode: enforce\nmx: other.example.test\nmax_age: 86400\n')"
fc=$(count_fetches good.test); tq=$(count_txt_queries good.test)
r=$(q 4000 good.test mx1.example.test)
check "id unchanged after the check interval: still the old policy" "require-tls cache mx-match/id-unchanged" "$(echo "$r" | cut -d' ' -f1-3)"
check "id unchanged: TXT re-checked once" $((tq + 1)) "$(count_txt_queries good.test)"
check "id unchanged: no fetch" "$fc" "$(count_fetches good.test)"

# --- new id: refetch, the new MX list applies -----------------------------
set_txt_id good.test 2
r=$(q 8000 good.test mx1.example.test)
check "new id: refetched, old MX now refused" "refuse-mx fetch mx-mismatch/fetched enforce 2" "$r"
check "new id: one fetch" $((fc + 1)) "$(count_fetches good.test)"
r=$(q 8010 good.test other.example.test)
check "new id: new MX accepted" "require-tls cache" "$(echo "$r" | cut -d' ' -f1-2)"

# --- policy host down with a cached policy: still enforced ---------------
set_txt_id good.test 3
break_policy_host good.test
r=$(q 12000 good.test other.example.test)
check "new id, fetch fails: cached policy kept" "require-tls cache mx-match/cached-fetch-failed enforce 2" "$r"
r=$(q 12010 good.test mx1.example.test)
check "cached policy still refuses unlisted MX" "refuse-mx" "$(echo "$r" | field 1)"
fix_policy_host good.test

# --- TXT gone with a cached policy: kept until max_age (§10.2) ------------
del_name _mta-sts.good.test
r=$(q 16000 good.test other.example.test)
check "TXT removed: cached policy kept" "require-tls cache mx-match/cached-no-txt" "$(echo "$r" | cut -d' ' -f1-3)"

# --- max_age expiry: the policy goes; with no TXT, no policy --------------
r=$(q $((8000 + 86400 + 1)) good.test mx1.example.test)
check "after max_age with no TXT: none" "none" "$(echo "$r" | field 1)"
set_txt_id good.test 4

# --- expiry with the TXT present: refetched ------------------------------
set_policy modenone2.test "$(printf 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n')"
q 0 modenone2.test mx1.example.test >/dev/null
fc=$(count_fetches modenone2.test)
r=$(q 86401 modenone2.test mx1.example.test)
check "expired policy refetched" "require-tls fetch" "$(echo "$r" | cut -d' ' -f1-2)"
check "expired policy: one fetch" $((fc + 1)) "$(count_fetches modenone2.test)"

# --- mode none replaces a cached policy at once (§5) -----------------------
set_policy modenone2.test "$(printf 'version: STSv1\nmode: none\nmax_age: 86400\n')"
set_txt_id modenone2.test 2
r=$(q 95000 modenone2.test evil.test)
check "mode none replaces the cached enforce policy" "none fetch mode-none none 2" "$r"

# --- testing mode ----------------------------------------------------------
r=$(q 0 testing.test evil.test)
check "testing: report-only for any MX" "report-only" "$(echo "$r" | field 1)"

# --- no policy: NXDOMAIN is final and cached negatively --------------------
tq=$(count_txt_queries nxdomain.test)
r=$(q 0 nxdomain.test mx.nxdomain.test)
check "NXDOMAIN: none" "none fetch no-txt" "$(echo "$r" | cut -d' ' -f1-3)"
r=$(q 100 nxdomain.test mx.nxdomain.test)
check "NXDOMAIN: negative cache answers" "none negative-cache" "$(echo "$r" | cut -d' ' -f1-2)"
check "NXDOMAIN: one TXT query for two deliveries" $((tq + 1)) "$(count_txt_queries nxdomain.test)"
r=$(q 3700 nxdomain.test mx.nxdomain.test)
check "negative entry expires after negative_ttl" "none fetch" "$(echo "$r" | cut -d' ' -f1-2)"
r=$(q 0 nodata.test mx.nodata.test)
check "NODATA: none" "none fetch no-txt" "$(echo "$r" | cut -d' ' -f1-3)"

# --- SERVFAIL: temporary, none, backed off -------------------------------
tq=$(count_txt_queries servfail.test)
r=$(q 0 servfail.test mx.servfail.test)
check "SERVFAIL: none (temporary)" "none none dns-tempfail" "$(echo "$r" | cut -d' ' -f1-3)"
# libunbound retries a SERVFAIL answer itself (outbound-msg-retry), so
# the first lookup may reach the server more than once; the back-off
# must keep the second delivery off the network entirely.
tq1=$(count_txt_queries servfail.test)
check_match "SERVFAIL: the first delivery asked the server" '^[1-9]' "$((tq1 - tq))"
r=$(q 5 servfail.test mx.servfail.test)
check "SERVFAIL: backed off" "none none backoff" "$(echo "$r" | cut -d' ' -f1-3)"
check "SERVFAIL: no query during the back-off" "$tq1" "$(count_txt_queries servfail.test)"

# --- several STSv1 records: no policy; CNAME'd TXT followed ----------------
r=$(q 0 multi.test mx1.example.test)
check "two STSv1 records: none" "none fetch txt-invalid" "$(echo "$r" | cut -d' ' -f1-3)"
set_policy txtcname.test "$(printf 'version: STSv1\nmode: enforce\nmx: mx2.example.test\nmax_age: 86400\n')"
# set_policy gave it its own TXT; put the CNAME back
del_name _mta-sts.txtcname.test
wx true; unbound-control -c "$TW/unbound.conf" local_data "_mta-sts.txtcname.test. 300 IN CNAME _mta-sts.good.test." >/dev/null
r=$(q 0 txtcname.test mx2.example.test)
check "CNAME'd TXT followed, policy fetched from the domain's own host" "require-tls fetch mx-match/fetched enforce 4" "$r"

# --- fetch failures without a cached policy: none, backed off --------------
for d in f404.test f301.test fhtml.test fexpired.test fwrongname.test; do
	r=$(q 0 $d mx1.example.test)
	check_match "$d: no cached policy, fetch fails -> none" '^none none (sts-policy-fetch-error|sts-webpki-invalid|sts-policy-invalid) ' "$r"
done
fc=$(count_fetches f404.test)
r=$(q 30 f404.test mx1.example.test)
check "failed fetch backed off" "none none backoff" "$(echo "$r" | cut -d' ' -f1-3)"
check "failed fetch: no new request during back-off" "$fc" "$(count_fetches f404.test)"

# --- 16 processes ask for one uncached domain at once ---------------------
set_policy crowd.test "$(printf 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n')"
tq=$(count_txt_queries crowd.test); fc=$(count_fetches crowd.test)
for i in $(seq 1 16); do
	( q 0 crowd.test mx1.example.test > "$TW/crowd.$i" ) &
done
wait
ok=0
for i in $(seq 1 16); do
	grep -q '^require-tls ' "$TW/crowd.$i" && ok=$((ok + 1))
done
check "16 parallel processes: every answer require-tls" 16 "$ok"
check "16 parallel processes: exactly one TXT query" $((tq + 1)) "$(count_txt_queries crowd.test)"
check "16 parallel processes: exactly one fetch" $((fc + 1)) "$(count_fetches crowd.test)"

# --- refresh renews what expires soon --------------------------------------
fc=$(count_fetches crowd.test)
MTASTS_FAKE_TIME=$((T0 + 86400 - 600)) wx "$MTASTS" -c "$CONF" refresh >/dev/null
check "refresh refetched a policy expiring within a day" $((fc + 1)) "$(count_fetches crowd.test)"
r=$(q $((86400 + 100)) crowd.test mx1.example.test)
check "refreshed policy outlives the old expiry" "require-tls cache" "$(echo "$r" | cut -d' ' -f1-2)"

# --- refresh re-checks ids falling due before its next run ----------------
# crowd.test's id was confirmed at 86400-600; due again at 89400.  A refresh
# at 89400 (refresh_interval 1h) checks it, so a delivery at 91200, past
# the old due time, finds it fresh and asks nobody.
# (refresh_before 1h here: a max_age of one day is always within the
# default day, and would be renewed rather than checked)
{ cat "$CONF"; echo "refresh_before = 1h"; } > "$CONF.short"
tq=$(count_txt_queries crowd.test); fc=$(count_fetches crowd.test)
MTASTS_FAKE_TIME=$((T0 + 89400)) wx "$MTASTS" -c "$CONF.short" refresh >/dev/null
check "refresh: the id due within the hour re-checked" $((tq + 1)) "$(count_txt_queries crowd.test)"
check "refresh: same id, nothing fetched" "$fc" "$(count_fetches crowd.test)"
r=$(q 91200 crowd.test mx1.example.test)
check "delivery after the refresh: cached, no DNS wait" "require-tls cache mx-match/cached" "$(echo "$r" | cut -d' ' -f1-3)"
check "delivery after the refresh: no TXT query" $((tq + 1)) "$(count_txt_queries crowd.test)"

# --- RFC 8461 §3.3: after a failed fetch, five minutes or longer per id ----
set_policy backoff.test "$(printf 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n')"
BP=$TW/www/mta-sts.backoff.test/.well-known/mta-sts.txt
hide_policy() { mv -f "$BP" "$BP.hidden"; }	# nginx answers 404 (counted)
show_policy() { mv -f "$BP.hidden" "$BP"; }
hide_policy
fc=$(count_fetches backoff.test)
r=$(q 20000 backoff.test mx1.example.test)
check "policy not served: none, fetch failed" "none none sts-policy-fetch-error" "$(echo "$r" | cut -d' ' -f1-3)"
check "one request" $((fc + 1)) "$(count_fetches backoff.test)"
r=$(q 20120 backoff.test mx1.example.test)
check "2 min later: still backing off (not 60 s any more)" "none none backoff" "$(echo "$r" | cut -d' ' -f1-3)"
r=$(q 20290 backoff.test mx1.example.test)
check "4 min 50 s later: still backing off" "none none backoff" "$(echo "$r" | cut -d' ' -f1-3)"
check "no request during the five minutes" $((fc + 1)) "$(count_fetches backoff.test)"
r=$(q 20301 backoff.test mx1.example.test)
check "after five minutes: tried again" $((fc + 2)) "$(count_fetches backoff.test)"
# a re-check finds the same id: its fetch is not retried in the back-off
rc_q() { MTASTS_FAKE_TIME=$((T0 + $1)) wx "$MTASTS" -c "$CONF" query --store --recheck "$2" "$3" >/dev/null 2>&1; }
rc_q 20400 backoff.test mx1.example.test
check "re-check, same id: no fetch in the back-off" $((fc + 2)) "$(count_fetches backoff.test)"
# a new id is fetched at once
show_policy
set_txt_id backoff.test 2
rc_q 20410 backoff.test mx1.example.test
check "re-check, new id: fetched at once" $((fc + 3)) "$(count_fetches backoff.test)"
r=$(q 20420 backoff.test mx1.example.test)
check "the new id's policy applies" "require-tls cache mx-match/cached enforce 2" "$r"

# --- refresh: a one-day policy is renewed about twice a day, not hourly -----
R=$TW/refresh
mkdir -p "$R"
sed -e "s|^cache_path = .*|cache_path = $R/cache|" "$CONF" > "$R/conf"
qr() { MTASTS_FAKE_TIME=$((T0 + $1)) wx "$MTASTS" -c "$R/conf" query --store "$2" "$3" >/dev/null 2>&1; }
refresh_at() { MTASTS_FAKE_TIME=$((T0 + $1)) wx "$MTASTS" -c "${2:-$R/conf}" refresh 2>"$R/stderr" >/dev/null; }
set_policy daily.test "$(printf 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n')"
set_policy blocked.test "$(printf 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n')"
qr 100000 daily.test mx1.example.test
qr 100000 blocked.test mx1.example.test
fc=$(count_fetches daily.test)
for h in 1 2 3 4 5 6 7 8 9 10 11; do refresh_at $((100000 + h * 3600)); done
check "hourly runs for 11 h: the one-day policy not downloaded again" "$fc" "$(count_fetches daily.test)"
refresh_at $((100000 + 12 * 3600 + 60))
check "with half its max_age left: renewed" $((fc + 1)) "$(count_fetches daily.test)"
# --- refresh: the TXT record gone (an attacker blocking the DNS) ------------
del_name _mta-sts.blocked.test
fc=$(count_fetches blocked.test)
refresh_at $((100000 + 13 * 3600)); rc=$?
check "TXT gone: the policy still renewed over HTTPS" $((fc + 1)) "$(count_fetches blocked.test)"
check "TXT gone, renewal worked: refresh exit 0" 0 "$rc"
r=$(MTASTS_FAKE_TIME=$((T0 + 100000 + 86400 + 600)) wx "$MTASTS" -c "$R/conf" query --json blocked.test mx1.example.test |
	python3 -c 'import json,sys; o=json.loads(sys.stdin.readline()); print(o["verdict"], o["source"])')
check "renewed without TXT: in force past the first fetch's max_age" "require-tls cache" "$r"
# --- refresh: a failed renewal alerts, unless the policy is mode none ------
break_policy_host blocked.test
refresh_at $((100000 + 86400 + 43200)); rc=$?
check "failed renewal of an enforce policy: exit 1" 1 "$rc"
check_match "failed renewal: named on stderr" 'could not be refreshed' "$(cat "$R/stderr")"
fix_policy_host blocked.test
N=$TW/refresh-none
mkdir -p "$N"
sed -e "s|^cache_path = .*|cache_path = $N/cache|" "$CONF" > "$N/conf"
set_policy quiet.test "$(printf 'version: STSv1\nmode: none\nmax_age: 86400\n')"
MTASTS_FAKE_TIME=$((T0 + 200000)) wx "$MTASTS" -c "$N/conf" query --store quiet.test mx1.example.test >/dev/null 2>&1
break_policy_host quiet.test
refresh_at $((200000 + 50000)) "$N/conf"; rc=$?
check "failed renewal of a mode none policy: no alarm (exit 0)" 0 "$rc"
fix_policy_host quiet.test

summary
