#!/bin/bash
# world.sh - the mtasts test world: a private network namespace with
# unbound (DNS from local data) and nginx (policy hosts over HTTPS, one
# good server and one server per failure scenario), on 127.0.0.x only.
#
#   world.sh start            build $TW from scratch and start the daemons
#   world.sh stop             stop every daemon, delete the namespace
#   world.sh exec CMD...      run CMD inside the namespace
#
# Needs root (network namespaces, port 53/443) and: ip unbound
# unbound-control unbound-checkconf nginx certtool curl ldns-keygen
# ldns-signzone.  Anything missing
# is an error (exit 1), never a silent skip.
#
# Environment (all optional; several worlds can run at once with distinct
# TW and NS):
#   TW                   work dir, default /tmp/mtasts-world (wiped on start)
#   NS                   namespace name, default mtw
#   WORLD_EXTRA_ZONE     space-separated files of unbound local-data /
#                        local-zone lines, appended to world/*.zone
#   WORLD_EXTRA_POLICIES space-separated directories; each file D in them is
#                        the policy of domain D (served by the good server)
#   WORLD_EXTRA_NAMES    space-separated extra DNS names for the good
#                        server's certificate
#   WORLD_MX_NAMES       SANs of the mx-*.crt certificates (mkcerts.sh)
#   WORLD_EXTRA_CERTS    space-separated NAME:KIND:DNSNAME[,DNSNAME...]:
#                        more certificates $TW/certs/NAME.crt/.key, made
#                        with mkcerts.sh leaf before the zones are signed
#   WORLD_EXTRA_DNSSEC   space-separated zone files (master format, each
#                        named after its zone), signed like world/dnssec/*
#   WORLD_HOOK_START     space-separated executables run after the base
#                        world is up (exit status != 0 fails the start)
#   WORLD_HOOK_STOP      space-separated executables run first on stop
# Hooks run with TW, NS, WORLD_DIR (this directory) exported.  A daemon a
# hook starts writes its pid to $TW/run/NAME.pid: stop kills every pid file
# there, then anything left in the namespace.
#
# What a started world provides (tests/integration/README.md has the list):
#   $TW/certs/ca.crt     the CA to trust (policy.crt, mx-*.crt, ...)
#   $TW/www/mta-sts.D/.well-known/mta-sts.txt   the policy of D
#   $TW/zone.conf        the DNS data unbound loaded
#   $TW/log/unbound.log  one line per query reaching unbound
#   $TW/log/nginx-*.log  one access log per HTTPS server, Host first
#   $TW/run/unbound.ctl  unbound-control socket (-c $TW/unbound.conf)
#   $TW/dnssec/Z.ds      trust anchor of each signed zone Z (world/dnssec/Z,
#                        WORLD_EXTRA_DNSSEC); Z.wrong.ds: a DS that makes Z
#                        bogus; $TW/dnssec/anchors: every Z.ds in one file
# unbound validates with those anchors: secure answers carry AD, a bogus
# one is SERVFAIL.  In a signed zone's source, "@SPKI-SHA256:NAME@" is the
# SHA-256 of the public key of $TW/certs/NAME.crt (TLSA 3 1 1, 2 1 1), and
# a line ";world-bogus OWNER. TYPE" breaks the signature of that RRset
# after signing (a bogus answer for it, the rest of the zone secure).
# Policy domains: every file in world/policies/ (and WORLD_EXTRA_POLICIES)
# plus every D with an "mta-sts.D." record in the zone data (local-data or
# a signed zone).  Each gets
# "mta-sts.D A 127.0.0.10" and '_mta-sts.D TXT "v=STSv1; id=1;"' unless the
# zone data has records for those names, and a default policy unless it has
# a policy file.
set -euo pipefail
WORLD_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TW=${TW:-/tmp/mtasts-world}
NS=${NS:-mtw}
export TW NS WORLD_DIR

GOOD_IP=127.0.0.10
# every HTTPS server in nginx.conf.in
HTTPS_IPS="127.0.0.10 127.0.0.21 127.0.0.22 127.0.0.23 127.0.0.24 127.0.0.25
 127.0.0.26 127.0.0.27 127.0.0.28 127.0.0.29 127.0.0.30 127.0.0.31 127.0.0.32
 127.0.0.33 127.0.0.34 127.0.0.35 127.0.0.37 127.0.0.39"
DEFAULT_POLICY='version: STSv1
mode: enforce
mx: mx1.example.test
mx: *.example.test
max_age: 86400
'

