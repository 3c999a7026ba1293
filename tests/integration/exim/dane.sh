#!/bin/bash
# dane.sh - DANE (RFC 7672) and MTA-STS together, end to end in real Exim:
# the Exim test world of e2e.sh (receivers, the sending Exim with the
# product fragments: hook-start.sh) plus the DNSSEC-signed zone dane.test
# (dane/dane.test: MX hosts with TLSA 3 1 1 and 2 1 1 records, a mismatch,
# a bogus signature, none), validated by the world's unbound, and a
# receiving Exim for those hosts (dane/hook.sh).  It checks what Exim does
# (mainlogs, mailboxes), what the module records for TLS-RPT, and what
# `mtasts query` and the dlopen example host answer with dane = yes.
#
#   dane.sh MTASTS_SO MTASTS DLOPEN_HOST
# Needs root (exit 77, skipped, without).  Prints "N passed, N failed";
# exit status 1 on any failure.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "dane.sh: needs root (network namespace, ports 25/53/443): skipped"; exit 77; }
[ $# -eq 3 ] || { echo "usage: dane.sh MTASTS_SO MTASTS DLOPEN_HOST" >&2; exit 2; }
MTASTS_SO=$(readlink -f "$1")
MTASTS=$(readlink -f "$2")
DLOPEN_HOST=$(readlink -f "$3")
for c in exim4 swaks runuser dig gnutls-cli; do
	command -v $c >/dev/null || { echo "dane.sh: missing $c (tools/install-deps.sh)"; exit 1; }
done
. "$HERE/../lib.sh"
. "$HERE/suite.sh"
exim_world_env dane
TW=${TW:-/tmp/mtasts-dane-$$}
export TW
exim_world_up dane.sh dane

E=$TW/exim
LOG=$E/send/log/mainlog
DLOG=$E/dane/log/mainlog
MAIL=$E/dane/mail
CONF=$E/mtasts.conf	# dane = yes, trust_anchor = the world's anchors
N=0

send() {	# RCPT: one message, delivered (-odf) on return; prints its id
	rm -f "$E"/send/spool/db/retry*
	printf 'Subject: %s\n\nbody\n' "$1" |
		wx exim4 -C "$E/send.conf" -odf -f s@sender.test "$1" >/dev/null 2>&1
	grep -E " <= s@sender.test .* for $1\$" "$LOG" | tail -1 | cut -d' ' -f3
}
result() { grep -E " $1 (=>|==|\*\*) " "$LOG" | tail -1 | cut -d' ' -f4-; }
next_rcpt() { N=$((N + 1)); r=u$N-$$@$1; }
conns() { grep -c "SMTP connection from .* I=\[$1\]:25" "$DLOG" || true; }
inbox() { cat "$MAIL/$2.mbox" 2>/dev/null | grep -c "^Envelope-to: $1\$"; }
# TLS-RPT records: DOMAIN TYPE RESULT MX
rec() {
	cat "$E"/reports/results-* 2>/dev/null |
		grep -cP "^[0-9]+\t${1//./\\.}\t$2\t[^\t]*\t$3\t[^\t]*\t${4//./\\.}\t" || true
}
field() { sed -n "s/.*\\b$1=\\([^ ]*\\).*/\\1/p" <<<"$2" | head -1; }
query() {	# CONF DOMAIN MX...: "MX=VERDICT/REASON ..." from mtasts query
	local c=$1 d=$2 m out line
	shift 2
	out=$(wx runuser -u Debian-exim -- "$MTASTS" -c "$c" query "$d" "$@" 2>&1)
	for m in "$@"; do
		line=$(grep -E "^$d $m " <<<"$out")
		printf '%s=%s/%s ' "$m" "$(field verdict "$line")" \
			"$(field reason "$line" | cut -d/ -f1)"
	done
}
dlhost() {	# DOMAIN MX...: the same from the dlopen example host
	local d=$1 m out line
	shift
	out=$(wx runuser -u Debian-exim -- "$DLOPEN_HOST" -c "$CONF" "$MTASTS_SO" "$d" "$@" 2>&1)
	for m in "$@"; do
		line=$(grep -E "^$d $m " <<<"$out")
		printf '%s=%s/%s ' "$m" "$(field verdict "$line")" "$(field reason "$line")"
	done
}
adflag() {	# NAME TYPE: "ad STATUS" or "- STATUS" from the world's resolver
	local out
	out=$(wx dig +dnssec +noall +comments "$1" "$2")
	printf '%s %s' "$(grep -q 'flags:.* ad[ ;]' <<<"$out" && echo ad || echo -)" \
		"$(sed -n 's/.*status: \([A-Z]*\).*/\1/p' <<<"$out" | head -1)"
}

echo "== the signed zone, through the world's validating resolver"
check "MX RRset of ee.dane.test: secure" "ad NOERROR" "$(adflag ee.dane.test MX)"
check "TLSA 3 1 1 of mxee: secure" "ad NOERROR" "$(adflag _25._tcp.mxee.dane.test TLSA)"
check "TLSA 2 1 1 of mxta: secure" "ad NOERROR" "$(adflag _25._tcp.mxta.dane.test TLSA)"
check "TLSA of mxbogus: broken signature, SERVFAIL" "- SERVFAIL" "$(adflag _25._tcp.mxbogus.dane.test TLSA)"
check "no TLSA for mxpkix: proven (secure NXDOMAIN)" "ad NXDOMAIN" "$(adflag _25._tcp.mxpkix.dane.test TLSA)"
check "MX RRset of insecure.test: not signed" "- NOERROR" "$(adflag insecure.test MX)"
want=$(openssl x509 -in "$TW/certs/dane-ee.crt" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
check "TLSA of mxee: the digest of its self-signed certificate's key" "3 1 1 $want" \
	"$(wx dig +short _25._tcp.mxee.dane.test TLSA | tr -d ' ' | tr 'A-F' 'a-f' | sed 's/^311/3 1 1 /')"

echo "== the resolver must be trusted: without 'options trust-ad' no DANE"
# glibc (>= 2.31) clears the AD bit of answers unless resolv.conf says
# "options trust-ad"; Exim then never sees a secure MX RRset, does no DANE,
# and the enforced policy's WebPKI check refuses the self-signed MX.
next_rcpt ee.dane.test; id=$(send "$r"); v=$(result "$id")
check_match "no trust-ad: DANE-EE host refused by the policy's checks" \
	"^== $r R=mtasts_dnslookup T=mtasts_smtp_enforce defer \(-37\) H=mxee.dane.test .*certificate invalid" "$v"
# (out of the queue: it would take the next DANE session to mxee)
wx exim4 -C "$E/send.conf" -Mrm "$id" >/dev/null 2>&1
echo "options trust-ad" >> "/etc/netns/$NS/resolv.conf"

echo "== enforce"
c41=$(conns 127.0.0.41)
next_rcpt ee.dane.test; v=$(result "$(send "$r")")
check_match "DANE-EE, self-signed: delivered under DANE" \
	"^=> $r R=mtasts_dnslookup T=mtasts_smtp_enforce H=mxee.dane.test \[127.0.0.41\].* CV=dane " "$v"
check "DANE-EE: in mxee's mailbox" 1 "$(inbox "$r" 127.0.0.41)"
check_match "DANE-EE: the receiver was asked for SNI mxee.dane.test" \
	"SNI=mxee\.dane\.test" "$(grep "I=\[127.0.0.41\]:25 .*for $r" "$DLOG" | tail -1)"
next_rcpt ta.dane.test; v=$(result "$(send "$r")")
check_match "DANE-TA, a CA the policy's checks do not trust: delivered under DANE" \
	"^=> $r .*T=mtasts_smtp_enforce H=mxta.dane.test \[127.0.0.45\].* CV=dane " "$v"

next_rcpt bad.dane.test; v=$(result "$(send "$r")")
check_match "TLSA matching nothing: deferred by DANE" \
	"^== $r R=mtasts_dnslookup T=mtasts_smtp_enforce defer \(-37\) H=mxbad.dane.test \[127.0.0.42\]:25: TLS session: \(certificate verification failed\): Verification failed\. The certificate differs" "$v"
check "TLSA matching nothing: nothing delivered" 0 "$(inbox "$r" 127.0.0.42)"
timeout 10 ip netns exec "$NS" gnutls-cli --x509cafile "$CA" --starttls-proto=smtp \
	--port 25 mxbad.dane.test </dev/null >"$TW/gnutls-mxbad.out" 2>&1
rc=$?
check "... although its certificate is valid for mxbad.dane.test under the test CA (gnutls-cli)" \
	"0 1" "$rc $(grep -c 'Status: The certificate is trusted' "$TW/gnutls-mxbad.out")"

c43=$(conns 127.0.0.43)
next_rcpt bogus.dane.test; v=$(result "$(send "$r")")
check_match "TLSA lookup bogus (broken signature): deferred" \
	"^== $r R=mtasts_dnslookup T=mtasts_smtp_enforce defer \(-36\): DANE error: tlsa lookup DEFER" "$v"
check "TLSA lookup bogus: mxbogus never contacted" "$c43" "$(conns 127.0.0.43)"

next_rcpt pkix.dane.test; v=$(result "$(send "$r")")
check_match "signed zone, no TLSA: the policy applies, verified WebPKI certificate" \
	"^=> $r .*T=mtasts_smtp_enforce H=mxpkix.dane.test \[127.0.0.44\].* CV=yes " "$v"
next_rcpt self.dane.test; v=$(result "$(send "$r")")
check_match "signed zone, no TLSA, self-signed: the policy defers it" \
	"^== $r R=mtasts_dnslookup T=mtasts_smtp_enforce defer \(-37\) H=mxself.dane.test .*certificate invalid" "$v"

# docs/conformance.md: DANE does not lift an enforced policy's MX filter
c41=$(conns 127.0.0.41)
next_rcpt unlisted.dane.test; v=$(result "$(send "$r")")
check_match "MX outside the policy, with valid TLSA: not used, the policy's MX gets it" \
	"^=> $r .*T=mtasts_smtp_enforce H=mxpkix.dane.test \[127.0.0.44\].* CV=yes " "$v"
check "MX outside the policy, with valid TLSA: never contacted" "$c41" "$(conns 127.0.0.41)"

next_rcpt insecure.test; v=$(result "$(send "$r")")
check_match "unsigned MX RRset naming a host with valid TLSA: no DANE (RFC 7672 §2.2.1), the policy defers it" \
	"^== $r R=mtasts_dnslookup T=mtasts_smtp_enforce defer \(-37\) H=mxee.dane.test .*certificate invalid" "$v"

echo "== testing mode"
next_rcpt tst.dane.test; v=$(result "$(send "$r")")
check_match "testing, DANE host: delivered under DANE" \
	"^=> $r R=mtasts_dnslookup T=mtasts_smtp H=mxee.dane.test \[127.0.0.41\].* CV=dane " "$v"
c42=$(inbox "u.*@tst2\.dane\.test" 127.0.0.42)
next_rcpt tst2.dane.test; id=$(send "$r"); v=$(result "$id")
check_match "testing, TLSA matching nothing: DANE refuses that MX (never overridden)" \
	"$id DANE attempt failed; TLS connection to mxbad.dane.test \[127.0.0.42\]: \(certificate verification failed\): Verification failed\. The certificate differs" \
	"$(grep " $id .*mxbad" "$LOG" | tail -1)"
check_match "testing: the next MX (no TLSA, self-signed) gets it unverified" \
	"^=> $r R=mtasts_dnslookup T=mtasts_smtp H=mxself.dane.test \[127.0.0.46\].* CV=no " "$v"
check "testing: nothing delivered to the DANE-failing MX" "$c42" "$(inbox "u.*@tst2\.dane\.test" 127.0.0.42)"

echo "== TLS-RPT (RFC 8460): DANE results under tlsa and the MX host, the policy's under sts"
check "DANE-EE successes (ee enforce, tst testing): tlsa, mxee.dane.test" 2 \
	"$(rec mxee.dane.test tlsa success mxee.dane.test)"
check "DANE-TA success: tlsa" 1 "$(rec mxta.dane.test tlsa success mxta.dane.test)"
check "TLSA mismatch (bad, tst2): tlsa validation-failure" 2 \
	"$(rec mxbad.dane.test tlsa validation-failure mxbad.dane.test)"
check "bogus TLSA: tlsa dnssec-invalid" 1 "$(rec mxbogus.dane.test tlsa dnssec-invalid mxbogus.dane.test)"
check "no DANE: sts success for pkix.dane.test" 1 "$(rec pkix.dane.test sts success mxpkix.dane.test)"
check "testing domain: its MX without TLSA under sts, the DANE failure not again" "1 1" \
	"$(rec tst2.dane.test sts validation-failure mxself.dane.test) $(cat "$E"/reports/results-* | grep -cP '^[0-9]+\ttst2\.dane\.test\t')"
check "DANE sessions are not counted against the MTA-STS policies" "0 0 0 0" \
	"$(for d in ta bad bogus tst; do printf '%s ' "$(cat "$E"/reports/results-* | grep -cP "^[0-9]+\t$d\.dane\.test\t")"; done | sed 's/ $//')"
check "ee.dane.test: only the attempt without trust-ad (the policy's checks) under sts" "1 1" \
	"$(cat "$E"/reports/results-* | grep -cP "^[0-9]+\tee\.dane\.test\t") $(rec ee.dane.test sts validation-failure mxee.dane.test)"
# today's reports, with the clock a day ahead (a report is of a finished day)
out=$(MTASTS_FAKE_TIME=$(($(date -u +%s) + 86400)) wx runuser -u Debian-exim -- \
	"$MTASTS" -c "$CONF" report --dry-run --day "$(date -u +%F)" 2>&1)
check_match "mtasts report: the MX host's report has policy-type tlsa" \
	'"report-id":"[0-9-]+_mxbad\.dane\.test@[^"]*","policies":\[\{"policy":\{"policy-type":"tlsa","policy-domain":"mxbad\.dane\.test"\},"summary":\{"total-successful-session-count":0,"total-failure-session-count":2\}' \
	"$(grep '_mxbad\.dane\.test@' <<<"$out")"
check_match "mtasts report: the testing domain's report has policy-type sts" \
	'"policy-type":"sts","policy-string":\["version: STSv1","mode: testing","mx: \*\.dane\.test","max_age: 86400"\]' \
	"$(grep '_tst2\.dane\.test@' <<<"$out")"

echo "== mtasts query and the dlopen example host, dane = yes"
want="mxee.dane.test=dane/dane "
check "enforce, DANE-EE" "$want" "$(query "$CONF" ee.dane.test mxee.dane.test)"
check "enforce, DANE-TA" "mxta.dane.test=dane/dane " "$(query "$CONF" ta.dane.test mxta.dane.test)"
check "enforce, TLSA matching nothing: left to DANE (which defers it)" \
	"mxbad.dane.test=dane/dane " "$(query "$CONF" bad.dane.test mxbad.dane.test)"
check "enforce, TLSA lookup bogus: refused" "mxbogus.dane.test=refuse-mx/dane-tlsa-failed " \
	"$(query "$CONF" bogus.dane.test mxbogus.dane.test)"
check "enforce, no TLSA: the policy" "mxpkix.dane.test=require-tls/mx-match " \
	"$(query "$CONF" pkix.dane.test mxpkix.dane.test)"
check "enforce, MX outside the policy with TLSA: refused" \
	"mxee.dane.test=refuse-mx/mx-mismatch mxpkix.dane.test=require-tls/mx-match " \
	"$(query "$CONF" unlisted.dane.test mxee.dane.test mxpkix.dane.test)"
check "enforce, unsigned MX RRset: the policy" "mxee.dane.test=require-tls/mx-match " \
	"$(query "$CONF" insecure.test mxee.dane.test)"
check "testing: DANE, and the policy for the host without TLSA" \
	"mxbad.dane.test=dane/dane mxself.dane.test=report-only/testing " \
	"$(query "$CONF" tst2.dane.test mxbad.dane.test mxself.dane.test)"
for x in "ee.dane.test mxee.dane.test" "ta.dane.test mxta.dane.test" \
	 "bogus.dane.test mxbogus.dane.test" "unlisted.dane.test mxee.dane.test mxpkix.dane.test" \
	 "insecure.test mxee.dane.test" "tst2.dane.test mxbad.dane.test mxself.dane.test"; do
	# shellcheck disable=SC2086
	check "dlopen host agrees: $x" "$(query "$CONF" $x)" "$(dlhost $x)"
done
grep -v '^dane = \|^trust_anchor = ' "$CONF" > "$TW/nodane.conf"
check "dane = no: the policy's checks for the DANE host" "mxee.dane.test=require-tls/mx-match " \
	"$(query "$TW/nodane.conf" ee.dane.test mxee.dane.test)"
grep -v '^trust_anchor = ' "$CONF" > "$TW/noanchor.conf"
check "dane = yes without a trust anchor (forwarding): nothing is validated, the policy" \
	"mxee.dane.test=require-tls/mx-match " "$(query "$TW/noanchor.conf" ee.dane.test mxee.dane.test)"

check "no panic log" "" "$(cat "$E"/send/log/paniclog 2>/dev/null)"
summary
