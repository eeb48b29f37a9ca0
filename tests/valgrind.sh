#!/bin/bash
# valgrind.sh - the unit tests and the sensor under valgrind's memcheck:
# no invalid read or write, no use of uninitialised memory, no definite or
# indirect leak (valgrind exits 99 on any of them).
#
# The sensor runs on every capture of pcaps/ at once (default mode and
# --all-flows), on the two damaged ones alone (exit 3 expected), on small
# adversarial captures (tests/mkadversarial.py: conflicting overlaps,
# sequence wrap, fragments, zero windows, bogus TLS, a downgrade in a small
# flood), and `stripwatch alerts` reads the result in each format.
# Skipped without valgrind, and for sanitizer builds (ASan and valgrind
# do not mix).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
py=/usr/bin/python3
bin="$top/stripwatch"
passed=0 failed=0
t_start=$(date +%s)

if ! command -v valgrind >/dev/null 2>&1; then
	echo "SKIP valgrind: not installed"
	echo "valgrind: 0 passed, 0 failed"
	exit 0
fi
if [ -n "${SANITIZER:-}" ]; then
	echo "SKIP valgrind: sanitizer build"
	echo "valgrind: 0 passed, 0 failed"
	exit 0
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# vg NAME WANT_STATUS COMMAND...
vg() {
	local name=$1 want=$2 rc
	shift 2
	valgrind -q --error-exitcode=99 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect "$@" \
	    >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq "$want" ]; then
		echo "PASS valgrind $name"
		passed=$((passed + 1))
	else
		echo "FAIL valgrind $name: exit $rc (want $want)"
		grep -v '^stripwatch: ' "$tmp/err" | head -40
		failed=$((failed + 1))
	fi
}

for t in "$@"; do
	vg "$t" 0 "$t"
done

opts="-q --no-fetch --ca-file pcaps/tls-ca.pem"
all="" damaged=""
for p in pcaps/*/input.pcap*; do
	case $p in
	pcaps/bogus-record-length/*|pcaps/truncated-file/*)
		damaged="$damaged $p" ;;
	*)	all="$all -r $p" ;;
	esac
done
# shellcheck disable=SC2086
vg "every fixture capture" 0 "$bin" $opts -w "$tmp/all.db" $all
# shellcheck disable=SC2086
vg "every fixture capture, --all-flows" 0 "$bin" $opts --all-flows \
    -w "$tmp/all-flows.db" $all
for p in $damaged; do
	vg "$p (damaged)" 3 "$bin" $opts -w "$tmp/damaged.db" -r "$p"
done

"$py" tests/mkadversarial.py --haystack-flows 2000 --haystack-syns 2000 \
    "$tmp" overlap-conflict seq-wrap fragments zero-window bogus-tls haystack
for s in overlap-conflict seq-wrap fragments zero-window bogus-tls haystack; do
	vg "adversarial $s" 0 "$bin" $opts -w "$tmp/adv.db" -r "$tmp/$s.pcap"
done
for f in table json csv; do
	vg "alerts --format $f" 0 "$bin" alerts -w "$tmp/all.db" --format $f
done

echo "valgrind: took $(($(date +%s) - t_start)) s"
echo "valgrind: $passed passed, $failed failed"
[ $failed -eq 0 ]
