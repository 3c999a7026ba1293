#!/bin/bash
# test_tools.sh MTASTS TLSRPT_RECORD MODULE - the `mtasts check`, `cache`
# and `report` commands against the real test world: deployments audited
# through unbound and nginx, the cache filled by `mtasts query` and
# inspected, TLS-RPT results recorded through the built module
# (mtasts_report_result, via tlsrpt_record) and reported to an HTTPS
# collector of the world (tlsrpt_collector.py, test CA) and to a sendmail
# stand-in (bind-mounted over /usr/sbin/sendmail in a private mount
# namespace).
set -uo pipefail
MTASTS=${1:?usage: test_tools.sh MTASTS TLSRPT_RECORD MODULE}
RECORD=${2:?usage: test_tools.sh MTASTS TLSRPT_RECORD MODULE}
MODULE=${3:?usage: test_tools.sh MTASTS TLSRPT_RECORD MODULE}
[ "$(id -u)" -eq 0 ] || { echo "SKIP test_tools.sh: needs root (network namespaces; CI runs it as root)"; exit 77; }
. "$(dirname "$0")/lib.sh"
world_up tools >/dev/null || { echo "world did not start"; exit 1; }

T0=$(date +%s)
Y=$(( (T0 / 86400 - 1) * 86400 + 43200 ))	# yesterday, noon UTC
YDAY=$(date -u -d "@$Y" +%F)
CONF=$TW/mtasts.conf
cat > "$CONF" <<CONF
cache_path = $TW/cache
cache_size = 4M
ca_file = $TW/certs/ca.crt
report_dir = $TW/reports
report_org = Sender Org
report_contact = tlsrpt@sender.example
fetch_timeout = 3
dns_timeout = 2
log_level = err
CONF

m() { wx "$MTASTS" -c "$CONF" "$@"; }
# every report run happens at T0: whatever the wall clock does meanwhile,
# yesterday stays yesterday and within its 24 h retry window
mr() { MTASTS_FAKE_TIME=$T0 m report "$@"; }
rr() { uctl local_data "$1"; }		# add one record to the world
record() {	# record TIME DOMAIN MX IP RESULT [COUNT]
	local t=$1
	shift
	MTASTS_FAKE_TIME=$t wx "$RECORD" "$MODULE" "$CONF" "$@"
}
# `check --json` output -> "ok errors warnings" then one "level:area:code"
# per finding that is not ok, in output order
findings() {
	python3 -c 'import json,sys
o=json.load(sys.stdin)
print(str(o["ok"]).lower(), o["errors"], o["warnings"])
for f in o["findings"]:
    assert set(f) == {"check","result","code","message"}, f
    if f["result"] != "ok":
        print("%s:%s:%s" % (f["result"], f["check"], f["code"]))'
}
ck() {	# ck DOMAIN -> "exit=N" and the findings, on one line
	local out rc
	out=$(m check --json --no-mx-probe "$1")
	rc=$?
	{ echo "exit=$rc"; echo "$out" | findings 2>&1; } | tr '\n' ' ' | sed 's/ $//'
}

# ============================ mtasts check ================================
rr "good.test. 300 IN MX 20 mx2.example.test."
rr "good.test. 300 IN MX 10 mx1.example.test."
rr '_smtp._tls.good.test. 300 IN TXT "v=TLSRPTv1; rua=https://rua.good.test/tlsrpt"'

out=$(m check --no-mx-probe good.test); rc=$?
check "check good.test: exit 0" 0 "$rc"
check "check good.test: summary line" "good.test: 0 errors, 0 warnings" "$(echo "$out" | tail -1)"
check "check good.test: one line per finding, each with its code" \
	"ok:txt:txt-ok ok:fetch:fetch-ok ok:policy:policy-ok ok:mx:mx-covered ok:mx:mx-covered ok:tlsrpt:tlsrpt-ok" \
	"$(echo "$out" | sed '$d' | sed -E 's/^([a-z]+) +([a-z]+) .*\[([a-z0-9-]+)\]$/\1:\2:\3/' | tr '\n' ' ' | sed 's/ $//')"
check_match "check good.test: MX listed by preference" \
	'mx1\.example\.test \(preference 10\).*mx2\.example\.test \(preference 20\)' "$(echo "$out" | tr '\n' ' ')"