die() { echo "world.sh: $*" >&2; exit 1; }
nsx() { ip netns exec "$NS" "$@"; }

preflight() {
	[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, ports 53/443)"
	local c
	for c in ip unbound unbound-control unbound-checkconf nginx certtool curl \
		ldns-keygen ldns-signzone openssl; do
		command -v "$c" >/dev/null ||
			die "missing program $c (tools/install-deps.sh installs it)"
	done
	case $NS in
	*[!A-Za-z0-9_-]*|"") die "bad NS name '$NS'" ;;
	esac
	case $TW in
	/*) ;;
	*) die "TW must be an absolute path" ;;
	esac
}

wait_port() {	# wait_port IP PORT: up to 5 s
	local i
	for i in $(seq 1 250); do
		nsx bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null && return 0
		sleep 0.02
	done
	die "port $1:$2 did not open"
}

subst() { sed -e "s|@TW@|$TW|g" "$1" > "$2"; }

# Zone data: world/*.zone + WORLD_EXTRA_ZONE, then the generated records.
build_zone() {
	local f
	: > "$TW/zone.conf"
	for f in "$WORLD_DIR"/world/*.zone ${WORLD_EXTRA_ZONE:-}; do
		[ -r "$f" ] || die "zone file $f not readable"
		{ echo "# --- $f"; cat "$f"; echo; } >> "$TW/zone.conf"
	done
}

# The zone files to sign: world/dnssec/* and WORLD_EXTRA_DNSSEC.
signed_sources() {
	local f
	for f in "$WORLD_DIR"/world/dnssec/* ${WORLD_EXTRA_DNSSEC:-}; do
		[ -f "$f" ] && echo "$f"
	done
	return 0
}

# Owner names of a master-format zone file $1 of zone $2 ($ORIGIN and
# relative names resolved, "@" the origin; continuation lines skipped).
zone_file_owners() {
	awk -v o="$2." '
	/^\$ORIGIN[ \t]/ { o = $2; next }
	/^[ \t]/ || /^;/ || /^\$/ || /^$/ { next }
	{ n = $1; if (n == "@") n = o; else if (n !~ /\.$/) n = n "." o
	  print n }' "$1"
}

# Owner names present in the zone data, local-data and signed zones (lower
# case, with trailing dot).
zone_owners() {
	local f
	{
		sed -n "s/^[[:space:]]*local-data:[[:space:]]*[\"']\([^[:space:]]*\).*/\1/p" \
			"$TW/zone.conf"
		for f in $(signed_sources); do
			zone_file_owners "$f" "$(basename "$f")"
		done
	} | tr 'A-Z' 'a-z' | sort -u
}

policy_domains() {
	local d f
	for d in "$WORLD_DIR/world/policies" ${WORLD_EXTRA_POLICIES:-}; do
		[ -d "$d" ] || die "policy directory $d missing"
		for f in "$d"/*; do
			[ -f "$f" ] && basename "$f"
		done
	done
	zone_owners | sed -n 's/^mta-sts\.\(.*\)\.$/\1/p'
}

policy_file() {	# the source file for domain $1, or nothing
	local d
	for d in ${WORLD_EXTRA_POLICIES:-} "$WORLD_DIR/world/policies"; do
		[ -f "$d/$1" ] && { echo "$d/$1"; return; }
	done
	return 0
}

# A body of exactly $1 bytes: a valid policy padded with a comment-free
# tail of 'x' lines (content does not matter for the size scenarios).
sized_body() {
	head -c "$1" < <(printf '%s' "$DEFAULT_POLICY"; yes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx)
}

build_policies() {
	local d src owners dir
	owners=$(zone_owners)
	policy_domains | sort -u > "$TW/policy-domains"
	while read -r d; do
		dir="$TW/www/mta-sts.$d/.well-known"
		mkdir -p "$dir"
		src=$(policy_file "$d")
		if [ -n "$src" ]; then
			cp "$src" "$dir/mta-sts.txt"
		else
			printf '%s' "$DEFAULT_POLICY" > "$dir/mta-sts.txt"
		fi
		grep -qx "mta-sts\.$d\." <<<"$owners" ||
			echo "local-data: \"mta-sts.$d. 300 IN A $GOOD_IP\"" >> "$TW/zone.conf"
		grep -qx "_mta-sts\.$d\." <<<"$owners" ||
			echo "local-data: '_mta-sts.$d. 300 IN TXT \"v=STSv1; id=1;\"'" >> "$TW/zone.conf"
	done < "$TW/policy-domains"
	# size scenarios (RFC 8461 §3.3 body cap is 64 KiB = 65536 bytes)
	sized_body 71680 > "$TW/www/mta-sts.fbig.test/.well-known/mta-sts.txt"
	sized_body 65536 > "$TW/www/mta-sts.fexact.test/.well-known/mta-sts.txt"
	sized_body 51200 > "$TW/www/mta-sts.fslow.test/.well-known/mta-sts.txt"
	sized_body 71680 > "$TW/www/mta-sts.fchunked.test/.well-known/mta-sts.txt"
	sized_body 65536 > "$TW/www/mta-sts.fchunkedok.test/.well-known/mta-sts.txt"
	chmod -R a+rX "$TW/www"
}

# SHA-256 of the public key (SubjectPublicKeyInfo, DER) of a certificate.
spki_sha256() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
		sha256sum | cut -d' ' -f1
}

# The zone source $1 with every "@SPKI-SHA256:NAME@" filled in.
fill_zone() {
	local n h args=()
	for n in $(grep -o '@SPKI-SHA256:[A-Za-z0-9_-]*@' "$1" | sort -u); do
		n=${n#@SPKI-SHA256:}
		n=${n%@}
		[ -r "$TW/certs/$n.crt" ] || die "zone $1: no certificate $n"
		h=$(spki_sha256 "$TW/certs/$n.crt") || die "cannot hash $n.crt"
		args+=(-e "s/@SPKI-SHA256:$n@/$h/g")
	done
	sed "${args[@]}" -e 's/^;world-bogus.*//' "$1"
}

