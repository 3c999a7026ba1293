#!/bin/bash
# test_mxprobe.sh MTASTS - `mtasts check` probing every MX address the way
# an enforcing sender connects, against a real receiving Exim in the test
# world (mxprobe/recv.conf.in: one address per failure, certificates made
# with certtool by mxprobe/hook-start.sh): a good MX; a certificate for
# another name; one naming the host only in its CN; expired; expiring in
# 5 days; self-signed; from an untrusted CA; no STARTTLS; TLS 1.0 only; an
# MX with two addresses, one of them bad; an MX that accepts TCP and never
# answers; port 25 closed; port 25 dropped (a link where nobody answers).
# Each yields its finding code and the exit status; the receiver's log
# shows the commands of every session and never a MAIL.  Also: the
# policy host's certificate expiry (an injected clock), the outdated-policy
# pitfall against the local cache, --no-mx-probe, the JSON and Prometheus
# forms, golden outputs (tests/data/check/; UPDATE_GOLDEN=1 rewrites them)
# and `cache stats --prometheus`.
# Needs root (network namespace, port 25); prints "N passed, N failed".
set -uo pipefail
MTASTS=${1:?usage: test_mxprobe.sh MTASTS}
[ "$(id -u)" -eq 0 ] || { echo "SKIP test_mxprobe.sh: needs root (network namespaces; CI runs it as root)"; exit 77; }
for c in exim4 certtool python3; do
	command -v $c >/dev/null || { echo "test_mxprobe.sh: missing $c (tools/install-deps.sh)"; exit 1; }
done
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
MTASTS=$(readlink -f "$MTASTS")
GOLDEN=$SRC/tests/data/check
. "$HERE/lib.sh"
export WORLD_EXTRA_ZONE=$HERE/mxprobe/zone
export WORLD_EXTRA_POLICIES=$HERE/mxprobe/policies
export WORLD_HOOK_START=$HERE/mxprobe/hook-start.sh
# an hour more than 5 days: "in 5 days" whenever the checks run
MXP_EXPIRING=$(date -u -d '+5 days 1 hour' '+%Y-%m-%d %H:%M:%S UTC')
export MXP_EXPIRING
world_up mxprobe >/dev/null || { echo "world did not start"; exit 1; }

CONF=$TW/mtasts.conf
cat > "$CONF" <<CONF
cache_path = $TW/cache
cache_size = 4M
ca_file = $TW/certs/ca.crt
fetch_timeout = 5
dns_timeout = 2
mx_probe_timeout = 2
log_level = err
CONF
RLOG=$TW/mxp/log/mainlog
# the golden outputs' clock: 2030-01-01T00:00:00Z (the MX certificates of
# golden.test run from 2025 to 2035)
GOLDEN_TIME=1893456000

