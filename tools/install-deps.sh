#!/bin/sh
# Install the Debian 12 packages mtasts needs.  Idempotent; needs root.
#
#   tools/install-deps.sh                everything: build, run, test (CI)
#   tools/install-deps.sh runtime        what a mail host running mtasts needs
#   tools/install-deps.sh build          what building it (and its .deb) needs
#   tools/install-deps.sh test           the test world and the checkers
#   tools/install-deps.sh --print LIST   print a list, install nothing
#
# A production mail host needs the runtime list only (the .deb depends on
# it); the test list (nginx, unbound, swaks, clang, valgrind, lintian...)
# is for development machines and CI, never for a mail host.
set -eu

# Exim with ${dlfunc} (heavy), the CA store for policy hosts, the DNSSEC
# root trust anchor (resolver = recursive), the shared libraries of the
# module and the command.
RUNTIME="exim4-daemon-heavy ca-certificates dns-root-data libgnutls30
  libunbound8 libcurl3-gnutls libidn2-0 zlib1g"
# The compiler, meson, the -dev packages (libevent-dev: libunbound's
# pkg-config file requires it), CUnit and the DNSSEC root trust anchor for
# the unit suites, Exim's header for the dlfunc codes, debhelper for
# dpkg-buildpackage.
BUILD="build-essential meson ninja-build pkg-config
  libgnutls28-dev libunbound-dev libevent-dev libcurl4-gnutls-dev libidn2-dev
  zlib1g-dev libcunit1-dev dns-root-data exim4-dev debhelper"
# The test world (unbound, nginx, Exim, swaks, tinyproxy, the PKI tools),
# the sanitizer and fuzzer toolchain, valgrind, the package checks, openssl
# (the Exim suites' DKIM key).
TEST="clang libclang-rt-14-dev llvm valgrind clang-format
  exim4-daemon-heavy swaks unbound nginx gnutls-bin curl dnsutils ldnsutils
  tinyproxy-bin dns-root-data ca-certificates iproute2 procps python3
  util-linux lintian systemd man-db openssl"

print=0
if [ "${1:-}" = "--print" ]; then
	print=1
	shift
fi
case "${1:-all}" in
runtime) PKGS=$RUNTIME ;;
build) PKGS=$BUILD ;;
test) PKGS=$TEST ;;
all) PKGS="$RUNTIME $BUILD $TEST" ;;
*)
	echo "usage: tools/install-deps.sh [--print] [runtime|build|test|all]" >&2
	exit 2
	;;
esac
if [ "$print" -eq 1 ]; then
	# shellcheck disable=SC2086
	echo $PKGS
	exit 0
fi
missing=""
for p in $PKGS; do
	case " $missing " in *" $p "*) continue ;; esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
echo "dependencies installed"