js=$(m check --json --no-mx-probe good.test); rc=$?
check "check --json good.test: exit 0" 0 "$rc"
check "check --json good.test: ok, no finding but ok" "true 0 0" "$(echo "$js" | findings)"
check "check --json good.test: domain, areas and codes" \
	"good.test txt:txt-ok fetch:fetch-ok policy:policy-ok mx:mx-covered mx:mx-covered tlsrpt:tlsrpt-ok" \
	"$(echo "$js" | python3 -c 'import json,sys
o=json.load(sys.stdin)
print(o["domain"], " ".join(f["check"]+":"+f["code"] for f in o["findings"]))')"
check_match "check --json good.test: the id and rua count in the messages" \
	'v=STSv1 id=1.*1 reporting address' "$(echo "$js" | python3 -c 'import json,sys
print(" ".join(f["message"] for f in json.load(sys.stdin)["findings"]))')"

r=$(ck nxdomain.test)
check "check nxdomain.test (no TXT, no policy host)" \
	"exit=1 false 2 1 error:txt:txt-missing error:fetch:fetch-dns warning:tlsrpt:tlsrpt-missing" "$r"
r=$(ck f404.test)
check "check f404.test (policy answers 404)" \
	"exit=1 false 1 1 error:fetch:fetch-status warning:tlsrpt:tlsrpt-missing" "$r"
check_match "check f404.test: the status and the TLS-RPT result type named" \
	'status \(sts-policy-fetch-error\): HTTP 404' "$(m check --no-mx-probe f404.test | grep '^error')"
r=$(ck fwrongname.test)
check "check fwrongname.test (certificate for another name)" \
	"exit=1 false 1 1 error:fetch:fetch-cert warning:tlsrpt:tlsrpt-missing" "$r"
check_match "check fwrongname.test: sts-webpki-invalid" 'sts-webpki-invalid' "$(m check --no-mx-probe fwrongname.test)"
r=$(ck fhtml.test)
check "check fhtml.test (text/html)" \
	"exit=1 false 1 1 error:fetch:fetch-content-type warning:tlsrpt:tlsrpt-missing" "$r"

# a deployment with one MX outside the policy, a TLS-RPT record, enforce
set_policy uncovered.test "$(printf 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n')"
rr "uncovered.test. 300 IN MX 10 mx1.example.test."
rr "uncovered.test. 300 IN MX 20 mx.other.test."
rr '_smtp._tls.uncovered.test. 300 IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@uncovered.test"'
r=$(ck uncovered.test)
check "check uncovered.test (one MX not covered, enforce)" \
	"exit=1 false 1 0 error:mx:mx-uncovered" "$r"
check_match "check uncovered.test: the uncovered host named" \
	'^error +mx +mx\.other\.test \(preference 20\) matches no mx: pattern' "$(m check --no-mx-probe uncovered.test | grep '^error')"
# the same with no covered MX at all
del_name uncovered.test
rr "uncovered.test. 300 IN MX 10 mx.other.test."
r=$(ck uncovered.test)
check "check uncovered.test (no MX covered)" \
	"exit=1 false 2 0 error:mx:mx-uncovered error:mx:mx-none-covered" "$r"
# testing mode: an uncovered MX is only a warning
rr "testing.test. 300 IN MX 10 mx.other.test."
rr '_smtp._tls.testing.test. 300 IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@testing.test"'
r=$(ck testing.test)
check "check testing.test (testing mode, MX not covered): warning, exit 3" \
	"exit=3 true 0 1 info:policy:policy-testing warning:mx:mx-uncovered" "$r"
# a pattern no MX host name can match (an IP address): senders leave it
# out and apply the rest (the MX is covered); for the publisher an error
set_policy uncovered.test "$(printf 'version: STSv1\nmode: enforce\nmx: mx.other.test\nmx: 192.0.2.1\nmax_age: 86400\n')"
r=$(ck uncovered.test)
check "check uncovered.test (an IP address as mx pattern): error, exit 1" \
	"exit=1 false 1 0 error:policy:mx-ip-literal" "$r"

# no _smtp._tls record: a warning, nothing else
set_policy norpt.test "$(printf 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n')"
rr "norpt.test. 300 IN MX 10 mx1.example.test."
r=$(ck norpt.test)
check "check norpt.test (no TLS-RPT record): warning, exit 3" \
	"exit=3 true 0 1 warning:tlsrpt:tlsrpt-missing" "$r"
