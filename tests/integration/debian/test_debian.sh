#!/bin/bash
# test_debian.sh SRC TLSRPT_RECORD - the Debian package on this machine:
# built once from SRC with dpkg-buildpackage (or taken from
# $MTASTS_DEB_DIR), checked by lintian, then installed, upgraded,
# reinstalled, removed and purged here, with on the way:
#   - file placement (module, command, man pages, header, pkg-config file,
#     configuration, conf.d fragments, units, cron.d) and the state
#     directory owned by the Exim user;
#   - conffiles: an unchanged one follows the package, a changed one is
#     never overwritten (same version twice, older then newer, a downgrade);
#   - enforcement is not switched on by installing: Exim's effective
#     configuration (update-exim4.conf, split configuration) is unchanged
#     until MTASTS_ENABLE is defined;
#   - the units pass systemd-analyze verify; the report and refresh
#     services' commands, run as the units' user under their
#     NoNewPrivileges and empty capability set (setpriv), send a TLS-RPT
#     report over HTTPS to a collector of the test world and by mail
#     through Exim's sendmail (into a private spool), and renew a policy;
#   - purge leaves no file behind (file lists before and after).
# The host's /etc/exim4, /etc/mtasts and /var/lib/mtasts are saved first
# and restored on exit, whatever happens.  Needs root, and a machine where
# the mtasts package is not installed.
set -uo pipefail
SRC=$(cd "${1:?usage: test_debian.sh SRC TLSRPT_RECORD}" && pwd)
RECORD=$(readlink -f "${2:?usage: test_debian.sh SRC TLSRPT_RECORD}")
HERE=$(cd "$(dirname "$0")" && pwd)
LIB_DIR=$(cd "$HERE/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "SKIP test_debian.sh: needs root (dpkg; CI runs it as root)"; exit 77; }
for c in dpkg-buildpackage lintian systemd-analyze setpriv update-exim4.conf exim4; do
	command -v $c >/dev/null ||
		{ echo "test_debian.sh: missing $c (tools/install-deps.sh)" >&2; exit 1; }
done
if dpkg-query -W -f='${Status}' mtasts 2>/dev/null | grep -q 'ok installed'; then
	echo "SKIP test_debian.sh: the mtasts package is installed on this" \
		"machine and this suite would replace it (CI machines are fresh)"
	exit 77
fi
. "$LIB_DIR/lib.sh"

W=$(mktemp -d /tmp/mtasts-deb-XXXXXX)
chmod 755 "$W"
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
STATE_DIRS="/etc/exim4 /etc/mtasts /var/lib/mtasts"
TIMERS_WANTS=/etc/systemd/system/timers.target.wants

# --- the host's state, saved and restored -----------------------------------
save_state() {
	local d
	for d in $STATE_DIRS; do
		[ -e "$d" ] && tar -C / -cpf "$W/saved${d//\//_}.tar" "${d#/}"
	done
	return 0
}
restore_state() {
	local d t
	for p in mtasts-dev mtasts; do
		dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q 'installed' &&
			dpkg -P $p >/dev/null 2>&1
	done
	for d in $STATE_DIRS; do
		t=$W/saved${d//\//_}.tar
		rm -rf "$d"
		[ -e "$t" ] && tar -C / -xpf "$t"
	done
	return 0
}
# man-db re-indexes after every dpkg run (5 s each): paused meanwhile,
# as its flag file says
MANDB_FLAG=/var/lib/man-db/auto-update
mandb_pause() { [ -e "$MANDB_FLAG" ] && mv "$MANDB_FLAG" "$W/man-db-auto-update"; return 0; }
mandb_resume() { [ -e "$W/man-db-auto-update" ] && mv "$W/man-db-auto-update" "$MANDB_FLAG"; return 0; }
finish() {
	restore_state
	mandb_resume
	world_down
	[ -n "${KEEP_WORLD:-}" ] || rm -rf "$W"
}
save_state
trap finish EXIT

# Every path a package could leave behind, but the package manager's own
# databases, caches and the test worlds' network namespaces (/etc/netns)
LIST_ROOTS="/etc /usr /lib /var/lib /var/cache /var/spool /var/log/exim4 /opt"
listing() {
	find $LIST_ROOTS -xdev \( -path /var/lib/dpkg -o -path /var/lib/apt \
		-o -path /var/cache/apt -o -path /var/cache/man -o -path /var/cache/debconf \
		-o -path /etc/netns -o -name __pycache__ \) -prune -o -printf '%p\n' 2>/dev/null | sort
}
sums() {	# checksums and owners of the files under the given paths
	find "$@" -xdev -type f -printf '%p %u %m ' -exec sha256sum {} \; 2>/dev/null |
		awk '{print $1, $2, $3, $4}' | sort
}
step() { echo "== [${SECONDS}s] $*"; }
step "file list before"
listing > "$W/list-before"
EXIM_GEN_BEFORE=$(sums /var/lib/exim4)

# --- build once ---------------------------------------------------------------
if [ -n "${MTASTS_DEB_DIR:-}" ]; then
	D=$(cd "$MTASTS_DEB_DIR" && pwd)
	echo "== using the packages in $D"
else
	D=$W/deb
	mkdir -p "$D/src"
	step "building the package (dpkg-buildpackage -us -uc -b)"
	tar -C "$SRC" --exclude=./.git --exclude='./build' --exclude='./build-*' \
		--exclude=./debian/mtasts --exclude=./debian/mtasts-dev \
		--exclude=./debian/tmp --exclude=./obj-\* -cf - . | tar -C "$D/src" -xf -
	(cd "$D/src" && dpkg-buildpackage -us -uc -b) > "$W/build.log" 2>&1
	check "dpkg-buildpackage -us -uc -b: exit 0" 0 "$?"
	[ -s "$W/build.log" ] && tail -5 "$W/build.log" | sed 's/^/   | /'
	check_match "the package build ran the unit suites, none failed" \
		"Ok: +[1-9][0-9]* .*Fail: +0 " "$(tr -s '\n' ' ' < "$W/build.log")"
	check "the package build registered no integration suite" 0 \
		"$(grep -c ':integration / ' "$W/build.log")"
fi
DEB=$(ls "$D"/mtasts_*_*.deb 2>/dev/null | head -1)
DEVDEB=$(ls "$D"/mtasts-dev_*_*.deb 2>/dev/null | head -1)
[ -n "$DEB" ] && [ -n "$DEVDEB" ] ||
	{ check "the .deb files exist" yes no; summary; exit 1; }
VERSION=$(dpkg-deb -f "$DEB" Version)

# --- the dependency lists agree ---------------------------------------------
bdeps=$(sed -n '/^Build-Depends:/,/^[A-Za-z-]*: /p' "$SRC/debian/control" |
	sed '$d; s/^Build-Depends://' | tr ',' '\n' |
	sed 's/[[(<].*//; s/|.*//; s/ //g' | sed '/^$/d; /^debhelper-compat$/d; /^pkgconf$/d' | sort)
build_list=$("$SRC/tools/install-deps.sh" --print build | tr ' ' '\n' | sort)
check "debian/control's Build-Depends are in install-deps.sh's build list" "" \
	"$(comm -23 <(echo "$bdeps") <(echo "$build_list") | tr '\n' ' ')"
apt_line() {	# the packages of INSTALL.md's Nth "sudo apt-get install"
	awk '/^sudo apt-get install/ {n++; on=(n=='"$1"')} on {print; if (!/\\$/) on=0}' \
		"$SRC/exim-config/INSTALL.md" | tr -d '\\' | tr -s ' \n' '\n' |
		grep -v -e '^sudo$' -e '^apt-get$' -e '^install$' -e '^$' | sort
}
check "INSTALL.md, the package: its build list is install-deps.sh's" "" \
	"$(diff <(apt_line 1) <(echo "$build_list"))"
check "INSTALL.md, from source: its build list is install-deps.sh's but debhelper" "" \
	"$(diff <(apt_line 3) <(grep -vx debhelper <<<"$build_list"))"
check "INSTALL.md, from source: its runtime list is install-deps.sh's" "" \
	"$(diff <(apt_line 4) <("$SRC/tools/install-deps.sh" --print runtime | tr ' ' '\n' | sort))"

# --- lintian ---------------------------------------------------------------
CHANGES=$(ls "$D"/mtasts_*.changes 2>/dev/null | head -1)
step "lintian"
lint=$(lintian --fail-on error,warning ${CHANGES:-"$DEB" "$DEVDEB"} 2>&1); rc=$?
grep -v 'running with root privileges' <<<"$lint" | sed '/^$/d; s/^/   | /'
check "lintian: no error or warning that debian/ does not explain" 0 "$rc"

# --- an older build: the same package as version VERSION~old, whose
# configuration file differs by one comment line -------------------------------
OLD=$W/old
dpkg-deb -R "$DEB" "$OLD"
sed -i "s/^Version: .*/Version: $VERSION~old/" "$OLD/DEBIAN/control"
echo "# (as shipped by $VERSION~old)" >> "$OLD/etc/mtasts/mtasts.conf"
(cd "$OLD" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' |
	sort | xargs md5sum > DEBIAN/md5sums)
dpkg-deb -b --root-owner-group "$OLD" "$W/mtasts_old.deb" >/dev/null
check "older build: version $VERSION~old sorts before $VERSION" 0 \
	"$(dpkg --compare-versions "$VERSION~old" lt "$VERSION"; echo $?)"

inst() {	# dpkg -i, keeping a changed configuration file (as an
		# administrator answering "keep your version" would)
	DEBIAN_FRONTEND=noninteractive dpkg -i --force-confdef --force-confold "$@" \
		>> "$W/dpkg.log" 2>&1
}
version() { dpkg-query -W -f='${Version} ${db:Status-Abbrev}' mtasts 2>/dev/null | sed 's/ *$//'; }
CONF=/etc/mtasts/mtasts.conf
SHIPPED=$SRC/tools/mtasts.conf

# --- a split Debian configuration of Exim, for the "inert" check -----------
exim_effective() {	# [MACRO...]: the effective configuration generated
			# from a copy of /etc/exim4 (split, internet)
	local c=$W/exim4-conf m args=()
	rm -rf "$c" && cp -a /etc/exim4 "$c"
	sed -i "s/^dc_use_split_config=.*/dc_use_split_config='true'/;
		s/^dc_eximconfig_configtype=.*/dc_eximconfig_configtype='internet'/" \
		"$c/update-exim4.conf.conf"
	update-exim4.conf -d "$c" -o "$W/exim4.generated" || return 1
	for m in "$@"; do args+=("-D$m=1"); done
	exim4 -C "$W/exim4.generated" "${args[@]}" -bP config | grep -v '^# [0-9]'
}
exim_effective > "$W/exim-before" 2>&1
check "Exim's configuration generates before the package" 0 "$?"

# ============================ install, upgrade ==============================
step "install, upgrade"
mandb_pause
inst "$W/mtasts_old.deb"
check "install the older build" "$VERSION~old ii" "$(version)"
check "its configuration file is the one it ships" "" \
	"$(diff "$OLD/etc/mtasts/mtasts.conf" "$CONF" 2>&1)"
inst "$DEB" "$DEVDEB"
check "upgrade older -> newer" "$VERSION ii" "$(version)"
check "an unchanged configuration file follows the package" "" "$(diff "$SHIPPED" "$CONF" 2>&1)"
check "no .dpkg-* copies beside it" "" "$(ls /etc/mtasts | grep -v '^mtasts.conf$')"

# ============================ file placement ================================
check "command /usr/bin/mtasts" "yes" "$([ -x /usr/bin/mtasts ] && echo yes)"
check "mtasts --version" "mtasts $(sed -n "s/^ *version: '\(.*\)',/\1/p" "$SRC/meson.build")" \
	"$(/usr/bin/mtasts --version)"
MODULE=/usr/lib/$MA/mtasts/mtasts.so
check "module $MODULE" "yes" "$([ -f "$MODULE" ] && echo yes)"
check "the network half mtasts-net.so beside it" "yes" \
	"$([ -f "/usr/lib/$MA/mtasts/mtasts-net.so" ] && echo yes)"
check "every module is beside it, none elsewhere" "" \
	"$(dpkg -L mtasts | grep '\.so$' | grep -v "^/usr/lib/$MA/mtasts/[^/]*\.so$")"
check "man mtasts" "/usr/share/man/man1/mtasts.1.gz" "$(man -w mtasts 2>&1)"
check "man 5 mtasts.conf" "/usr/share/man/man5/mtasts.conf.5.gz" "$(man -w 5 mtasts.conf 2>&1)"
check "mtasts.h" "yes" "$([ -f /usr/include/mtasts.h ] && echo yes)"
check "pkg-config: the module's path" "$MODULE" "$(pkg-config --variable=module mtasts 2>&1)"
check "pkg-config: the header compiles" 0 \
	"$(printf '#include <mtasts.h>\nint main(void){return MTASTS_ABI_VERSION < 0;}\n' |
		cc $(pkg-config --cflags mtasts) -x c -o /dev/null - 2>&1; echo $?)"
conffiles=$(dpkg-query -W -f='${Conffiles}\n' mtasts | awk 'NF {print $1}' | sort)
for f in /etc/mtasts/mtasts.conf /etc/cron.d/mtasts; do
	check "conffile $f" "$f" "$(grep -x "$f" <<<"$conffiles")"
done
nfrag=0
for s in main acl router transport retry rewrite auth; do
	for f in "$SRC/exim-config/debian/conf.d/$s"/*; do
		[ -f "$f" ] || continue
		t=/etc/exim4/conf.d/$s/${f##*/}
		nfrag=$((nfrag + 1))
		check "conf.d fragment $t is a conffile" "$t" "$(grep -x "$t" <<<"$conffiles")"
	done
