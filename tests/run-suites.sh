#!/bin/sh
# run-suites.sh SUITE... - runs `make SUITE` for each suite, even after a
# failure, and ends with the total "N passed, M failed" over all suites'
# own counts.
set -u
passed=0 failed=0 bad=""
for s in "$@"; do
	out=$(${MAKE:-make} -s --no-print-directory "$s" 2>&1)
	rc=$?
	echo "$out"
	line=$(echo "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	p=$(echo "$line" | sed -n 's/^\(.*[^0-9]\)\{0,1\}\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\2/p')
	f=$(echo "$line" | sed -n 's/^\(.*[^0-9]\)\{0,1\}\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\3/p')
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0}))
	if [ $rc -ne 0 ]; then
		bad="$bad $s"
		[ "${f:-0}" -eq 0 ] && failed=$((failed + 1))
	fi
done
[ -n "$bad" ] && echo "failed suites:$bad"
echo "$passed passed, $failed failed"
[ -z "$bad" ]
