#!/bin/sh
# regress.sh [--update] [CASE...] - replays each pcaps/<case>/input.pcap
# offline and compares what stripwatch stored with the case's expectations.
#
# A case directory holds:
#   input.pcap            the capture (or input.pcapng)
#   README.md             what it shows, where it came from
#   expected-flows.tsv    flows rows (volatile columns left out)
#   expected-alerts.tsv   alerts rows (kind, severity, pcap time, endpoints,
#                         frame, evidence); every line must be justified in
#                         the case's README
#   expected-sessions.tsv optional: sessions rows (outcome, SNI, TLS version,
#                         cipher, certificate status, MTA-STS verdicts)
#   args                  optional extra command-line options, one line
#   expected-exit         optional exit status (default 0)
#
# Each case runs twice: with --all-flows (every stream followed to its end
# and digested), compared with all three files, and in the default mode
# (flows bypassed once nothing more is judged), whose alerts and sessions
# must be the same.
#
# --update rewrites the expected files from the current output.  Use it
# only after checking the new rows independently (tests/interop.py
# --corpus pcaps compares the digests with tshark); a diff in review must
# say why the expectation changed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/stripwatch"
cd "$top" || exit 1	# args files name paths from the top
update=0
if [ "${1:-}" = "--update" ]; then
	update=1
	shift
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cols="client_ip, client_port, server_ip, server_port, protocol, c2s_bytes,
 s2c_bytes, c2s_sha256, s2c_sha256, c2s_gaps, s2c_gaps, conflicts,
 close_reason"
acols="kind, severity, ts, client_ip, client_port, server_ip, server_port,
 frame, evidence"
scols="client_ip, client_port, server_ip, server_port, outcome, sni,
 tls_version, cipher, cert_status, sts"

passed=0 failed=0
if [ $# -gt 0 ]; then cases="$*"; else cases=$(ls "$top/pcaps"); fi
for c in $cases; do
	d="$top/pcaps/$c"
	in="$d/input.pcap"
	[ -f "$in" ] || in="$d/input.pcapng"
	[ -f "$in" ] || continue
	db="$tmp/$c.db"
	args=""
	[ -f "$d/args" ] && args=$(cat "$d/args")
	want_rc=0
	[ -f "$d/expected-exit" ] && want_rc=$(cat "$d/expected-exit")
	# shellcheck disable=SC2086
	"$bin" -q --no-fetch --all-flows -r "$in" -w "$db" $args \
	    2>"$tmp/$c.err"
	rc=$?
	# shellcheck disable=SC2086
	"$bin" -q --no-fetch -r "$in" -w "$db.fast" $args 2>"$tmp/$c.fast.err"
	rc_fast=$?
	sqlite3 -separator '	' "$db.fast" "SELECT $acols FROM alerts
	    ORDER BY ts, id; SELECT '--';
	    SELECT $scols FROM sessions ORDER BY first_ts, id" \
	    >"$tmp/$c.fast" 2>>"$tmp/$c.fast.err"
	sqlite3 -separator '	' "$db" "SELECT $cols FROM flows
	    ORDER BY first_ts, id" >"$tmp/$c.tsv" 2>>"$tmp/$c.err"
	sqlite3 -separator '	' "$db" "SELECT $acols FROM alerts
	    ORDER BY ts, id" >"$tmp/$c.alerts" 2>>"$tmp/$c.err"
	sqlite3 -separator '	' "$db" "SELECT $scols FROM sessions
	    ORDER BY first_ts, id" >"$tmp/$c.sessions" 2>>"$tmp/$c.err"
	if [ $update -eq 1 ]; then
		cp "$tmp/$c.tsv" "$d/expected-flows.tsv"
		cp "$tmp/$c.alerts" "$d/expected-alerts.tsv"
		cp "$tmp/$c.sessions" "$d/expected-sessions.tsv"
	fi
	[ -f "$d/expected-alerts.tsv" ] || : >"$d/expected-alerts.tsv"
	{ cat "$tmp/$c.alerts"; echo '--'; cat "$tmp/$c.sessions"; } \
	    >"$tmp/$c.full"
	if [ "$rc" != "$want_rc" ] || [ "$rc_fast" != "$want_rc" ]; then
		echo "FAIL $c: exit $rc (default mode $rc_fast), expected $want_rc"
		cat "$tmp/$c.err" "$tmp/$c.fast.err"
		failed=$((failed + 1))
	elif ! diff -u "$tmp/$c.full" "$tmp/$c.fast" >"$tmp/$c.diff"; then
		echo "FAIL $c: the default mode's alerts or sessions differ"
		cat "$tmp/$c.diff"
		failed=$((failed + 1))
	elif ! diff -u "$d/expected-flows.tsv" "$tmp/$c.tsv" >"$tmp/$c.diff"
	then
		echo "FAIL $c: flows differ"
		cat "$tmp/$c.diff"
		failed=$((failed + 1))
	elif ! diff -u "$d/expected-alerts.tsv" "$tmp/$c.alerts" \
	    >"$tmp/$c.diff"; then
		echo "FAIL $c: alerts differ"
		cat "$tmp/$c.diff"
		failed=$((failed + 1))
	elif [ -f "$d/expected-sessions.tsv" ] &&
	    ! diff -u "$d/expected-sessions.tsv" "$tmp/$c.sessions" \
	    >"$tmp/$c.diff"; then
		echo "FAIL $c: sessions differ"
		cat "$tmp/$c.diff"
		failed=$((failed + 1))
	else
		echo "PASS $c"
		passed=$((passed + 1))
	fi
done
echo "regress: $passed passed, $failed failed"
[ $failed -eq 0 ]
