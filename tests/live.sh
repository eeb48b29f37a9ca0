#!/bin/sh
# live.sh - live capture on the loopback interface: stripwatch -i lo sees a
# TCP conversation made here, stops cleanly on SIGINT and SIGTERM, and the
# flow is in the database with both directions' digests; the sensor drops
# root for the user it is given, refuses to keep root unasked, and writes
# its counters to the runs row while it runs.
# Needs the capture privilege (root or CAP_NET_RAW); skipped otherwise.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/stripwatch"
py=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP live: needs root to capture"
	echo "live: 0 passed, 0 failed"
	exit 0
fi

# One short conversation on 127.0.0.1:PORT, with known bytes both ways.
talk() {
	"$py" - "$1" <<'PYEOF'
import socket, sys, threading
port = int(sys.argv[1])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(1)
def serve():
    c, _ = srv.accept()
    c.sendall(b"220 live.test ESMTP\r\n")
    c.recv(100)
    c.sendall(b"221 bye\r\n")
    c.close()
t = threading.Thread(target=serve); t.start()
s = socket.create_connection(("127.0.0.1", port))
s.recv(100); s.sendall(b"QUIT\r\n"); s.recv(100); s.close(); t.join()
PYEOF
}

run_case() {	# signal port
	sig=$1 port=$2 db="$tmp/live-$1.db"
	"$bin" -q --no-fetch --all-flows --allow-root -i lo --immediate -w "$db" \
	    "tcp port $port" 2>"$tmp/err" &
	pid=$!
	sleep 1.5
	talk "$port"
	sleep 0.5
	kill -"$sig" $pid
	wait $pid
	rc=$?
	got=$(sqlite3 "$db" "SELECT c2s_bytes || '/' || s2c_bytes || '/' ||
	    c2s_sha256 FROM flows WHERE server_port=$port" 2>&1)
	want="6/30/$(printf 'QUIT\r\n' | sha256sum | cut -d' ' -f1)"
	status=$(sqlite3 "$db" "SELECT status FROM runs" 2>&1)
	if [ $rc -eq 0 ] && [ "$got" = "$want" ] && [ "$status" = complete ]; then
		echo "PASS live SIG$sig"
		passed=$((passed + 1))
	else
		echo "FAIL live SIG$sig: exit $rc, flow '$got' (want '$want'), run '$status'"
		cat "$tmp/err"
		failed=$((failed + 1))
	fi
}

run_case INT 47025
run_case TERM 47026

# An interface that does not exist is a clear error, exit 1.
"$bin" -q --no-fetch -i no-such-if0 -w "$tmp/x.db" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -q no-such-if0 "$tmp/err"; then
	echo "PASS live bad interface"
	passed=$((passed + 1))
else
	echo "FAIL live bad interface: exit $rc: $(cat "$tmp/err")"
	failed=$((failed + 1))
fi
check() {	# check NAME CONDITION-RESULT DETAIL
	if [ "$2" = 0 ]; then
		echo "PASS live $1"
		passed=$((passed + 1))
	else
		echo "FAIL live $1: $3"
		failed=$((failed + 1))
	fi
}

# Privileges: dropped to the user given, right after the interface opened;
# the database (in a directory that user may write) is that user's.
if id nobody >/dev/null 2>&1; then
	drop=$(mktemp -d) && chmod 1777 "$drop"
	trap 'rm -rf "$tmp" "$drop"' EXIT
	db="$drop/s.db"
	"$bin" -q --no-fetch --user nobody --stats-interval 1 -i lo \
	    --immediate -w "$db" "tcp port 47027" 2>"$tmp/err" &
	pid=$!
	sleep 1.5
	uid=$(awk '/^Uid:/ { print $2 "/" $3 "/" $4 "/" $5 }' /proc/$pid/status)
	nob=$(id -u nobody)
	check "runs as nobody" "$([ "$uid" = "$nob/$nob/$nob/$nob" ]; echo $?)" \
	    "uid $uid: $(cat "$tmp/err")"
	talk 47027
	sleep 2.5
	# Counters while it runs (the stats interval is 1 s).
	row=$(sqlite3 "$db" "SELECT status, packets > 0, ended IS NULL OR
	    ended = 0 FROM runs" 2>&1)
	check "counters while running" "$([ "$row" = "running|1|1" ]; echo $?)" \
	    "runs row '$row'"
	kill -TERM $pid
	wait $pid
	rc=$?
	owner=$(stat -c %U "$db")
	flows=$(sqlite3 "$db" "SELECT count(*) FROM flows WHERE
	    server_port = 47027" 2>&1)
	check "dropped run ends clean" "$([ $rc -eq 0 ] && [ "$owner" = nobody ] &&
	    [ "$flows" = 1 ]; echo $?)" "exit $rc, owner $owner, flows $flows: $(cat "$tmp/err")"
fi

# Two workers fanned out by flow hash: each connection whole in one of
# them (both directions' bytes), one runs row for both.
db="$tmp/workers.db"
"$bin" -q --no-fetch --allow-root --workers 2 -i lo --immediate -w "$db" \
    "tcp portrange 47030-47037" 2>"$tmp/err" &
pid=$!
sleep 1.5
threads=$(ls /proc/$pid/task 2>/dev/null | wc -l)
for port in 47030 47031 47032 47033 47034 47035 47036 47037; do
	talk $port
done
sleep 0.5
kill -TERM $pid
wait $pid
rc=$?
whole=$(sqlite3 "$db" "SELECT count(*) FROM flows WHERE c2s_bytes = 6 AND
    s2c_bytes = 30 AND close_reason = 'fin'" 2>&1)
row=$(sqlite3 "$db" "SELECT count(*), sum(flows), min(status) FROM runs" 2>&1)
check "two workers" "$([ $rc -eq 0 ] && [ "$threads" -ge 3 ] &&
    [ "$whole" = 8 ] && [ "$row" = "1|8|complete" ]; echo $?)" \
    "exit $rc, $threads threads, $whole whole flows, runs '$row': $(cat "$tmp/err")"

# Root is kept only when asked: a missing user, or root itself, is refused.
"$bin" -q --no-fetch --user no-such-user-sw -i lo -w "$tmp/y.db" 2>"$tmp/err"
rc=$?
check "unknown user refused" "$([ $rc -eq 1 ] && grep -q 'no-such-user-sw does not exist' "$tmp/err"; echo $?)" \
    "exit $rc: $(cat "$tmp/err")"
"$bin" -q --no-fetch --user root -i lo -w "$tmp/y.db" 2>"$tmp/err"
rc=$?
check "root as --user refused" "$([ $rc -eq 1 ] && grep -q 'allow-root' "$tmp/err"; echo $?)" \
    "exit $rc: $(cat "$tmp/err")"

echo "live: $passed passed, $failed failed"
[ $failed -eq 0 ]
