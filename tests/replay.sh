#!/bin/bash
# replay.sh - live equals offline. The project's captures are sent with
# tcpreplay into a veth pair whose other end, in a private network
# namespace, is watched by `stripwatch -i`; the same files read offline in
# one run (`stripwatch -r A -r B ...`) are the reference. At each rate
# (tcpreplay --mbps 1 ... 1000, then --topspeed) the sensor must drop
# nothing (runs.drops, runs.ifdrops, tcpreplay's failed count all 0, and
# it counts every packet sent) and store the same alerts, flows and
# sessions as the offline run (tests/replay_tool.py compare says what is
# left out and why: ts, frames, idle-vs-end), exit 0 on SIGTERM with its
# run complete, and its JSON feed must hold exactly its alerts.
#
# Then a larger replay: the same set rewritten REPLAY_BIG_LOOPS times with
# tcprewrite --pnat (every copy on its own addresses, so copies are
# distinct flows), concatenated into one file, read offline and replayed
# at REPLAY_BIG_RATES: same bytes both ways, and two orders of magnitude
# more packets than the sensor's ring holds with --immediate (about 1,000
# frames: libpcap uses TPACKET_V2 then, one 64 KiB frame per packet on an
# interface with offloads) and more than the default 64 MiB ring without
# it at REPLAY_BIG_LOOPS=1600, so a clean rate is a sustained rate.
#
# The suite passes when every rate up to and including REPLAY_RATE_MIN is
# clean. Above it, drops are reported and not counted (the machine's
# limit), but equal input must still give equal output: a rate with zero
# drops whose alerts or flows differ fails wherever it is. The last lines
# name the highest clean rate.
#
# Environment: REPLAY_RATES (Mbit/s for the set as it is; default
# "1 10 20 30 50 75 100 1000 top"), REPLAY_BIG_RATES (for the large
# replay; "10 20 30 50 75 100 1000 top"), REPLAY_BIG_LOOPS (copies of the
# set in the large replay, rounded up to a square; default 160, 108,836
# packets; 0 skips it), REPLAY_RATE_MIN (default 30), REPLAY_KEEP=1 keeps
# the work directory.
#
# Measured on the project's 2-core machine on 2026-11-23 (the sender and
# the sensor share the two cores; the load average is printed first):
# without --immediate, a large replay of 1,030,400 packets (134 MiB of
# ~121-byte frames, twice the sensor's default 64 MiB ring) was clean at
# 100 and 200 Mbit/s (206,000 packets/s) and lost packets at tcpreplay's
# top speed (420 Mbit/s); with --immediate, 50 Mbit/s was the limit.
# `make replay` runs that large replay with REPLAY_RATE_MIN=100 (the
# sanitizer build, several times slower, keeps the defaults here).
# Needs root, ip (iproute2), tcpreplay/tcprewrite (tcpreplay), sqlite3;
# skipped otherwise.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
py=/usr/bin/python3
tool="$top/tests/replay_tool.py"
. "$top/tests/netns.sh"
passed=0 failed=0
RATES=${REPLAY_RATES:-1 10 20 30 50 75 100 1000 top}
BIG_RATES=${REPLAY_BIG_RATES:-10 20 30 50 75 100 1000 top}
BIG_LOOPS=${REPLAY_BIG_LOOPS:-160}
RATE_MIN=${REPLAY_RATE_MIN:-30}
# The sensor as a SPAN sensor runs: no --immediate, which only trades
# throughput for latency (libpcap falls back to one 64 KiB frame per
# packet with it, and the same replay then loses packets at half the
# rate).  REPLAY_WORKERS: the large replay once more at REPLAY_RATE_MIN
# with this many fanned-out workers, which must give the same result.
SENSOR_OPTS=${REPLAY_SENSOR_OPTS:-}
WORKERS=${REPLAY_WORKERS:-2}
CA=pcaps/tls-ca.pem
# Both runs get the same options; a case's own args file must be exactly
# this (or absent) for the case to be used.
COMMON="--no-fetch --no-checksum --ca-file $CA"

why=$(ns_need)
if [ -n "$why" ]; then
	echo "SKIP replay: $why"
	echo "replay: 0 passed, 0 failed"
	exit 0
fi
if [ ! -x ./stripwatch ]; then
	make -s >/dev/null || { echo "FAIL replay: build"; echo "replay: 0 passed, 1 failed"; exit 1; }
fi

