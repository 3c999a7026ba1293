# lib.sh - shell helpers for tests that run in the mtasts test world.
# Source it from bash:  . "$(dirname "$0")/lib.sh"
#
# World life cycle
#   world_up NAME        start a world of its own (TW=/tmp/mtasts-NAME-$$,
#                        NS=mt-NAME-$$ unless TW/NS are set) and stop it
#                        when the shell exits (EXIT trap)
#   world_down           stop it now (also what the trap does)
#   wx CMD...            run CMD inside the world's namespace
#   CA                   set by world_up: $TW/certs/ca.crt
# Counting (cumulative since world start; take deltas around a step)
#   count_txt_queries D  TXT queries for _mta-sts.D that reached unbound
#   count_queries NAME TYPE   queries for NAME/TYPE that reached unbound
#   count_fetches D      requests for https://mta-sts.D/.well-known/mta-sts.txt
#                        seen by any HTTPS server of the world, nginx's and
#                        the test servers' logging in $TW/log/https-*.log
#                        in nginx's format (nginx logs a
#                        request when it ends it: at once for a complete
#                        answer, up to ~1 s late for a transfer the client
#                        aborted on the rate-limited fslow.test server)
# Changing the world while it runs (takes effect at once, no restart)
#   set_policy D TEXT    publish TEXT as D's policy; a domain new to the
#                        world also gets its A + TXT records and a place in
#                        the good server's certificate (nginx reloads)
#   set_txt D RECORD...  replace _mta-sts.D's TXT RRset (one arg per record)
#   set_txt_id D ID      _mta-sts.D becomes "v=STSv1; id=ID;"
#   del_name NAME        remove every record of NAME (then NXDOMAIN)
#   set_a NAME IP        NAME gets exactly one A record, IP
#   break_policy_host D  mta-sts.D points at 127.0.0.36 (connection refused)
#   fix_policy_host D    mta-sts.D points at the good server again
# A proxy, and a sender that can reach nothing else
#   proxy_up             tinyproxy in the world on 10.201.0.1:8888 (HTTP
#                        CONNECT to port 443 only) and a DNS forwarder to
#                        the world's unbound on 10.201.0.1:53; and a
#                        namespace $SNS, the sender, joined to the world by
#                        a veth pair only (its end 10.201.0.2, resolv.conf
#                        naming the forwarder): from there the policy
#                        servers are out of reach (127.0.0.x is its own
#                        loopback), the proxy is not.  world_down removes it
#   count_proxy_connects HOST:PORT   CONNECT requests tinyproxy logged
# Assertions (print one line each; summary prints "N passed, N failed")
#   check LABEL WANT GOT      pass when GOT == WANT
#   check_match LABEL REGEX GOT   pass when GOT matches the extended regex
#   summary              print the totals; returns 1 if anything failed

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORLD_SH=$LIB_DIR/world.sh
PASSED=0
FAILED=0

world_up() {
	local name=${1:-test}
	TW=${TW:-/tmp/mtasts-$name-$$}
	NS=${NS:-mt-$name-$$}
	export TW NS
	CA=$TW/certs/ca.crt
	trap world_down EXIT
	"$WORLD_SH" start
}

world_down() {
	"$WORLD_SH" stop >/dev/null 2>&1 || true
	if [ -n "${SNS:-}" ]; then
		ip netns del "$SNS" 2>/dev/null || true
		rm -rf "/etc/netns/$SNS"
	fi
	[ -n "${KEEP_WORLD:-}" ] || rm -rf "$TW"
}

wx() { ip netns exec "$NS" "$@"; }

uctl() { unbound-control -c "$TW/unbound.conf" "$@" >/dev/null; }

count_queries() {	# NAME TYPE
	local n=${1%.}
	grep -ciE " info: [0-9.]+ ${n//./\\.}\. $2 IN\$" "$TW/log/unbound.log" || true
}

count_txt_queries() { count_queries "_mta-sts.$1" TXT; }

