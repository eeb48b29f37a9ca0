#!/bin/sh
# feed.sh - the SIEM feeds and `stripwatch alerts`, checked by parsing:
#  - captures are run with --json and --syslog to collectors started here
#    on loopback (UDP, TCP with octet counting, a unix datagram socket);
#    every JSON line must be the README's ECS object and every syslog
#    message must parse per RFC 5424 and equal the database's alert rows
#    (tests/feed_check.py);
#  - the JSON of the same input is the same bytes (deterministic);
#  - a capture whose file name holds '"', '\' and ']' (SD-PARAM escapes);
#  - a collector that is down costs the alerts sent to it, never the run;
#  - `stripwatch alerts`: filters, in table, json and csv, give the rows
#    SQL gives; bad databases exit 1, bad usage exits 2;
#  - live on loopback (root only): SIGHUP reopens the JSON file after a
#    rename and reconnects the TCP collector.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/stripwatch"
py=${PYTHON:-/usr/bin/python3}
chk="$top/tests/feed_check.py"
tmp=$(mktemp -d)
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
passed=0 failed=0
ok() { echo "PASS $1"; passed=$((passed + 1)); }
ko() { echo "FAIL $1"; failed=$((failed + 1)); }

# Runs the python checker; its PASS and FAIL lines are counted here.
checker() {
	"$py" "$chk" "$@" >"$tmp/chk.out" 2>&1
	cat "$tmp/chk.out"
	passed=$((passed + $(grep -c '^PASS ' "$tmp/chk.out")))
	failed=$((failed + $(grep -c '^FAIL ' "$tmp/chk.out")))
	if ! grep -q '^\(PASS\|FAIL\) ' "$tmp/chk.out"; then
		ko "checker $1 said nothing"
	fi
}

# recv_start NAME PROTO ADDR: a collector; $port is its port (or path).
recv_start() {
	rm -f "$tmp/$1.ready"
	"$py" "$chk" recv "$2" "$3" "$tmp/$1.out" "$tmp/$1.ready" \
	    </dev/null >/dev/null 2>"$tmp/$1.err" &
	echo $! >"$tmp/$1.pid"
	pids="$pids $!"
	i=0
	while [ ! -f "$tmp/$1.ready" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	port=$(cat "$tmp/$1.ready" 2>/dev/null)
}

# recv_stop NAME: SIGTERM; the collector reads what is queued, then ends.
recv_stop() {
	p=$(cat "$tmp/$1.pid")
	kill "$p" 2>/dev/null
	wait "$p" 2>/dev/null
}

# Every run of this suite on a capture, with the case's own arguments.
cd "$top" || exit 1
"$py" "$chk" v6pcap "$tmp/v6.pcap"
weird="$tmp/we\"ird]\\dir"
mkdir -p "$weird" && cp pcaps/strip-xxxxxxxb/input.pcap "$weird/input.pcap"
set -- strip-xxxxxxxa:pcaps/strip-xxxxxxxa/input.pcap \
    tls-intercept:pcaps/tls-intercept/input.pcap \
    strip-line-removed:pcaps/strip-line-removed/input.pcap \
    ipv6:"$tmp/v6.pcap" weird:"$weird/input.pcap"
for spec in "$@"; do
	c=${spec%%:*} pcap=${spec#*:}
	args=$(cat "pcaps/$c/args" 2>/dev/null)
	for t in udp tcp unix; do
		case $t in
		udp)	recv_start "$c-$t" udp 127.0.0.1:0
			dest="udp://127.0.0.1:$port" fac=local0 ;;
		tcp)	recv_start "$c-$t" tcp '[::1]:0'
			dest="tcp://[::1]:$port?facility=daemon" fac=daemon ;;
		unix)	recv_start "$c-$t" unix "$tmp/$c.sock"
			dest="unix:$tmp/$c.sock?facility=mail" fac=mail ;;
		esac
		# shellcheck disable=SC2086 # args are words
		"$bin" -q --no-fetch $args -r "$pcap" -w "$tmp/$c-$t.db" \
		    --json "$tmp/$c-$t.json" --syslog "$dest" \
		    2>"$tmp/$c-$t.err"
		rc=$?
		recv_stop "$c-$t"
		if [ $rc -eq 0 ] && [ ! -s "$tmp/$c-$t.err" ]; then
			ok "run $c --syslog $t"
		else
			ko "run $c --syslog $t: exit $rc: $(cat "$tmp/$c-$t.err")"
		fi
		checker syslog "$t" "$tmp/$c-$t.out" "$tmp/$c-$t.db" "$fac"
	done
	checker json "$tmp/$c-udp.json" "$tmp/$c-udp.db"
	if cmp -s "$tmp/$c-udp.json" "$tmp/$c-tcp.json" &&
	    cmp -s "$tmp/$c-udp.json" "$tmp/$c-unix.json"; then
		ok "json $c: same input, same bytes"
	else
		ko "json $c: runs of the same input differ"
	fi
done

# JSON to standard output is the same as to a file.
"$bin" -q --no-fetch -r pcaps/strip-xxxxxxxa/input.pcap -w "$tmp/so.db" \
    --json - >"$tmp/so.json"
cmp -s "$tmp/so.json" "$tmp/strip-xxxxxxxa-udp.json" &&
    ok "json to stdout" || ko "json to stdout differs"

