#!/bin/sh
# mkcerts.sh - throw-away PKI for the mtasts test world, made with certtool
# (gnutls-bin).  Every file is PEM; keys are ECDSA P-256 (fast to make).
#
#   mkcerts.sh ca OUTDIR
#       ca.crt/ca.key      the test CA every test trusts (--ca, CAINFO)
#       otherca.crt/.key   a CA nobody trusts
#   mkcerts.sh leaf OUTDIR NAME KIND DNSNAME...
#       NAME.crt/NAME.key with the given subjectAltNames.  KIND:
#         ca       signed by the test CA, valid for ten years
#         otherca  signed by the untrusted CA
#         expired  signed by the test CA, expired in 2020
#         self     self-signed
#         cnonly   signed by the test CA, the first DNSNAME as subject CN
#                  and no subjectAltName at all (RFC 8461 §3.3: no DNS-ID)
#       With MKCERTS_NOT_AFTER set ("YYYY-MM-DD HH:MM:SS UTC") the
#       certificate ends then and starts at MKCERTS_NOT_BEFORE (default
#       2020-01-01), whatever the KIND (e.g. one that expires in 5 days).
#   mkcerts.sh world OUTDIR DNSNAME...
#       ca + every certificate the world uses (names below); the DNSNAMEs
#       are the policy hosts (mta-sts.<domain>) of the good HTTPS server.
#
# Certificates made by "world":
#   policy.crt          test CA, every mta-sts.<domain> given
#   policy-expired.crt  test CA, expired, mta-sts.fexpired.test
#   policy-self.crt     self-signed, mta-sts.fselfsigned.test
#   policy-wrongname.crt test CA, wrong.invalid only
#   policy-untrusted.crt untrusted CA, mta-sts.funtrusted.test
#   policy-cnonly.crt   test CA, CN mta-sts.fcnonly.test, no subjectAltName
#   policy-wild.crt     test CA, *.fwild.test
#   mx-good.crt         test CA, $WORLD_MX_NAMES (default below)
#   mx-wrongname.crt    test CA, wrong.invalid
#   mx-untrusted.crt    untrusted CA, $WORLD_MX_NAMES
#   mx-expired.crt      test CA, expired, $WORLD_MX_NAMES
set -eu

KEYOPT="--key-type=ecdsa --curve=secp256r1"
MX_NAMES=${WORLD_MX_NAMES:-"mx1.example.test mx2.example.test mx3.example.test mx4.example.test mx.other.test"}

die() { echo "mkcerts.sh: $*" >&2; exit 1; }
command -v certtool >/dev/null || die "certtool missing (apt-get install gnutls-bin)"

newkey() {	# newkey FILE
	certtool --generate-privkey $KEYOPT --outfile "$1" >/dev/null 2>&1 ||
		die "cannot make key $1"
}

mkca() {	# mkca OUT NAME CN
	cat > "$1/$2.tmpl" <<T
cn = "$3"
organization = "mtasts test world"
serial = 1
expiration_days = 3650
ca
cert_signing_key
crl_signing_key
T
	newkey "$1/$2.key"
	certtool --generate-self-signed --load-privkey "$1/$2.key" \
		--template "$1/$2.tmpl" --outfile "$1/$2.crt" >/dev/null 2>&1 ||
		die "cannot make CA $2"
	rm -f "$1/$2.tmpl"
}

ca() {
	mkdir -p "$1"
	mkca "$1" ca "mtasts Test CA"
	mkca "$1" otherca "mtasts Untrusted CA"
}

leaf() {	# leaf OUT NAME KIND DNSNAME...
	out=$1 name=$2 kind=$3
	shift 3
	[ $# -gt 0 ] || die "leaf $name: no DNS name"
	tmpl="$out/$name.tmpl"
	{
		echo "cn = \"$1\""
		if [ "$kind" != cnonly ]; then
			for n in "$@"; do echo "dns_name = \"$n\""; done
		fi
		echo "serial = $(od -An -N4 -tu4 /dev/urandom | tr -d ' ')"
		if [ -n "${MKCERTS_NOT_AFTER:-}" ]; then
			echo "activation_date = \"${MKCERTS_NOT_BEFORE:-2020-01-01 00:00:00 UTC}\""
			echo "expiration_date = \"$MKCERTS_NOT_AFTER\""
		elif [ "$kind" = expired ]; then
			echo 'activation_date = "2019-01-01 00:00:00 UTC"'
			echo 'expiration_date = "2020-01-01 00:00:00 UTC"'
		else
			echo 'expiration_days = 3650'
		fi
		echo 'tls_www_server'
		echo 'signing_key'
		echo 'encryption_key'
	} > "$tmpl"
	newkey "$out/$name.key"
	case $kind in
	ca|expired|cnonly) signer=ca ;;
	otherca) signer=otherca ;;
	self) signer= ;;
	*) die "unknown kind $kind" ;;
	esac
	if [ -n "$signer" ]; then
		certtool --generate-certificate --load-privkey "$out/$name.key" \
			--load-ca-certificate "$out/$signer.crt" \
			--load-ca-privkey "$out/$signer.key" \
			--template "$tmpl" --outfile "$out/$name.crt" >/dev/null 2>&1
	else
		certtool --generate-self-signed --load-privkey "$out/$name.key" \
			--template "$tmpl" --outfile "$out/$name.crt" >/dev/null 2>&1
	fi || die "cannot make certificate $name"
	rm -f "$tmpl"
	chmod 644 "$out/$name.crt"
	chmod 640 "$out/$name.key"
}

world() {	# world OUT DNSNAME...
	out=$1
	shift
	ca "$out"
	leaf "$out" policy ca "$@"
	leaf "$out" policy-expired expired mta-sts.fexpired.test
	leaf "$out" policy-self self mta-sts.fselfsigned.test
	leaf "$out" policy-wrongname ca wrong.invalid
	leaf "$out" policy-untrusted otherca mta-sts.funtrusted.test
	leaf "$out" policy-cnonly cnonly mta-sts.fcnonly.test
	leaf "$out" policy-wild ca '*.fwild.test'
	# shellcheck disable=SC2086
	{
		leaf "$out" mx-good ca $MX_NAMES
		leaf "$out" mx-wrongname ca wrong.invalid
		leaf "$out" mx-untrusted otherca $MX_NAMES
		leaf "$out" mx-expired expired $MX_NAMES
	}
}

cmd=${1:-}
[ $# -ge 2 ] || die "usage: mkcerts.sh ca|leaf|world OUTDIR ..."
shift
case $cmd in
ca) ca "$1" ;;
leaf) leaf "$@" ;;
world) world "$@" ;;
*) die "usage: mkcerts.sh ca|leaf|world OUTDIR ..." ;;
esac