tmp=$(mktemp -d /tmp/sw-replay.XXXXXX)
cleanup() {
	ns_teardown
	if [ "${REPLAY_KEEP:-0}" = 1 ]; then
		echo "replay: work directory kept: $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
t_start=$(date +%s)
echo "replay: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs before the run (rates are the sensor's and the sender's on the same machine)"

pass() { echo "PASS replay $1"; passed=$((passed + 1)); }
fail() { echo "FAIL replay $1"; failed=$((failed + 1)); }

# Rates in order, "top" last; is $1 at or below REPLAY_RATE_MIN?
rate_num() { if [ "$1" = top ]; then echo 999999999; else echo "$1"; fi; }
required() { [ "$(rate_num "$1")" -le "$(rate_num "$RATE_MIN")" ]; }

# ---- the captures ------------------------------------------------------
files=()
skipped=()
for d in pcaps/*/; do
	c=$(basename "$d")
	f="$d/input.pcap"
	f=${f//\/\//\/}
	[ -f "$f" ] || continue
	if [ -f "$d/args" ] && [ "$(cat "$d/args")" != "--ca-file $CA" ]; then
		skipped+=("$c (args: $(tr '\n' ' ' <"$d/args"))")
		continue
	fi
	lt=$("$py" "$tool" linktype "$f")
	if [ "$lt" != 1 ]; then
		skipped+=("$c (link type $lt, not Ethernet: a veth carries Ethernet only)")
		continue
	fi
	# Damaged files, and frames cut by the snaplen: the sender can only
	# send what was kept, which the live sensor then sees as a short,
	# malformed frame where the offline run sees a truncated one.
	if ! bad=$("$py" "$tool" check "$f"); then
		skipped+=("$c ($bad)")
		continue
	fi
	files+=("$f")
done
echo "replay: ${#files[@]} captures: $(for f in "${files[@]}"; do basename "$(dirname "$f")"; done | tr '\n' ' ')"
for s in "${skipped[@]}"; do echo "replay: skipped $s"; done
if [ ${#files[@]} -eq 0 ]; then
	fail "no capture to replay"
	echo "replay: $passed passed, $failed failed"
	exit 1
fi

ns_setup replay || { fail "namespace set-up"; echo "replay: $passed passed, $failed failed"; exit 1; }

# offline NAME FILE...: the reference, all files in one run.
offline() {
	name=$1
	shift
	args=()
	for f in "$@"; do args+=(-r "$f"); done
	./stripwatch -q "${args[@]}" $COMMON -w "$tmp/$name.ref.db" \
	    2>"$tmp/$name.ref.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "$name offline reference: exit $rc: $(cat "$tmp/$name.ref.err")"
		return 1
	fi
	return 0
}

declare -A clean	# clean[rate]=yes|no over every replay at that rate

# live NAME RATE REFNAME FILE...: one sensor, one tcpreplay of the files in
# order, a SIGTERM once every packet is counted; then the checks.
live() {
	name=$1 rate=$2 ref=$3
	shift 3
	db="$tmp/$name.db" json="$tmp/$name.json" err="$tmp/$name.err"
	want=$(sqlite3 "$tmp/$ref.ref.db" "SELECT packets FROM runs")
	# shellcheck disable=SC2086 # option lists
	if ! ns_sensor_start "$db" "$err" $COMMON $SENSOR_OPTS \
	    --stats-interval 1 --json "$json" 2>"$tmp/$name.start"; then
		fail "$name: sensor did not start: $(cat "$tmp/$name.start")"
		ns_kill_all
		clean[$rate]=no
		return
	fi
	if [ "$rate" = top ]; then speed=--topspeed; else speed="--mbps=$rate"; fi
	t0=$(date +%s.%N)
	tcpreplay -K -i "$HOST_IF" $speed "$@" >"$tmp/$name.tcpreplay" 2>&1
	trc=$?
	t1=$(date +%s.%N)
	sent=$(awk '/Successful packets:/ { print $3 }' "$tmp/$name.tcpreplay")
	tfail=$(awk '/Failed packets:/ { print $3 }' "$tmp/$name.tcpreplay")
	actual=$(awk '/Rated:/ { sub(/^[ \t]*Rated: */, ""); print }' "$tmp/$name.tcpreplay")
	# Every packet counted, or no progress for 3 s (drops: the count
	# never gets there), at most 90 s.
	last=-1 still=0 got=0 deadline=$(($(date +%s) + 90))
	while :; do
		got=$(ns_run_packets "$db")
		[ "$got" -ge "$want" ] && break
		if [ "$got" = "$last" ]; then
			still=$((still + 1))
			[ $still -ge 15 ] && break
		else
			still=0 last=$got
		fi
		[ "$(date +%s)" -ge $deadline ] && break
		sleep 0.2
	done
	t2=$(date +%s.%N)
	kill -TERM "$SENSOR_PID"
	i=0
	while kill -0 "$SENSOR_PID" 2>/dev/null && [ $i -lt 300 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	hung=
	if kill -0 "$SENSOR_PID" 2>/dev/null; then
		hung=" (still running 30 s after SIGTERM: killed)"
		kill -9 "$SENSOR_PID"
	fi
	wait "$SENSOR_PID"
	src=$?
	NS_PIDS=
	IFS='|' read -r status packets drops ifdrops <<EOF
$(sqlite3 "$db" "SELECT status, packets, drops, ifdrops FROM runs")
EOF
	cmp=$("$py" "$tool" compare "$tmp/$ref.ref.db" "$db" "$json" 2>&1)
	crc=$?
	info="sent ${sent:-?} (tcpreplay failed ${tfail:-?}, exit $trc; $actual), sensor counted $packets of $want, drops ${drops:-?}, ifdrops ${ifdrops:-?}; send $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, all counted after $(awk -v a="$t0" -v b="$t2" 'BEGIN { printf "%.1f", b - a }') s; exit $src$hung, run $status"
	dropped=no
	if [ "${tfail:-1}" != 0 ] || [ "$trc" != 0 ] || [ "${sent:-0}" != "$want" ] ||
	    [ "${drops:-1}" != 0 ] || [ "${ifdrops:-1}" != 0 ] ||
	    [ "${packets:-0}" != "$want" ]; then
		dropped=yes
	fi
	ok=yes
	if [ $src -ne 0 ] || [ "$status" != complete ]; then
		ok=no
	fi
	# More packets than were sent: something else is on the link (the
	# set-up keeps it silent), never a rate matter.
	if [ "${packets:-0}" -gt "$want" ]; then
		ok=no
		info="$info; MORE packets than sent"
	fi
	if [ $dropped = no ] && [ $crc -eq 0 ] && [ $ok = yes ]; then
		pass "$name: $info; $(echo "$cmp" | tail -1)"
		res=clean
	elif [ $dropped = yes ] && [ $ok = yes ] && ! required "$rate"; then
		# Above REPLAY_RATE_MIN: losing packets is this machine's limit,
		# reported, not counted; the comparison cannot hold then.
		echo "INFO replay $name: packets lost (above REPLAY_RATE_MIN=$RATE_MIN, not counted): $info"
		res="lost packets"
	else
		fail "$name: $info"
		echo "$cmp" | sed 's/^/    /'
		[ -s "$err" ] && sed 's/^/    stderr: /' "$err" | tail -5
		res="FAIL"
	fi
	[ "$res" = clean ] || clean[$rate]=no
	[ -n "${clean[$rate]:-}" ] || clean[$rate]=yes
	last_res=$res
}

