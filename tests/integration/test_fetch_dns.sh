#!/bin/bash
# test_fetch_dns.sh PROBE MTASTS - every DNS and policy-fetch scenario of
# the test world through common/dns and common/fetch (the probe driver),
# asserting the exact status of each, and what the engine makes of the
# hostile ones (through `mtasts query`).  Starts its own world (unique
# TW/NS), stops it on exit, ends with "N passed, N failed".  Needs root,
# python3 and tinyproxy (tools/install-deps.sh).
set -u
PROBE=${1:?usage: test_fetch_dns.sh PROBE MTASTS}
MTASTS=${2:?usage: test_fetch_dns.sh PROBE MTASTS}
case $PROBE in /*) ;; *) PROBE=$(pwd)/$PROBE ;; esac
[ "$(id -u)" -eq 0 ] || { echo "SKIP test_fetch_dns.sh: needs root (network namespaces; CI runs it as root)"; exit 77; }
case $MTASTS in /*) ;; *) MTASTS=$(pwd)/$MTASTS ;; esac
[ -x "$PROBE" ] || { echo "probe $PROBE not executable"; echo "0 passed, 1 failed"; exit 1; }
[ -x "$MTASTS" ] || { echo "mtasts $MTASTS not executable"; echo "0 passed, 1 failed"; exit 1; }
. "$(dirname "$0")/lib.sh"

if ! world_up fd; then
	echo "world did not start"
	echo "0 passed, 1 failed"
	exit 1
fi

probe() { wx "$PROBE" "$@" 2>&1; }
first() { head -1 <<<"$1"; }
# field KEY LINE: the value of KEY= in a probe line
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2" | head -1; }

# --- DNS: TXT ----------------------------------------------------------------
txt() {	# txt LABEL NAME WANT-FIRST-LINE [WANT-RECORD...]
	local label=$1 name=$2 want=$3 out r
	shift 3
	out=$(probe txt "$name" --dns-timeout-ms 2000)
	check "txt $label" "$want" "$(first "$out")"
	for r in "$@"; do
		check "txt $label has '$r'" "rec=$r" "$(grep -Fx "rec=$r" <<<"$out")"
	done
}
txt good _mta-sts.good.test "status=answer sec=insecure n=1" "v=STSv1; id=1;"
txt split _mta-sts.split.test "status=answer sec=insecure n=1" "v=STSv1; id=split42;"
txt multi _mta-sts.multi.test "status=answer sec=insecure n=2" "v=STSv1; id=1;" "v=STSv1; id=2;"
txt cname _mta-sts.txtcname.test "status=answer sec=insecure n=1" "v=STSv1; id=1;"
txt wrongver _mta-sts.wrongver.test "status=answer sec=insecure n=1" "v=STSv2; id=1;"
txt mixed _mta-sts.mixed.test "status=answer sec=insecure n=2" "v=STSv1; id=mixed1;" "google-site-verification=abc"
txt nodata _mta-sts.nodata.test "status=nodata sec=insecure n=0"
txt nxdomain _mta-sts.nxdomain.test "status=nxdomain sec=insecure n=0"
txt servfail _mta-sts.servfail.test "status=tempfail sec=insecure n=0"
out=$(probe txt _mta-sts.timeout.test --dns-timeout-ms 500 --verbose)
check "txt timeout (no answer)" "status=tempfail sec=insecure n=0" \
	"$(grep '^status=' <<<"$out")"
check_match "txt timeout: the deadline ended it" \
	"event=dns-timeout name=_mta-sts.timeout.test type=16 timeout_ms=500" "$out"
out=$(probe txt _mta-sts.servfail.test --verbose)
check "txt servfail: an answer, not the deadline" "" \
	"$(grep -o 'event=dns-timeout' <<<"$out")"
out=$(probe txt _mta-sts.good.test --resolv-conf /nonexistent/resolv.conf)
check "unreadable resolv.conf: configuration error" "rc=configuration error" "$(first "$out")"
printf 'nameserver 127.0.0.1\n' > "$TW/resolv.alt"
out=$(probe txt _mta-sts.good.test --resolv-conf "$TW/resolv.alt")
check "resolv.conf given by path" "status=answer sec=insecure n=1" "$(first "$out")"
out=$(probe txt "bad name" 2>&1)
check "txt invalid name refused" "rc=invalid argument" "$(first "$out")"

# each process asks the server once; repeated lookups in one process reuse
# one context, whose cache honours the TTL
before=$(count_txt_queries good.test)
probe txt _mta-sts.good.test >/dev/null
probe txt _mta-sts.good.test >/dev/null
check "two processes: two queries counted" $((before + 2)) "$(count_txt_queries good.test)"
out=$(probe txt _mta-sts.good.test --repeat 3)
check "repeat: three answers" 3 "$(grep -c '^status=answer' <<<"$out")"
check "repeat: one query within the TTL" $((before + 3)) "$(count_txt_queries good.test)"

# fork: the child must not use the parent's resolver context (whose thread
# stayed in the parent); both go on answering
out=$(probe txt _mta-sts.good.test --fork --repeat 2)
check "fork: parent, child x2, parent x2" "answer child answer answer parent answer answer" \
	"$(grep -v '^rec=' <<<"$out" | sed 's/^status=\([a-z]*\).*/\1/' | tr '\n' ' ' | sed 's/ $//')"

