#!/bin/sh
# readers.sh - the ways into a savefile give the same run.
#
# A plain classic pcap is read by capture/pcapfile.c, the same file gzipped
# by libpcap; a plain pcapng file is read by libpcap after pcapfile.c has
# looked at it and declined, gzipped without that look.  Every capture of
# the project's fixtures and of ../shared/pcaps/public (when there) is run
# both ways with --all-flows, so every flow is recorded with its stream
# digests, and the runs row, flows, sessions and alerts must be identical
# (ids and the file name aside).
#
# Usage: tests/readers.sh [CORPUS]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
corpus=${1:-$top/../shared/pcaps/public}
bin="$top/stripwatch"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

# The run as a user sees it, minus what names the file or the run.
dump() {
	sqlite3 -separator '	' "$1" "
	    SELECT packets, bytes, tcp_packets, truncated, damaged, malformed,
	        fragments, bad_checksums, flows, evicted, first_ts, last_ts,
	        status FROM runs;
	    SELECT client_ip, client_port, server_ip, server_port, first_ts,
	        last_ts, first_frame, last_frame, protocol, c2s_packets,
	        s2c_packets, c2s_bytes, s2c_bytes, c2s_sha256, s2c_sha256,
	        c2s_gaps, s2c_gaps, conflicts, handshake, close_reason
	        FROM flows ORDER BY id;
	    SELECT client_ip, client_port, banner_host, ehlo_name,
	        capabilities, starttls_offered, starttls_sent, outcome, sni,
	        tls_version, cert_status, sts FROM sessions ORDER BY id;
	    SELECT kind, severity, ts, frame, evidence FROM alerts ORDER BY id"
}

{
	find "$top/pcaps" -name '*.pcap' -o -name '*.pcapng'
	[ -d "$corpus" ] && find "$corpus" -name '*.pcap' -o -name '*.pcapng'
} | sort >"$tmp/files"
while read -r f; do
	gzip -c "$f" >"$tmp/in.pcap.gz"
	for way in plain gzip; do
		in=$f
		[ $way = gzip ] && in=$tmp/in.pcap.gz
		rm -f "$tmp/$way.db"
		"$bin" -q --no-fetch --all-flows -r "$in" -w "$tmp/$way.db" \
		    2>"$tmp/$way.err"
		echo "exit $?" >"$tmp/$way.txt"
		dump "$tmp/$way.db" >>"$tmp/$way.txt" 2>&1
	done
	if cmp -s "$tmp/plain.txt" "$tmp/gzip.txt"; then
		passed=$((passed + 1))
	else
		echo "FAIL ${f#"$top"/}: read plain and gzipped, the runs differ"
		diff "$tmp/gzip.txt" "$tmp/plain.txt" | head -20
		failed=$((failed + 1))
	fi
done <"$tmp/files"
# All the fixtures in one run, one file after another: a plain file's
# frames decoded ahead must be done with before the next file is opened
# (then its buffers go), and a pcapng file's must go through at once.
i=0 plain_args= gzip_args=
for f in $(grep "^$top/pcaps/" "$tmp/files"); do
	i=$((i + 1))
	gzip -c "$f" >"$tmp/many-$i.gz"
	plain_args="$plain_args -r $f"
	gzip_args="$gzip_args -r $tmp/many-$i.gz"
done
for way in plain gzip; do
	rm -f "$tmp/$way.db"
	args=$plain_args
	[ $way = gzip ] && args=$gzip_args
	# shellcheck disable=SC2086 # one word per option and path
	"$bin" -q --no-fetch --all-flows $args -w "$tmp/$way.db" \
	    2>"$tmp/$way.err"
	echo "exit $?" >"$tmp/$way.txt"
	dump "$tmp/$way.db" >>"$tmp/$way.txt" 2>&1
done
if [ $i -gt 1 ] && cmp -s "$tmp/plain.txt" "$tmp/gzip.txt" &&
    [ "$(sed -n 2p "$tmp/plain.txt" | cut -f1)" -gt 0 ]; then
	passed=$((passed + 1))
else
	echo "FAIL the $i fixtures in one run: read plain and gzipped, the runs differ"
	diff "$tmp/gzip.txt" "$tmp/plain.txt" | head -20
	failed=$((failed + 1))
fi

# Nothing compared would pass silently: the fixtures are always there.
if [ $passed -eq 0 ]; then
	echo "FAIL no capture found under $top/pcaps"
	failed=$((failed + 1))
fi
echo "readers: $passed passed, $failed failed"
[ $failed -eq 0 ]
