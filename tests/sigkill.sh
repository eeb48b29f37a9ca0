#!/bin/bash
# sigkill.sh - kill -9 in the middle of a live capture leaves a database
# that is consistent and holds every alert already sent out on the JSON
# feed (a feed line is written only after its alert is committed).
#
# The sensor watches one end of a veth pair in a private network namespace
# (tests/netns.sh); tcpreplay sends a stream of captures that raise alerts
# (strip-xxxxxxxa, tls-intercept, inject-after-220), copied many times on
# distinct addresses with tcprewrite --pnat so every copy is a new session,
# at SIGKILL_RATE Mbit/s. SIGKILL_ITERATIONS times, on the same database:
# start the sensor with a new feed file, wait a random 0.5-3 s
# (SIGKILL_SEED makes the delays repeatable; the seed is printed), SIGKILL
# it, stop the replay, then check:
#   - PRAGMA integrity_check says ok, PRAGMA foreign_key_check says nothing;
#   - every line of the feed names (event.id) an alert row with the same
#     kind, severity, endpoints and evidence (tests/replay_tool.py feed).
#     A torn last line (the kill cut the write of a commit's lines: no
#     newline at the end of the file) is accepted and ignored if it is
#     the file's last bytes, starts a JSON object and does not parse; any
#     other invalid line fails. Alerts committed but not yet written to
#     the feed when the kill came are allowed (and counted);
#   - stripwatch opens the database again: a short offline run appends to
#     it, exits 0 and its run is complete (the next iteration's sensor
#     then writes into it too).
# Needs root, ip, tcpreplay, sqlite3; skipped otherwise.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
py=/usr/bin/python3
tool="$top/tests/replay_tool.py"
. "$top/tests/netns.sh"
passed=0 failed=0
ITER=${SIGKILL_ITERATIONS:-5}
RATE=${SIGKILL_RATE:-5}
SEED=${SIGKILL_SEED:-$$}
CASES="strip-xxxxxxxa tls-intercept inject-after-220"
SENSOR_OPTS="--no-fetch --no-checksum --immediate --stats-interval 1 --ca-file pcaps/tls-ca.pem --policy-dir pcaps/tls-intercept/policies"

why=$(ns_need)
if [ -n "$why" ]; then
	echo "SKIP sigkill: $why"
	echo "sigkill: 0 passed, 0 failed"
	exit 0
fi
if [ ! -x ./stripwatch ]; then
	make -s >/dev/null || { echo "FAIL sigkill: build"; echo "sigkill: 0 passed, 1 failed"; exit 1; }
