#!/bin/bash
# debian.sh - the MTA-STS conf.d fragments inside Debian's own exim4-config:
# a sending Exim configured by update-exim4.conf (split and unsplit
# schemes, DKIM macros set with a test key), in the Exim test world of
# e2e.sh (receivers for every MX, hook-start.sh).  Deliveries run as root,
# as a Debian Exim routes (no deliver_drop_privilege).
#
#   debian.sh MTASTS_SO CONFD_SRC [UNSPLIT_SED]
#
# MTASTS_SO    the module to load
# CONFD_SRC    where the fragments are: a directory with main/, acl/,
#              router/ and transport/ holding the *_mtasts files (the build
#              tree's exim-config/debian/conf.d, or /etc/exim4/conf.d of an
#              installed package)
# UNSPLIT_SED  the recipe for the unsplit template (default: the source
#              tree's exim-config/debian/unsplit.sed)
#
# Debian's exim4-config is read from /etc/exim4 and copied: the host's
# /etc/exim4, /etc/mtasts and /var/lib/mtasts are never written (checked
# at the end).  Needs root, exim4-daemon-heavy, exim4-config, openssl.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP debian.sh: needs root (network namespaces; CI runs it as root)"; exit 77; }
[ $# -ge 2 ] && [ $# -le 3 ] || { echo "usage: debian.sh MTASTS_SO CONFD_SRC [UNSPLIT_SED]" >&2; exit 2; }
MTASTS_SO=$(readlink -f "$1")
CONFD_SRC=$(readlink -f "$2")
UNSPLIT_SED=$(readlink -f "${3:-$SRC/exim-config/debian/unsplit.sed}")
for c in exim4 update-exim4.conf swaks openssl runuser; do
	command -v $c >/dev/null || { echo "debian.sh: missing $c (tools/install-deps.sh)"; exit 1; }
done
DEBIAN_ETC=/etc/exim4
for f in "$DEBIAN_ETC/conf.d/router/200_exim4-config_primary" \
	 "$DEBIAN_ETC/conf.d/transport/30_exim4-config_remote_smtp" \
	 "$DEBIAN_ETC/exim4.conf.template" "$CONFD_SRC/router/190_mtasts" \
	 "$CONFD_SRC/transport/30_mtasts" "$CONFD_SRC/main/05_mtasts" \
	 "$CONFD_SRC/acl/90_mtasts" "$UNSPLIT_SED"; do
	[ -r "$f" ] || { echo "debian.sh: missing $f"; exit 1; }
done
FRAGMENTS="main/05_mtasts acl/90_mtasts router/190_mtasts transport/30_mtasts"

# the host's live state, compared at the end (issue: tests never touch it)
host_state() {
	find /etc/exim4 /etc/mtasts /var/lib/mtasts -xdev 2>/dev/null |
		sort | while read -r f; do
		if [ -f "$f" ]; then
			printf '%s %s\n' "$f" "$(stat -c '%U:%G %a' "$f") $(sha256sum < "$f")"
		else
			printf '%s %s\n' "$f" "$(stat -c '%U:%G %a' "$f")"
		fi
	done
}
STATE_BEFORE=$(host_state)

. "$HERE/../lib.sh"
. "$HERE/suite.sh"
exim_world_env dane
TW=${TW:-/tmp/mtasts-debian-$$}
export TW
exim_world_up debian.sh exim

E=$TW/exim
D=$TW/debian
RLOG=$E/recv/log/mainlog
MAIL=$E/recv/mail
N=0
mkdir -p "$D"

# --- a DKIM key for sender.test, published as sel._domainkey.sender.test
openssl genrsa -out "$D/dkim.key" 2048 2>/dev/null
chown root:Debian-exim "$D/dkim.key"
chmod 640 "$D/dkim.key"
pub=$(openssl rsa -in "$D/dkim.key" -pubout -outform DER 2>/dev/null | base64 -w0)
uctl local_data "sel._domainkey.sender.test. 300 IN TXT \"v=DKIM1; k=rsa; \" \"p=${pub:0:200}\" \"${pub:200:200}\" \"${pub:400}\""

# --- an exim4-config directory of our own: Debian's files, the fragments
# from CONFD_SRC, the test's local macros.
# mkconf NAME TYPE SPLIT: $D/NAME/exim4.conf for dc_eximconfig_configtype
# TYPE; SPLIT true|false; extra local macros from stdin.
mkconf() {
	local name=$1 type=$2 split=$3 dir=$D/$1 f extra
	extra=$(cat)
	rm -rf "$dir"
	mkdir -p "$dir/etc" "$dir/spool" "$dir/log"
	cp -a "$DEBIAN_ETC/conf.d" "$DEBIAN_ETC/exim4.conf.template" "$dir/etc/"
	[ -e "$DEBIAN_ETC/passwd.client" ] && cp -a "$DEBIAN_ETC/passwd.client" "$dir/etc/"
	for f in $FRAGMENTS; do
		[ "$CONFD_SRC/$f" -ef "$dir/etc/conf.d/$f" ] ||
			install -m 644 "$CONFD_SRC/$f" "$dir/etc/conf.d/$f"
	done
	cat > "$dir/etc/update-exim4.conf.conf" <<-EOF
	dc_eximconfig_configtype='$type'
	dc_other_hostnames='sender.test'
	dc_local_interfaces='127.0.0.1'
	dc_readhost=''
	dc_relay_domains=''
	dc_minimaldns='false'
	dc_relay_nets=''
	dc_smarthost='mx.other.test'
	CFILEMODE='644'
	dc_use_split_config='$split'
	dc_hide_mailname=''
	dc_mailname_in_oh='true'
	dc_localdelivery='mail_spool'
	EOF
	cat > "$dir/localmacros" <<-EOF
	CONFDIR = $dir/etc
	SPOOLDIR = $dir/spool
	MAIN_HARDCODE_PRIMARY_HOSTNAME = sender.test
	MAIN_QUALIFY_DOMAIN = sender.test
	MAIN_HOST_LOOKUP =
	MAIN_LOG_SELECTOR = +smtp_confirmation +tls_certificate_verified +tls_peerdn +tls_sni +outgoing_port +received_recipients
	MTASTS_SO = $MTASTS_SO
	MTASTS_CONF = $E/mtasts.conf
	MTASTS_CA = $TW/certs/ca.crt
	MTASTS_REPORT_USER = root
	ROUTER_DNSLOOKUP_IGNORE_TARGET_HOSTS = <; 0.0.0.0 ; 127.0.0.0/29 ; 127.0.0.200/29 ; 192.168.0.0/16 ; 172.16.0.0/12 ; 10.0.0.0/8 ; 169.254.0.0/16 ; 255.255.255.255 ; ::/128 ; ::1/128 ; fc00::/7 ; fe80::/10 ; 100::/64
	DKIM_DOMAIN = sender.test
	DKIM_SELECTOR = sel
	DKIM_PRIVATE_KEY = $D/dkim.key
	DKIM_CANON = relaxed
	REMOTE_SMTP_SMARTHOST_TLS_VERIFY_CERTIFICATES = $TW/certs/ca.crt
	$extra
	EOF
	# what the test world needs beyond Debian's macros: its own log
	# directory, no IPv6 (the world has none)
	printf 'log_file_path = %s/log/%%slog\ndisable_ipv6 = true\n' "$dir" \
		> "$dir/etc/conf.d/main/99_testworld"
	if [ "$split" = true ]; then
		cp "$dir/localmacros" "$dir/etc/conf.d/main/000_localmacros"
	else
		# update-exim4.conf prepends /etc/exim4/exim4.conf.localmacros,
		# a path it does not take from --confdir: prepend ours ourselves
		sed -f "$UNSPLIT_SED" "$DEBIAN_ETC/exim4.conf.template" |
			sed "/^### end main\/90_exim4-config_log_selector\$/a\\
.include $dir/etc/conf.d/main/99_testworld" |
			cat "$dir/localmacros" - > "$dir/etc/exim4.conf.template"
	fi
	chown -R Debian-exim:Debian-exim "$dir/spool" "$dir/log"
	update-exim4.conf -d "$dir/etc" -o "$dir/exim4.conf" ||
		{ echo "update-exim4.conf failed for $name"; return 1; }
	chown root:root "$dir/exim4.conf"
	chmod 644 "$dir/exim4.conf"
}

X() { wx exim4 -C "$D/$1/exim4.conf" "${@:2}"; }
routers() { X "$1" -bP router_list 2>&1 | tr '\n' ' '; }
# send NAME RCPT [HEADERS]: queue as root, then deliver as root (exim -M),
# as a Debian Exim's queue runner does; prints the message id
send() {
	local name=$1 rcpt=$2 id
	rm -f "$D/$name"/spool/db/retry*
	printf '%sSubject: %s\n\nbody\n' "${3:-}" "$rcpt" |
		X "$name" -odq -f s@sender.test "$rcpt" >/dev/null 2>&1
	id=$(grep -E " <= s@sender.test .* for $rcpt\$" "$D/$name/log/mainlog" | tail -1 | cut -d' ' -f3)
	[ -n "$id" ] && X "$name" -M "$id" >/dev/null 2>&1
	echo "$id"
}
result() { grep -E " $2 (=>|==|\*\*) " "$D/$1/log/mainlog" | tail -1 | cut -d' ' -f4-; }
next_rcpt() { N=$((N + 1)); r=d$N-$$@$1; }
conns() { grep -c "SMTP connection from \[127.0.0.1\] I=\[$1\]:25 (TCP" "$RLOG" || true; }
inbox() { cat "$MAIL/$2.mbox" 2>/dev/null | grep -c "^Envelope-to: $1\$"; }
# the DKIM result the receiver logged for the message the sender's
# delivery line ($1) handed over ("250 OK id=X")
dkim_of() {
	local rid
	rid=$(sed -n 's/.*250 OK id=\([^"]*\)".*/\1/p' <<<"$1")
	[ -n "$rid" ] || { echo "no-delivery"; return; }
	grep "DKIM-VERIFY id=$rid " "$RLOG" | tail -1 | sed -n 's/.* d=\([^ ]*\) s=\([^ ]*\) status=\(.*\)$/\1 \2 \3/p'
}

echo "== the fragments"
check "file names are run-parts-safe (update-exim4.conf's pattern)" "" \
	"$(for f in $FRAGMENTS; do basename "$f"; done | grep -vE '^[[:alnum:]_-]+$')"
deb_default=$(sed -n '/^\.ifndef ROUTER_DNSLOOKUP_IGNORE_TARGET_HOSTS$/{n;p;q}' \
	"$DEBIAN_ETC/conf.d/router/200_exim4-config_primary")
our_default=$(sed -n '/^\.ifndef ROUTER_DNSLOOKUP_IGNORE_TARGET_HOSTS$/{n;p;q}' \
	"$CONFD_SRC/router/190_mtasts")
check_match "Debian's default ROUTER_DNSLOOKUP_IGNORE_TARGET_HOSTS is repeated unchanged" \
	"^ROUTER_DNSLOOKUP_IGNORE_TARGET_HOSTS = .*127\.0\.0\.0/8" "$our_default"
check "... and equals Debian's" "$deb_default" "$our_default"
if [ -r "$SRC/exim-config/mtasts-transports.conf" ] && [ "$CONFD_SRC" = "$SRC/exim-config/debian/conf.d" ]; then
	body() { sed -n "/^$1\$/,\$p" "$2"; }	# from the line matching $1
	check "transport/30_mtasts is mtasts-transports.conf in Debian's guards" "" \
		"$(diff <(body '\.ifndef MTASTS_CA' "$CONFD_SRC/transport/30_mtasts" | head -n -2) \
			<(body '\.ifndef MTASTS_CA' "$SRC/exim-config/mtasts-transports.conf"))"
	check "router/190_mtasts is mtasts-routers.conf in Debian's guards (relay_to_domains left to Debian)" "" \
		"$(diff <(body '\.ifndef ROUTER_DNSLOOKUP_IGNORE_TARGET_HOSTS' "$CONFD_SRC/router/190_mtasts" | head -n -2 |
			sed 's/^  domains = ! +local_domains : ! +relay_to_domains$/  domains = ! +local_domains/') \
			<(body '\.ifndef ROUTER_DNSLOOKUP_IGNORE_TARGET_HOSTS' "$SRC/exim-config/mtasts-routers.conf"))"
	check "acl/90_mtasts is mtasts-acl.conf in Debian's guards" "" \
		"$(diff <(body 'mtasts_seen:' "$CONFD_SRC/acl/90_mtasts" | head -n -2) \
			<(body 'mtasts_seen:' "$SRC/exim-config/mtasts-acl.conf"))"
