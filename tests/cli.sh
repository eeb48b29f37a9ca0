#!/bin/sh
# cli.sh - what a user sees on bad input: each case must give its exit
# status and a message naming the problem, and never a crash.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/stripwatch"
good="$top/pcaps/link-null/input.pcap"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

# expect NAME STATUS PATTERN -- ARGS...
expect() {
	name=$1 want=$2 pat=$3
	shift 4
	"$bin" --no-fetch "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq "$want" ] && grep -qi -- "$pat" "$tmp/err" "$tmp/out"; then
		echo "PASS $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name: exit $rc (want $want), output:"
		cat "$tmp/err" "$tmp/out"
		failed=$((failed + 1))
	fi
}

printf 'not a capture at all, just text\n' >"$tmp/text.pcap"
# A valid pcap header with link type 105 (802.11), which we do not decode.
printf '\324\303\262\241\002\000\004\000\000\000\000\000\000\000\000\000\377\377\000\000\151\000\000\000' >"$tmp/wifi.pcap"
sqlite3 "$tmp/foreign.db" "CREATE TABLE t (x)"

expect "unknown option" 2 "unrecognized option" -- --frobnicate
expect "no input" 2 "either -r FILE" -- -w "$tmp/a.db"
expect "both inputs" 2 "either -r FILE" -- -r "$good" -i lo
expect "bad number" 2 "not a number" -- -r "$good" --flows-max 0
expect "bad number text" 2 "not a number" -- -r "$good" -s 12abc
expect "two filters" 2 "not both" -- -r "$good" -f tcp port 25
expect "missing file" 1 "no such file" -- -r "$tmp/nope.pcap" -w "$tmp/a.db"
expect "not a capture" 1 "text.pcap" -- -r "$tmp/text.pcap" -w "$tmp/a.db"
expect "a directory" 1 "is a directory" -- -r "$tmp" -w "$tmp/a.db"
expect "stdin twice" 1 "standard input can be read only once" -- -r - -r - -w "$tmp/a.db" <"$good"
expect "unsupported link type" 1 "unsupported link type 105" -- -r "$tmp/wifi.pcap" -w "$tmp/a.db"
expect "bad filter" 1 "filter" -- -r "$good" -w "$tmp/a.db" "tcp port"
expect "foreign database" 1 "not a stripwatch database" -- -r "$good" -w "$tmp/foreign.db"
expect "text as database" 1 "not a database" -- -r "$good" -w "$tmp/text.pcap"
expect "unopenable database" 1 "nodir/x.db" -- -r "$good" -w "$tmp/nodir/x.db"
expect "help" 0 "usage" -- --help
expect "version" 0 "stripwatch" -- --version
expect "filter applies" 0 "0 flows" -- -r "$good" -w "$tmp/b.db" "tcp port 26"
expect "two files as one" 0 "3 flows" -- -r "$good" -r "$top/pcaps/port-reuse/input.pcap" -w "$tmp/c.db"
expect "damaged file goes on" 3 "damaged after frame" -- -r "$top/pcaps/truncated-file/input.pcap" -r "$good" -w "$tmp/d.db"

# A pipe is read once, by the handle that checked it: standard input
# (plain or gzipped) and a named pipe give the alerts the file gives.
strip="$top/pcaps/strip-xxxxxxxa/input.pcap"
alerts() {
	sqlite3 "$1" "SELECT kind, frame, evidence FROM alerts ORDER BY id"
}
piped() {
	name=$1 db=$2
	if [ "$rc" -eq 0 ] && [ -n "$(alerts "$tmp/file.db")" ] &&
	    [ "$(alerts "$db")" = "$(alerts "$tmp/file.db")" ]; then
		echo "PASS $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name: exit $rc, alerts:"
		alerts "$db"
		cat "$tmp/err"
		failed=$((failed + 1))
	fi
}
"$bin" --no-fetch -q -r "$strip" -w "$tmp/file.db" 2>"$tmp/err"
"$bin" --no-fetch -q -r - -w "$tmp/stdin.db" <"$strip" 2>"$tmp/err"
rc=$?
piped "standard input" "$tmp/stdin.db"
gzip -c "$strip" | "$bin" --no-fetch -q -r - -w "$tmp/gz.db" 2>"$tmp/err"
rc=$?
piped "gzipped standard input" "$tmp/gz.db"
mkfifo "$tmp/fifo"
cat "$strip" >"$tmp/fifo" &
writer=$!
"$bin" --no-fetch -q -r "$tmp/fifo" -r "$good" -w "$tmp/fifo.db" 2>"$tmp/err"
rc=$?
kill "$writer" 2>/dev/null	# still blocked if the pipe was never read
wait "$writer" 2>/dev/null
piped "named pipe, then a file" "$tmp/fifo.db"
head -c 300 "$strip" >"$tmp/cut.pcap"
expect "cut stream" 3 "-: damaged after frame 3" -- -r - -w "$tmp/e.db" <"$tmp/cut.pcap"
expect "not a capture on stdin" 1 "-: unknown file format" -- -r - -w "$tmp/e.db" <"$tmp/text.pcap"

echo "cli: $passed passed, $failed failed"
[ $failed -eq 0 ]
