#!/bin/sh
# run-units.sh BIN... - runs each unit-test binary and sums their results.
passed=0 failed=0
for t in "$@"; do
	out=$("$t") ; rc=$?
	echo "$out"
	line=$(echo "$out" | tail -n 1)
	p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
	f=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
	if [ -z "$p" ] || [ $rc -ne 0 -a "${f:-0}" -eq 0 ]; then
		echo "$t: crashed or printed no result (exit $rc)"
		failed=$((failed + 1))
		continue
	fi
	passed=$((passed + p)) failed=$((failed + f))
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