fi

echo "== every option of Debian's remote_smtp, from the same macros"
# Every macro Debian's remote_smtp reads (split file and unsplit template)
# gets a value; the options those macros set on remote_smtp must appear,
# identical, on every mtasts transport.  A macro Debian adds later is
# picked up here and fails the check until the fragments follow.
macros=$( { sed -n 's/^\.ifdef \([A-Z_]*\)$/\1/p' "$DEBIAN_ETC/conf.d/transport/30_exim4-config_remote_smtp"
	    sed -n '/^remote_smtp:$/,/^### end transport\/30_exim4-config_remote_smtp$/s/^\.ifdef \([A-Z_]*\)$/\1/p' \
		"$DEBIAN_ETC/exim4.conf.template"; } | sort -u)
check_match "Debian's remote_smtp macros found" "DKIM_DOMAIN.*REMOTE_SMTP_HELO_DATA" "$(echo $macros)"
values=""
for m in $macros; do
	case $m in
	TLS_DH_MIN_BITS) v=2048 ;;
	IGNORE_SMTP_LINE_LENGTH_LIMIT) v=1 ;;
	REMOTE_SMTP_HEADERS_REWRITE) v='*@sender.test rewritten@sender.test frs' ;;
	REMOTE_SMTP_RETURN_PATH) v='bounces@sender.test' ;;
	REMOTE_SMTP_HOSTS_*) v='<; 127.0.0.250' ;;
	*) v="v-$(tr 'A-Z_' 'a-z-' <<<"$m")" ;;	# no macro name inside
	esac
	# "==" redefines the DKIM macros every configuration here sets
	case $m in
	DKIM_DOMAIN|DKIM_SELECTOR|DKIM_PRIVATE_KEY|DKIM_CANON) eq="==" ;;
	*) eq="=" ;;
	esac
	values="$values$m $eq $v"$'\n'
