# suite.sh - what the Exim suites (e2e.sh, debian.sh, dane.sh) share;
# sourced after ../lib.sh, with HERE (this directory), SRC (the source
# tree), MTASTS_SO (the built module) and TW (the world's directory) set.

# exim_world_env [dane]: the world of the Exim suites - receiving Exims for
# every MX (hook-start.sh), their zone and policies; with "dane", also the
# DNSSEC-signed zone dane.test, the certificates of its MX hosts (made
# before the zone is signed: its TLSA records carry their keys' digests)
# and its receivers (dane/hook.sh).
exim_world_env() {
	export MTASTS_SRC=$SRC
	export WORLD_MX_NAMES="mx1.example.test mx2.example.test mx3.example.test mx4.example.test mx5.example.test mxc.example.test mx.other.test"
	if [ "${1:-}" = dane ]; then
		export WORLD_EXTRA_ZONE="$HERE/world.zone $HERE/dane/world.zone"
		export WORLD_EXTRA_POLICIES="$HERE/policies $HERE/dane/policies"
		export WORLD_EXTRA_DNSSEC=$HERE/dane/dane.test
		export WORLD_EXTRA_CERTS="dane-ee:self:mxee.dane.test dane-bad:ca:mxbad.dane.test
 dane-bogus:ca:mxbogus.dane.test dane-pkix:ca:mxpkix.dane.test
 dane-ta:otherca:mxta.dane.test dane-self:self:mxself.dane.test"
		export WORLD_HOOK_START="$HERE/hook-start.sh $HERE/dane/hook.sh"
	else
		export WORLD_EXTRA_ZONE=$HERE/world.zone
		export WORLD_EXTRA_POLICIES=$HERE/policies
		export WORLD_HOOK_START=$HERE/hook-start.sh
	fi
}

# exim_world_up SUITE WORLD: the module's two halves copied where Exim's
# delivery processes (Debian-exim) can read them - mtasts.so loads
# mtasts-net.so from its own directory - MTASTS_SO pointed there, and the
# world started; both removed on exit.  Exits 1 when the world does not
# start.
exim_world_up() {
	mkdir -p "$TW.so"
	install -m 644 "$MTASTS_SO" "$TW.so/mtasts.so"
	install -m 644 "$(dirname "$MTASTS_SO")/mtasts-net.so" "$TW.so/mtasts-net.so"
	chmod 755 "$TW.so"
	export MTASTS_SO=$TW.so/mtasts.so
	trap 'world_down; rm -rf "$TW.so"' EXIT
	world_up "$2" >/dev/null || { echo "$1: world did not start"; exit 1; }
	trap 'world_down; rm -rf "$TW.so"' EXIT	# world_up set its own
}
