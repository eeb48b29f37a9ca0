#!/bin/sh
# deps.sh check|install - make sure the build and test dependencies exist.
#
# check:   exit 0 when every library is found with pkg-config.
# install: on Debian/Ubuntu, install what is missing with apt-get;
#          elsewhere, name the packages and fail.
set -u
pcs="libpcap libndpi openssl sqlite3 zlib libunbound libcurl"
# libunbound.pc names libevent, which Debian's libunbound-dev does not pull.
debs="pkg-config libpcap-dev libndpi-dev libssl-dev libsqlite3-dev zlib1g-dev sqlite3
    libunbound-dev libevent-dev libcurl4-openssl-dev"
# Test tools: tshark rebuilds streams for the interop suite, scapy makes
# resegmented variants; unbound and nginx serve MTA-STS records and
# policies on loopback to the fetch suite.
# mandoc lints the man page, logrotate tries the rotation snippet.
# tcpreplay and iproute2 drive the live replay through a veth pair.
test_debs="tshark python3 python3-scapy unbound nginx-light mandoc logrotate
    tcpreplay iproute2 valgrind"

missing() {
	command -v pkg-config >/dev/null 2>&1 || { echo pkg-config; return; }
	for p in $pcs; do
		pkg-config --exists "$p" || echo "$p"
	done
	# The sqlite3 shell shows results in `make run` and the tests.
	command -v sqlite3 >/dev/null 2>&1 || echo sqlite3
}

case "${1:-check}" in
check)
	m=$(missing)
	[ -z "$m" ] && exit 0
	echo "missing: $m"
	exit 1
	;;
install|install-test)
	all="$debs"
	[ "$1" = install-test ] && all="$debs $test_debs"
	if [ -z "$(missing)" ] && [ "$1" = install ]; then
		exit 0
	fi
	if command -v apt-get >/dev/null 2>&1; then
		sudo=
		[ "$(id -u)" -ne 0 ] && sudo=sudo
		echo "deps.sh: apt-get install $all" >&2
		export DEBIAN_FRONTEND=noninteractive
		$sudo apt-get update -qq >&2 &&
		$sudo apt-get install -y -qq $all >&2 || {
			echo "deps.sh: apt-get failed; install: $all" >&2
			exit 1
		}
		exit 0
	fi
	echo "deps.sh: not a Debian system; install the development files of:" \
	    "libpcap, nDPI 4.2, OpenSSL 3, SQLite 3, zlib, libunbound, libcurl" \
	    "(and pkg-config)" >&2
	exit 1
	;;
*)
	echo "usage: deps.sh check|install|install-test" >&2
	exit 2
	;;
esac