done
mkconf opts internet true <<<"MTASTS_ENABLE = 1"$'\n'"$values" || exit 1
mkconf optsnone internet true <<<"MTASTS_ENABLE = 1" || exit 1
tp() { X "$1" -bP transport "$2" 2>&1 | sed 's/^ *//' | sort; }
debian_set=$(comm -23 <(tp opts remote_smtp) <(tp optsnone remote_smtp))
check_match "the macros set options on remote_smtp" "dkim_domain = v-dkim-domain .*helo_data = v-remote-smtp-helo-data" "$(echo $debian_set)"
for t in mtasts_smtp_enforce mtasts_smtp mtasts_smtp_tlsrpt; do
	missing=$(comm -23 <(echo "$debian_set") <(tp opts $t))
	# the enforce transport requires TLS of every host by itself
	[ $t = mtasts_smtp_enforce ] && missing=$(grep -v '^hosts_require_tls = ' <<<"$missing")
	check "$t carries every remote_smtp option Debian's macros set" "" "$missing"
done
check "mtasts_smtp_enforce: hosts_require_tls = * whatever REMOTE_SMTP_HOSTS_REQUIRE_TLS says" \
	"hosts_require_tls = *" "$(tp opts mtasts_smtp_enforce | grep '^hosts_require_tls = ')"

