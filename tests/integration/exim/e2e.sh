#!/bin/bash
# e2e.sh - end-to-end tests of the plugin inside real Exim: the test world
# (unbound, nginx policy hosts, test PKI; ../world.sh) plus a receiving Exim
# playing every MX and a sending Exim loading the plugin (hook-start.sh).
# Verdicts are read from the sender's mainlog, the receiver's log and its
# mailboxes, and the plugin's TLS-RPT result files.
#
#   e2e.sh MTASTS_SO DLOPEN_HOST
# Needs root.  Prints "N passed, N failed"; exit status 1 on any failure.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP e2e.sh: needs root (network namespaces; CI runs it as root)"; exit 77; }
[ $# -eq 2 ] || { echo "usage: e2e.sh MTASTS_SO DLOPEN_HOST" >&2; exit 2; }
MTASTS_SO=$(readlink -f "$1")
DLOPEN_HOST=$(readlink -f "$2")
for c in exim4 swaks runuser; do
	command -v $c >/dev/null || { echo "e2e.sh: missing $c (tools/install-deps.sh)"; exit 1; }
done
# The module is loaded by Exim's delivery processes (Debian-exim): install a
# private copy they can read.
. "$HERE/../lib.sh"
. "$HERE/suite.sh"
exim_world_env
TW=${TW:-/tmp/mtasts-exim-$$}
export TW
exim_world_up e2e.sh exim

E=$TW/exim
LOG=$E/send/log/mainlog
RLOG=$E/recv/log/mainlog
MAIL=$E/recv/mail
N=0

# send RCPT [CONF]: one message with exim -odf (delivery done on return);
# prints the message id.  FAKE=T sets the plugin's clock (common/clock.c).
# Host retry records are dropped first: they are per host, not per domain
# (docs/exim.md), and would mix the cases.
send() {
	local rcpt=$1 conf=${2:-$E/send.conf} id
	[ -n "${KEEPRETRY:-}" ] || rm -f "$E"/send/spool/db/retry*
	printf 'Subject: %s\n\nbody\n' "$rcpt" |
		wx env ${FAKE:+MTASTS_FAKE_TIME=$FAKE} exim4 -C "$conf" -odf \
		-f s@sender.test "$rcpt" >/dev/null 2>&1
	local lg=$LOG
	[ "$conf" = "$E/broken.conf" ] && lg=$E/broken/log/mainlog
	grep -E " <= s@sender.test .* for $rcpt\$" "$lg" | tail -1 | cut -d' ' -f3
}
# the last delivery line (=> delivered, == deferred, ** bounced) for ID
result() { grep -E " $1 (=>|==|\*\*) " "${2:-$LOG}" | tail -1 | cut -d' ' -f4-; }
next_rcpt() { N=$((N + 1)); r=u$N-$$@$1; }	# sets r
conns() { grep -c "SMTP connection from .* I=\[$1\]:25" "$RLOG" || true; }
inbox() { cat "$MAIL/$2.mbox" 2>/dev/null | grep -c "^Envelope-to: $1\$"; }

echo "== enforce"
next_rcpt e-good.test; v=$(result "$(send "$r")")
check_match "good MX: delivered over verified TLS" \
	"^=> $r R=mtasts_dnslookup T=mtasts_smtp_enforce H=mx1.example.test \[127.0.0.11\].*X=TLS1\.[23].*CV=yes" "$v"
check "good MX: in mx1's mailbox" 1 "$(inbox "$r" 127.0.0.11)"

c15=$(conns 127.0.0.15)
next_rcpt e-refuse.test; v=$(result "$(send "$r")")
check_match "preferred MX outside the policy: next MX used" \
	"^=> $r .*T=mtasts_smtp_enforce H=mx1.example.test .*CV=yes" "$v"
check "preferred MX outside the policy: never contacted" "$c15" "$(conns 127.0.0.15)"

next_rcpt e-onlybad.test; id=$(send "$r"); v=$(result "$id")
check_match "no MX matches: deferred" \
	"^== $r R=mtasts_no_valid_mx defer .*MTA-STS: no MX host of e-onlybad.test matches" "$v"
check "no MX matches: never bounced, mx.other not contacted" "0 $c15" \
	"$(grep -c " $id \*\* " "$LOG") $(conns 127.0.0.15)"

for case in "e-wrongname.test 127.0.0.12 wrong certificate name" \
	    "e-untrusted.test 127.0.0.13 untrusted CA" \
	    "e-expired.test 127.0.0.16 expired certificate" \
	    "e-plain.test 127.0.0.14 no STARTTLS"; do
	set -- $case
	d=$1 ip=$2; shift 2
	next_rcpt "$d"; v=$(result "$(send "$r")")
	check_match "$*: deferred" "^== $r R=mtasts_dnslookup T=mtasts_smtp_enforce defer" "$v"
	check "$*: nothing delivered" 0 "$(inbox "$r" "$ip")"
done

next_rcpt e-wild.test; v=$(result "$(send "$r")")
check_match "wildcard pattern: delivered" "^=> $r .*T=mtasts_smtp_enforce H=mx1.example.test .*CV=yes" "$v"
next_rcpt e-cname.test; v=$(result "$(send "$r")")
check_match "CNAME'd MX named by the policy: delivered, verified" \
	"^=> $r .*T=mtasts_smtp_enforce .*CV=yes" "$v"
next_rcpt e-cname2.test; v=$(result "$(send "$r")")
check_match "CNAME'd MX, policy names the target: deferred" "^== $r R=mtasts_no_valid_mx defer" "$v"

echo "== testing, none, no policy"
next_rcpt e-testing.test; v=$(result "$(send "$r")")
check_match "testing, bad certificate: delivered unverified" \
	"^=> $r R=mtasts_dnslookup T=mtasts_smtp H=mx2.example.test .*CV=no" "$v"
rep=$(cat "$E"/reports/* 2>/dev/null | grep -P "\te-testing\.test\t" | tail -1)
check_match "testing: failure recorded for TLS-RPT" \
	"e-testing\.test	sts	1	validation-failure	.*mx2\.example\.test	127\.0\.0\.12" "$rep"
next_rcpt e-none.test; v=$(result "$(send "$r")")
check_match "mode none: delivered as before" "^=> $r R=mtasts_dnslookup T=mtasts_smtp H=mx2" "$v"
next_rcpt e-nosts.test; v=$(result "$(send "$r")")
check_match "no policy, no STARTTLS: delivered in clear as before" \
	"^=> $r R=mtasts_dnslookup T=mtasts_smtp H=mx4.example.test \[127.0.0.14\]:25 (K )?C=" "$v"
rep=$(cat "$E"/reports/* | grep -P "\te-good\.test\t" | tail -1)
check_match "enforce success recorded" "e-good\.test	sts	1	success	" "$rep"
rep=$(cat "$E"/reports/* | grep -P "\te-plain\.test\t" | tail -1)
check_match "no STARTTLS recorded" "e-plain\.test	sts	1	starttls-not-supported	.*mx4\.example\.test	127\.0\.0\.14" "$rep"
rep=$(cat "$E"/reports/* | grep -P "\te-(wrongname|untrusted|expired)\.test\t" | cut -f2,5 | sort -u | tr '\n' ' ')
check "certificate failures recorded" "e-expired.test	validation-failure e-untrusted.test	validation-failure e-wrongname.test	certificate-host-mismatch " "$rep"

echo "== TLS-RPT report mail (RFC 8460 §3: delivered despite TLS failures, not reported)"
recs() { cat "$E"/reports/* 2>/dev/null | grep -cP "\te-wrongname\.test\t" || true; }
nrec=$(recs)
next_rcpt e-wrongname.test
printf 'TLS-Report-Domain: e-wrongname.test\nTLS-Report-Submitter: sender.test\nSubject: Report Domain: e-wrongname.test\n\nreport\n' |
	wx exim4 -C "$E/send.conf" -odf -f s@sender.test "$r" >/dev/null 2>&1
id=$(grep -E " <= s@sender.test .* for $r\$" "$LOG" | tail -1 | cut -d' ' -f3)
v=$(result "$id")
check_match "report mail, bad certificate: delivered by the report router" \
	"^=> $r R=mtasts_tlsrpt T=mtasts_smtp_tlsrpt H=mx2.example.test " "$v"
check "report mail: in mx2's mailbox" 1 "$(inbox "$r" 127.0.0.12)"
check "report mail: its session not recorded for TLS-RPT" "$nrec" "$(recs)"
next_rcpt e-wrongname.test
out=$(wx swaks --server 127.0.0.1:2525 --from s@sender.test --to "$r" \
	--header "TLS-Report-Domain: e-wrongname.test" --body x 2>&1)
id=$(sed -n 's/.*250 OK id=\([^ ]*\).*/\1/p' <<<"$out" | tail -1)
for _ in $(seq 1 200); do [ -n "$(result "$id")" ] && break; sleep 0.05; done
check_match "the report header over SMTP changes nothing: deferred" \
	"^== $r R=mtasts_dnslookup T=mtasts_smtp_enforce defer" "$(result "$id")"
check "the report header over SMTP: nothing delivered" 0 "$(inbox "$r" 127.0.0.12)"

echo "== failures of the plugin and the policy host"
next_rcpt e-good.test; v=$(result "$(send "$r" "$E/broken.conf")" "$E/broken/log/mainlog")
check_match "plugin cannot open its config: deferred" "^== $r R=mtasts_dnslookup defer \(-1\)" "$v"
check "plugin failure: nothing sent" 0 "$(inbox "$r" 127.0.0.11)"

next_rcpt e-down.test; v=$(result "$(send "$r")")
check_match "e-down: delivered while the policy host is up" "^=> $r .*H=mx1.example.test .*CV=yes" "$v"
break_policy_host e-down.test
set_txt_id e-down.test 2
c15=$(conns 127.0.0.15)
next_rcpt e-down.test; v=$(result "$(FAKE=$(( $(date +%s) + 600 )) send "$r")")
check_match "policy host down, new id: cached policy still enforced" \
	"^=> $r .*T=mtasts_smtp_enforce H=mx1.example.test .*CV=yes" "$v"
check "policy host down: MX outside the policy not contacted" "$c15" "$(conns 127.0.0.15)"

# The cache becomes unusable (wrong owner: refused) while e-down's policy
# host is still down: the plugin cannot know the enforced policy any more
# and must defer, not send; a domain without policy still goes out.
chown root:root "$E"/cache/cache*
n11=$(inbox 'u.*@e-down\.test' 127.0.0.11)
next_rcpt e-down.test; v=$(result "$(send "$r")")
check_match "cache unusable, policy host down: deferred" "^== $r R=mtasts_dnslookup defer \(-1\)" "$v"
check "cache unusable: nothing sent" "$n11" "$(inbox 'u.*@e-down\.test' 127.0.0.11)"
next_rcpt e-nosts.test; v=$(result "$(send "$r")")
check_match "cache unusable, no policy: delivered" "^=> $r .*T=mtasts_smtp H=mx4" "$v"
chown Debian-exim:Debian-exim "$E"/cache/cache*

next_rcpt e-change.test; v=$(result "$(send "$r")")
check_match "e-change: policy 1 -> mx1" "^=> $r .*H=mx1.example.test .*CV=yes" "$v"
set_policy e-change.test "$(printf 'version: STSv1\nmode: enforce\nmx: mx.other.test\nmax_age: 86400\n')"
set_txt_id e-change.test 2
next_rcpt e-change.test; v=$(result "$(send "$r")")
check_match "e-change: new id not seen before the TXT re-check" "^=> $r .*H=mx1.example.test" "$v"
next_rcpt e-change.test; v=$(result "$(FAKE=$(( $(date +%s) + 1200 )) send "$r")")
check_match "e-change: new id -> new policy, mx.other.test used" \
	"^=> $r .*T=mtasts_smtp_enforce H=mx.other.test .*CV=yes" "$v"

echo "== connection reuse"
# An enforced message waits for mx2 (deferred); a testing-mode message then
# opens an unverified connection to mx2.  Exim offers open connections to
# messages waiting for the same host of the same transport: the enforced
# one must stay queued.
next_rcpt e-wrongname.test; r1=$r; id1=$(send "$r1")
rm -f "$E"/send/spool/db/retry*
next_rcpt e-testing.test; r2=$r; v=$(KEEPRETRY=1 result "$(KEEPRETRY=1 send "$r2")")
check_match "testing message delivered to mx2" "^=> $r2 .*CV=no" "$v"
sleep 0.3
check "enforced message not carried by the unverified connection" \
	"0 0" "$(grep -c " $id1 => " "$LOG") $(inbox "$r1" 127.0.0.12)"

echo "== batching and connection reuse on the enforce transport"
# r-canon1 and r-canon2: the same policy (mx: mx6.example.test), MX mx6.
# r-alias: MX mxa.example.test, a CNAME of mx6, and a policy naming mxa;
# mx6's certificate names mx6 only, so r-alias mail must never travel in a
# session verified for mx6 (RFC 8461 §4.2: the certificate must match the
# MX name).  unsafe.conf is the shipped configuration without the batching
# key, the SNI rule and hosts_nopass_tls: it shows that each scenario
# below would leak without them.
rpt() { cat "$E"/reports/* 2>/dev/null | grep -cP "^[0-9]+\t$1\tsts\t1\t$2\t" || true; }
msg_conns() { grep -c "SMTP connection from \[127.0.0.1\] I=\[127.0.0.17\]:25 (TCP" "$RLOG" || true; }
s1=$(rpt r-canon1.test success) s2=$(rpt r-canon2.test success) c17=$(msg_conns)
next_rcpt r-canon1.test; ra=$r; next_rcpt r-canon1.test; rb=$r
next_rcpt r-canon2.test; rc=$r; next_rcpt r-alias.test; rd=$r
rm -f "$E"/send/spool/db/retry*
printf 'Subject: batch\n\nbody\n' | wx exim4 -C "$E/send.conf" -odf \
	-f s@sender.test "$ra" "$rb" "$rc" "$rd" >/dev/null 2>&1
id=$(grep -E " <= s@sender.test .* for $ra " "$LOG" | tail -1 | cut -d' ' -f3)
ids=$(sed -n "s/.*<= s@sender.test .* I=\[127.0.0.17\]:25 .* id=E$id@sender.test for \(.*\)\$/\1/p" "$RLOG" | tr ' ' '\n' | sort | tr '\n' ' ')
want=$(printf '%s\n' "$ra" "$rb" "$rc" | sort | tr '\n' ' ')
check "same policy, canonical MX: one transaction for both domains" "$want" "$ids"
check_match "aliased MX: not in that transaction, deferred" \
	"^== $rd R=mtasts_dnslookup T=mtasts_smtp_enforce defer \(-37\) H=mx6.example.test" \
	"$(grep " $id == $rd " "$LOG" | tail -1 | cut -d' ' -f4-)"
check "aliased MX: nothing delivered" 0 "$(inbox "$rd" 127.0.0.17)"
check "TLS-RPT: the shared session counts once for each domain" \
	"$((s1 + 1)) $((s2 + 1))" "$(rpt r-canon1.test success) $(rpt r-canon2.test success)"
check "TLS-RPT: the aliased domain's failure recorded" 1 \
	"$(rpt r-alias.test certificate-host-mismatch)"
check "one connection for the transaction, one for the aliased MX" \
	$((c17 + 2)) "$(msg_conns)"

# One message per domain queued, then a two-pass queue run: the session
# opened for the first is handed over to the next ones waiting for mx6.
queue() { printf 'Subject: q\n\nbody\n' | wx exim4 -C "$1" -odq -f s@sender.test "$2" >/dev/null 2>&1; }
for conf in "$E/send.conf" "$E/unsafe.conf"; do
	lg=$LOG
	[ "$conf" = "$E/unsafe.conf" ] && lg=$E/unsafe/log/mainlog
	rm -f "$E"/send/spool/db/retry* "$E"/unsafe/spool/db/retry*
	next_rcpt r-canon1.test; qa=$r; queue "$conf" "$qa"
	next_rcpt r-alias.test; qd=$r; queue "$conf" "$qd"
	next_rcpt r-canon2.test; qc=$r; queue "$conf" "$qc"
	next_rcpt r-canon1.test; qb=$r; queue "$conf" "$qb"
	wx exim4 -C "$conf" -qqf >/dev/null 2>&1
	# a handed-over session is delivered by processes -qqf does not wait for
	for _ in $(seq 1 300); do
		[ "$(grep -cE " (=>|==) ($qa|$qb|$qc|$qd) " "$lg")" -ge 4 ] && break
		sleep 0.05
	done
	if [ "$conf" = "$E/send.conf" ]; then
		# (a continued delivery logs CV=no: the verified session
		# belongs to the process that opened it)
		n=$(grep -cE " => ($qa|$qb|$qc) .*H=mx6.example.test \[127.0.0.17\]:25\* " "$lg")
		check "-qqf: the canonical domains share one session (2 of 3 continued)" 2 "$n"
		check "-qqf: aliased MX never delivered" "0 0" \
			"$(grep -c " => $qd " "$lg") $(inbox "$qd" 127.0.0.17)"
		check_match "-qqf: aliased MX deferred on its own verification" \
			"defer \(-37\) H=mx6.example.test \[127.0.0.17\]:25: TLS session: \(certificate verification failed\)" \
			"$(grep " == $qd " "$lg" | tail -1)"
	else
		check_match "control, unsafe configuration: -qqf hands the session to the aliased MX" \
			"^=> $qd .*H=mx6.example.test \[127.0.0.17\]:25\* " \
			"$(grep " => $qd " "$lg" | tail -1 | cut -d' ' -f4-)"
		next_rcpt r-canon1.test; ua=$r; next_rcpt r-alias.test; ud=$r
		rm -f "$E"/unsafe/spool/db/retry*
		printf 'Subject: batch\n\nbody\n' | wx exim4 -C "$conf" -odf \
			-f s@sender.test "$ua" "$ud" >/dev/null 2>&1
		check_match "control, unsafe configuration: the aliased MX joins the other domain's transaction" \
			"^-> $ud .*H=mx6.example.test" "$(grep " -> $ud " "$lg" | tail -1 | cut -d' ' -f4-)"
	fi
done
wx exim4 -C "$E/unsafe.conf" -Mrm $(wx exim4 -C "$E/unsafe.conf" -bpru | awk '/^ *[0-9]/{print $3}') >/dev/null 2>&1
wx exim4 -C "$E/send.conf" -Mrm $(wx exim4 -C "$E/send.conf" -bpru | awk '/^ *[0-9]/{print $3}') >/dev/null 2>&1

echo "== Debian's safeguard: MX on an ignored address"
c201=$(conns 127.0.0.201)
next_rcpt s-loop.test; v=$(result "$(send "$r")")
check_match "no policy, only MX on an ignored address: unroutable, as Debian's router" \
	"^\*\* $r: all relevant MX records point to non-existent hosts" "$v"
next_rcpt s-loopenf.test; v=$(result "$(send "$r")")
check_match "enforced, preferred MX on loopback: the next MX is used" \
	"^=> $r .*T=mtasts_smtp_enforce H=mx1.example.test .*CV=yes" "$v"
check "the ignored address was never contacted" "$c201" "$(conns 127.0.0.201)"

echo "== parallel: 40 messages through the daemon"
declare -A want
ids=()
doms=(p-enf1.test p-enf2.test p-bad.test p-test.test p-none.test)
for i in $(seq 1 40); do
	d=${doms[$((i % 5))]}
	next_rcpt "$d"
	out=$(wx swaks --server 127.0.0.1:2525 --from s@sender.test --to "$r" \
		--header "Subject: p$i" --body x 2>&1)
	id=$(sed -n 's/.*250 OK id=\([^ ]*\).*/\1/p' <<<"$out" | tail -1)
	ids+=("$id:$r:$d")
done
for i in $(seq 1 300); do	# at most 15 s
	left=0
	for x in "${ids[@]}"; do
		id=${x%%:*}
		[ -n "$(result "$id")" ] || left=$((left + 1))
	done
	[ "$left" -eq 0 ] && break
	sleep 0.05
done
bad=0
for x in "${ids[@]}"; do
	id=${x%%:*}; rest=${x#*:}; r=${rest%%:*}; d=${rest#*:}
	v=$(result "$id")
	case $d in
	p-enf1.test|p-enf2.test) re="^=> $r .*T=mtasts_smtp_enforce H=mx1.example.test .*CV=yes" ;;
	p-bad.test) re="^== $r R=mtasts_dnslookup T=mtasts_smtp_enforce defer" ;;
	p-test.test) re="^=> $r .*T=mtasts_smtp H=mx3.example.test .*CV=no" ;;
	p-none.test) re="^=> $r .*T=mtasts_smtp H=mx4.example.test" ;;
	esac
	[[ $v =~ $re ]] || { bad=$((bad + 1)); echo "  wrong: $d $id: $v"; }
done
check "parallel: every verdict right (40 messages, 5 domains)" "40 0" "${#ids[@]} $bad"
check "parallel: nothing reached mx.other.test" 0 \
	"$(inbox 'u.*@p-enf1\.test' 127.0.0.15)"

echo "== the dlopen example host decides the same"
dl() { wx runuser -u Debian-exim -- "$DLOPEN_HOST" -c "$E/mtasts.conf" "$MTASTS_SO" "$@" 2>&1; }
out=$(dl e-refuse.test mx.other.test mx1.example.test)
check_match "dlopen host: e-refuse" "mx.other.test verdict=refuse-mx.*mx1.example.test verdict=require-tls" "$(tr '\n' ' ' <<<"$out")"
out=$(dl e-testing.test mx2.example.test)
check_match "dlopen host: e-testing" "mx2.example.test verdict=report-only" "$out"
out=$(dl e-nosts.test mx4.example.test)
check_match "dlopen host: e-nosts" "mx4.example.test verdict=none" "$out"
out=$(dl e-cname2.test mxc.example.test)
check_match "dlopen host: e-cname2" "mxc.example.test verdict=refuse-mx" "$out"

check "no panic log" "" "$(cat "$E"/send/log/paniclog 2>/dev/null)"
summary