# a TXT there that is not TLS-RPT: the same warning
rr '_smtp._tls.norpt.test. 300 IN TXT "some-verification=1"'
r=$(ck norpt.test)
check "check norpt.test (only an unrelated TXT): warnings, exit 3" \
	"exit=3 true 0 3 warning:tlsrpt:txt-discarded warning:tlsrpt:txt-none warning:tlsrpt:tlsrpt-missing" "$r"
# an invalid TLS-RPT record: an error (its owner waits for reports)
del_name _smtp._tls.norpt.test
rr '_smtp._tls.norpt.test. 300 IN TXT "v=TLSRPTv1; rua=ftp://reports.norpt.test/"'
r=$(ck norpt.test)
check "check norpt.test (rua with a bad scheme)" \
	"exit=1 false 2 0 error:tlsrpt:tlsrpt-scheme error:tlsrpt:tlsrpt-invalid" "$r"
del_name _smtp._tls.norpt.test
rr '_smtp._tls.norpt.test. 300 IN TXT "v=TLSRPTv1; rua=mailto:a@norpt.test"'
rr '_smtp._tls.norpt.test. 300 IN TXT "v=TLSRPTv1; rua=mailto:b@norpt.test"'
r=$(ck norpt.test)
check_match "check norpt.test (two TLS-RPT records)" \
	'^exit=1 false [0-9]+ 0 (error:tlsrpt:[a-z-]+ )*error:tlsrpt:tlsrpt-invalid$' "$r"

# a policy served but its TXT record gone: senders never see it
del_name _mta-sts.norpt.test
del_name _smtp._tls.norpt.test
rr '_smtp._tls.norpt.test. 300 IN TXT "v=TLSRPTv1; rua=mailto:a@norpt.test"'
r=$(ck norpt.test)
check "check norpt.test (TXT removed, policy still served)" \
	"exit=1 false 2 0 error:txt:txt-missing error:txt:txt-unannounced" "$r"
r=$(ck multi.test)
check_match "check multi.test (two STSv1 records)" \
	'^exit=1 false .* error:txt:txt-invalid' "$r"
m check >/dev/null 2>&1
check "check without a domain: usage, exit 2" 2 "$?"
m check 'bad..name' >/dev/null 2>&1
check "check with an invalid domain: exit 2" 2 "$?"

# ============================ mtasts cache ================================
m cache stats >/dev/null 2>&1; rc=$?
check "cache stats before any query: exit 1" 1 "$rc"
check "cache stats before any query: no cache file created" no "$([ -e "$TW/cache" ] && echo yes || echo no)"
fc_good=$(count_fetches good.test); fc_testing=$(count_fetches testing.test)
m query --store good.test mx1.example.test >/dev/null
m query --store testing.test mx1.example.test >/dev/null
m query --store nxdomain.test mx.nxdomain.test >/dev/null
check "query: one fetch each for good.test and testing.test" \
	"$((fc_good + 1)) $((fc_testing + 1))" "$(count_fetches good.test) $(count_fetches testing.test)"
js=$(m cache --json stats); rc=$?
check "cache --json stats: exit 0" 0 "$rc"
check "cache --json stats: 3 used, 2 policies, 1 negative" "3 2 1" \
	"$(echo "$js" | python3 -c 'import json,sys
o=json.load(sys.stdin); print(o["used"], o["policies"], o["negatives"])')"
check_match "cache stats (human): the same counts" 'used 3 policies 2 negatives 1' \
	"$(m cache stats | tr '\n' ' ')"
js=$(m cache --json list); rc=$?
check "cache --json list: exit 0" 0 "$rc"
check "cache --json list: the three domains and their kinds" \
	"good.test:policy nxdomain.test:negative testing.test:policy" \
	"$(echo "$js" | python3 -c 'import json,sys
print(" ".join(sorted(e["domain"]+":"+e["kind"] for e in json.load(sys.stdin))))')"
check "cache list (human): one line per entry" 3 "$(m cache list | wc -l)"
js=$(m cache --json show good.test); rc=$?
check "cache --json show good.test: exit 0" 0 "$rc"
check "cache --json show good.test: kind, mode, id, mx patterns" \
	"good.test policy enforce 1 86400 mx1.example.test,*.example.test" \
	"$(echo "$js" | python3 -c 'import json,sys
