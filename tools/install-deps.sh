#!/bin/sh
# Install every Debian 12 package mtasts needs to build, test and run its
# test world.  Idempotent; needs root.
set -eu
PKGS="build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
  llvm valgrind
  libgnutls28-dev libunbound-dev libevent-dev libcurl4-gnutls-dev libidn2-dev
  zlib1g-dev libcunit1-dev
  exim4-daemon-heavy exim4-dev swaks unbound nginx gnutls-bin curl dnsutils
  iproute2 procps python3 clang-format ldnsutils dns-root-data ca-certificates
  util-linux tinyproxy-bin openssl"
missing=""
for p in $PKGS; do
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