# ---- the captures as they are, at each rate -----------------------------
offline set "${files[@]}" || { echo "replay: $passed passed, $failed failed"; exit 1; }
echo "replay: reference: $(sqlite3 "$tmp/set.ref.db" "SELECT packets FROM runs") packets, $(sqlite3 "$tmp/set.ref.db" "SELECT count(*) FROM flows") flows, $(sqlite3 "$tmp/set.ref.db" "SELECT count(*) FROM alerts") alerts"
declare -A small big
for r in $RATES; do
	live "set-$r" "$r" set "${files[@]}"
	small[$r]=$last_res
done

# ---- the large replay ----------------------------------------------------
# Copies of the set on distinct addresses, in two levels so that only
# about 2*sqrt(N) tcprewrite runs are needed: copy i of the set maps
# 127.0.0.0/24 (the recorded postfix sessions), 192.0.2.0/24 and
# 198.51.100.0/24 (the hand-made cases) to 10.0.i.0/24, 10.64.i.0/24 and
# 10.128.i.0/24; copy j of that block then maps 10.0.0.0/16, 10.64.0.0/16
# and 10.128.0.0/16 to 10.j, 10.64+j and 10.128+j. Flows of different
# copies never share a tuple; within a copy the set's own tuple re-use
# (the hand-made cases all talk 192.0.2.10:4000x -> 198.51.100.25:25) is
# as in the small replay. Timestamps are left alone: offline the clock
# jumps back at each copy, live it is the replay's; see replay_tool.py for
# what that may change (idle vs end) and what it may not.
if [ "$BIG_LOOPS" -gt 0 ]; then
	"$py" "$tool" cat "$tmp/set.pcap" "${files[@]}" || fail "cat set"
	l1=1
	while [ $((l1 * l1)) -lt "$BIG_LOOPS" ] && [ $l1 -lt 256 ]; do l1=$((l1 + 1)); done
	l2=$(((BIG_LOOPS + l1 - 1) / l1))
	[ $l2 -le 64 ] || { l2=64; }
	lvl1=() lvl2=()
	i=0
	while [ $i -lt $l1 ]; do
		tcprewrite --pnat=127.0.0.0/24:10.0.$i.0/24,192.0.2.0/24:10.64.$i.0/24,198.51.100.0/24:10.128.$i.0/24 \
		    -i "$tmp/set.pcap" -o "$tmp/l1-$i.pcap" >/dev/null 2>&1 || fail "tcprewrite level 1 copy $i"
		lvl1+=("$tmp/l1-$i.pcap")
		i=$((i + 1))
	done
	"$py" "$tool" cat "$tmp/block.pcap" "${lvl1[@]}" || fail "cat block"
	rm -f "${lvl1[@]}"
	j=0
	while [ $j -lt $l2 ]; do
		if [ $j -eq 0 ]; then
			cp "$tmp/block.pcap" "$tmp/l2-0.pcap"
		else
			tcprewrite --pnat=10.0.0.0/16:10.$j.0.0/16,10.64.0.0/16:10.$((64 + j)).0.0/16,10.128.0.0/16:10.$((128 + j)).0.0/16 \
			    -i "$tmp/block.pcap" -o "$tmp/l2-$j.pcap" >/dev/null 2>&1 || fail "tcprewrite level 2 copy $j"
		fi
		lvl2+=("$tmp/l2-$j.pcap")
		j=$((j + 1))
	done
	"$py" "$tool" cat "$tmp/big.pcap" "${lvl2[@]}" || fail "cat big"
	rm -f "${lvl2[@]}" "$tmp/block.pcap"
	bigpk=$("$py" "$tool" count "$tmp/big.pcap")
	echo "replay: large replay: $((l1 * l2)) copies of the set, $bigpk packets, $(($(stat -c %s "$tmp/big.pcap") / 1048576)) MiB"
	t0=$(date +%s.%N)
	if offline big "$tmp/big.pcap"; then
		t1=$(date +%s.%N)
		echo "replay: large reference: $(sqlite3 "$tmp/big.ref.db" "SELECT count(*) FROM flows") flows, $(sqlite3 "$tmp/big.ref.db" "SELECT count(*) FROM alerts") alerts, offline in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s"
		for r in $BIG_RATES; do
			live "big-$r" "$r" big "$tmp/big.pcap"
			big[$r]=$last_res
		done
		if [ "${WORKERS:-1}" -gt 1 ]; then
			# Every copy of the set names the same servers (banner
			# names, SNI with four different chains), so their
			# history flips; which of two overlapping sessions on
			# two workers meets it first is not fixed.  History
			# decides starttls_missing and cert_changed, and
			# whether mail in clear from a server that did not
			# offer STARTTLS is news (plaintext_mail); it sets
			# cleartext_auth's severity.
			SENSOR_OPTS="$SENSOR_OPTS --workers $WORKERS"
			export REPLAY_ORDER_FREE=cert_changed,starttls_missing,plaintext_mail
			export REPLAY_ORDER_SOFT=cleartext_auth
			live "big-${WORKERS}workers-$RATE_MIN" "$RATE_MIN" big \
			    "$tmp/big.pcap"
			unset REPLAY_ORDER_FREE REPLAY_ORDER_SOFT
			SENSOR_OPTS=${REPLAY_SENSOR_OPTS:-}
		fi
	fi
