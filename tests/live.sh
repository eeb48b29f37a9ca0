#!/bin/sh
# live.sh - live capture on the loopback interface: stripwatch -i lo sees a
# TCP conversation made here, stops cleanly on SIGINT and SIGTERM, and the
# flow is in the database with both directions' digests.
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
	"$bin" -q --no-fetch -i lo --immediate -w "$db" "tcp port $port" 2>"$tmp/err" &
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
echo "live: $passed passed, $failed failed"
[ $failed -eq 0 ]
