#!/bin/bash
# hook.sh - WORLD_HOOK_START of the DANE suite (../dane.sh), run after
# ../hook-start.sh (which starts the e2e receivers and the sending Exim
# with the product fragments): a receiving Exim for the MX hosts of
# dane.test on 127.0.0.41-46, and the module's configuration told that the
# MTA does DANE and which trust anchor validates the world's signed zones.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
E=$TW/exim
D=$E/dane
EXIM=$(command -v exim4 || command -v exim)
nsx() { ip netns exec "$NS" "$@"; }

mkdir -p "$D"/certs "$D"/spool "$D"/log "$D"/mail
cert() {	# IP NAME [CHAIN]: the certificate (and chain) served on IP
	cat "$TW/certs/$2.crt" ${3:+"$TW/certs/$3.crt"} > "$D/certs/$1.crt"
	cp "$TW/certs/$2.key" "$D/certs/$1.key"
}
cert 127.0.0.41 dane-ee
cert 127.0.0.42 dane-bad
cert 127.0.0.43 dane-bogus
cert 127.0.0.44 dane-pkix
# DANE-TA(2): the server sends the trust anchor in its chain
cert 127.0.0.45 dane-ta otherca
cert 127.0.0.46 dane-self
chown root:Debian-exim "$D"/certs/*
chmod 640 "$D"/certs/*
sed -e "s|@TW@|$TW|g" "$HERE/recv.conf.in" > "$E/dane-recv.conf"
chmod 644 "$E/dane-recv.conf"
chown -R Debian-exim:Debian-exim "$D/spool" "$D/log" "$D/mail"

# the module of the sending Exim (and of mtasts query, the dlopen host)
cat >> "$E/mtasts.conf" <<CONF
dane = yes
trust_anchor = $TW/dnssec/anchors
CONF

nsx "$EXIM" -C "$E/dane-recv.conf" -bd -oP "$TW/run/exim-dane.pid"
for _ in $(seq 1 250); do
	nsx bash -c 'exec 3<>/dev/tcp/127.0.0.46/25' 2>/dev/null && exit 0
	sleep 0.02
done
echo "hook.sh: the DANE receiver did not start" >&2
exit 1
