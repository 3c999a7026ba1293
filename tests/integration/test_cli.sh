#!/bin/bash
# test_cli.sh MTASTS DLOPEN_HOST MODULE - the mtasts command's front as an
# administrator meets it, in the test world:
#   - help: `mtasts help [COMMAND]`, `COMMAND --help` (exit 0), usage
#     errors (exit 2);
#   - the system configuration /etc/mtasts/mtasts.conf, read without -c,
#     named by -v and in errors; none at all means the built-in defaults;
#   - run as root, the command becomes the owner of the state directory
#     (the MTA's user, Debian-exim): what it creates belongs to the MTA;
#   - an administrator's inspection as root (query without --store, with a
#     configuration that is not the MTA's; check; cache stats/list/show)
#     leaves the cache as it was and the MTA's decision (the module through
#     DLOPEN_HOST, as Debian-exim) unchanged.
# The system file lives in a private overlay of /etc, in a mount namespace
# of each command's own: the host's /etc is never written.  Needs root.
set -uo pipefail
MTASTS=${1:?usage: test_cli.sh MTASTS DLOPEN_HOST MODULE}
DLOPEN_HOST=${2:?usage: test_cli.sh MTASTS DLOPEN_HOST MODULE}
MODULE=${3:?usage: test_cli.sh MTASTS DLOPEN_HOST MODULE}
[ "$(id -u)" -eq 0 ] || { echo "SKIP test_cli.sh: needs root (network and mount namespaces; CI runs it as root)"; exit 77; }
getent passwd Debian-exim >/dev/null ||
	{ echo "test_cli.sh: needs the Debian-exim user (exim4-base)" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"
host_etc() { ls -la --time-style=full-iso /etc/mtasts 2>&1; }
HOST_ETC=$(host_etc)
world_up cli >/dev/null || { echo "world did not start"; exit 1; }
chmod 755 "$TW"

# Debian-exim runs the module and the host program: private readable copies
BIN=$TW/bin
mkdir -p "$BIN"
install -m 755 "$DLOPEN_HOST" "$BIN/dlopen_host"
install -m 644 "$MODULE" "$BIN/mtasts.so"
# the network half, loaded by mtasts.so from its own directory
install -m 644 "$(dirname "$MODULE")/mtasts-net.so" "$BIN/mtasts-net.so"

# /etc as the command sees it: the host's, plus what the test puts in $UP
UP=$TW/etc-upper
WK=$TW/etc-work
mkdir -p "$UP/mtasts" "$WK"
SYSCONF=$UP/mtasts/mtasts.conf
# sys CMD...: CMD in the world, with the private /etc (the overlay first:
# ip netns exec then binds the world's resolv.conf over it)
sys() {
	unshare -m --propagation private sh -c '
		mount -t overlay overlay -o "lowerdir=/etc,upperdir=$0,workdir=$1" /etc || exit 97
		shift
		exec ip netns exec "$NS" "$@"' "$UP" "$WK" "$@"
}
exim() { sys runuser -u Debian-exim -- "$@"; }

# The MTA's state directory, as the package makes it
S=$TW/state
install -d -o Debian-exim -g Debian-exim -m 0700 "$S" "$S/reports"
cat > "$TW/mta.conf" <<CONF
cache_path = $S/cache
cache_size = 4M
report_dir = $S/reports
ca_file = $CA
fetch_timeout = 3
dns_timeout = 2
log_level = err
CONF
# what an administrator might use by mistake: same cache, no test CA
grep -v '^ca_file' "$TW/mta.conf" > "$TW/wrong.conf"

# ============================ help and usage ===============================
out=$("$MTASTS" help); rc=$?
check "help: exit 0" 0 "$rc"
for c in lint check query cache refresh report; do
	check_match "help lists $c" "
  $c " "$out"
done
for c in lint check query cache refresh report; do
	h=$("$MTASTS" help $c); rc=$?
	check "help $c: exit 0" 0 "$rc"
	check_match "help $c: its usage" "^usage: mtasts \[-c FILE\] $c" "$h"
	h2=$("$MTASTS" $c --help); rc=$?
	check "$c --help: exit 0 and the same text" "0 yes" \
		"$rc $([ "$h" = "$h2" ] && echo yes || echo no)"
done
check "refresh -h: exit 0" 0 "$("$MTASTS" refresh -h >/dev/null; echo $?)"
check "--help: exit 0" 0 "$("$MTASTS" --help >/dev/null; echo $?)"
"$MTASTS" help frobnicate >/dev/null 2>&1
check "help of an unknown command: exit 2" 2 "$?"
"$MTASTS" frobnicate >/dev/null 2>&1
check "unknown command: exit 2" 2 "$?"
err=$("$MTASTS" -c "$TW/mta.conf" query --bogus good.test 2>&1 >/dev/null); rc=$?
check "query --bogus: exit 2" 2 "$rc"
check_match "query --bogus: the usage on stderr" "usage: mtasts \[-c FILE\] query " "$err"
"$MTASTS" -c "$TW/mta.conf" refresh extra >/dev/null 2>&1
check "refresh with an argument: exit 2" 2 "$?"
"$MTASTS" >/dev/null 2>&1
check "no command: exit 2" 2 "$?"

# ===================== the system configuration file ======================
fetch_code() {	# check --json output -> the code of the fetch finding
	python3 -c 'import json,sys
print(" ".join(f["code"] for f in json.load(sys.stdin)["findings"] if f["check"] == "fetch"))'
}
rm -f "$SYSCONF"
err=$(sys "$MTASTS" -v check --json good.test 2>&1 >/dev/null)
check_match "no system file: -v says built-in defaults" \
	"configuration: built-in defaults \(no /etc/mtasts/mtasts.conf\)" "$err"
check "no system file: the system CA store does not know the test CA" fetch-cert \
	"$(sys "$MTASTS" check --json good.test 2>/dev/null | fetch_code)"

cp "$TW/mta.conf" "$SYSCONF"
err=$(sys "$MTASTS" -v check --json good.test 2>&1 >/dev/null)
check_match "system file: -v names it" "configuration: /etc/mtasts/mtasts.conf" "$err"
check_match "system file: -v says the user" "running as Debian-exim \(uid [0-9]+\), the owner of $S" "$err"
check "system file: its ca_file is used" fetch-ok \
	"$(sys "$MTASTS" check --json good.test 2>/dev/null | fetch_code)"

printf 'cache_path = %s/cache\nbogus_key = 1\n' "$S" > "$SYSCONF"
err=$(sys "$MTASTS" check good.test 2>&1 >/dev/null); rc=$?
check "broken system file: exit 2" 2 "$rc"
check_match "broken system file: the error names file and line" \
	"^mtasts: configuration: /etc/mtasts/mtasts.conf:2: " "$err"
out=$(sys "$MTASTS" lint --txt 'v=STSv1; id=1;' 2>&1); rc=$?
check "broken system file: lint reads no configuration, still works" 0 "$rc"
err=$("$MTASTS" -c "$TW/nonexistent.conf" check good.test 2>&1 >/dev/null); rc=$?
check "-c with a missing file: exit 2" 2 "$rc"
check_match "-c with a missing file: named" "$TW/nonexistent.conf" "$err"
cp "$TW/mta.conf" "$SYSCONF"

# =================== root becomes the state directory's owner =============
out=$(sys "$MTASTS" query --store good.test mx1.example.test)
check_match "root, query --store: answered" "verdict=require-tls .*source=fetch" "$out"
check "root, query --store: the cache belongs to Debian-exim, 0600" "Debian-exim 600" \
	"$(stat -c '%U %a' "$S/cache" 2>&1)"
check "root: cache show works on the MTA's cache" 0 \
	"$(sys "$MTASTS" cache show good.test >/dev/null 2>&1; echo $?)"
out=$(exim "$BIN/dlopen_host" -c /etc/mtasts/mtasts.conf "$BIN/mtasts.so" good.test mx1.example.test)
check_match "the MTA reads what root stored" "verdict=require-tls .*source=cache" "$out"

# a directory of root's: the command stays root
R=$TW/rootstate
mkdir -p "$R"
sed "s|$S|$R|" "$TW/mta.conf" > "$TW/root.conf"
err=$(sys "$MTASTS" -v -c "$TW/root.conf" cache stats 2>&1 >/dev/null)
check_match "state directory of root's: stays root" "running as root \($R: owned by root\)" "$err"
# a root-owned cache in the MTA's directory: said, with the way out
B=$TW/badstate
install -d -o Debian-exim -g Debian-exim -m 0700 "$B"
install -m 600 /dev/null "$B/cache"
sed "s|$S|$B|" "$TW/mta.conf" > "$TW/bad.conf"
err=$(sys "$MTASTS" -c "$TW/bad.conf" cache stats 2>&1 >/dev/null)
check_match "root-owned cache file: warned" "$B/cache belongs to uid 0, not to the owner of $B" "$err"

# ============ inspection as root never changes the MTA's decision ==========
snap() {	# the cache's entries and the state directory's files
	sys "$MTASTS" cache --json list
	find "$S" -printf '%P %u %m\n' | sort
}
set_policy adm.test "$(printf 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n')"
before=$(snap)
tq=$(count_txt_queries adm.test)
out=$(sys "$MTASTS" -c "$TW/wrong.conf" query adm.test mx1.example.test 2>&1)
check "wrong CA, query adm.test: the policy was looked up" $((tq + 1)) "$(count_txt_queries adm.test)"
check_match "wrong CA, query adm.test: no policy for the administrator" "verdict=none" "$out"
check "wrong CA, query adm.test: the cache is as it was" "$before" "$(snap)"
before=$(snap)
out=$(sys "$MTASTS" -c "$TW/wrong.conf" check adm.test 2>&1)
out=$(sys "$MTASTS" check adm.test 2>&1)
out=$(sys "$MTASTS" cache stats 2>&1; sys "$MTASTS" cache list 2>&1; sys "$MTASTS" cache show good.test 2>&1)
check "check, cache stats/list/show: the cache is as it was" "$before" "$(snap)"
out=$(exim "$BIN/dlopen_host" -c /etc/mtasts/mtasts.conf "$BIN/mtasts.so" adm.test mx1.example.test)
check_match "after all that, the MTA enforces adm.test" "verdict=require-tls mode=enforce .*source=fetch" "$out"

# a cached policy whose id changed: the administrator's failed re-fetch
# (wrong CA) leaves no back-off, no failure count, no lease behind
set_policy adm.test "$(printf 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmx: mx2.example.test\nmax_age: 86400\n')"
set_txt_id adm.test 2
before=$(snap)
out=$(sys "$MTASTS" -c "$TW/wrong.conf" query --recheck adm.test mx2.example.test 2>&1)
check "query --recheck with the wrong CA: the cache is as it was" "$before" "$(snap)"
out=$(exim "$BIN/dlopen_host" -c /etc/mtasts/mtasts.conf "$BIN/mtasts.so" adm.test mx1.example.test)
check_match "the MTA still enforces the cached policy" "verdict=require-tls mode=enforce policy_id=1 .*source=cache" "$out"

check "the host's /etc/mtasts is as it was" "$HOST_ETC" "$(host_etc)"
summary