# Break the signature over RRset OWNER TYPE in signed zone file $1: one
# base64 character of the RRSIG's signature changes (still well-formed).
break_rrsig() {
	awk -F'\t' -v own="$2" -v typ="$3" 'BEGIN { OFS = "\t" }
	tolower($1) == tolower(own) && $4 == "RRSIG" && index($5, typ " ") == 1 {
		n = split($5, a, " "); c = substr(a[n], 10, 1)
		a[n] = substr(a[n], 1, 9) (c == "A" ? "B" : "A") substr(a[n], 11)
		$5 = a[1]; for (i = 2; i <= n; i++) $5 = $5 " " a[i]; hit++ }
	{ print } END { exit hit ? 0 : 1 }' "$1" > "$1.tmp" && mv "$1.tmp" "$1"
}

# Signed zones: each file world/dnssec/Z (and WORLD_EXTRA_DNSSEC) is zone Z
# in master format.  A fresh key signs it; unbound serves it as an auth-zone
# that the iterator reads as if from upstream (so the validator checks it
# against the anchor $TW/dnssec/Z.ds; the "." static local zone is made
# transparent for Z).
build_dnssec() {
	local f z k w own typ
	mkdir -p "$TW/dnssec"
	: > "$TW/auth-zones.conf"
	: > "$TW/dnssec/anchors"
	for f in $(signed_sources); do
		z=$(basename "$f")
		(
			cd "$TW/dnssec"
			k=$(ldns-keygen -a ECDSAP256SHA256 -k "$z")
			w=$(ldns-keygen -a ECDSAP256SHA256 -k "$z")
			fill_zone "$f" > "$z.zone"
			cat "$k.key" >> "$z.zone"
			ldns-signzone -f "$z.signed" "$z.zone" "$k" ||
				exit 1
			sed -n 's/^;world-bogus[[:space:]]\{1,\}\([^[:space:]]*\)[[:space:]]\{1,\}\([A-Za-z0-9]*\).*/\1 \2/p' "$f" |
				while read -r own typ; do
					break_rrsig "$z.signed" "$own" "$typ" ||
						{ echo "no RRSIG $own $typ" >&2; exit 1; }
				done || exit 1
			cp "$k.ds" "$z.ds"
			cp "$w.ds" "$z.wrong.ds"
		) || die "cannot sign zone $z"
		cat "$TW/dnssec/$z.ds" >> "$TW/dnssec/anchors"
		echo "local-zone: \"$z.\" transparent" >> "$TW/zone.conf"
		echo "trust-anchor-file: \"$TW/dnssec/$z.ds\"" >> "$TW/zone.conf"
		printf 'auth-zone:\n\tname: "%s."\n\tzonefile: "%s"\n\tfor-downstream: no\n\tfor-upstream: yes\n' \
			"$z" "$TW/dnssec/$z.signed" >> "$TW/auth-zones.conf"
	done
}

