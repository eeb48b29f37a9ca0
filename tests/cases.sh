#!/bin/sh
# cases.sh - tests/mkcases.py still makes the committed hand-made cases.
#
# The generator runs over a copy of pcaps/ (it needs the real-software
# cases it derives from, and keeps the sections added to a README by
# hand); every file it writes must come out byte for byte as committed.
# One check per case directory.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

cp -R "$top/pcaps" "$tmp/cases"
if ! "$py" "$top/tests/mkcases.py" "$tmp/cases" >"$tmp/log" 2>&1; then
	echo "FAIL cases: tests/mkcases.py failed:"
	tail -n 5 "$tmp/log"
	echo "0 passed, 1 failed"
	exit 1
fi
for d in "$top"/pcaps/*/; do
	name=$(basename "$d")
	if diff -r "$d" "$tmp/cases/$name" >"$tmp/diff" 2>&1; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL cases: $name differs from what tests/mkcases.py makes:"
		head -n 20 "$tmp/diff"
	fi
done
# A case the generator makes that is not committed.
for d in "$tmp"/cases/*/; do
	name=$(basename "$d")
	if [ ! -d "$top/pcaps/$name" ]; then
		failed=$((failed + 1))
		echo "FAIL cases: $name is made but not committed"
	fi
done
echo "cases: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