fi

# ---- summary ------------------------------------------------------------
echo "replay: rate summary (REPLAY_RATE_MIN=$RATE_MIN):"
seen=
for r in $RATES $BIG_RATES; do
	case " $seen " in *" $r "*) continue ;; esac
	seen="$seen $r"
done
# The highest rate such that it and every rate below it were clean.
highest=none broken=no
for r in $(for s in $seen; do echo "$(rate_num "$s") $s"; done | sort -n | awk '{ print $2 }'); do
	if [ "$r" = top ]; then label=topspeed; else label="$r Mbit/s"; fi
	echo "replay:   $label: set ${small[$r]:-not run}, large ${big[$r]:-not run}"
	if [ "${clean[$r]:-no}" = yes ] && [ $broken = no ]; then
		highest=$label
	else
		broken=yes
	fi
done
echo "replay: highest clean rate (zero drops, identical alerts and flows): $highest"
# The large replay outgrows the ring: its clean rates are sustained ones.
sustained=none
for r in $(for s in $BIG_RATES; do echo "$(rate_num "$s") $s"; done | sort -n | awk '{ print $2 }'); do
	[ "${big[$r]:-not run}" = clean ] || break
	if [ "$r" = top ]; then sustained=topspeed; else sustained="$r Mbit/s"; fi
done
[ "$BIG_LOOPS" -gt 0 ] &&
    echo "replay: highest sustained clean rate (the large replay, $BIG_LOOPS copies): $sustained"
echo "replay: took $(($(date +%s) - t_start)) s"
echo "replay: $passed passed, $failed failed"
[ $failed -eq 0 ]