fi
tmp=$(mktemp -d /tmp/sw-sigkill.XXXXXX)
cleanup() {
	ns_teardown
	if [ "${SIGKILL_KEEP:-0}" = 1 ]; then
		echo "sigkill: work directory kept: $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
t_start=$(date +%s)

check() {	# NAME STATUS(0 = pass) DETAIL
	if [ "$2" = 0 ]; then
		echo "PASS sigkill $1${3:+: $3}"
		passed=$((passed + 1))
	else
		echo "FAIL sigkill $1: $3"
		failed=$((failed + 1))
	fi
}

# ---- the stream ---------------------------------------------------------
files=()
for c in $CASES; do
	f="pcaps/$c/input.pcap"
	if [ ! -f "$f" ]; then
		check "capture $c" 1 "$f missing"
		continue
	fi
	files+=("$f")
done
[ ${#files[@]} -gt 0 ] || { echo "sigkill: $passed passed, $failed failed"; exit 1; }
"$py" "$tool" cat "$tmp/set.pcap" "${files[@]}" || { check "cat" 1 "cannot join the captures"; exit 1; }
# Long enough that the replay outlasts the longest wait (3 s) at RATE:
# copies * set bytes >= RATE Mbit/s * 5 s. Copy i moves the recorded
# sessions' 127.0.0.1 to 10.(i/256).(i%256).1.
setbytes=$(stat -c %s "$tmp/set.pcap")
copies=$(((RATE * 1000000 / 8 * 5 + setbytes - 1) / setbytes))
[ $copies -ge 2 ] || copies=2
[ $copies -le 16384 ] || copies=16384
parts=()
i=0
while [ $i -lt $copies ]; do
	tcprewrite --pnat=127.0.0.0/24:10.$((i / 256)).$((i % 256)).0/24 \
	    -i "$tmp/set.pcap" -o "$tmp/c-$i.pcap" >/dev/null 2>&1 ||
	    { check "tcprewrite" 1 "copy $i failed"; exit 1; }
	parts+=("$tmp/c-$i.pcap")
	i=$((i + 1))
done
"$py" "$tool" cat "$tmp/stream.pcap" "${parts[@]}" || { check "cat" 1 "cannot join the copies"; exit 1; }
rm -f "${parts[@]}"
echo "sigkill: stream of $copies copies of $CASES: $("$py" "$tool" count "$tmp/stream.pcap") packets at $RATE Mbit/s; seed $SEED"

ns_setup sigkill || { check "namespace set-up" 1 "failed"; echo "sigkill: $passed passed, $failed failed"; exit 1; }

RANDOM=$SEED
db="$tmp/sensor.db"
total_fed=0 total_alerts=0
k=1
while [ $k -le "$ITER" ]; do
	feed="$tmp/feed-$k.json"
	err="$tmp/sensor-$k.err"
	if ! ns_sensor_start "$db" "$err" $SENSOR_OPTS --json "$feed" 2>"$tmp/start-$k"; then
		check "kill $k: sensor start" 1 "$(cat "$tmp/start-$k")"
		ns_kill_all
		k=$((k + 1))
		continue
	fi
	run_id=$(sqlite3 -cmd ".timeout 2000" "$db" "SELECT max(id) FROM runs")
	tcpreplay -i "$HOST_IF" --mbps="$RATE" "$tmp/stream.pcap" \
	    >"$tmp/tcpreplay-$k" 2>&1 &
	tpid=$!
	NS_PIDS="$NS_PIDS $tpid"
	delay=$(((RANDOM % 26) + 5))	# tenths of a second: 0.5 .. 3.0
	sleep "$((delay / 10)).$((delay % 10))"
	replaying=no
	kill -0 "$tpid" 2>/dev/null && replaying=yes
	kill -9 "$SENSOR_PID"
	wait "$SENSOR_PID" 2>/dev/null
	kill "$tpid" 2>/dev/null
	wait "$tpid" 2>/dev/null
	NS_PIDS=

	ic=$(sqlite3 "$db" "PRAGMA integrity_check" 2>&1)
	fk=$(sqlite3 "$db" "PRAGMA foreign_key_check" 2>&1)
	IFS='|' read -r status pk nal <<EOF
$(sqlite3 "$db" "SELECT status, ifnull(packets, 0), (SELECT count(*) FROM alerts WHERE run_id = $run_id) FROM runs WHERE id = $run_id" 2>&1)
EOF
	fed=$(tr -cd "\n" <"$feed" 2>/dev/null | wc -c)
	what="killed after $((delay / 10)).$((delay % 10)) s (replay still running: $replaying), run $run_id left '$status', $pk packets at the last counter update, $nal alerts committed, $fed feed lines"
	check "kill $k: integrity_check" "$([ "$ic" = ok ]; echo $?)" "$ic"
	check "kill $k: foreign_key_check" "$([ -z "$fk" ]; echo $?)" "$fk"
	if [ -f "$feed" ]; then
		fc=$("$py" "$tool" feed "$feed" "$db" 2>&1)
		frc=$?
	else
		fc="no feed file" frc=1
	fi
	total_fed=$((total_fed + fed))
	total_alerts=$((total_alerts + ${nal:-0}))
	check "kill $k: feed lines are committed alerts" "$frc" "$what; feed $fc"
	# The database opens again and takes a new run.
	./stripwatch -q -r pcaps/strip-xxxxxxxa/input.pcap --no-fetch \
	    -w "$db" 2>"$tmp/append-$k.err"
	arc=$?
	ast=$(sqlite3 "$db" "SELECT status FROM runs WHERE id = (SELECT max(id) FROM runs)" 2>&1)
	check "kill $k: database reopened, offline run appended" \
	    "$([ $arc -eq 0 ] && [ "$ast" = complete ]; echo $?)" \
	    "exit $arc, run '$ast'$([ -s "$tmp/append-$k.err" ] && echo ": $(head -3 "$tmp/append-$k.err")")"
	# The killed sensor's run is not left looking alive.
	nrun=$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status = 'running'" 2>&1)
	nint=$(sqlite3 "$db" "SELECT count(*) FROM runs WHERE status = 'interrupted'" 2>&1)
	check "kill $k: the killed run is marked interrupted" \
	    "$([ "$nrun" = 0 ] && [ "$nint" = "$k" ]; echo $?)" \
	    "$nrun running, $nint interrupted after $k kills"
	k=$((k + 1))
done
# The checker itself, on the largest feed: its last line cut in half is
# accepted (a torn write), a line cut in the middle of the file is not,
# and neither is a line naming an alert that is not in the database.
big=$(ls -S "$tmp"/feed-*.json 2>/dev/null | head -1)
if [ -n "$big" ] && [ -s "$big" ]; then
	"$py" - "$big" "$tmp/torn-end.json" "$tmp/torn-mid.json" \
	    "$tmp/bad-id.json" <<'PYEOF'
import sys
lines = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
last = lines[-1]
open(sys.argv[2], "wb").write(b"".join(l + b"\n" for l in lines[:-1]) +
                              last[:len(last) // 2])
mid = lines[:]
mid[len(mid) // 2] = mid[len(mid) // 2][:40]
open(sys.argv[3], "wb").write(b"".join(l + b"\n" for l in mid))
open(sys.argv[4], "wb").write(b"".join(l + b"\n" for l in lines) +
                              lines[0].replace(b'"id":"', b'"id":"9', 1) +
                              b"\n")
PYEOF
	"$py" "$tool" feed "$tmp/torn-end.json" "$db" >"$tmp/c1" 2>&1; c1=$?
	"$py" "$tool" feed "$tmp/torn-mid.json" "$db" >"$tmp/c2" 2>&1; c2=$?
	"$py" "$tool" feed "$tmp/bad-id.json" "$db" >"$tmp/c3" 2>&1; c3=$?
	check "feed checker: torn last line accepted" $c1 "$(cat "$tmp/c1")"
	check "feed checker: torn middle line refused" \
	    "$([ $c2 -ne 0 ]; echo $?)" "checker: $(head -1 "$tmp/c2")"
	check "feed checker: unknown alert id refused" \
	    "$([ $c3 -ne 0 ]; echo $?)" "checker: $(head -1 "$tmp/c3")"
fi
# The kills must have come while alerts were flowing, or the feed checks
# above checked nothing.
check "alerts were fed before the kills" "$([ $total_fed -gt 0 ]; echo $?)" \
    "$total_fed feed lines, $total_alerts alerts committed by the killed sensors"
echo "sigkill: took $(($(date +%s) - t_start)) s"
echo "sigkill: $passed passed, $failed failed"
[ $failed -eq 0 ]