m() { wx "$MTASTS" -c "$CONF" "$@"; }
# mx DOMAIN [ARGS]: "exit=N" and the findings of area mx-tls as
# result:code[address] (address from the message, when it names one); the
# JSON stays in $LAST for msg
LAST=$TW/last.json
mx() {
	local d=$1 rc
	shift
	timeout 60 ip netns exec "$NS" "$MTASTS" -c "$CONF" check --json "$@" "$d" > "$LAST"
	rc=$?
	{ echo "exit=$rc"; python3 -c 'import json,re,sys
o=json.load(open(sys.argv[1]))
for f in o["findings"]:
    assert set(f) == {"check","result","code","message"}, f
    if f["check"] == "mx-tls":
        a=re.search(r"\[([0-9a-f.:]+)\]", f["message"])
        print("%s:%s%s" % (f["result"], f["code"], "[%s]" % a.group(1) if a else ""))' "$LAST"; } |
		tr '\n' ' ' | sed 's/ $//'
}
# msg CODE: the message of the first finding with CODE in the last mx run
msg() {
	python3 -c 'import json,sys
for f in json.load(open(sys.argv[1]))["findings"]:
    if f["code"] == sys.argv[2]:
        print(f["message"]); break' "$LAST" "$1"
}
# codes [AREA]: the findings that are not ok in the last mx run
codes() {
	python3 -c 'import json,sys
print(" ".join(f["result"]+":"+f["code"] for f in json.load(open(sys.argv[1]))["findings"]
               if f["result"] != "ok" and sys.argv[2] in ("", f["check"])))' "$LAST" "${1:-}"
}
sessions() { grep -c "no MAIL in SMTP connection from .* I=\[$1\]:25" "$RLOG" || true; }

echo "== the cache is read, never made"
out=$(m check --no-mx-probe p-ok.test); rc=$?
check "no cache yet: p-ok.test passes" "0" "$rc"
check "no cache yet: no finding about it" "" "$(echo "$out" | grep -i cache)"
check "no cache yet: none created" "no" "$([ -e "$TW/cache" ] && echo yes || echo no)"

echo "== one failure per MX"
check "good MX" "exit=0 ok:mx-tls-ok[127.0.2.1]" "$(mx p-ok.test)"
check_match "good MX: protocol, cipher, name, expiry named" \
	'^ok\.probe\.test \[127\.0\.2\.1\]: STARTTLS, TLS1\.[23], TLS_[A-Z0-9_]+, certificate for ok\.probe\.test, trusted, valid until 2035-01-01 \([0-9]+ days\)$' \
	"$(msg mx-tls-ok)"
check "certificate for another name" \
	"exit=1 error:mx-cert-name-mismatch[127.0.2.2]" "$(mx p-wrongname.test)"
check "the name only in the CN" \
	"exit=1 error:mx-cert-name-mismatch[127.0.2.3]" "$(mx p-cnonly.test)"
check_match "the name only in the CN: said so" 'only its subject CN names the host' \
	"$(msg mx-cert-name-mismatch)"
check "expired certificate" "exit=1 error:mx-cert-expired[127.0.2.4]" "$(mx p-expired.test)"
check_match "expired certificate: the date" 'expired on 2020-01-01' \
	"$(msg mx-cert-expired)"
check "certificate expiring in 5 days: a warning, exit 3" \
	"exit=3 ok:mx-tls-ok[127.0.2.5] warning:mx-cert-expiring[127.0.2.5]" "$(mx p-expiring.test)"
check_match "certificate expiring in 5 days: the days" 'in 5 days$' \
	"$(msg mx-cert-expiring)"
check "self-signed certificate" "exit=1 error:mx-cert-untrusted[127.0.2.6]" "$(mx p-self.test)"
check_match "self-signed certificate: said so" 'self-signed' "$(msg mx-cert-untrusted)"
check "certificate of an untrusted CA" "exit=1 error:mx-cert-untrusted[127.0.2.7]" "$(mx p-otherca.test)"
check_match "certificate of an untrusted CA: issuer unknown" 'issuer is unknown' \
	"$(msg mx-cert-untrusted)"
check "no STARTTLS" "exit=1 error:mx-starttls-missing[127.0.2.8]" "$(mx p-plain.test)"
check "TLS 1.0 only" "exit=1 error:mx-tls-version[127.0.2.9]" "$(mx p-tls10.test)"
check_match "TLS 1.0 only: the version named" 'the server chose TLS1\.0' \
	"$(msg mx-tls-version)"
check "two addresses, one bad: each named" \
	"exit=1 ok:mx-tls-ok[127.0.2.10] error:mx-cert-name-mismatch[127.0.2.11]" "$(mx p-split.test)"
check "accepts TCP, never answers: bounded, a timeout" \
	"exit=1 error:mx-timeout[127.0.2.12]" "$(mx p-silent.test)"
check_match "accepts TCP, never answers: the step named" 'no answer to the banner' \
	"$(msg mx-timeout)"
check "port 25 closed" "exit=1 error:mx-connect-failed[127.0.2.13]" "$(mx p-closed.test)"
check_match "port 25 closed: refused" 'Connection refused' "$(msg mx-connect-failed)"
check "an MX host without an address" "exit=1 error:mx-no-address" "$(mx p-noaddr.test)"
check "an IPv6 address with no route from here: not probed, not a failure" \
	"exit=0 info:mx-not-probed[2001:db8::25] ok:mx-tls-ok[127.0.2.1]" "$(mx p-v6.test)"
check "mode testing: a failing MX is a warning, exit 3" \
	"exit=3 warning:mx-cert-name-mismatch[127.0.2.2]" "$(mx p-testing.test)"

echo "== port 25 dropped on the way"
# 10.202.0.0/24 leads to a link where a static neighbour entry sends every
# frame to a MAC nobody has: SYNs vanish as behind a dropping firewall
wx ip link add pb0 type veth peer name pb1 &&
	wx ip addr add 10.202.0.1/24 dev pb0 && wx ip link set pb0 up &&
	wx ip link set pb1 up || { echo "cannot make the dropping link"; exit 1; }
for i in 2 3 4 5; do
	wx ip neigh add 10.202.0.$i lladdr 02:00:00:00:00:99 dev pb0 nud permanent
done
r=$(mx p-blocked.test)
check "dropped: three addresses tried, then a clear finding" \
	"exit=1 error:mx-connect-failed[10.202.0.2] error:mx-connect-failed[10.202.0.3] error:mx-connect-failed[10.202.0.4] warning:mx-port25-blocked info:mx-not-probed" "$r"
check_match "dropped: the advice" 'outbound port 25 is blocked here.*--no-mx-probe' \
	"$(msg mx-port25-blocked)"
check "dropped, --no-mx-probe: nothing probed" "exit=0" "$(mx p-blocked.test --no-mx-probe)"

echo "== --no-mx-probe"
before=$(sessions 127.0.2.2)
check "no probe: the MX findings are gone" "exit=0" "$(mx p-wrongname.test --no-mx-probe)"
check "no probe: the MX was not contacted" "$before" "$(sessions 127.0.2.2)"

echo "== what the receiver saw"
check "no message was received" 0 "$(grep -c ' <= ' "$RLOG")"
check "no MAIL command in any session" 0 "$(grep ' C=' "$RLOG" | grep -c 'C=.*MAIL')"
check "TLS sessions: SNI is the MX name probed" \
	"ok.probe.test split.probe.test v6.probe.test" \
	"$(sed -n 's/.* I=\[127\.0\.2\.\(1\|10\)\]:25 .*SNI=\([^ ]*\) .*/\2/p' "$RLOG" | sort -u | tr '\n' ' ' | sed 's/ $//')"
check_match "a TLS session: EHLO, STARTTLS, EHLO, QUIT" \
	'I=\[127\.0\.2\.1\]:25 .*SNI=ok\.probe\.test C=EHLO,STARTTLS,EHLO,QUIT$' \
	"$(grep 'no MAIL in SMTP connection .* I=\[127\.0\.2\.1\]:25 .*SNI=ok' "$RLOG" | tail -1)"
check_match "no STARTTLS offered: EHLO, QUIT" 'I=\[127\.0\.2\.8\]:25 .* C=EHLO,QUIT$' \
	"$(grep 'no MAIL in SMTP connection .* I=\[127\.0\.2\.8\]:25' "$RLOG" | tail -1)"

echo "== the policy host's certificate"
na=$(certtool -i --infile "$TW/certs/policy.crt" | sed -n 's/^[[:space:]]*Not After: //p')
na=$(date -u -d "$na" +%s)
out=$(MTASTS_FAKE_TIME=$((na - 5 * 86400 - 3600)) m check --no-mx-probe p-ok.test); rc=$?
check "policy host certificate ending in 5 days: exit 3" 3 "$rc"
check_match "policy host certificate ending in 5 days: the warning" \
	'^warning fetch +the certificate of mta-sts\.p-ok\.test expires on [0-9-]+, in 5 days: .*\[fetch-cert-expiring\]$' \
	"$(echo "$out" | grep fetch-cert-expiring)"

echo "== the outdated-policy pitfall"
m query --store outdated.test >/dev/null
check "the policy as cached: no finding" "exit=0" "$(mx outdated.test --no-mx-probe)"
set_policy outdated.test "$(printf 'version: STSv1\nmode: testing\nmx: ok.probe.test\nmx: *.other.test\nmax_age: 604800\n')"
mx outdated.test --no-mx-probe >/dev/null
check "policy changed, same id: outdated" "info:policy-testing warning:policy-outdated" "$(codes)"
check_match "policy changed, same id: what differs and what to do" \
	'same id 1 \(cached mode enforce, max_age 86400; served mode testing, max_age 604800; mx served, not cached: \*\.other\.test\).*publish the change with a new id' \
	"$(msg policy-outdated)"
set_txt_id outdated.test 2
mx outdated.test --no-mx-probe >/dev/null
check "policy changed with a new id: not outdated" "info:policy-testing" "$(codes)"
set_txt_id outdated.test 1
uctl local_data "outdated.test. 300 IN MX 20 split.probe.test."
mx outdated.test --no-mx-probe >/dev/null
check_match "an MX no longer covered: the pattern to add" \
	'split\.probe\.test \(preference 20\) matches no mx: pattern; add "mx: split\.probe\.test" \(or "mx: \*\.probe\.test"\) to the policy' \
	"$(msg mx-uncovered)"
chown Debian-exim "$TW/cache"
mx outdated.test --no-mx-probe >/dev/null 2>&1
check "a cache this user may not read: said, and no more" \
	"info:policy-testing info:policy-cache-unread" "$(codes policy)"
chown root "$TW/cache"

echo "== Prometheus"
out=$(m check --prometheus p-ok.test p-split.test); rc=$?
check "two domains: exit by the worst" 1 "$rc"
check "exposition format: valid, one HELP and TYPE per family" "ok" "$(echo "$out" | python3 -c '
import re,sys
seen=set(); cur=None; ok=True
for l in sys.stdin.read().splitlines():
    m=re.match(r"# (HELP|TYPE) ([a-z_]+) (.+)$", l)
    if m:
        if m.group(1)=="TYPE":
            ok &= m.group(2) not in seen and m.group(3) in ("gauge","counter"); seen.add(m.group(2)); cur=m.group(2)
        continue
    m=re.match(r"([a-z_]+)\{([a-z_]+=\"[^\"\\\\]*\")(,[a-z_]+=\"[^\"\\\\]*\")*\} -?[0-9]+$", l)
    ok &= bool(m) and m.group(1)==cur
print("ok" if ok and seen else "bad")')"
check "per domain and check: pass/fail" \
	"1 0" "$(echo "$out" | sed -n 's/^mtasts_check_ok{domain="\(p-ok\|p-split\)\.test",check="mx-tls"} //p' | tr '\n' ' ' | sed 's/ $//')"
check "per MX address: pass/fail" \
	'mtasts_mx_tls_ok{domain="p-split.test",mx="split.probe.test",address="127.0.2.10"} 1 mtasts_mx_tls_ok{domain="p-split.test",mx="split.probe.test",address="127.0.2.11"} 0' \
	"$(echo "$out" | grep '^mtasts_mx_tls_ok{domain="p-split' | tr '\n' ' ' | sed 's/ $//')"
check_match "days to certificate expiry" \
	'^mtasts_mx_cert_expiry_days\{domain="p-ok\.test",mx="ok\.probe\.test",address="127\.0\.2\.1"\} [0-9]+$' \
	"$(echo "$out" | grep '^mtasts_mx_cert_expiry_days{domain="p-ok')"
out=$(m cache --prometheus stats); rc=$?
check "cache --prometheus stats: exit 0" 0 "$rc"
check "cache --prometheus stats: the figures" "1 1 0 0 0" "$(echo "$out" |
	sed -n 's/^mtasts_cache_\(entries\|policies\|negatives\|lost_entries\|damaged_slots\) //p' | tr '\n' ' ' | sed 's/ $//')"