echo "== where the routers exist"
mkconf off internet true <<<"" || exit 1
mkconf on internet true <<<"MTASTS_ENABLE = 1" || exit 1
check_match "not enabled: Debian's routers only" "^hubbed_hosts dnslookup_relay_to_domains dnslookup " "$(routers off)"
check "not enabled: no mtasts transport" "" "$(X off -bP transport_list 2>&1 | grep mtasts)"
check_match "enabled, internet: after hubbed_hosts, before Debian's dnslookup" \
	"^hubbed_hosts mtasts_tlsrpt mtasts_dnslookup mtasts_no_valid_mx dnslookup_relay_to_domains dnslookup " "$(routers on)"
for type in smarthost satellite local; do
	mkconf "$type-off" $type true <<<"" || exit 1
	mkconf "$type" $type true <<<"MTASTS_ENABLE = 1" || exit 1
	check "enabled, $type: routers exactly as Debian's" "$(routers "$type-off")" "$(routers "$type")"
	check "enabled, $type: transports exactly as Debian's" \
		"$(X "$type-off" -bP transport_list 2>&1)" "$(X "$type" -bP transport_list 2>&1)"
done

echo "== deliveries through Debian's configuration (split, internet)"
delivered=()	# sender log lines of delivered messages: DKIM checked below
next_rcpt e-good.test; v=$(result on "$(send on "$r")")
check_match "enforce: delivered over verified TLS" \
	"^=> $r R=mtasts_dnslookup T=mtasts_smtp_enforce H=mx1.example.test \[127.0.0.11\].*CV=yes" "$v"
