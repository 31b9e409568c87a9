#!/bin/bash
# deps.sh - install what dmf-worker needs to build, test and run its demo
# on Debian 12 (as root).  Quiet unless something fails.
set -euo pipefail
packages=(
	build-essential autoconf automake libtool pkg-config git
	libyaml-dev libjansson-dev libmariadb-dev libssl-dev libmicrohttpd-dev
	libcurl4-openssl-dev libpcre2-dev libsystemd-dev
	mariadb-server mariadb-client dovecot-core dovecot-imapd
	openjdk-17-jdk-headless prometheus curl python3 procps psmisc
	galera-4 rsync iproute2 lsof clang-format clang libclang-rt-14-dev jq valgrind
)
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" > /tmp/dmf-apt.log 2>&1 ||
		{ tail -30 /tmp/dmf-apt.log; exit 1; }
fi
# The Debian packages start no services here (no systemd); the tests and the
# demo start their own servers on loopback.