check "cache --prometheus stats: every figure once" \
	"slots entries policies negatives lost_entries damaged_slots file_size_bytes hits_total misses_total evictions_total corrupt_seen_total torn_reads_total locked_reads_total grows_total backoff_entries" \
	"$(echo "$out" | sed -n 's/^# TYPE mtasts_cache_\([a-z_]*\) .*/\1/p' | tr '\n' ' ' | sed 's/ $//')"
check_match "cache --prometheus stats: counters are counters" \
	'# TYPE mtasts_cache_hits_total counter' "$out"
m cache --prometheus list >/dev/null 2>&1
check "cache --prometheus list: usage, exit 2" 2 "$?"
m check --json --prometheus p-ok.test >/dev/null 2>&1
check "check --json --prometheus: usage, exit 2" 2 "$?"

echo "== the monitoring recipe of docs/monitoring.md"
mkdir -p "$TW/textfile"
printf '# monitored\np-ok.test\np-split.test   # two addresses\n' > "$TW/domains"
sed -n '/^```sh$/,/^```$/p' "$SRC/docs/monitoring.md" | sed '1d;$d' |
	sed -e "s|/var/lib/prometheus/node-exporter|$TW/textfile|; s|/etc/mtasts/monitor-domains|$TW/domains|" \
	    -E -e 's/(^|[[:space:]])mtasts (check|cache) /\1"$MTASTS" -c "$CONF" \2 /' > "$TW/mtasts-monitor"
