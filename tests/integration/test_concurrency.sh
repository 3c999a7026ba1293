#!/bin/bash
# test_concurrency.sh CONC MODULE - the one promise under load: a domain
# with a cached enforce policy is never answered "none", whatever the
# writers beside the readers do and wherever they are killed, while an
# attacker answers NXDOMAIN for its TXT record (RFC 8461 §10.2).
#
# Twelve enforced domains in the test world, half with a policy that fits
# its cache slot and half with 60 mx lines (a chunk chain).  Their TXT
# records are then removed.  Readers (dlopen hosts through the public API)
# and writers (re-checks, forced refetches, refresh runs, leases, back-offs;
# one SIGKILLed every 100-300 ms) run for 20 s over the same cache.
set -uo pipefail
CONC=${1:?usage: test_concurrency.sh CONC MODULE}
MODULE=$(readlink -f "${2:?}")
[ "$(id -u)" -eq 0 ] || { echo "SKIP test_concurrency.sh: needs root (network namespaces; CI runs it as root)"; exit 77; }
. "$(dirname "$0")/lib.sh"
world_up conc >/dev/null || { echo "world did not start"; exit 1; }

CONF=$TW/mtasts.conf
cat > "$CONF" <<CONF
cache_path = $TW/cache
cache_size = 2M
ca_file = $TW/certs/ca.crt
txt_check_interval = 1h
fetch_timeout = 3
dns_timeout = 2
lease_time = 5
report_dir = $TW/reports
log_level = err
CONF

DOMS=""
for i in $(seq 0 11); do
	d=conc$i.test
	if [ $((i % 2)) -eq 0 ]; then
		p=$(printf 'version: STSv1\nmode: enforce\nmx: mx1.%s\nmax_age: 86400\n' "$d")
	else
		p=$(printf 'version: STSv1\nmode: enforce\nmx: mx1.%s\n' "$d"
		    for k in $(seq 1 60); do printf 'mx: backup%02d.mail.%s\n' "$k" "$d"; done
		    printf 'max_age: 86400\n')
	fi
	set_policy "$d" "$p" || { echo "set_policy $d failed"; exit 1; }
	DOMS="$DOMS $d"
done

# shellcheck disable=SC2086
wx "$CONC" seed "$CONF" $DOMS
check "every domain cached as enforce" 0 "$?"
# The attacker's DNS: the TXT records are gone.
for d in $DOMS; do del_name "_mta-sts.$d"; done
check "TXT records removed" "" "$(wx dig +short TXT _mta-sts.conc1.test @127.0.0.1 2>/dev/null)"

# shellcheck disable=SC2086
out=$(wx "$CONC" run "$MODULE" "$CONF" 20 4 3 $DOMS 2>&1); rc=$?
echo "$out"
check "no downgrade, no error under load and kills" 0 "$rc"
check_match "readers read" 'reads=[1-9][0-9]* ' "$out"
check_match "writers were killed" 'writers_killed=[1-9]' "$out"
check_match "no downgrade" ' downgrades=0 ' "$out"

# Afterwards every domain is still enforced, from the cache (the TXT is
# still gone: "none" would come from a lost entry).
# shellcheck disable=SC2086
wx "$CONC" seed "$CONF" $DOMS >/dev/null 2>&1
check "every domain still enforce after the run" 0 "$?"
summary
