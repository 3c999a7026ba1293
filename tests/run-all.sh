#!/bin/bash
# The whole test suite, from a fresh Debian 12 machine, as root:
#   1. install the packages (tools/install-deps.sh)
#   2. gcc build with -Werror, every suite (unit, fuzz corpora, integration)
#   3. clang ASan+UBSan build, unit + fuzz-corpus suites
#   4. valgrind over the unit suite
#   5. style checks: banned functions, and the product code (common/,
#      plugin/, tools/) formatted as .clang-format says
#   6. the host's live state (/etc/mtasts, /var/lib/mtasts) is what it was
#      before the run: every test uses directories of its own, and the
#      Debian package suite restores what it installs and purges
# Ends with the line "N passed, N failed".
# Run it on a test machine: on a host whose MTA uses mtasts, the MTA's own
# writes to /var/lib/mtasts during the run would count as a change.
set -uo pipefail
cd "$(dirname "$0")/.."
TOP=$(pwd)
pass=0
fail=0

tools/install-deps.sh || { echo "0 passed, 1 failed"; exit 1; }

# The host's live state, before anything runs: paths, owners, modes, types
# and file contents (no times).
LIVE_STATE="/etc/mtasts /var/lib/mtasts"
live_state() {
	local d
	for d in $LIVE_STATE; do
		if [ -e "$d" ] || [ -L "$d" ]; then
			find "$d" -printf '%p %y %u %g %m\n'
			find "$d" -type f -exec sha256sum {} +
		else
			echo "$d absent"
		fi
	done | sort
}
live_before=$(live_state)

count() {	# count <builddir> <label>: add meson's results to the totals
	local log="$1/meson-logs/testlog.json" p f
	if [ ! -s "$log" ]; then
		echo "== $2: no test log"; fail=$((fail + 1)); return
	fi
	p=$(python3 -c 'import json,sys
n=0
for l in open(sys.argv[1]):
    if json.loads(l)["result"] in ("OK","EXPECTEDFAIL"): n+=1
print(n)' "$log")
	f=$(python3 -c 'import json,sys
n=0
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r["result"] not in ("OK","EXPECTEDFAIL"):
        n+=1; print("   FAILED:", r["name"], r["result"], file=sys.stderr)
print(n)' "$log")
	echo "== $2: $p passed, $f failed"
	pass=$((pass + p)); fail=$((fail + f))
}

step() {	# step <label> <command...>: one pass/fail for a whole command
	local label=$1; shift
	if "$@"; then pass=$((pass + 1)); echo "== $label: ok"
	else fail=$((fail + 1)); echo "== $label: FAILED"; fi
}

# 1. gcc, werror, all suites.
rm -rf build-ci
if meson setup build-ci -Dwerror=true --buildtype=debugoptimized >/dev/null &&
   ninja -C build-ci >build-ci.log 2>&1; then
	meson test -C build-ci --print-errorlogs --num-processes 2 >/dev/null 2>&1
	count build-ci "gcc build, all suites"
else
	tail -40 build-ci.log; fail=$((fail + 1)); echo "== gcc build FAILED"
fi

# 2. clang, ASan + UBSan, hermetic suites.
rm -rf build-asan
if CC=clang meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined \
	-Db_lundef=false -Dintegration=false -Dfuzz=true --buildtype=debug >/dev/null &&
   ninja -C build-asan >build-asan.log 2>&1; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C build-asan --print-errorlogs --num-processes 2 >/dev/null 2>&1
	count build-asan "clang ASan+UBSan"
else
	tail -40 build-asan.log; fail=$((fail + 1)); echo "== asan build FAILED"
fi

# 3. valgrind over the unit suite of the gcc build.
if [ -d build-ci ]; then
	rm -f build-ci/meson-logs/testlog-valgrind*.json
	meson test -C build-ci --suite unit --no-rebuild --num-processes 2 \
		--logbase testlog-valgrind \
		--wrap='env MTASTS_TEST_VALGRIND=1 valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --quiet' \
		>/dev/null 2>&1
	mkdir -p build-vg/meson-logs
	# meson names the log after the wrapper too: testlog-valgrind-env.json
	cat build-ci/meson-logs/testlog-valgrind*.json >build-vg/meson-logs/testlog.json 2>/dev/null
	count build-vg "valgrind, unit suite"
fi

# 4. style: banned functions in product code.
banned() {
	! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|strtok|atoi|atol|gets|alloca)\s*\(' \
		common/*.c common/*.h plugin/*.c plugin/*.h tools/*.c 2>/dev/null
}
step "no banned functions" banned
formatted() {	# clang-format prints every line it would change
	git ls-files 'common/*.[ch]' 'plugin/*.[ch]' 'tools/*.[ch]' |
		xargs clang-format --dry-run --Werror
}
step "product code formatted (.clang-format)" formatted

# 5. the host's live state is as it was.
live_unchanged() {
	local now
	now=$(live_state)
	[ "$now" = "$live_before" ] && return 0
	echo "   changed during the run ($LIVE_STATE):"
	diff <(echo "$live_before") <(echo "$now") | sed 's/^/   /'
	return 1
}
step "host state unchanged ($LIVE_STATE)" live_unchanged

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
