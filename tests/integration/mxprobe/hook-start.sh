#!/bin/bash
# hook-start.sh - WORLD_HOOK_START of test_mxprobe.sh: the certificates of
# the MX hosts and the receiving Exim that plays them (recv.conf.in).
# world.sh runs it with TW, NS, WORLD_DIR exported; MXP_EXPIRING is the
# notAfter of the certificate that expires soon ("YYYY-MM-DD HH:MM:SS UTC").
set -euo pipefail
: "${MXP_EXPIRING:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
M=$TW/mxp
C=$TW/certs
EXIM=$(command -v exim4 || command -v exim)
EXIM_USER=Debian-exim
nsx() { ip netns exec "$NS" "$@"; }

mkdir -p "$M"/certs "$M"/spool "$M"/log "$M"/mail
mk=$WORLD_DIR/mkcerts.sh
# fixed dates (the golden outputs name them), but for the expired one
# (2019-2020) and the one that expires soon
export MKCERTS_NOT_BEFORE="2025-01-01 00:00:00 UTC"
export MKCERTS_NOT_AFTER="2035-01-01 00:00:00 UTC"
"$mk" leaf "$C" mxp-good ca ok.probe.test split.probe.test \
	tls10.probe.test plain.probe.test silent.probe.test v6.probe.test
"$mk" leaf "$C" mxp-wrongname ca wrong.invalid
"$mk" leaf "$C" mxp-cnonly cnonly cnonly.probe.test
"$mk" leaf "$C" mxp-self self self.probe.test
"$mk" leaf "$C" mxp-otherca otherca otherca.probe.test
MKCERTS_NOT_AFTER="$MXP_EXPIRING" \
	"$mk" leaf "$C" mxp-expiring ca expiring.probe.test
unset MKCERTS_NOT_BEFORE MKCERTS_NOT_AFTER
"$mk" leaf "$C" mxp-expired expired expired.probe.test

cert() {	# LAST-OCTET NAME
	cp "$C/$2.crt" "$M/certs/127.0.2.$1.crt"
	cp "$C/$2.key" "$M/certs/127.0.2.$1.key"
}
cert 1 mxp-good
cert 2 mxp-wrongname
cert 3 mxp-cnonly
cert 4 mxp-expired
cert 5 mxp-expiring
cert 6 mxp-self
cert 7 mxp-otherca
cert 8 mxp-good
cert 9 mxp-good
cert 10 mxp-good
cert 11 mxp-wrongname
cert 12 mxp-good
chown root:"$EXIM_USER" "$M"/certs/*
chmod 640 "$M"/certs/*

sed -e "s|@TW@|$TW|g" "$HERE/recv.conf.in" > "$M/recv.conf"
chmod 644 "$M/recv.conf"
chown -R "$EXIM_USER:$EXIM_USER" "$M/spool" "$M/log" "$M/mail"

nsx "$EXIM" -C "$M/recv.conf" -bd -oP "$TW/run/exim-mxp.pid"
for i in $(seq 1 250); do
	nsx bash -c 'exec 3<>/dev/tcp/127.0.2.1/25' \
		2>/dev/null && exit 0
	sleep 0.02
done
echo "hook-start.sh: the receiving Exim did not start" >&2
exit 1