o=json.load(sys.stdin)
print(o["domain"], o["kind"], o["mode"], o["policy_id"], o["max_age"], ",".join(o["mx_patterns"]))')"
out=$(m cache show good.test)
check_match "cache show good.test (human): mode and id" '^good\.test policy mode=enforce id=1 max_age=86400 ' "$out"
check "cache show good.test (human): the mx patterns" "mx1.example.test *.example.test" \
	"$(echo "$out" | sed -n 's/^  mx: //p' | tr '\n' ' ' | sed 's/ $//')"
check "cache --json show testing.test: mode testing, its one pattern" "testing 1 mx1.example.test" \
	"$(m cache --json show testing.test | python3 -c 'import json,sys
o=json.load(sys.stdin); print(o["mode"], o["policy_id"], ",".join(o["mx_patterns"]))')"
check "cache --json show nxdomain.test: negative" "negative" \
	"$(m cache --json show nxdomain.test | python3 -c 'import json,sys; print(json.load(sys.stdin)["kind"])')"
m cache show f404.test >/dev/null 2>&1
check "cache show of a domain not cached: exit 1" 1 "$?"

m cache flush good.test; rc=$?
check "cache flush good.test: exit 0" 0 "$rc"
m cache show good.test >/dev/null 2>&1
check "after flush good.test: not cached" 1 "$?"
check "after flush good.test: the others stay" "nxdomain.test testing.test" \
	"$(m cache --json list | python3 -c 'import json,sys
