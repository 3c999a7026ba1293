#!/bin/bash
# hook-start.sh - WORLD_HOOK_START of the Exim e2e tests: receiving Exim for
# every MX address, sending Exim daemons with the plugin (world.sh runs it
# with TW, NS, WORLD_DIR exported).  Needs MTASTS_SO (the built module) and
# MTASTS_SRC (the source tree) in the environment.
#
#   $TW/exim/recv.conf        receiver on 127.0.0.11-16 (see recv.conf.in)
#   $TW/exim/send.conf        sender, daemon on 127.0.0.1:2525
#   $TW/exim/broken.conf      sender whose plugin config path does not exist
#   $TW/exim/mtasts.conf      the plugin's configuration
#   $TW/exim/{cache,reports}  owned by Debian-exim, mode 0700
set -euo pipefail
: "${MTASTS_SO:?}" "${MTASTS_SRC:?}"
HERE=$(cd "$(dirname "$0")" && pwd)
E=$TW/exim
EXIM_USER=Debian-exim
EXIM=$(command -v exim4 || command -v exim)
nsx() { ip netns exec "$NS" "$@"; }

mkdir -p "$E"/certs "$E"/cache "$E"/reports "$E"/recv/{spool,log,mail} \
	"$E"/send/{spool,log} "$E"/broken/{spool,log} "$E"/unsafe/{spool,log}

# certificate per receiving address
cert() {	# IP NAME
	cp "$TW/certs/$2.crt" "$E/certs/$1.crt"
	cp "$TW/certs/$2.key" "$E/certs/$1.key"
}
cert 127.0.0.11 mx-good
cert 127.0.0.12 mx-wrongname
cert 127.0.0.13 mx-untrusted
cert 127.0.0.14 mx-good
cert 127.0.0.15 mx-good
cert 127.0.0.16 mx-expired
"$WORLD_DIR/mkcerts.sh" leaf "$TW/certs" mx-six ca mx6.example.test >/dev/null
cert 127.0.0.17 mx-six
cert 127.0.0.201 mx-good
chown root:"$EXIM_USER" "$E"/certs/*
chmod 640 "$E"/certs/*

sub() {	# IN OUT NAME CONF
	sed -e "s|@TW@|$TW|g; s|@SO@|$MTASTS_SO|g; s|@NAME@|$3|g; s|@CONF@|$4|g" \
		"$1" > "$2"
	chmod 644 "$2"
}
sub "$HERE/recv.conf.in" "$E/recv.conf" recv ""
sub "$HERE/mtasts.conf.in" "$E/mtasts.conf" - ""
sub "$HERE/send.conf.in" "$E/send.conf" send "$E/mtasts.conf"
sub "$HERE/send.conf.in" "$E/broken.conf" broken "$E/no-such-dir/mtasts.conf"
sed -i 's/^daemon_smtp_ports = .*/daemon_smtp_ports = 2526/' "$E/broken.conf"
# The product fragments, unchanged except what a world on 127.0.0.x needs:
# MX addresses are local (self = send, allow_localhost).
sed -e 's/^\(  driver = dnslookup\)$/\1\n  self = send/' \
	"$MTASTS_SRC/exim-config/mtasts-routers.conf" > "$E/mtasts-routers.conf"
sed -e 's/^\(  driver = smtp\)$/\1\n  allow_localhost/' \
	"$MTASTS_SRC/exim-config/mtasts-transports.conf" > "$E/mtasts-transports.conf"
cp "$MTASTS_SRC/exim-config/mtasts-acl.conf" "$E/mtasts-acl.conf"
# unsafe.conf: the same without the batching key (headers_remove), the SNI
# rule and hosts_nopass_tls; e2e.sh shows what they prevent.
sub "$HERE/send.conf.in" "$E/unsafe.conf" unsafe "$E/mtasts.conf"
sed -i 's/^daemon_smtp_ports = .*/daemon_smtp_ports = 2527/; s#/mtasts-\(routers\|transports\)\.conf$#/unsafe-\1.conf#' \
	"$E/unsafe.conf"
sed -e '/^  headers_remove = ${if eq{$address_data}/,+1d' \
	"$E/mtasts-routers.conf" > "$E/unsafe-routers.conf"
sed -e '/^  hosts_nopass_tls = /,+2d' \
	-e 's/^  tls_sni = ${if MTASTS_HOST_IN_POLICY {$host}}$/  tls_sni = $host/' \
	"$E/mtasts-transports.conf" > "$E/unsafe-transports.conf"
chmod 644 "$E"/*.conf

chown -R "$EXIM_USER:$EXIM_USER" "$E/recv" "$E/send" "$E/broken" "$E/unsafe" "$E/cache" \
	"$E/reports"
chmod 700 "$E/cache" "$E/reports"

nsx "$EXIM" -C "$E/recv.conf" -bd -oP "$TW/run/exim-recv.pid"
nsx "$EXIM" -C "$E/send.conf" -bd -oP "$TW/run/exim-send.pid"
for i in $(seq 1 250); do
	nsx bash -c 'exec 3<>/dev/tcp/127.0.0.11/25 && exec 4<>/dev/tcp/127.0.0.1/2525' \
		2>/dev/null && exit 0
	sleep 0.02
done
echo "hook-start.sh: Exim daemons did not start" >&2
exit 1