done
check_match "conf.d fragments shipped (exim-config/debian/conf.d)" "^[1-9]" "$nfrag"
so=$(sed -n 's/^MTASTS_SO *= *//p' /etc/exim4/conf.d/main/*mtasts* 2>/dev/null | head -1)
check "the fragments' default MTASTS_SO is the installed module" "$MODULE" "$so"
check "the unsplit recipe with the examples" yes \
	"$([ -f /usr/share/doc/mtasts/examples/unsplit.sed ] && echo yes)"
UNITS="mtasts-refresh.service mtasts-refresh.timer mtasts-report.service mtasts-report.timer mtasts-report-push.service mtasts-report-push.timer"
for u in $UNITS; do
	check "unit /lib/systemd/system/$u" yes "$([ -f "/lib/systemd/system/$u" ] && echo yes)"
done
check "state directory: Debian-exim, 0700" "Debian-exim Debian-exim 700" \
	"$(stat -c '%U %G %a' /var/lib/mtasts 2>&1)"
check "reports directory: Debian-exim, 0700" "Debian-exim Debian-exim 700" \
	"$(stat -c '%U %G %a' /var/lib/mtasts/reports 2>&1)"
check "the timers are enabled" "mtasts-refresh.timer mtasts-report-push.timer mtasts-report.timer" \
	"$(ls "$TIMERS_WANTS" 2>/dev/null | grep mtasts | tr '\n' ' ' | sed 's/ $//')"
check "docs: INSTALL.md" yes "$([ -f /usr/share/doc/mtasts/INSTALL.md ] && echo yes)"

# ======================= not enabled by installing =========================
step "Exim's configuration"
exim_effective > "$W/exim-after" 2>&1
check "Exim's effective configuration unchanged by the package" "" \
	"$(diff "$W/exim-before" "$W/exim-after")"
exim_effective MTASTS_ENABLE > "$W/exim-enabled" 2>&1
check "MTASTS_ENABLE switches it on (the configuration changes)" 1 \
	"$(diff -q "$W/exim-after" "$W/exim-enabled" >/dev/null; echo $?)"
check_match "... and names the installed module" "$MODULE" "$(cat "$W/exim-enabled")"
check "Exim's generated configuration (/var/lib/exim4) untouched" \
	"$EXIM_GEN_BEFORE" "$(sums /var/lib/exim4)"

# Debian's exim4-config with the installed fragments and module, in the
# Exim test world (the exim_debian suite, on what the package installed)
step "the exim_debian suite against the installed package"
out=$("$LIB_DIR/exim/debian.sh" "$MODULE" /etc/exim4/conf.d \
	/usr/share/doc/mtasts/examples/unsplit.sed 2>&1); rc=$?
grep -E '^FAIL|passed, ' <<<"$out" | sed 's/^/   | /'
check "exim_debian on the installed package: passes" 0 "$rc"

# =============================== units ======================================
step "units"
# shellcheck disable=SC2046
out=$(cd / && systemd-analyze verify $(for u in $UNITS; do echo "/lib/systemd/system/$u"; done) 2>&1); rc=$?
[ -n "$out" ] && echo "$out" | sed 's/^/   | /'
check "systemd-analyze verify: the six units" "0 " "$rc $out"
unit_key() {	# UNIT KEY: the value (the last one)
	sed -n "s/^$2=//p" "/lib/systemd/system/$1" | tail -1
}
for s in mtasts-refresh.service mtasts-report.service mtasts-report-push.service; do
	check "$s: the Exim user" "Debian-exim Debian-exim" "$(unit_key $s User) $(unit_key $s Group)"
	check "$s: hardened" "yes strict yes yes " \
		"$(unit_key $s NoNewPrivileges) $(unit_key $s ProtectSystem) $(unit_key $s PrivateTmp) $(unit_key $s ProtectHome) $(unit_key $s CapabilityBoundingSet)"
done
check "report service: may write the state and Exim's spool and logs only" \
	"/var/lib/mtasts /var/spool/exim4 /var/log/exim4" "$(unit_key mtasts-report.service ReadWritePaths)"
check "refresh service: may write the state only" "/var/lib/mtasts" \
	"$(unit_key mtasts-refresh.service ReadWritePaths)"
check "push service: may write the state only" "/var/lib/mtasts" \
	"$(unit_key mtasts-report-push.service ReadWritePaths)"

# ==================== conffiles: a changed file is kept ======================
step "a changed configuration file"
world_up deb >/dev/null || { check "the test world starts" yes no; summary; exit 1; }
trap finish EXIT	# world_up set its own
cat >> "$CONF" <<CONF
# --- the administrator's changes (test_debian.sh)
ca_file = $CA
report_org = Sender Org
report_contact = tlsrpt@sender.test
fetch_timeout = 3
dns_timeout = 2
CONF
cp "$CONF" "$W/admin.conf"
inst "$DEB" "$DEVDEB"
check "same version installed twice" "$VERSION ii" "$(version)"
check "... the changed configuration file kept" "" "$(diff "$W/admin.conf" "$CONF" 2>&1)"
inst "$W/mtasts_old.deb"
check "downgrade to the older build" "$VERSION~old ii" "$(version)"
check "... the changed configuration file kept" "" "$(diff "$W/admin.conf" "$CONF" 2>&1)"
inst "$DEB"
check "upgrade again older -> newer" "$VERSION ii" "$(version)"
check "... the changed configuration file kept" "" "$(diff "$W/admin.conf" "$CONF" 2>&1)"
check "... the package's version beside it as .dpkg-dist" "" \
	"$(diff "$SHIPPED" "$CONF.dpkg-dist" 2>&1)"
check "the state directory survived every step: Debian-exim, 0700" "Debian-exim 700" \
	"$(stat -c '%U %a' /var/lib/mtasts 2>&1)"

# ================= the services' commands, as the units run them ============
step "the services' commands"
# User=, Group=, NoNewPrivileges=yes and CapabilityBoundingSet= (empty),
# with setpriv; Exim's sendmail writes into a private spool and log
# (bind mounts in a private mount namespace) with a configuration that
# only queues, so the host's Exim state is never touched.
as_unit() {	# UNIT TIME: run its ExecStart in the world as the unit
		# does, with the module's clock at TIME
	local u=/lib/systemd/system/$1 user group cmd
	user=$(unit_key "$1" User); group=$(unit_key "$1" Group)
	cmd=$(unit_key "$1" ExecStart)
	wx unshare -m --propagation private sh -c '
		mount --bind "$0/spool" /var/spool/exim4 &&
		mount --bind "$0/eximlog" /var/log/exim4 &&
		mount --bind "$0/exim-queue.conf" /var/lib/exim4/config.autogenerated || exit 97
		exec setpriv --reuid="$1" --regid="$2" --init-groups \
			--no-new-privs --bounding-set=-all -- env MTASTS_FAKE_TIME="$3" $4' \
		"$W" "$user" "$group" "$2" "$cmd"
}
install -d -o Debian-exim -g Debian-exim -m 0750 "$W/spool" "$W/eximlog"
cat > "$W/exim-queue.conf" <<EOF
spool_directory = /var/spool/exim4
log_file_path = /var/log/exim4/%slog
primary_hostname = sender.test
queue_only = true
keep_environment =
begin routers
begin transports
EOF
chmod 644 "$W/exim-queue.conf"

T0=$(date +%s)
Y=$(( (T0 / 86400 - 1) * 86400 + 43200 ))	# yesterday, noon UTC
YDAY=$(date -u -d "@$Y" +%F)
uctl local_data '_smtp._tls.good.test. 300 IN TXT "v=TLSRPTv1; rua=https://rua.good.test/deb,mailto:tlsrpt@rua.good.test"'
"$LIB_DIR/mkcerts.sh" leaf "$TW/certs" collector ca rua.good.test >/dev/null
set_a rua.good.test 127.0.0.40
COL=$TW/collector
wx python3 "$LIB_DIR/tlsrpt_collector.py" "$COL" 127.0.0.40 443 \
	"$TW/certs/collector.crt" "$TW/certs/collector.key" >"$TW/log/collector.log" 2>&1 &
for _ in $(seq 1 250); do [ -e "$COL/ready" ] && break; sleep 0.02; done
cp "$COL/pid" "$TW/run/collector.pid" 2>/dev/null
check "the world's TLS-RPT collector is up" yes "$([ -e "$COL/ready" ] && echo yes)"

# the module (installed) records yesterday's results, as Exim's deliveries
# do, with the system configuration
chmod 755 "$RECORD" 2>/dev/null
MTASTS_FAKE_TIME=$Y wx runuser -u Debian-exim -- "$RECORD" "$MODULE" "$CONF" \
	good.test mx1.example.test 127.0.0.11 success 3 >/dev/null
MTASTS_FAKE_TIME=$Y wx runuser -u Debian-exim -- "$RECORD" "$MODULE" "$CONF" \
	good.test mx2.example.test 127.0.0.12 certificate-expired 1 >/dev/null
check "results recorded by the installed module, as Debian-exim" "Debian-exim" \
	"$(stat -c %U "/var/lib/mtasts/reports/results-$YDAY.tsv" 2>&1)"

# the push timer's command with the default store: nothing to push, exit 0
out=$(as_unit mtasts-report-push.service "$T0" 2>&1); rc=$?
check "push service's command, report_store local: exit 0" 0 "$rc"
check_match "... and says there is nothing to push" "nothing to push" "$out"
out=$(as_unit mtasts-report.service "$T0" 2>&1); rc=$?
echo "$out" | sed 's/^/   | /'
check "report service's command: exit 0" 0 "$rc"
check "... HTTPS: one report POSTed to the collector" 1 "$(find "$COL" -name '*.json' | wc -l)"
check "... HTTPS: a gzip TLS-RPT report for good.test from Sender Org" \
	"good.test Sender Org 3 1" \
	"$(python3 -c 'import gzip,json,sys
r=json.loads(gzip.decompress(open(sys.argv[1],"rb").read()))
p=r["policies"][0]
print(p["policy"]["policy-domain"], r["organization-name"],
      p["summary"]["total-successful-session-count"],
      p["summary"]["total-failure-session-count"])' "$COL/1.body" 2>&1)"
msg=$(cat "$W"/spool/input/*-H 2>/dev/null)
check "... mail: accepted by Exim's sendmail from Debian-exim" 1 \
	"$(grep -c ' <= [^ ]* U=Debian-exim P=local ' "$W/eximlog/mainlog" 2>/dev/null)"
check_match "... mail: to the rua, with the TLS-Report-Domain header" \
	"tlsrpt@rua.good.test.*TLS-Report-Domain: good.test" "$(tr '\n' ' ' <<<"$msg")"
check "... every file in /var/lib/mtasts belongs to Debian-exim" "" \
	"$(find /var/lib/mtasts ! -user Debian-exim -printf '%p %u:%g %m\n')"
out=$(as_unit mtasts-report.service "$T0" 2>&1)
check "report again: nothing sent twice" "1 1" \
	"$(find "$COL" -name '*.json' | wc -l) $(ls "$W"/spool/input/*-H 2>/dev/null | wc -l)"

# refresh: a policy the MTA cached (max_age one day) is renewed when
# less than half of it is left
MTASTS_FAKE_TIME=$T0 wx runuser -u Debian-exim -- /usr/bin/mtasts query --store \
	good.test mx1.example.test >/dev/null
fc=$(count_fetches good.test)
out=$(as_unit mtasts-refresh.service $((T0 + 13 * 3600)) 2>&1); rc=$?
check_match "refresh service's command: exit 0, one policy renewed" "^0 renewed 1, .*kept after a failure 0" "$rc $out"
check "... one fetch" $((fc + 1)) "$(count_fetches good.test)"
check "... every file in /var/lib/mtasts belongs to Debian-exim" "" \
	"$(find /var/lib/mtasts ! -user Debian-exim -printf '%p %u:%g %m\n')"

# ============================ remove, purge ==================================
step "remove, purge"
dpkg -L mtasts mtasts-dev 2>/dev/null | sort -u > "$W/files"
dpkg -r mtasts-dev mtasts >> "$W/dpkg.log" 2>&1
check "remove: removed, configuration kept" "rc" \
	"$(dpkg-query -W -f='${db:Status-Abbrev}' mtasts 2>/dev/null | tr -d ' ')"
check "remove: the command is gone" no "$([ -e /usr/bin/mtasts ] && echo yes || echo no)"
check "remove: the configuration and the state stay" "yes yes" \
	"$([ -f "$CONF" ] && echo yes) $([ -d /var/lib/mtasts/reports ] && echo yes)"
cronline=$(awk '$6 == "Debian-exim" {$1=$2=$3=$4=$5=$6=""; print; exit}' /etc/cron.d/mtasts)
out=$(sh -c "$cronline" 2>&1); rc=$?
check "remove: the cron.d fallback does nothing without the command" "0 " "$rc $out"
inst "$DEB" "$DEVDEB"
check "reinstall after remove" "$VERSION ii" "$(version)"
check "... the changed configuration file kept" "" "$(diff "$W/admin.conf" "$CONF" 2>&1)"
dpkg -P mtasts-dev mtasts >> "$W/dpkg.log" 2>&1
check "purge: gone" "" "$(dpkg-query -W -f='${db:Status-Abbrev}' mtasts 2>/dev/null | tr -d ' ')"
check "purge: /etc/mtasts and /var/lib/mtasts gone" "no no" \
	"$([ -e /etc/mtasts ] && echo yes || echo no) $([ -e /var/lib/mtasts ] && echo yes || echo no)"
left=""
while read -r f; do
	[ -e "$f" ] && [ ! -d "$f" ] && left="$left $f"
done < "$W/files"
check "purge: no file of the package left" "" "$left"
mandb_resume
listing > "$W/list-after"
new=$(comm -13 "$W/list-before" "$W/list-after")
stray=""
for f in $new; do
	dpkg -S "$f" >/dev/null 2>&1 || stray="$stray $f"
done
check "purge: no file anywhere that was not there before" "" "$stray"

summary
