#!/bin/sh
# public_alerts.sh - runs every capture of ../shared/pcaps/public alone
# into a fresh database and compares its alerts (file, kind, severity,
# frame) with tests/public-alerts.tsv, where each expected alert carries
# a one-line reason.  A capture with an unexpected, missing or changed
# alert fails; so does an expectation without a reason.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
corpus=${1:-$top/../shared/pcaps/public}
bin="$top/stripwatch"
want="$top/tests/public-alerts.tsv"
if [ ! -d "$corpus" ]; then
	echo "SKIP public-alerts: no corpus at $corpus"
	echo "public-alerts: 0 passed, 0 failed"
	exit 0
fi
corpus=$(cd "$corpus" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

awk -F'\t' '!/^#/ && NF > 0 && ($5 == "" || NF != 5) { print "no reason: " $0 }' \
    "$want" >"$tmp/noreason"
if [ -s "$tmp/noreason" ]; then
	cat "$tmp/noreason"
	failed=$((failed + 1))
fi

find "$corpus" -type f \( -name '*.pcap' -o -name '*.pcapng' -o \
    -name '*.pcap.gz' \) | sort >"$tmp/files"
while read -r f; do
	rel=${f#"$corpus"/}
	rm -f "$tmp/db" "$tmp/db-wal" "$tmp/db-shm"
	"$bin" -q --no-fetch -r "$f" -w "$tmp/db" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
		echo "FAIL $rel: exit $rc"
		cat "$tmp/err"
		failed=$((failed + 1))
		continue
	fi
	sqlite3 -separator '	' "$tmp/db" "SELECT '$rel', kind, severity,
	    frame FROM alerts ORDER BY ts, id" | sort >"$tmp/got"
	awk -F'\t' -v f="$rel" '$1 == f { print $1 "\t" $2 "\t" $3 "\t" $4 }' \
	    "$want" | sort >"$tmp/exp"
	if diff -u "$tmp/exp" "$tmp/got" >"$tmp/diff"; then
		passed=$((passed + 1))
	else
		echo "FAIL $rel: alerts differ from tests/public-alerts.tsv"
		cat "$tmp/diff"
		failed=$((failed + 1))
	fi
done <"$tmp/files"
echo "public-alerts: $passed passed, $failed failed"
[ $failed -eq 0 ]