# run-time changes through lib.sh reach the resolver at once
set_txt_id good.test 7
txt "after set_txt_id" _mta-sts.good.test "status=answer sec=insecure n=1" "v=STSv1; id=7;"
set_txt good.test "v=STSv1; id=8;" "v=STSv1; id=9;"
txt "after set_txt" _mta-sts.good.test "status=answer sec=insecure n=2" "v=STSv1; id=8;" "v=STSv1; id=9;"
set_txt_id good.test 1
del_name _mta-sts.mixed.test
txt "after del_name" _mta-sts.mixed.test "status=nxdomain sec=insecure n=0"

# --- DNS: MX, TLSA -----------------------------------------------------------
out=$(probe mx mx.test)
check "mx status" "status=answer sec=insecure n=3" "$(first "$out")"
check "mx names normalised" "mx=10 mx1.example.test" "$(grep -Fx 'mx=10 mx1.example.test' <<<"$out")"
check "mx pref kept" "mx=5 mx.other.test" "$(grep -Fx 'mx=5 mx.other.test' <<<"$out")"
out=$(probe mx nullmx.test)
check "null mx (RFC 7505)" "status=answer sec=insecure n=1|mx=0 ." "$(tr '\n' '|' <<<"$out" | sed 's/|$//')"
check "mx nxdomain" "status=nxdomain sec=insecure n=0" "$(first "$(probe mx nxdomain.test)")"
check "mx nodata" "status=nodata sec=insecure n=0" "$(first "$(probe mx good.test)")"
check "tlsa one record" "status=answer sec=insecure n=1" "$(first "$(probe tlsa mx1.example.test)")"
check "tlsa none" "status=nxdomain sec=insecure n=0" "$(first "$(probe tlsa mx2.example.test)")"

# --- DNSSEC: a signed zone with its trust anchor, and with a wrong one ----------
TA=$TW/dnssec/signed.test.ds
BAD=$TW/dnssec/signed.test.wrong.ds
out=$(probe txt _mta-sts.signed.test --trust-anchor "$TA")
check "dnssec txt secure" "status=answer sec=secure n=1|rec=v=STSv1; id=signed1;" \
	"$(tr '\n' '|' <<<"$out" | sed 's/|$//')"
check "dnssec mx secure" "status=answer sec=secure n=1" \
	"$(first "$(probe mx signed.test --trust-anchor "$TA")")"