delivered+=("enforce|$v")
next_rcpt e-wrongname.test; v=$(result on "$(send on "$r")")
check_match "enforce, wrong certificate name: deferred" \
	"^== $r R=mtasts_dnslookup T=mtasts_smtp_enforce defer \(-37\)" "$v"
next_rcpt e-onlybad.test; v=$(result on "$(send on "$r")")
check_match "enforce, no MX allowed: deferred, not bounced" \
	"^== $r R=mtasts_no_valid_mx defer .*MTA-STS: no MX host of e-onlybad.test" "$v"
next_rcpt e-testing.test; v=$(result on "$(send on "$r")")
check_match "testing: delivered, unverified" "^=> $r R=mtasts_dnslookup T=mtasts_smtp H=mx2.example.test .*CV=no" "$v"
delivered+=("testing|$v")
next_rcpt e-none.test; v=$(result on "$(send on "$r")")
check_match "mode none: delivered as before" "^=> $r R=mtasts_dnslookup T=mtasts_smtp H=mx2" "$v"
delivered+=("none|$v")
next_rcpt e-nosts.test; v=$(result on "$(send on "$r")")
check_match "no policy: delivered as before (no STARTTLS there)" \
	"^=> $r R=mtasts_dnslookup T=mtasts_smtp H=mx4.example.test \[127.0.0.14\]:25 (K )?C=" "$v"