# WORLD_EXTRA_CERTS: NAME:KIND:DNS[,DNS...] each.
build_extra_certs() {
	local c name kind names
	for c in ${WORLD_EXTRA_CERTS:-}; do
		IFS=: read -r name kind names <<<"$c"
		[ -n "$name" ] && [ -n "$kind" ] && [ -n "$names" ] ||
			die "WORLD_EXTRA_CERTS: bad item '$c'"
		# shellcheck disable=SC2086
		"$WORLD_DIR/mkcerts.sh" leaf "$TW/certs" "$name" "$kind" ${names//,/ } ||
			die "cannot make certificate $name"
	done
}

run_hooks() {	# run_hooks LIST
	local h
	for h in $1; do
		[ -x "$h" ] || die "hook $h is not executable"
		"$h" || die "hook $h failed"
	done
}

start() {
	local names ip d
	preflight
	[ -e "/run/netns/$NS" ] && die "namespace $NS exists: run 'NS=$NS TW=... world.sh stop' first"
	# any failure from here on (die, or a command under set -e) undoes
	# what was started
	trap 'rc=$?; if [ $rc -ne 0 ]; then
		echo "world.sh: start failed, cleaning up" >&2
		stop >/dev/null 2>&1 || true
	fi' EXIT
	rm -rf "$TW"
	mkdir -p "$TW"/{run,log,unbound,www,nginx,certs}
	chmod 755 "$TW"

	build_zone
	build_policies
	names=""
	while read -r d; do names="$names mta-sts.$d"; done < "$TW/policy-domains"
	# shellcheck disable=SC2086
	"$WORLD_DIR/mkcerts.sh" world "$TW/certs" $names ${WORLD_EXTRA_NAMES:-}
	build_extra_certs
	# after the certificates: signed zones may carry their TLSA data
	build_dnssec

	subst "$WORLD_DIR/unbound.conf.in" "$TW/unbound.conf"
	subst "$WORLD_DIR/nginx.conf.in" "$TW/nginx.conf"
	unbound-checkconf "$TW/unbound.conf" >/dev/null ||
		die "unbound rejects $TW/unbound.conf (zone data?)"

	ip netns add "$NS"
	nsx ip link set lo up
	mkdir -p "/etc/netns/$NS"
	echo "nameserver 127.0.0.1" > "/etc/netns/$NS/resolv.conf"
	printf '127.0.0.1 localhost\n' > "/etc/netns/$NS/hosts"

	nsx unbound -c "$TW/unbound.conf"
	nsx nginx -c "$TW/nginx.conf" -e "$TW/log/nginx-error.log"
	wait_port 127.0.0.1 53
	for ip in $HTTPS_IPS; do wait_port "$ip" 443; done
	run_hooks "${WORLD_HOOK_START:-}"
	trap - EXIT
	echo "world up: TW=$TW NS=$NS"
}

alive() {	# a running process, not a zombie
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

stop() {
	local f pid left i
	[ "$(id -u)" -eq 0 ] || die "needs root"
	if [ -d "$TW/run" ]; then
		run_hooks "${WORLD_HOOK_STOP:-}" || true
		for f in "$TW"/run/*.pid; do
			[ -s "$f" ] || continue
			pid=$(head -1 "$f")
			case $pid in ''|*[!0-9]*) continue ;; esac
			kill "$pid" 2>/dev/null || true
			for i in $(seq 1 100); do alive "$pid" || break; sleep 0.02; done
			alive "$pid" && kill -9 "$pid" 2>/dev/null || true
			rm -f "$f"
		done
	fi
	if [ -e "/run/netns/$NS" ]; then
		left=$(ip netns pids "$NS" 2>/dev/null || true)
		if [ -n "$left" ]; then
			# shellcheck disable=SC2086
			kill $left 2>/dev/null || true
			sleep 0.1
			# shellcheck disable=SC2086
			kill -9 $left 2>/dev/null || true
		fi
		ip netns del "$NS"
	fi
	rm -rf "/etc/netns/$NS"
	echo "world down: NS=$NS"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
exec)
	shift
	[ $# -gt 0 ] || die "exec needs a command"
	[ -e "/run/netns/$NS" ] || die "namespace $NS does not exist (world not started?)"
	exec ip netns exec "$NS" "$@"
	;;
*) echo "usage: [TW=dir] [NS=name] world.sh start|stop|exec CMD..." >&2; exit 2 ;;
esac