count_fetches() {	# D
	local d=${1//./\\.}
	cat "$TW"/log/nginx-*.log "$TW"/log/https-*.log 2>/dev/null |
		grep -ciE "^mta-sts\.$d [0-9.]+ \"GET /\.well-known/mta-sts\.txt " || true
}

count_proxy_connects() {	# HOST:PORT
	local t=${1//./\\.}
	grep -c "Request (file descriptor [0-9]*): CONNECT $t HTTP/" \
		"$TW/log/tinyproxy.log" 2>/dev/null || true
}

proxy_up() {
	local i
	SNS=$NS-out
	export SNS
	command -v tinyproxy >/dev/null || {
		echo "proxy_up: tinyproxy missing (tools/install-deps.sh)" >&2
		return 1
	}
	ip netns add "$SNS" || return 1
	ip -n "$SNS" link set lo up &&
	ip -n "$NS" link add pw type veth peer name ps netns "$SNS" &&
	ip -n "$NS" addr add 10.201.0.1/30 dev pw &&
	ip -n "$NS" link set pw up &&
	ip -n "$SNS" addr add 10.201.0.2/30 dev ps &&
	ip -n "$SNS" link set ps up || return 1
	mkdir -p "/etc/netns/$SNS"
	echo "nameserver 10.201.0.1" > "/etc/netns/$SNS/resolv.conf"
	printf '127.0.0.1 localhost\n' > "/etc/netns/$SNS/hosts"
	cat > "$TW/tinyproxy.conf" <<EOF
Port 8888
Listen 10.201.0.1
Timeout 30
Allow 10.201.0.0/30
ConnectPort 443
MaxClients 32
LogFile "$TW/log/tinyproxy.log"
LogLevel Connect
EOF
	wx tinyproxy -d -c "$TW/tinyproxy.conf" >/dev/null 2>&1 &
	echo $! > "$TW/run/tinyproxy.pid"
	# the sender's resolver: forwards to the world's unbound and caches
	# nothing (tests change the world's data while they run)
	cat > "$TW/unbound-fwd.conf" <<EOF
server:
	interface: 10.201.0.1
	port: 53
	do-ip6: no
	do-daemonize: yes
	username: ""
	chroot: ""
	directory: "$TW/unbound"
	pidfile: "$TW/run/unbound-fwd.pid"
	logfile: "$TW/log/unbound-fwd.log"
	use-syslog: no
	access-control: 10.201.0.0/30 allow
	do-not-query-localhost: no
	module-config: "iterator"
	cache-max-ttl: 0
	cache-max-negative-ttl: 0
	local-zone: "test." nodefault
forward-zone:
	name: "."
	forward-addr: 127.0.0.1
EOF
	wx unbound -c "$TW/unbound-fwd.conf" || return 1
	for i in $(seq 1 250); do
		wx bash -c "exec 3<>/dev/tcp/10.201.0.1/8888" 2>/dev/null &&
			wx bash -c "exec 3<>/dev/tcp/10.201.0.1/53" 2>/dev/null &&
			return 0
		sleep 0.02
	done
	echo "proxy_up: tinyproxy or the forwarder did not start" >&2
	return 1
}

set_a() {	# NAME IP
	uctl local_data_remove "$1."
	uctl local_data "$1. 300 IN A $2"
}

del_name() { uctl local_data_remove "${1%.}."; }

set_txt() {	# D RECORD...
	local d=$1 r
	shift
	uctl local_data_remove "_mta-sts.$d."
	for r in "$@"; do
		uctl local_data "_mta-sts.$d. 300 IN TXT \"$r\""
	done
}

set_txt_id() { set_txt "$1" "v=STSv1; id=$2;"; }

break_policy_host() { set_a "mta-sts.$1" 127.0.0.36; }
fix_policy_host() { set_a "mta-sts.$1" 127.0.0.10; }

# Add D to the good server's certificate and reload nginx; wait until the
# new certificate is served (at most 5 s).
add_policy_domain() {
	local d=$1 names="" x i old p
	echo "$d" >> "$TW/policy-domains"
	while read -r x; do names="$names mta-sts.$x"; done < "$TW/policy-domains"
	# shellcheck disable=SC2086
	"$LIB_DIR/mkcerts.sh" leaf "$TW/certs" policy ca $names
	# the old workers keep accepting until they are told to quit: wait
	# until they are gone, so no later request meets the old certificate
	old=$(ps -o pid= --ppid "$(cat "$TW/run/nginx.pid")")
	wx nginx -c "$TW/nginx.conf" -e "$TW/log/nginx-error.log" -s reload
	for p in $old; do
		for i in $(seq 1 250); do
			[ -e "/proc/$p" ] || break
			sleep 0.02
		done
	done
	set_a "mta-sts.$d" 127.0.0.10
	set_txt_id "$d" 1
	for i in $(seq 1 250); do
		wx curl -sf -o /dev/null --cacert "$TW/certs/ca.crt" \
			"https://mta-sts.$d/.well-known/mta-sts.txt" 2>/dev/null && return 0
		sleep 0.02
	done
	echo "add_policy_domain: $d not served" >&2
	return 1
}

set_policy() {	# D TEXT
	local d=$1 dir=$TW/www/mta-sts.$1/.well-known
	mkdir -p "$dir"
	printf '%s' "$2" > "$dir/.mta-sts.txt.new"
	chmod 644 "$dir/.mta-sts.txt.new"
	chmod -R a+rX "$TW/www/mta-sts.$d"
	mv -f "$dir/.mta-sts.txt.new" "$dir/mta-sts.txt"
	grep -qx "$d" "$TW/policy-domains" || add_policy_domain "$d"
}

check() {	# LABEL WANT GOT
	if [ "$2" = "$3" ]; then
		PASSED=$((PASSED + 1))
		echo "ok   $1"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL $1: want '$2', got '$3'"
	fi
}

check_match() {	# LABEL REGEX GOT
	if [[ $3 =~ $2 ]]; then
		PASSED=$((PASSED + 1))
		echo "ok   $1"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL $1: want /$2/, got '$3'"
	fi
}

summary() {
	echo "$PASSED passed, $FAILED failed"
	[ "$FAILED" -eq 0 ]
}