delivered+=("no policy|$v")
next_rcpt e-wrongname.test
v=$(result on "$(send on "$r" 'TLS-Report-Domain: e-wrongname.test
TLS-Report-Submitter: sender.test
')")
check_match "TLS-RPT report mail: delivered by the report router despite the bad certificate" \
	"^=> $r R=mtasts_tlsrpt T=mtasts_smtp_tlsrpt H=mx2.example.test " "$v"
delivered+=("report mail|$v")

# Debian's Exim routes as root: the module, called from the router and
# from msg:delivery events, must leave its files to the Exim user, whose
# transports (TLS-RPT events) and timers (mtasts refresh, report) use them.
owners=$(stat -c '%U' "$E"/cache/* "$E"/reports/results-* 2>/dev/null | sort -u | tr '\n' ' ')
check "cache and results files still belong to Debian-exim after root's deliveries" \
	"Debian-exim " "$owners"
check_match "TLS-RPT: the enforce failure (a transport event, as Debian-exim) recorded" \
	"e-wrongname\.test	sts	1	certificate-host-mismatch" \
	"$(cat "$E"/reports/results-* 2>/dev/null | grep -P '\te-wrongname\.test\t')"

echo "== Debian's safeguard: MX on an ignored address"
c201=$(conns 127.0.0.201)
next_rcpt s-loop.test; v=$(result on "$(send on "$r")")
check_match "no policy, only MX on an ignored address: unroutable, as with Debian's router" \
	"^\*\* $r: all relevant MX records point to non-existent hosts" "$v"
next_rcpt s-loopenf.test; v=$(result on "$(send on "$r")")
check_match "enforced, preferred MX on loopback: ignored, the next MX used" \
	"^=> $r .*T=mtasts_smtp_enforce H=mx1.example.test .*CV=yes" "$v"
check "the ignored address was never contacted" "$c201" "$(conns 127.0.0.201)"
# routing only (-bt never connects): an MX on 10.255.255.25
out=$(X on -bt "u@s-private.test" 2>&1)
check_match "exim -bt: an MX on a private address (10.0.0.0/8) is ignored" \
	"all relevant MX records point to non-existent hosts" "$out"

echo "== smarthost: Debian's routing, untouched"
mkconf sh smarthost true <<<"MTASTS_ENABLE = 1" || exit 1
c15=$(conns 127.0.0.15)
next_rcpt e-good.test; v=$(result sh "$(send sh "$r")")
check_match "mail for an enforced domain goes to the smarthost" \
	"^=> $r R=smarthost T=remote_smtp_smarthost H=mx.other.test \[127.0.0.15\]" "$v"
check "in the smarthost's mailbox" 1 "$(inbox "$r" 127.0.0.15)"
# (Debian's remote_smtp_smarthost does not sign: no DKIM check here)

echo "== DANE through Debian's configuration (the world of dane.sh)"
# Exim trusts its resolver's AD bit only with "options trust-ad" (dane.sh
# shows what happens without it).
echo "options trust-ad" >> "/etc/netns/$NS/resolv.conf"
next_rcpt ee.dane.test; v=$(result on "$(send on "$r")")
check_match "DANE-EE, self-signed, enforced policy: delivered under DANE" \
	"^=> $r R=mtasts_dnslookup T=mtasts_smtp_enforce H=mxee.dane.test \[127.0.0.41\].* CV=dane " "$v"
next_rcpt bad.dane.test; v=$(result on "$(send on "$r")")
check_match "TLSA matching nothing: deferred by DANE" \
	"^== $r R=mtasts_dnslookup T=mtasts_smtp_enforce defer \(-37\) H=mxbad.dane.test .*The certificate differs" "$v"
next_rcpt tst.dane.test; v=$(result on "$(send on "$r")")
check_match "testing mode, DANE host: delivered under DANE" \
	"^=> $r R=mtasts_dnslookup T=mtasts_smtp H=mxee.dane.test \[127.0.0.41\].* CV=dane " "$v"
check "TLS-RPT: the DANE sessions recorded under tlsa and the MX host (transport events as Debian-exim)" 2 \
	"$(cat "$E"/reports/results-* 2>/dev/null | grep -cP '^[0-9]+\tmxee\.dane\.test\ttlsa\t-\tsuccess\t')"
mkconf nodane internet true <<<"MTASTS_ENABLE = 1"$'\n'"MTASTS_DANE_HOSTS =" || exit 1
check "MTASTS_DANE_HOSTS empty: no hosts_try_dane on the mtasts transports" \
	"hosts_try_dane = hosts_try_dane = " \
	"$(for t in mtasts_smtp_enforce mtasts_smtp; do X nodane -bP transport $t | grep '^ *hosts_try_dane = ' | tr -d '\n'; done)"
next_rcpt ee.dane.test; v=$(result nodane "$(send nodane "$r")")
check_match "MTASTS_DANE_HOSTS empty: the self-signed DANE-EE host refused by the policy's checks" \
	"^== $r R=mtasts_dnslookup T=mtasts_smtp_enforce defer \(-37\) H=mxee.dane.test .*certificate invalid" "$v"
mkconf reqdane internet true <<<"MTASTS_ENABLE = 1"$'\n'"MTASTS_DANE_REQUIRE_HOSTS = mxpkix.dane.test" || exit 1
next_rcpt pkix.dane.test; v=$(result reqdane "$(send reqdane "$r")")
# (Exim makes a proven absence of TLSA records for such a host permanent:
# the message bounces; docs/exim.md says so)
check_match "MTASTS_DANE_REQUIRE_HOSTS: a listed host without TLSA records fails (Exim bounces)" \
	"^\*\* $r R=mtasts_dnslookup T=mtasts_smtp_enforce: DANE error: tlsa lookup FAIL" "$v"
next_rcpt pkix.dane.test; v=$(result on "$(send on "$r")")
check_match "... and delivered by the policy's checks without it" \
	"^=> $r R=mtasts_dnslookup T=mtasts_smtp_enforce H=mxpkix.dane.test .*CV=yes" "$v"
check "the report transport does no DANE" "hosts_try_dane = " \
	"$(X on -bP transport mtasts_smtp_tlsrpt | grep '^ *hosts_try_dane = ' | sed 's/^ *//')"
check "cache and results files still Debian-exim's after the DANE deliveries as root" \
	"Debian-exim " "$(stat -c '%U' "$E"/cache/* "$E"/reports/results-* 2>/dev/null | sort -u | tr '\n' ' ')"

echo "== the unsplit template with unsplit.sed"
mkconf unsplit internet false <<<"MTASTS_ENABLE = 1" || exit 1
check_match "routers as in the split scheme" \
	"^hubbed_hosts mtasts_tlsrpt mtasts_dnslookup mtasts_no_valid_mx dnslookup_relay_to_domains dnslookup " "$(routers unsplit)"
sed -f "$UNSPLIT_SED" "$DEBIAN_ETC/exim4.conf.template" > "$D/once"
check "unsplit.sed applied twice adds nothing" "" \
	"$(sed -f "$UNSPLIT_SED" "$D/once" | diff "$D/once" -)"
check "unsplit.sed adds four includes, nothing else" 4 \
	"$(diff "$DEBIAN_ETC/exim4.conf.template" "$D/once" | grep -c '^> \.include_if_exists CONFDIR/conf\.d/[a-z]*/[0-9]*_mtasts$')"
next_rcpt e-good.test; v=$(result unsplit "$(send unsplit "$r")")
check_match "enforce: delivered over verified TLS" \
	"^=> $r R=mtasts_dnslookup T=mtasts_smtp_enforce H=mx1.example.test .*CV=yes" "$v"
delivered+=("unsplit enforce|$v")
next_rcpt e-nosts.test; v=$(result unsplit "$(send unsplit "$r")")
check_match "no policy: delivered" "^=> $r R=mtasts_dnslookup T=mtasts_smtp H=mx4" "$v"
delivered+=("unsplit no policy|$v")

echo "== DKIM: every delivered message is signed, the receiver verifies it"
for x in "${delivered[@]}"; do
	check "DKIM pass: ${x%%|*}" "sender.test sel pass" "$(dkim_of "${x#*|}")"
done

# A bounce is submitted by a child Exim running as Debian-exim with our -C
# file, which costs it root: Exim panic-logs that, only because of -C.
check "no panic log" "" \
	"$(cat "$D"/*/log/paniclog 2>/dev/null | grep -v ' exim user lost privilege for using -C option$')"
world_down
check "the host's /etc/exim4, /etc/mtasts, /var/lib/mtasts unchanged" "$STATE_BEFORE" "$(host_state)"
summary