# A collector that is down: the run completes, the loss is told once.
for dest in "tcp://127.0.0.1:9" "unix:$tmp/nobody.sock"; do
	"$bin" -q --no-fetch -r pcaps/strip-xxxxxxxa/input.pcap \
	    -w "$tmp/down.db" --syslog "$dest" 2>"$tmp/down.err"
	rc=$?
	n=$(sqlite3 "$tmp/down.db" "SELECT count(*) FROM alerts")
	if [ $rc -eq 0 ] && [ "$n" -gt 0 ] &&
	    [ "$(grep -c 'further failures are counted' "$tmp/down.err")" = 1 ] &&
	    grep -q "alert messages not delivered" "$tmp/down.err"; then
		ok "collector down: $dest"
	else
		ko "collector down: $dest: exit $rc, $n alerts: $(cat "$tmp/down.err")"
	fi
	rm -f "$tmp/down.db"*
done

# Bad specs are refused before the run, exit 1.
for dest in "udp://" "tcp://1::2:514" "tcp://[::1]:99999" "smtp://x" \
    "udp://127.0.0.1:514?facility=local9" "udp://no-such-host.invalid:514"; do
	"$bin" -q --no-fetch -r pcaps/strip-xxxxxxxa/input.pcap \
	    -w "$tmp/bad.db" --syslog "$dest" 2>"$tmp/bad.err"
	rc=$?
	if [ $rc -eq 1 ] && grep -q -- "--syslog" "$tmp/bad.err"; then
		ok "bad spec $dest"
	else
		ko "bad spec $dest: exit $rc: $(cat "$tmp/bad.err")"
	fi
done

# stripwatch alerts: one database, several runs, IPv4 and IPv6.
for spec in "$@"; do
	c=${spec%%:*} pcap=${spec#*:}
	args=$(cat "pcaps/$c/args" 2>/dev/null)
	# shellcheck disable=SC2086
	"$bin" -q --no-fetch $args -r "$pcap" -w "$tmp/all.db"
done
for c in inject-after-220 starttls-cmd-mangled tls-tls12-expired; do
	args=$(cat "pcaps/$c/args" 2>/dev/null)
	# shellcheck disable=SC2086
	"$bin" -q --no-fetch $args -r "pcaps/$c/input.pcap" -w "$tmp/all.db"
done
checker alerts "$bin" "$tmp/all.db"

# Live: SIGHUP after logrotate's rename, and a collector restarted.
live_conv() {	# port: a stripped EHLO reply
	"$py" - "$1" <<'PYEOF'
import socket, sys, threading
port = int(sys.argv[1])
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port)); srv.listen(1)
def serve():
    c, _ = srv.accept()
    c.sendall(b"220 live.test ESMTP\r\n")
    c.recv(100)
    c.sendall(b"250-live.test\r\n250-XXXXXXXA\r\n250 8BITMIME\r\n")
    c.recv(100)
    c.sendall(b"221 bye\r\n")
    c.close()
t = threading.Thread(target=serve); t.start()
s = socket.create_connection(("127.0.0.1", port))
s.recv(100); s.sendall(b"EHLO me\r\n"); s.recv(100); s.sendall(b"QUIT\r\n")
s.recv(100); s.close(); t.join(); srv.close()
PYEOF
}

# wait_lines FILE N: up to 10 s for FILE to hold N lines.
wait_lines() {
	i=0
	while [ "$(cat "$1" 2>/dev/null | wc -l)" -lt "$2" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(cat "$1" 2>/dev/null | wc -l)" -ge "$2" ]
}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP live SIGHUP: needs root to capture"
else
	root=""
	"$bin" --help | grep -q -- --allow-root && root=--allow-root
	sport=47125
	recv_start live1 tcp 127.0.0.1:0
	lport=$port
	"$bin" -q --no-fetch $root -i lo --immediate -w "$tmp/live.db" \
	    --json "$tmp/live.json" --syslog "tcp://127.0.0.1:$lport" \
	    "tcp portrange $sport-$((sport + 2))" 2>"$tmp/live.err" &
	lpid=$!
	pids="$pids $lpid"
	sleep 1.5
	live_conv $sport
	wait_lines "$tmp/live.json" 1
	mv "$tmp/live.json" "$tmp/live.json.1"
	recv_stop live1
	mv "$tmp/live1.out" "$tmp/live1.stream"
	recv_start live2 tcp "127.0.0.1:$lport"
	kill -HUP $lpid
	sleep 0.5
	live_conv $((sport + 1))
	wait_lines "$tmp/live.json" 1
	sleep 1.5	# the second commit reaches the collector too
	# A collector restarted without SIGHUP: reconnected at the next commit.
	recv_stop live2
	mv "$tmp/live2.out" "$tmp/live2.stream"
	recv_start live3 tcp "127.0.0.1:$lport"
	live_conv $((sport + 2))
	sleep 2
	kill -INT $lpid
	wait $lpid
	rc=$?
	recv_stop live3
	n=$(sqlite3 "$tmp/live.db" "SELECT count(*) FROM alerts
	    WHERE kind = 'starttls_stripped'")
	if [ $rc -eq 0 ] && [ "$n" = 3 ]; then
		ok "live run with SIGHUP: exit 0, three alerts"
	else
		ko "live run with SIGHUP: exit $rc, $n alerts: $(cat "$tmp/live.err")"
	fi
	first=$(sqlite3 "$tmp/live.db" "SELECT min(id) FROM alerts")
	checker json "$tmp/live.json.1" "$tmp/live.db" "id = $first"
	checker json "$tmp/live.json" "$tmp/live.db" "id > $first"
	checker syslog tcp "$tmp/live1.stream" "$tmp/live.db" local0 "id = $first"
	second=$(sqlite3 "$tmp/live.db" "SELECT min(id) FROM alerts
	    WHERE id > $first")
	checker syslog tcp "$tmp/live2.stream" "$tmp/live.db" local0 \
	    "id = $second"
	checker syslog tcp "$tmp/live3.out" "$tmp/live.db" local0 "id > $second"
fi

echo "feed: $passed passed, $failed failed"
[ $failed -eq 0 ]
