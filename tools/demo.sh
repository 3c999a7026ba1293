#!/bin/bash
# demo.sh - the README's first command: install what is needed, build, start
# the test world (DNS, policy hosts, receiving MX hosts, a sending Exim with
# the plugin), send a handful of messages and show, per recipient, what the
# plugin decided and what Exim did.  Needs root (network namespace).
#
#   sudo ./tools/demo.sh
set -uo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "demo.sh: run as root (sudo ./tools/demo.sh)"; exit 1; }
B=$SRC/build-demo

echo "== installing packages (tools/install-deps.sh)"
"$SRC/tools/install-deps.sh" || exit 1
echo "== building ($B)"
if [ ! -d "$B" ]; then
	meson setup "$B" "$SRC" >/dev/null || exit 1
fi
ninja -C "$B" >/dev/null || { echo "demo.sh: build failed (ninja -C $B)"; exit 1; }

X=$SRC/tests/integration/exim
. "$SRC/tests/integration/lib.sh"
export TW=/tmp/mtasts-demo NS=mtasts-demo MTASTS_SRC=$SRC
export WORLD_EXTRA_ZONE=$X/world.zone WORLD_EXTRA_POLICIES=$X/policies
export WORLD_MX_NAMES="mx1.example.test mx2.example.test mx3.example.test mx4.example.test mx5.example.test mxc.example.test mx.other.test"
export WORLD_HOOK_START=$X/hook-start.sh
mkdir -p "$TW.so" && install -m 644 "$B/plugin/mtasts.so" "$TW.so/mtasts.so" &&
	install -m 644 "$B/plugin/mtasts-net.so" "$TW.so/mtasts-net.so"
chmod 755 "$TW.so"
export MTASTS_SO=$TW.so/mtasts.so
TW=$TW NS=$NS "$SRC/tests/integration/world.sh" stop >/dev/null 2>&1
SO_DIR=$TW.so
echo "== starting the test world (netns $NS: unbound, nginx, 2 Exims)"
world_up demo >/dev/null || { rm -rf "$SO_DIR"; echo "demo.sh: the world did not start"; exit 1; }
# after world_up, which sets its own EXIT trap
trap 'world_down; rm -rf "$SO_DIR"; echo "== world stopped"' EXIT
E=$TW/exim

show() {	# DOMAIN MX-of-interest WHAT
	local d=$1 rcpt="demo@$1" id line
	printf '\n-- %s: %s\n' "$d" "$3"
	# host retry records are per host, not per domain (docs/exim.md):
	# start each case without them
	rm -f "$E"/send/spool/db/retry*
	printf 'Subject: demo\n\nhello\n' |
		wx exim4 -C "$E/send.conf" -odf -f s@sender.test "$rcpt" >/dev/null 2>&1
	echo "   plugin:"
	wx runuser -u Debian-exim -- "$B/examples/dlopen_host" -c "$E/mtasts.conf" \
		"$MTASTS_SO" "$d" $2 2>&1 | sed 's/^/     /'
	id=$(grep " <= s@sender.test .* for $rcpt\$" "$E/send/log/mainlog" | tail -1 | cut -d' ' -f3)
	line=$(grep -E " $id (=>|==|\*\*) " "$E/send/log/mainlog" | tail -1 | cut -d' ' -f4-)
	echo "   exim:"
	sed -E 's/ (DN|C)="[^"]*"//g; s/X=TLS1.3:[^ ]*/X=TLS1.3/' <<<"$line" | fold -w 74 |
		sed 's/^/     /'
}

show e-good.test "mx1.example.test" \
	"enforce, the MX has a good certificate -> delivered, CV=yes"
show e-refuse.test "mx.other.test mx1.example.test" \
	"enforce, preferred MX mx.other.test not in the policy -> skipped"
show e-wrongname.test "mx2.example.test" \
	"enforce, certificate for the wrong name -> deferred, not sent"
show e-plain.test "mx4.example.test" \
	"enforce, MX without STARTTLS -> deferred, not sent in clear"
show e-testing.test "mx2.example.test" \
	"testing, bad certificate -> delivered anyway, failure reported"
show e-nosts.test "mx4.example.test" \
	"no policy -> delivered as before (here: in clear)"

printf '\n-- TLS-RPT results recorded by the plugin (%s)\n' "$E/reports"
cat "$E"/reports/* 2>/dev/null | cut -f2,3,5,7,8 | sed 's/^/     /'
echo
