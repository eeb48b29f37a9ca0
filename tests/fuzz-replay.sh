#!/bin/sh
# fuzz-replay.sh - replay the fuzz corpora and crashers through the gcc-built
# replayers (fuzz/replay_<target>, from `make fuzz-replay`); fail on any crash.
#
# Usage: tests/fuzz-replay.sh [TARGET...]   (default: every fuzz/replay_*)
#
# Each directory (fuzz/corpus/<t>/, fuzz/crashers/<t>/) is replayed in one
# process.  If that process fails, its files are replayed one by one to name
# the inputs that crash.  Ends with "N passed, M failed", counting inputs.
set -u
cd "$(dirname "$0")/.." || exit 1

log=$(mktemp) || exit 1
one=$(mktemp) || exit 1
list=$(mktemp) || exit 1
trap 'rm -f "$log" "$one" "$list"' EXIT
limit=${FUZZ_REPLAY_TIMEOUT:-600}	# seconds per directory
passed=0
failed=0

if [ $# -eq 0 ]; then
	for r in fuzz/replay_*; do
		[ -x "$r" ] && set -- "$@" "${r#fuzz/replay_}"
	done
fi
[ $# -gt 0 ] || { echo "fuzz-replay: no replayers; run make fuzz-replay" >&2; exit 1; }

for t in "$@"; do
	bin=fuzz/replay_$t
	if [ ! -x "$bin" ]; then
		echo "fuzz-replay: $bin missing" >&2
		failed=$((failed + 1))
		continue
	fi
	for dir in fuzz/corpus/$t fuzz/crashers/$t; do
		[ -d "$dir" ] || continue
		if timeout "$limit" "$bin" "$dir" >"$log" 2>&1; then
			n=$(sed -n 's/^\([0-9][0-9]*\) inputs replayed$/\1/p' "$log")
			passed=$((passed + ${n:-0}))
			echo "fuzz-replay: $dir: ${n:-0} inputs replayed"
			continue
		fi
		# Something crashed: find which inputs, one process each.
		echo "fuzz-replay: $dir: replay failed; trying inputs one by one"
		before=$failed
		find "$dir" -type f ! -name '.*' | LC_ALL=C sort >"$list"
		while IFS= read -r f; do
			if timeout "$limit" "$bin" "$f" >"$one" 2>&1; then
				passed=$((passed + 1))
			else
				failed=$((failed + 1))
				echo "FAIL $t: $f"
				tail -n 25 "$one" | sed 's/^/    /'
			fi
		done <"$list"
		if [ "$failed" -eq "$before" ]; then
			# Each input passes alone: the failure needs several.
			failed=$((failed + 1))
			echo "FAIL $t: $dir fails only when replayed in one process"
			tail -n 25 "$log" | sed 's/^/    /'
		fi
	done
done
echo "fuzz-replay: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