print(" ".join(sorted(e["domain"] for e in json.load(sys.stdin))))')"
m cache flush good.test 2>/dev/null
check "cache flush of a domain not cached: exit 1" 1 "$?"
fc_good=$(count_fetches good.test); fc_testing=$(count_fetches testing.test)
r=$(m query --store --json good.test mx1.example.test | python3 -c 'import json,sys
o=json.loads(sys.stdin.readline()); print(o["verdict"], o["source"])')
check "query after flush: fetched again" "require-tls fetch" "$r"
check "query after flush: one new fetch" $((fc_good + 1)) "$(count_fetches good.test)"
r=$(m query --json testing.test mx1.example.test | python3 -c 'import json,sys
o=json.loads(sys.stdin.readline()); print(o["verdict"], o["source"])')
check "a domain not flushed still answers from the cache" "report-only cache" "$r"
check "a domain not flushed: no fetch" "$fc_testing" "$(count_fetches testing.test)"
m cache flush; rc=$?
check "cache flush (everything): exit 0" 0 "$rc"
check "after flush: nothing used" "0 0 0" "$(m cache --json stats | python3 -c 'import json,sys
o=json.load(sys.stdin); print(o["used"], o["policies"], o["negatives"])')"
check "after flush: list is an empty array" "[]" "$(m cache --json list)"
m cache show 'bad..name' >/dev/null 2>&1
check "cache show with an invalid domain: exit 2" 2 "$?"
m cache stats extra >/dev/null 2>&1
check "cache stats with an extra argument: exit 2" 2 "$?"
m cache frobnicate >/dev/null 2>&1
check "cache with an unknown subcommand: exit 2" 2 "$?"

# ============================ mtasts report ===============================
# the cache knows good.test's policy (the report's policy-string comes from it)
m query --store good.test mx1.example.test >/dev/null
mr --day "$YDAY" >/dev/null; rc=$?
check "report with nothing recorded: exit 0" 0 "$rc"
record "$Y" good.test mx1.example.test 127.0.0.11 success 5; rc1=$?
record "$Y" good.test mx2.example.test 127.0.0.12 certificate-expired 2; rc2=$?
record "$Y" good.test MX2.Example.Test. - starttls-not-supported; rc3=$?
record "$Y" nxdomain.test mx.nxdomain.test - success 3; rc4=$?
record "$T0" good.test mx1.example.test 127.0.0.11 success 7; rc5=$?
check "results recorded through mtasts_report_result" "0 0 0 0 0" "$rc1 $rc2 $rc3 $rc4 $rc5"
out=$(record "$Y" good.test mx1.example.test - no-such-result)
check "an unknown result type is refused" "1 rc=invalid argument" "$? $out"
check "recorded lines of yesterday" 11 "$(wc -l < "$TW/reports/results-$YDAY.tsv")"

# what a report must be (RFC 8460 §4.4); prints a summary for check
cat > "$TW/rfc8460.py" <<'PY'
import json, sys
EXPECT_TOP = ["organization-name", "date-range", "contact-info", "report-id", "policies"]
def summary(o, day):
    assert list(o) == EXPECT_TOP, list(o)
    assert o["date-range"] == {"start-datetime": day + "T00:00:00Z",
                               "end-datetime": day + "T23:59:59Z"}, o["date-range"]
    out = [o["organization-name"], o["contact-info"], o["report-id"]]
    for p in o["policies"]:
        assert set(p) == {"policy", "summary", "failure-details"}, p
        pol = p["policy"]
        assert set(pol) <= {"policy-type", "policy-string", "policy-domain", "mx-host"}, pol
        assert set(p["summary"]) == {"total-successful-session-count",
                                     "total-failure-session-count"}
        out.append("|".join([pol["policy-type"], pol["policy-domain"],
                             ";".join(pol.get("policy-string", ["-"])),
                             ",".join(pol.get("mx-host", ["-"])),
                             str(p["summary"]["total-successful-session-count"]),
                             str(p["summary"]["total-failure-session-count"])]))
        for d in sorted(p["failure-details"], key=lambda d: d["result-type"]):
            assert set(d) <= {"result-type", "sending-mta-ip", "receiving-mx-hostname",
                              "receiving-mx-helo", "receiving-ip", "failed-session-count",
                              "additional-information", "failure-reason-code"}, d
            out.append("  %s %s %s %d" % (d["result-type"], d.get("receiving-mx-hostname", "-"),
                                          d.get("receiving-ip", "-"), d["failed-session-count"]))
    return "\n".join(out)
if __name__ == "__main__":
    day, domain = sys.argv[1], sys.argv[2]
    found = [o for o in map(json.loads, filter(None, sys.stdin.read().split("\n")))
             if o["policies"][0]["policy"]["policy-domain"] == domain]
    assert len(found) == 1, len(found)
    print(summary(found[0], day))
PY
rfc() { python3 "$TW/rfc8460.py" "$YDAY" "$1" 2>&1; }

dry=$(mr --dry-run --day "$YDAY"); rc=$?
check "report --dry-run: exit 0" 0 "$rc"
check "report --dry-run: one report per domain" 2 "$(echo "$dry" | grep -c '^{')"
GOOD_REPORT="Sender Org
tlsrpt@sender.example
${YDAY}_good.test@sender.example
sts|good.test|version: STSv1;mode: enforce;mx: mx1.example.test;mx: *.example.test;max_age: 86400|mx1.example.test,*.example.test|5|3
  certificate-expired mx2.example.test 127.0.0.12 2
  starttls-not-supported mx2.example.test - 1"
check "report --dry-run good.test: RFC 8460 fields and counts" "$GOOD_REPORT" "$(echo "$dry" | rfc good.test)"
check "report --dry-run nxdomain.test: one no-policy-found entry" \
	"no-policy-found|nxdomain.test|-|-|3|0" "$(echo "$dry" | rfc nxdomain.test | tail -n +4)"
check "report --dry-run: no marker written" 0 "$(find "$TW/reports" -name '*.sent.*' | wc -l)"
# without --day: yesterday
dry2=$(mr --dry-run)
check "report --dry-run without --day: yesterday's reports" "$dry" "$dry2"

# --- delivery over HTTPS to the world's collector -------------------------
"$LIB_DIR/mkcerts.sh" leaf "$TW/certs" collector ca rua.good.test >/dev/null
set_a rua.good.test 127.0.0.40
COL=$TW/collector
wx python3 "$LIB_DIR/tlsrpt_collector.py" "$COL" 127.0.0.40 443 \
	"$TW/certs/collector.crt" "$TW/certs/collector.key" >"$TW/log/collector.log" 2>&1 &
for _ in $(seq 1 250); do [ -e "$COL/ready" ] && break; sleep 0.02; done
cp "$COL/pid" "$TW/run/collector.pid" 2>/dev/null
check "collector is up" yes "$([ -e "$COL/ready" ] && echo yes || echo no)"
posts() { find "$COL" -name '*.json' | wc -l; }
MARK_GOOD=$TW/reports/results-$YDAY.sent.good.test
MARK_NX=$TW/reports/results-$YDAY.sent.nxdomain.test

echo 503 > "$COL/status"
out=$(mr --day "$YDAY"); rc=$?
check "collector answers 503: exit 1" 1 "$rc"
check_match "collector answers 503: the failure named" \
	'good\.test: https://rua\.good\.test/tlsrpt failed: HTTP status 503' "$out"
check "collector answers 503: one POST" 1 "$(posts)"
check "collector answers 503: no marker for good.test" no "$([ -e "$MARK_GOOD" ] && echo yes || echo no)"
check "nxdomain.test has no TLS-RPT record: marked done" yes "$([ -e "$MARK_NX" ] && echo yes || echo no)"

rm -f "$COL/status"
out=$(mr --day "$YDAY"); rc=$?
check "retry with the collector answering 200: exit 0" 0 "$rc"
check "retry: good.test sent" "good.test: https://rua.good.test/tlsrpt sent" "$out"
check "retry: one more POST, nxdomain.test not revisited" 2 "$(posts)"
check "retry: marker for good.test" yes "$([ -e "$MARK_GOOD" ] && echo yes || echo no)"
check "the POST: method, path, Content-Type (RFC 8460 §5.2)" "POST /tlsrpt application/tlsrpt+gzip" \
	"$(python3 -c 'import json,sys
o=json.load(open(sys.argv[1])); print(o["method"], o["path"], o["headers"]["content-type"])' "$COL/2.json")"
body=$(python3 -c 'import gzip,sys; sys.stdout.write(gzip.decompress(open(sys.argv[1],"rb").read()).decode())' "$COL/2.body" 2>&1)
check "the POST body is gzip of the report" "$(echo "$dry" | grep '"policy-domain":"good.test"')" "$body"
check "the POSTed report: RFC 8460 fields and counts" "$GOOD_REPORT" "$(echo "$body" | rfc good.test)"

out=$(mr --day "$YDAY"); rc=$?
check "third run: exit 0" 0 "$rc"
check "third run: nothing sent again" 2 "$(posts)"
check "third run: prints nothing about good.test" "" "$(echo "$out" | grep good.test)"

# a day whose 24 h retry window is over: one last try, then given up
OLD=$(( Y - 2 * 86400 ))
OLDDAY=$(date -u -d "@$OLD" +%F)
record "$OLD" good.test mx1.example.test 127.0.0.11 success 1
echo 500 > "$COL/status"
mr --day "$OLDDAY" >/dev/null; rc=$?
rm -f "$COL/status"
check "failed delivery after the retry window: given up, exit 0" 0 "$rc"
check "failed delivery after the retry window: tried once" 3 "$(posts)"
check "failed delivery after the retry window: marked done" yes \
	"$([ -e "$TW/reports/results-$OLDDAY.sent.good.test" ] && echo yes || echo no)"

# a temporary DNS failure on _smtp._tls is not "no record": retried later
record "$Y" servfail.test mx.servfail.test - success 1
out=$(mr --day "$YDAY"); rc=$?
check "_smtp._tls lookup SERVFAIL: exit 1 (retried later)" 1 "$rc"
check_match "_smtp._tls lookup SERVFAIL: said so" 'servfail\.test: .*temporar' "$out"
check "_smtp._tls lookup SERVFAIL: no marker" no \
	"$([ -e "$TW/reports/results-$YDAY.sent.servfail.test" ] && echo yes || echo no)"
check "_smtp._tls lookup SERVFAIL: good.test still not resent" 3 "$(posts)"

# the results file is data: a line with a name that is no domain is skipped
printf '%s\tbad..name/x\tsts\t1\tsuccess\t-\tmx1.example.test\t-\t-\n' "$Y" \
	>> "$TW/reports/results-$YDAY.tsv"
out=$(mr --dry-run --day "$YDAY" 2>&1)
check "a record with an invalid domain: no report for it" 0 "$(echo "$out" | grep -c 'bad\.\.name')"
check_match "a record with an invalid domain: said so" 'skipping a record with an invalid domain' "$out"

# two rua, one of them unreachable: the retry does not send again to the
# one that took the report
rr '_smtp._tls.tworua.test. 300 IN TXT "v=TLSRPTv1; rua=https://rua.good.test/tworua,https://dead.good.test/x"'
set_a dead.good.test 127.0.0.36
record "$Y" tworua.test mx1.example.test 127.0.0.11 success 2
out=$(mr --day "$YDAY"); rc=$?
check "two rua, one down: exit 1" 1 "$rc"
check "two rua, one down: the good one sent" "tworua.test: https://rua.good.test/tworua sent" \
	"$(echo "$out" | grep 'tworua.test: https://rua')"
check_match "two rua, one down: the other failed" 'tworua\.test: https://dead\.good\.test/x failed' "$out"
check "two rua, one down: one POST" 4 "$(posts)"
out=$(mr --day "$YDAY"); rc=$?
check "two rua, retry: still exit 1" 1 "$rc"
check "two rua, retry: the good one not sent again" \
	"tworua.test: https://rua.good.test/tworua already sent" "$(echo "$out" | grep 'tworua.test: https://rua')"
check "two rua, retry: no new POST" 4 "$(posts)"
check "two rua, retry: no domain marker yet" no \
	"$([ -e "$TW/reports/results-$YDAY.sent.tworua.test" ] && echo yes || echo no)"

# the cache now holds another policy (new id): yesterday's results were
# judged against the old one, so no policy-string of the new one
set_policy good.test "$(printf 'version: STSv1\nmode: testing\nmx: other.example.test\nmax_age: 604800\n')"
set_txt_id good.test 2
m query --store --recheck good.test mx1.example.test >/dev/null
check "cache has the new policy" "2 testing" "$(m cache --json show good.test | python3 -c 'import json,sys
o=json.load(sys.stdin); print(o["policy_id"], o["mode"])')"
check "report after a policy change: no policy-string of another policy" \
	"sts|good.test|-|-|5|3" "$(mr --dry-run --day "$YDAY" 2>/dev/null | rfc good.test | sed -n 4p)"

# --- delivery by mail (RFC 8460 §5.3) to a sendmail stand-in -------------
MAIL=$TW/mail
mkdir -p "$MAIL"
cat > "$TW/sendmail" <<SH
#!/bin/sh
echo "\$*" > "$MAIL/args"
cat > "$MAIL/msg"
SH
chmod 755 "$TW/sendmail"
record "$Y" testing.test mx.other.test 127.0.0.15 certificate-not-trusted 4
MTASTS_FAKE_TIME=$T0 wx unshare -m --propagation private sh -c \
	"mount --bind '$TW/sendmail' /usr/sbin/sendmail && exec '$MTASTS' -c '$CONF' report --day '$YDAY'" \
	> "$TW/mail.out" 2>&1
check_match "mailto: sent" 'testing\.test: mailto:tlsrpt@testing\.test sent' "$(cat "$TW/mail.out")"
check "mailto: sendmail -oi -t" "-oi -t" "$(cat "$MAIL/args" 2>/dev/null)"
mailsum=$(python3 - "$MAIL/msg" "$YDAY" <<'PY' 2>&1
import email, gzip, json, sys, calendar, time
msg = email.message_from_binary_file(open(sys.argv[1], "rb"))
day = calendar.timegm(time.strptime(sys.argv[2], "%Y-%m-%d"))
print(msg["To"])
print(msg["Subject"])
print(msg["TLS-Report-Domain"], msg["TLS-Report-Submitter"])
print(msg.get_content_type(), msg.get_param("report-type"))
parts = [p for p in msg.walk() if p.get_content_type() == "application/tlsrpt+gzip"]
print(len(parts))
fn = parts[0].get_filename()
print(fn == "sender.example!testing.test!%d!%d.json.gz" % (day, day + 86399), fn)
rep = json.loads(gzip.decompress(parts[0].get_payload(decode=True)))
p = rep["policies"][0]
print(p["policy"]["policy-domain"], p["summary"]["total-failure-session-count"],
      p["failure-details"][0]["result-type"])
PY
)
check "mailto: the message (headers, multipart/report, attachment)" \
"tlsrpt@testing.test
Report Domain: testing.test Submitter: sender.example Report-ID: <${YDAY}_testing.test@sender.example>
testing.test sender.example
multipart/report tlsrpt
1
True sender.example!testing.test!$(date -u -d "$YDAY" +%s)!$(( $(date -u -d "$YDAY" +%s) + 86399 )).json.gz
testing.test 4 certificate-not-trusted" "$mailsum"
check "mailto: marker written" yes \
	"$([ -e "$TW/reports/results-$YDAY.sent.testing.test" ] && echo yes || echo no)"

# --- only finished days (RFC 8460 §4.1: a report covers a whole day) -----
TODAY=$(date -u -d "@$T0" +%F)
out=$(mr --day "$TODAY" 2>&1); rc=$?
check "report --day today: refused, exit 2" 2 "$rc"
check_match "report --day today: said why" 'has not ended yet' "$out"
out=$(mr --day "$(date -u -d "@$((T0 + 3 * 86400))" +%F)" 2>&1); rc=$?
check "report --day in the future: refused, exit 2" 2 "$rc"
check "report --day today: no marker of today" 0 \
	"$(find "$TW/reports" -name "results-$TODAY.sent.*" | wc -l)"

# --- retention: days past report_retention (default 14 d) go ----------
D20=$(date -u -d "@$((T0 - 20 * 86400))" +%F)
D15=$(date -u -d "@$((T0 - 15 * 86400))" +%F)
D13=$(date -u -d "@$((T0 - 13 * 86400))" +%F)
record "$((T0 - 20 * 86400))" good.test mx1.example.test - success 1
record "$((T0 - 15 * 86400))" good.test mx1.example.test - success 1
record "$((T0 - 13 * 86400))" good.test mx1.example.test - success 1
: > "$TW/reports/results-$D20.sent.good.test"
: > "$TW/reports/results-$D20.sent.good.test.rua-01234567"
: > "$TW/reports/unrelated-$D20"
mr --dry-run --day "$YDAY" >/dev/null
check "report --dry-run removes nothing" 4 \
	"$(ls "$TW/reports" | grep -c -e "results-$D20" -e "results-$D15")"
out=$(mr --day "$YDAY"); rc=$?
check_match "report: old files removed, said so" 'removed 4 files of days past the retention' "$out"
check "report: days past the retention gone" "" \
	"$(ls "$TW/reports" | grep -e "results-$D20" -e "results-$D15")"
check "report: a day within the retention kept" yes \
	"$([ -e "$TW/reports/results-$D13.tsv" ] && echo yes || echo no)"
check "report: a file not of mtasts kept" yes \
	"$([ -e "$TW/reports/unrelated-$D20" ] && echo yes || echo no)"
check "report: yesterday's results kept" yes \
	"$([ -e "$TW/reports/results-$YDAY.tsv" ] && echo yes || echo no)"
sed -i '/^report_retention/d' "$CONF"
echo "report_retention = 5d" >> "$CONF"
mr --day "$YDAY" >/dev/null
check "report_retention = 5d: the 13-day-old day goes too" no \
	"$([ -e "$TW/reports/results-$D13.tsv" ] && echo yes || echo no)"
sed -i '/^report_retention/d' "$CONF"

# --- identity: the mail name, not "localhost" (Debian: /etc/mailname) ---
# in a private mount and UTS namespace: the host's files stay as they are
NOID=$TW/noid.conf
grep -v -e '^report_org' -e '^report_contact' "$CONF" > "$NOID"
ident() {	# ident MAILNAME-CONTENT|- -> organization-name contact report-id
	printf '%s' "$1" > "$TW/mailname"
	MTASTS_FAKE_TIME=$T0 wx unshare -m -u --propagation private sh -c "
		hostname mx7.fleet-host.test
		if [ '$1' != - ]; then
			[ -e /etc/mailname ] || exit 3
			mount --bind '$TW/mailname' /etc/mailname || exit 3
		elif [ -e /etc/mailname ]; then
			mount --bind /dev/null /etc/mailname || exit 3
		fi
		exec '$MTASTS' -c '$NOID' report --dry-run --day '$YDAY'" 2>/dev/null |
		python3 -c 'import json,sys
o=[json.loads(l) for l in sys.stdin if l.startswith("{")]
print(o[0]["organization-name"], o[0]["contact-info"], o[0]["report-id"].split("@")[1])'
}
check "no report_org/contact: from the mail name" \
	"mail.sender.test postmaster@mail.sender.test mail.sender.test" \
	"$(ident "$(printf 'Mail.Sender.Test\n')")"
check "no report_org/contact, no mail name: the host name" \
	"mx7.fleet-host.test postmaster@mx7.fleet-host.test mx7.fleet-host.test" \
	"$(ident -)"

mr --frobnicate >/dev/null 2>&1
check "report with an unknown option: exit 2" 2 "$?"
mr --day 2026-13-45 >/dev/null 2>&1
check "report --day with a bad date: exit 2" 2 "$?"

summary
