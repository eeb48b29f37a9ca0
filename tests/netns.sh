# netns.sh - sourced by tests/replay.sh and tests/sigkill.sh: a private
# network namespace with a veth pair, the sensor on the end inside the
# namespace, tcpreplay on the end left on the host. Nothing else is on the
# link: IPv6 is switched off on both ends before they come up (no router
# solicitations, MLD reports or DAD probes in the capture), the namespace
# end has no address (the namespace's stack drops every replayed packet
# and never answers one), and the host end has no address either.
#
#   ns_need                 prints why the suite cannot run, or nothing
#   ns_setup TAG            creates sw-TAG-$$ with HOST_IF (host side) and
#                           NS_IF (inside); sets NS, HOST_IF, NS_IF
#   ns_sensor_start DB OUT ARGS...
#                           starts ./stripwatch -i NS_IF inside the namespace
#                           (stderr to OUT), sets SENSOR_PID, and waits until
#                           the capture is open (its runs row exists)
#   ns_run_packets DB       the sensor's packets counter (runs row), or 0
#   ns_sensor_wait_packets DB N SECONDS
#                           waits until the runs row counts N packets
#   ns_kill_all             kills every process this file started, by PID
#   ns_teardown             ns_kill_all, then the veth and the namespace go
#
# The caller sets `top` (the checkout) and calls ns_teardown from its
# EXIT trap.

NS='' HOST_IF='' NS_IF='' SENSOR_PID=''
NS_PIDS=

ns_need() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "needs root (network namespace, raw capture)"
		return
	fi
	for t in ip tcpreplay tcprewrite sqlite3; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "$t missing (apt-get install iproute2 tcpreplay sqlite3)"
			return
		fi
	done
	if [ ! -x /usr/bin/python3 ]; then
		echo "/usr/bin/python3 missing"
		return
	fi
}

ns_setup() {	# TAG
	NS="sw-$1-$$"
	# Interface names are at most 15 bytes; the PID keeps runs apart.
	HOST_IF="swh$$" NS_IF="swn$$"
	ip netns add "$NS" || return 1
	ip link add "$HOST_IF" type veth peer name "$NS_IF" || return 1
	ip link set "$NS_IF" netns "$NS" || return 1
	if [ -d /proc/sys/net/ipv6 ]; then
		sysctl -qw "net.ipv6.conf.$HOST_IF.disable_ipv6=1" || return 1
		ip netns exec "$NS" sysctl -qw \
		    "net.ipv6.conf.$NS_IF.disable_ipv6=1" || return 1
	fi
	ip link set "$HOST_IF" up || return 1
	ip netns exec "$NS" ip link set "$NS_IF" up || return 1
	ip netns exec "$NS" ip link set lo up || return 1
	# Carrier comes up asynchronously; tcpreplay refuses a down link.
	i=0
	while [ $i -lt 50 ]; do
		if ip link show "$HOST_IF" | grep -q 'state UP' &&
		    ip netns exec "$NS" ip link show "$NS_IF" | grep -q 'state UP'
		then
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "netns: $HOST_IF/$NS_IF did not come up" >&2
	return 1
}

ns_run_packets() {	# DB
	n=$(sqlite3 -cmd ".timeout 2000" "$1" \
	    "SELECT packets FROM runs ORDER BY id DESC LIMIT 1" 2>/dev/null)
	echo "${n:-0}"
}

ns_sensor_start() {	# DB STDERR-FILE ARGS...
	db=$1 errf=$2
	shift 2
	# A database may already hold runs (sigkill.sh restarts the sensor
	# on it): wait for one more.
	nruns=0
	[ -s "$db" ] && nruns=$(sqlite3 -cmd ".timeout 2000" "$db" \
	    "SELECT count(*) FROM runs" 2>/dev/null)
	ip netns exec "$NS" "$top/stripwatch" -i "$NS_IF" --allow-root \
	    -w "$db" "$@" 2>"$errf" &
	SENSOR_PID=$!
	NS_PIDS="$NS_PIDS $SENSOR_PID"
	# The runs row is written right after the capture opened.
	i=0
	while [ $i -lt 100 ]; do
		if ! kill -0 "$SENSOR_PID" 2>/dev/null; then
			echo "sensor exited at start: $(cat "$errf")" >&2
			return 1
		fi
		if [ -s "$db" ] && [ "$(sqlite3 -cmd ".timeout 2000" "$db" \
		    "SELECT count(*) FROM runs" 2>/dev/null)" -gt "${nruns:-0}" ] \
		    2>/dev/null; then
			sleep 0.2
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "sensor did not start: $(cat "$errf")" >&2
	return 1
}

ns_sensor_wait_packets() {	# DB N SECONDS
	end=$(($(date +%s) + $3))
	while [ "$(ns_run_packets "$1")" -lt "$2" ]; do
		[ "$(date +%s)" -ge $end ] && return 1
		sleep 0.2
	done
	return 0
}

ns_kill_all() {
	for p in $NS_PIDS; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	NS_PIDS=
}

ns_teardown() {
	ns_kill_all
	[ -n "$HOST_IF" ] && ip link del "$HOST_IF" 2>/dev/null
	[ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
	HOST_IF='' NS=''
}