check "the recipe's script found, both commands" 2 \
	"$(grep -c '"$MTASTS" -c "$CONF" \(check\|cache\) --prometheus' "$TW/mtasts-monitor")"
wx env MTASTS="$MTASTS" CONF="$CONF" sh "$TW/mtasts-monitor"
check "the recipe: exit 0 with findings to publish" 0 "$?"
check "the recipe: two files, nothing left half-written" "mtasts-cache.prom mtasts-check.prom" \
	"$(ls "$TW/textfile" | tr '\n' ' ' | sed 's/ $//')"
check "the recipe: both domains in the check file" "p-ok.test p-split.test" \
	"$(sed -n 's/^mtasts_check_timestamp_seconds{domain="\([^"]*\)"} .*/\1/p' "$TW/textfile/mtasts-check.prom" | tr '\n' ' ' | sed 's/ $//')"

echo "== golden outputs (clock: 2030-01-01)"
# the policy host's certificate is made when the world starts: its date
# and days are the only parts that change from run to run
mask() { sed -E 's/certificate valid until [0-9-]+ \(-?[0-9]+ days\)/certificate valid until DATE (N days)/; s/^(mtasts_policy_cert_expiry_days\{[^}]*\}) -?[0-9]+$/\1 N/'; }
for form in txt json prom; do
	case $form in
	txt) args= ;;
	json) args=--json ;;
	prom) args=--prometheus ;;
	esac
	# shellcheck disable=SC2086
	out=$(MTASTS_FAKE_TIME=$GOLDEN_TIME m check $args golden.test | mask)
	if [ -n "${UPDATE_GOLDEN:-}" ]; then
		mkdir -p "$GOLDEN"
		printf '%s\n' "$out" > "$GOLDEN/golden.$form"
	fi
	check "golden.test ($form): as tests/data/check/golden.$form" \
		"$(cat "$GOLDEN/golden.$form" 2>/dev/null)" "$out"
done

summary