check "dnssec tlsa secure" "status=answer sec=secure n=1" \
	"$(first "$(probe tlsa mx1.signed.test --trust-anchor "$TA")")"
check "dnssec nxdomain proven" "status=nxdomain sec=secure n=0" \
	"$(first "$(probe tlsa mx2.signed.test --trust-anchor "$TA")")"
check "dnssec bogus txt: tempfail" "status=tempfail sec=bogus n=0" \
	"$(first "$(probe txt _mta-sts.signed.test --trust-anchor "$BAD")")"
check "dnssec bogus tlsa: tempfail" "status=tempfail sec=bogus n=0" \
	"$(first "$(probe tlsa mx1.signed.test --trust-anchor "$BAD")")"
check "dnssec bogus nxdomain: tempfail" "status=tempfail sec=bogus n=0" \
	"$(first "$(probe txt _mta-sts.nothere.signed.test --trust-anchor "$BAD")")"
check "outside the anchor: insecure" "status=answer sec=insecure n=1" \
	"$(first "$(probe txt _mta-sts.good.test --trust-anchor "$TA")")"
check "no anchor: insecure" "status=answer sec=insecure n=1" \
	"$(first "$(probe txt _mta-sts.signed.test)")"

# --- Policy fetch ------------------------------------------------------------
fetch() {	# fetch LABEL DOMAIN WANT-ERR WANT-HTTP [WANT-LEN]
	local out
	out=$(probe fetch "$2" --ca "$CA" --timeout-ms 2000)
	check "fetch $1: err" "$3" "$(field err "$out")"
	check "fetch $1: http" "$4" "$(field http "$out")"
	[ $# -ge 5 ] && check "fetch $1: len" "$5" "$(field len "$out")"
	[ "$3" = ok ] || check_match "fetch $1: detail" '^err=.*detail="[^"]+"$' "$out"
}
# the policy host is looked up once, by libunbound; libcurl gets the
# addresses and asks nobody (getaddrinfo() would send its own queries)
qa=$(count_queries mta-sts.good.test A)
q6=$(count_queries mta-sts.good.test AAAA)
probe fetch good.test --ca "$CA" >/dev/null
check "one A query per fetch" $((qa + 1)) "$(count_queries mta-sts.good.test A)"
check "one AAAA query per fetch" $((q6 + 1)) "$(count_queries mta-sts.good.test AAAA)"
good_before=$(count_fetches good.test)
fetch good good.test ok 200 "$(stat -c %s "$TW/www/mta-sts.good.test/.well-known/mta-sts.txt")"
fetch 301 f301.test redirect 301
fetch 302 f302.test redirect 302
check "redirects not followed" $((good_before + 1)) "$(count_fetches good.test)"
check "redirect server asked once" 1 "$(count_fetches f301.test)"
# Without ca_file the system bundle is the trust: the world's CA is not in
# it, so the fetch fails on the certificate; with the world's CA bound over
# the bundle (a private mount namespace, the machine's file untouched) the
# same fetch succeeds.
out=$(probe fetch good.test --timeout-ms 2000)
check "no ca_file: the test CA is not trusted" cert "$(field err "$out")"
SYS_BUNDLE=/etc/ssl/certs/ca-certificates.crt
if [ -f "$SYS_BUNDLE" ]; then
	out=$(unshare -m sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' \
		sh "$CA" "$SYS_BUNDLE" ip netns exec "$NS" "$PROBE" fetch good.test \
		--timeout-ms 2000 2>&1)
	check "no ca_file: the system bundle is the trust" ok "$(field err "$out")"
else
	check "the system CA bundle exists (package ca-certificates)" yes no
fi
fetch 404 f404.test status 404
fetch 500 f500.test status 500
fetch text/html fhtml.test content-type 200
fetch "no content type" fnotype.test content-type 200
fetch "charset parameter" fcharset.test ok 200
fetch "upper-case media type" fupper.test ok 200
fetch "70 KiB body" fbig.test too-big 200 0
fetch "exactly 65536 bytes" fexact.test ok 200 65536
fetch "70 KiB chunked (streaming cap)" fchunked.test too-big 200 0
fetch "65536 bytes chunked" fchunkedok.test ok 200 65536
fetch "slow server" fslow.test timeout 200 0
fetch "expired certificate" fexpired.test cert 0
fetch "self-signed certificate" fselfsigned.test cert 0
fetch "wrong-name certificate" fwrongname.test cert 0
fetch "untrusted CA" funtrusted.test cert 0
fetch "TLS 1.0 only" ftls10.test tls 0
fetch "connection refused" frefused.test connect 0
fetch "no address" fnoaddr.test dns 0
fetch "nxdomain" nxdomain.test dns 0

out=$(probe fetch fexpired.test --ca "$CA")
check "tlsrpt type: webpki" sts-webpki-invalid "$(field tlsrpt "$out")"
out=$(probe fetch f404.test --ca "$CA")
check "tlsrpt type: fetch error" sts-policy-fetch-error "$(field tlsrpt "$out")"
out=$(probe fetch fhtml.test --ca "$CA")
check "tlsrpt type: policy invalid" sts-policy-invalid "$(field tlsrpt "$out")"

# the system store does not know the test CA
out=$(probe fetch good.test)
check "good host, system store" cert "$(field err "$out")"
# proxies from the environment are ignored (none listens on .36)
out=$(wx env https_proxy=http://127.0.0.36:3128 HTTPS_PROXY=http://127.0.0.36:3128 \
	ALL_PROXY=http://127.0.0.36:3128 "$PROBE" fetch good.test --ca "$CA")
check "proxy environment ignored" ok "$(field err "$out")"
# the body is returned exactly
out=$(probe fetch good.test --ca "$CA" --body | tail -n +2)
check "body as served" "$(cat "$TW/www/mta-sts.good.test/.well-known/mta-sts.txt")" "$out"
# a domain in another form is normalised before the URL is built
out=$(probe fetch GOOD.Test. --ca "$CA")
check "domain normalised" ok "$(field err "$out")"
out=$(probe fetch "good.test/evil" --ca "$CA")
check "URL injection refused" "rc=invalid argument" "$(first "$out")"
# each fetch is one request; several in one process
before=$(count_fetches good.test)
out=$(probe fetch good.test --ca "$CA" --repeat 3)
check "repeat: three fetches ok" 3 "$(grep -c '^err=ok' <<<"$out")"
check "repeat: three requests counted" $((before + 3)) "$(count_fetches good.test)"

# set_policy: new content, and a domain new to the world
set_policy good.test "$(printf 'version: STSv1\nmode: testing\nmx: new.example.test\nmax_age: 600\n')"
out=$(probe fetch good.test --ca "$CA" --body)
check "set_policy: new content" "mx: new.example.test" "$(grep -F 'mx: new' <<<"$out")"
set_policy added.test "$(printf 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 600\n')"
out=$(probe fetch added.test --ca "$CA")
check "set_policy: new domain fetched" ok "$(field err "$out")"
txt "set_policy: new domain TXT" _mta-sts.added.test "status=answer sec=insecure n=1" "v=STSv1; id=1;"
break_policy_host added.test
check "break_policy_host" connect "$(field err "$(probe fetch added.test --ca "$CA")")"
fix_policy_host added.test
check "fix_policy_host" ok "$(field err "$(probe fetch added.test --ca "$CA")")"

# --- DNS-IDs only (RFC 8461 §3.3): no fallback to the subject CN -------------
fetch "CN only, no subjectAltName" fcnonly.test cert 0
out=$(probe fetch fcnonly.test --ca "$CA")
check "CN only: tlsrpt type" sts-webpki-invalid "$(field tlsrpt "$out")"
check_match "CN only: the detail names the rule" \
	'detail="no subjectAltName dNSName matches mta-sts\.fcnonly\.test' "$out"
fetch "wildcard DNS-ID *.fwild.test" fwild.test ok 200

# --- response headers: capped, a fetch failure, never "out of memory" -------
wx python3 "$LIB_DIR/hostile_https.py" "$TW/www" "$TW/log/https-hostile.log" \
	127.0.0.38 443 "$TW/certs/policy.crt" "$TW/certs/policy.key" \
	"$TW/run/hostile.ready" >"$TW/log/hostile.err" 2>&1 &
echo $! > "$TW/run/hostile.pid"
for i in $(seq 1 250); do [ -e "$TW/run/hostile.ready" ] && break; sleep 0.02; done
check "hostile server is up" yes "$([ -e "$TW/run/hostile.ready" ] && echo yes || echo no)"
hdr() {	# hdr LABEL DOMAIN WANT-ERR
	local out
	out=$(probe fetch "$2" --ca "$CA" --timeout-ms 5000)
	check "$1: err" "$3" "$(field err "$out")"
	check "$1: a fetch result, not a status" "" "$(grep -o '^rc=.*' <<<"$out")"
}
hdr "one 8 MiB header line" fhdrbig.test header-too-big
hdr "2 MiB of 1 KiB header lines" fhdrmany.test header-too-big
hdr "10 KiB of header lines" fhdrok.test ok
out=$(probe fetch fhdrbig.test --ca "$CA")
check "oversized header: tlsrpt type" sts-policy-fetch-error "$(field tlsrpt "$out")"
check_match "2 MiB of header lines: the cap named" 'detail="response header over 16384 bytes"' \
	"$(probe fetch fhdrmany.test --ca "$CA")"

# the engine: a fetch failure like any other (none without a cached policy,
# the cached policy kept with one, backed off either way)
CONF=$TW/mtasts.conf
cat > "$CONF" <<CONF
cache_path = $TW/cache
cache_size = 4M
ca_file = $CA
txt_check_interval = 1h
fetch_timeout = 3
dns_timeout = 2
log_level = err
CONF
T0=$(date +%s)
q() {	# q OFFSET DOMAIN MX: the human line of mtasts query
	MTASTS_FAKE_TIME=$((T0 + $1)) wx "$MTASTS" -c "$CONF" query --store "$2" "$3" 2>&1
}
fc=$(count_fetches fhdrbig.test)
out=$(q 0 fhdrbig.test mx1.example.test)
check "engine, oversized header, nothing cached: none" none "$(field verdict "$out")"
check "engine, oversized header: reason" sts-policy-fetch-error "$(field reason "$out")"
check "engine, oversized header: one request" $((fc + 1)) "$(count_fetches fhdrbig.test)"
out=$(q 30 fhdrbig.test mx1.example.test)
check "engine, oversized header: backed off" "none backoff" "$(field verdict "$out") $(field reason "$out")"
check "engine, oversized header: no request during the back-off" $((fc + 1)) "$(count_fetches fhdrbig.test)"
out=$(q 0 fhdrswap.test mx1.example.test)
check "engine, fhdrswap first fetch" "require-tls fetch 1" \
	"$(field verdict "$out") $(field source "$out") $(field policy_id "$out")"
set_txt_id fhdrswap.test 2
set_a mta-sts.fhdrswap.test 127.0.0.38
fc=$(count_fetches fhdrswap.test)
out=$(q 4000 fhdrswap.test mx1.example.test)
check "engine, new id, oversized header: the cached policy applies" "require-tls cache 1" \
	"$(field verdict "$out") $(field source "$out") $(field policy_id "$out")"
check "engine, new id, oversized header: one request" $((fc + 1)) "$(count_fetches fhdrswap.test)"
out=$(q 4030 fhdrswap.test mx1.example.test)
check "engine, then: still the cached policy" "require-tls 1" "$(field verdict "$out") $(field policy_id "$out")"
check "engine, then: no request during the back-off" $((fc + 1)) "$(count_fetches fhdrswap.test)"

# --- one deadline: the policy host's address lookup is inside fetch_timeout -
# mta-sts.fdrop.test's A and AAAA queries are dropped.  libcurl no longer
# resolves (its getaddrinfo() took the system resolver's 5 s x 2 attempts,
# 30 s with "options timeout:15", whatever the fetch timeout); the bounds
# below are correctness bounds with a wide margin, not measurements.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
timed() {	# timed CMD...: OUT and MS (elapsed milliseconds)
	local t0
	t0=$(now_ms)
	OUT=$("$@" 2>&1)
	MS=$(( $(now_ms) - t0 ))
}
within() {	# within LABEL LIMIT-MS
	check "$1 (took ${MS} ms, bound $2 ms)" yes "$([ "$MS" -lt "$2" ] && echo yes || echo no)"
}
timed wx "$PROBE" fetch fdrop.test --ca "$CA" --timeout-ms 3000 --dns-timeout-ms 20000
check "dropped address queries: the fetch deadline ends it" timeout "$(field err "$OUT")"
within "dropped address queries: fetch_timeout 3 s holds" 5000
timed wx "$PROBE" fetch fdrop.test --ca "$CA" --timeout-ms 20000 --dns-timeout-ms 1000
check "dropped address queries, dns_timeout 1 s: a DNS failure" dns "$(field err "$OUT")"
within "dropped address queries: dns_timeout 1 s holds" 3000
RESOLV=/etc/netns/$NS/resolv.conf
cp "$RESOLV" "$TW/resolv.saved"
printf 'nameserver 127.0.0.1\noptions timeout:15 attempts:5\n' > "$RESOLV"
timed wx "$PROBE" fetch fdrop.test --ca "$CA" --timeout-ms 3000 --dns-timeout-ms 20000
within "resolv.conf timeout:15 attempts:5 changes nothing" 5000
timed wx "$PROBE" fetch fdrop.test --ca "$CA" --timeout-ms 3000 --private-resolver
check "private resolver: the deadline ends it" timeout "$(field err "$OUT")"
within "private resolver: fetch_timeout 3 s holds" 5000
# a first delivery: TXT lookup (at most dns_timeout) + fetch (at most
# fetch_timeout, the address lookup inside it at most dns_timeout)
timed q 0 fdrop.test mx1.example.test
check "engine, dropped address queries: none" none "$(field verdict "$OUT")"
within "engine: dns_timeout 2 s + fetch_timeout 3 s holds" 7000
cp "$TW/resolv.saved" "$RESOLV"
out=$(probe fetch good.test --ca "$CA" --private-resolver)
check "private resolver: ok" ok "$(field err "$out")"

# --- an HTTP CONNECT proxy (the `proxy` key), the only way out ---------------
# The sender runs in a namespace of its own, joined to the world by a veth
# pair only: it has DNS (a forwarder to the world's unbound) and reaches
# tinyproxy on 10.201.0.1:8888, but not the policy servers (127.0.0.x is
# its own loopback there).
if proxy_up; then
	SX() { ip netns exec "$SNS" "$@"; }
	PX=http://10.201.0.1:8888
	out=$(SX "$PROBE" fetch good.test --ca "$CA" --timeout-ms 3000)
	check "sender namespace: the policy host is out of reach directly" \
		connect "$(field err "$out")"
	fc=$(count_fetches good.test)
	pc=$(count_proxy_connects mta-sts.good.test:443)
	out=$(SX "$PROBE" fetch good.test --ca "$CA" --proxy $PX --timeout-ms 5000)
	check "through the proxy: ok" ok "$(field err "$out")"
	check "through the proxy: one CONNECT" $((pc + 1)) "$(count_proxy_connects mta-sts.good.test:443)"
	check "through the proxy: one request at the policy host" $((fc + 1)) "$(count_fetches good.test)"
	out=$(SX env no_proxy='*' NO_PROXY='*' https_proxy=http://127.0.0.36:1 \
		"$PROBE" fetch good.test --ca "$CA" --proxy $PX/ --timeout-ms 5000)
	check "through the proxy, proxy variables in the environment: ok" ok "$(field err "$out")"
	out=$(SX "$PROBE" fetch fcnonly.test --ca "$CA" --proxy $PX --timeout-ms 5000)
	check "through the proxy: CN-only certificate refused" cert "$(field err "$out")"
	out=$(SX "$PROBE" fetch fhdrmany.test --ca "$CA" --proxy $PX --timeout-ms 5000)
	check "through the proxy: header cap" header-too-big "$(field err "$out")"
	out=$(SX "$PROBE" fetch nxdomain.test --ca "$CA" --proxy $PX --timeout-ms 5000)
	check "through the proxy: the proxy's failure is a fetch failure" connect "$(field err "$out")"
	out=$(SX "$PROBE" fetch good.test --ca "$CA" --proxy http://10.201.0.1:8889 --timeout-ms 5000)
	check "proxy port closed: connect" connect "$(field err "$out")"
	# the configuration key, through the engine: TXT by DNS, the policy
	# through the proxy
	cp "$CONF" "$TW/proxy.conf"
	printf 'proxy = %s\n' "$PX" >> "$TW/proxy.conf"
	pc=$(count_proxy_connects mta-sts.split.test:443)
	out=$(SX env MTASTS_FAKE_TIME="$T0" "$MTASTS" -c "$TW/proxy.conf" query split.test mx1.example.test 2>&1)
	check "engine with proxy = ...: the policy fetched" "require-tls fetch" \
		"$(field verdict "$out") $(field source "$out")"
	check "engine with proxy = ...: through the proxy" $((pc + 1)) "$(count_proxy_connects mta-sts.split.test:443)"
	printf 'proxy = none\n' >> "$TW/proxy.conf"
	out=$(SX env MTASTS_FAKE_TIME="$T0" "$MTASTS" -c "$TW/proxy.conf" query fwild.test mx1.example.test 2>&1)
	check "engine with proxy = none: the fetch fails (no way out)" "none sts-policy-fetch-error" \
		"$(field verdict "$out") $(field reason "$out")"
	# a proxy named by a host name: looked up through libunbound, within
	# the deadline
	pc=$(count_proxy_connects mta-sts.good.test:443)
	out=$(SX "$PROBE" fetch good.test --ca "$CA" --proxy http://proxy.test:8888 --timeout-ms 5000)
	check "proxy by name: ok" ok "$(field err "$out")"
	check "proxy by name: one CONNECT" $((pc + 1)) "$(count_proxy_connects mta-sts.good.test:443)"
	qa=$(count_queries proxy.test A)
	qp=$(count_queries mta-sts.good.test A)
	out=$(probe fetch good.test --ca "$CA" --proxy http://proxy.test:8888 --timeout-ms 5000)
	check "proxy by name, in the world: ok" ok "$(field err "$out")"
	check "proxy by name: looked up once, by libunbound" $((qa + 1)) "$(count_queries proxy.test A)"
	check "proxy by name: the policy host resolved by the proxy alone" $((qp + 1)) \
		"$(count_queries mta-sts.good.test A)"
	out=$(probe fetch good.test --ca "$CA" --proxy http://proxy.nxdomain.test:8888)
	check "proxy name does not exist: dns" dns "$(field err "$out")"
	timed wx "$PROBE" fetch good.test --ca "$CA" --proxy http://proxy.timeout.test:8888 \
		--timeout-ms 2000 --dns-timeout-ms 20000
	check "proxy name lookup dropped: timeout" timeout "$(field err "$OUT")"
	within "proxy name lookup dropped: fetch_timeout 2 s holds" 4000
	out=$(probe fetch good.test --ca "$CA" --proxy socks5://10.201.0.1:8888)
	check "proxy of another scheme refused" internal "$(field err "$out")"
	printf 'proxy = socks5://10.201.0.1:8888\n' > "$TW/proxy-bad.conf"
	out=$(wx "$MTASTS" -c "$TW/proxy-bad.conf" query --no-network good.test mx1.example.test 2>&1)
	check_match "configuration: a bad proxy named with its line" 'proxy-bad\.conf:1: proxy: proxy must be none or http://HOST:PORT' "$out"
else
	check "proxy world (tinyproxy, sender namespace) started" yes no
fi

# --- out of memory at every allocation: a status, never a crash ------------
oom_ok=0
oom_bad=""
for n in 0 1 2 3 4 5 6 7; do
	for args in "txt _mta-sts.multi.test" "mx mx.test" "tlsa mx1.example.test" \
		"fetch good.test --ca $CA"; do
		# shellcheck disable=SC2086
		out=$(probe $args --fail-alloc $n)
		case $(first "$out") in
		"rc=out of memory"|status=answer*|err=ok*) oom_ok=$((oom_ok + 1)) ;;
		*) oom_bad="$oom_bad [$args --fail-alloc $n: $(first "$out")]" ;;
		esac
	done
done
check "allocation failures give ENOMEM or success" "" "$oom_bad"

# --- valgrind: no leak and no memory error on the real network paths -------
VG="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible
 --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99"
if ! command -v valgrind >/dev/null; then
	check "valgrind installed" yes no
else
	vg() {	# vg LABEL PROBE-ARGS...: probe status 0, or 1 after ENOMEM
		local label=$1 out rc want=0
		shift
		case " $* " in *" --fail-alloc "*) want=1 ;; esac
		# shellcheck disable=SC2086
		out=$(wx $VG "$PROBE" "$@" 2>&1)
		rc=$?
		check "valgrind clean: $label" "$want" "$rc"
		[ "$rc" -eq "$want" ] || echo "$out" | head -20
	}
	vg "txt x2" txt _mta-sts.multi.test --repeat 2
	vg "txt servfail" txt _mta-sts.servfail.test
	vg "txt timeout" txt _mta-sts.timeout.test --dns-timeout-ms 300
	vg "mx" mx mx.test
	vg "tlsa" tlsa mx1.example.test
	vg "dnssec secure" txt _mta-sts.signed.test --trust-anchor "$TA"
	vg "dnssec bogus" txt _mta-sts.signed.test --trust-anchor "$BAD"
	vg "fetch ok x2" fetch good.test --ca "$CA" --repeat 2
	vg "fetch streaming cap" fetch fchunked.test --ca "$CA"
	vg "fetch bad certificate" fetch fexpired.test --ca "$CA"
	vg "fetch TLS 1.0" fetch ftls10.test --ca "$CA"
	vg "fetch timeout" fetch fslow.test --ca "$CA" --timeout-ms 1000
	vg "txt out of memory" txt _mta-sts.multi.test --fail-alloc 2
	vg "txt out of memory in records" txt _mta-sts.multi.test --fail-alloc 3
	vg "fetch out of memory" fetch good.test --ca "$CA" --fail-alloc 0
	vg "fetch out of memory in libcurl" fetch good.test --ca "$CA" --fail-alloc 40
	vg "fetch CN only" fetch fcnonly.test --ca "$CA"
	vg "fetch 8 MiB header line" fetch fhdrbig.test --ca "$CA"
	vg "fetch dropped address lookup" fetch fdrop.test --ca "$CA" --timeout-ms 1000
	vg "fetch private resolver" fetch good.test --ca "$CA" --private-resolver
	vg "fetch through a proxy by name" fetch good.test --ca "$CA" \
		--proxy http://proxy.test:8888
fi

summary
