#!/usr/bin/env bash
# bench/run.sh: throughput and memory of stripwatch against a floor and two
# reference tools, side by side on one large capture.
#
# A benchmark, not a test: `make test` does not run it. One command does it
# all: it builds bench/readloop and bench/mkcapture into $WORK/bin, runs
# `make` for ./stripwatch, builds (or reuses) a capture of the chosen size
# from the seed captures, warms the page cache, then runs each tool REPS
# times on the same file and prints a Markdown table (also written to
# $WORK/results.md).
#
# Usage: bench/run.sh [options]
#   --size SIZE          capture size, K/M/G suffix (env SIZE, default 2G)
#   --reps N             runs per tool; the best wall time is reported, the
#                        median beside it (env REPS, default 3)
#   --capture FILE       use this capture instead of building one (env CAPTURE)
#   --smtp-ratio PCT     mkcapture --smtp-ratio (env SMTP_RATIO, default 30)
#   --concurrency N      mkcapture --concurrency (env CONCURRENCY, default 5000)
#   --seed N             mkcapture --seed (env SEED, default 1)
#   --rate MBIT          mkcapture --rate: mean bit rate of the capture's clock
#                        (env RATE, default 1000). It sets the capture's time
#                        span (2 GiB at 1000 Mbit/s ~ 20 s), hence whether
#                        pcap-time flow expiry ever fires: lower it to let
#                        closed/idle flows expire during the run.
#   --tools LIST         comma list out of readloop,readloop-own,stripwatch,
#                        ndpiReader,tshark (env TOOLS, default all; readloop
#                        always runs, it is the floor; readloop-own is the
#                        same loop over stripwatch's own pcap reader,
#                        capture/pcapfile.c: what reading costs stripwatch)
#   --tshark-max-seconds S   (env TSHARK_MAX_SECONDS, default 300)
#   --tshark-max-rss-mb MB   (env TSHARK_MAX_RSS_MB, default 8192)
#   --tshark-packets N   run tshark on the first N packets (env TSHARK_PACKETS;
#                        0 = whole file, unset = decide from a probe)
#   --pin CPU            run every tool under `taskset -c CPU` (env PIN)
#   --instructions       also count, under callgrind, the instructions a packet
#                        of readloop, readloop-own and stripwatch (the selected
#                        ones) and stripwatch's by part (bench/components.awk):
#                        repeatable where wall time is not, but slow (~6 min
#                        for 1 GiB) (env INSTRUCTIONS=1)
#   -h, --help
#
# Environment only: WORK (default /tmp/stripwatch-bench), SEEDS (space-
# separated seed captures; default: pcaps/*/input.pcap of this repository
# plus every pcap/pcapng/pcap.gz under ../shared/pcaps/public except
# ndpi/synscan.pcap, a port scan of 2011 SYN/RST packets).
#
# Captures are cached in $WORK as capture-SIZE-KEY.pcap, KEY being a hash of
# mkcapture.c, its options and the seeds' contents; delete them to rebuild.
#
# tshark is slow (~60 k packets/s here) and keeps state for every packet
# (~0.9 KB each). Before the timed runs it is probed on a prefix of the
# capture; when the whole file would take more than TSHARK_MAX_SECONDS per
# run, or more than TSHARK_MAX_RSS_MB of memory, tshark runs on a prefix
# (made with editcap) sized to fit both limits. Its row then says so, and
# its packets/s and ratios are computed over the prefix's packets, so they
# stay comparable with the other rows (whose rates are over the whole file).
#
# Columns: wall = elapsed seconds (best of REPS; median beside it);
# packets/s and Gbit/s over the packets the tool read (Gbit/s counts the
# captured packet bytes, not the pcap record headers); peak RSS from
# /usr/bin/time -v (largest of the runs); CPU = user + system seconds of the
# best run, and packets per CPU second beside it (steadier than wall time
# when other jobs share the cores: compare the load averages printed in the
# header); "x floor" = packets/s divided by readloop's packets/s; "x nDPI"
# = packets/s divided by ndpiReader's packets/s.
#
# Exit: 0 when every selected tool ran (a tool that exits non-zero is marked
# in the table and does not stop the others), 1 on a setup error.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${WORK:-/tmp/stripwatch-bench}
SIZE=${SIZE:-2G}
REPS=${REPS:-3}
CAPTURE=${CAPTURE:-}
SMTP_RATIO=${SMTP_RATIO:-30}
CONCURRENCY=${CONCURRENCY:-5000}
SEED=${SEED:-1}
RATE=${RATE:-1000}
TOOLS=${TOOLS:-readloop,readloop-own,stripwatch,ndpiReader,tshark}
TSHARK_MAX_SECONDS=${TSHARK_MAX_SECONDS:-300}
TSHARK_MAX_RSS_MB=${TSHARK_MAX_RSS_MB:-8192}
TSHARK_PACKETS=${TSHARK_PACKETS:-}
PIN=${PIN:-}
INSTRUCTIONS=${INSTRUCTIONS:-}

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
	case "$1" in
	--size) SIZE=$2; shift 2 ;;
	--reps) REPS=$2; shift 2 ;;
	--capture) CAPTURE=$2; shift 2 ;;
	--smtp-ratio) SMTP_RATIO=$2; shift 2 ;;
	--concurrency) CONCURRENCY=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--rate) RATE=$2; shift 2 ;;
	--tools) TOOLS=$2; shift 2 ;;
	--tshark-max-seconds) TSHARK_MAX_SECONDS=$2; shift 2 ;;
	--tshark-max-rss-mb) TSHARK_MAX_RSS_MB=$2; shift 2 ;;
	--tshark-packets) TSHARK_PACKETS=$2; shift 2 ;;
	--pin) PIN=$2; shift 2 ;;
	--instructions) INSTRUCTIONS=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
	esac
done
case "$REPS" in ''|*[!0-9]*|0) echo "run.sh: --reps wants a positive number" >&2; exit 1 ;; esac
want() { case ",$TOOLS," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }
log() { echo "run.sh: $*" >&2; }

mkdir -p "$WORK/bin" "$WORK/runs"

# ---- dependencies (Debian packages) ----
need_pkgs=()
command -v cc >/dev/null || need_pkgs+=(gcc libc6-dev)
[ -e /usr/include/pcap/pcap.h ] || need_pkgs+=(libpcap-dev)
[ -x /usr/bin/time ] || need_pkgs+=(time)
if want ndpiReader; then command -v ndpiReader >/dev/null || need_pkgs+=(libndpi-bin); fi
if want tshark; then command -v tshark >/dev/null && command -v editcap >/dev/null || need_pkgs+=(tshark); fi
if [ -n "$INSTRUCTIONS" ]; then command -v callgrind_annotate >/dev/null || need_pkgs+=(valgrind); fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		log "installing ${need_pkgs[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >&2 ||
			{ apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >&2; }
	else
		log "missing: ${need_pkgs[*]} (apt-get install them)"; exit 1
	fi
fi

# ---- build ----
build() { # name [more sources]
	local src="$ROOT/bench/$1.c" bin="$WORK/bin/$1" f newer=
	shift
	for f in "$src" "$@"; do [ "$f" -nt "$bin" ] && newer=1; done
	if [ ! -x "$bin" ] || [ -n "$newer" ]; then
		cc -O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Wshadow -Wformat=2 \
		    -I"$ROOT" -o "$bin" "$src" "$@" -lpcap
	fi
}
build readloop "$ROOT/capture/pcapfile.c"
build mkcapture
READLOOP=$WORK/bin/readloop
MKCAPTURE=$WORK/bin/mkcapture

SW_NOTE=
if want stripwatch; then
	if [ -f "$ROOT/Makefile" ]; then
		log "make (log in $WORK/make.log)"
		make -C "$ROOT" >"$WORK/make.log" 2>&1 || SW_NOTE="make failed, see $WORK/make.log"
	fi
	if [ ! -x "$ROOT/stripwatch" ]; then
		SW_NOTE=${SW_NOTE:-"./stripwatch not built"}
		log "stripwatch skipped: $SW_NOTE"
	fi
fi

# ---- capture ----
if [ -z "$CAPTURE" ]; then
	if [ -z "${SEEDS:-}" ]; then
		SEEDS=$( { ls "$ROOT"/pcaps/*/input.pcap 2>/dev/null || true
			if [ -d "$ROOT/../shared/pcaps/public" ]; then
				find "$ROOT/../shared/pcaps/public" -type f \
				    \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.pcap.gz' \) \
				    ! -path '*/ndpi/synscan.pcap'
			fi; } | LC_ALL=C sort)
	fi
	[ -n "$SEEDS" ] || { log "no seed captures found (set SEEDS)"; exit 1; }
	# shellcheck disable=SC2086
	key=$( { sha256sum "$ROOT/bench/mkcapture.c"
		echo "$SIZE $SMTP_RATIO $CONCURRENCY $SEED $RATE"
		sha256sum $SEEDS | awk '{print $1}'; } | sha256sum | cut -c1-12)
	CAPTURE=$WORK/capture-$SIZE-$key.pcap
	if [ -s "$CAPTURE" ]; then
		log "reusing $CAPTURE"
	else
		log "building $CAPTURE from $(echo "$SEEDS" | wc -w) seeds"
		# shellcheck disable=SC2086
		"$MKCAPTURE" -o "$CAPTURE.tmp" -s "$SIZE" -r "$SMTP_RATIO" \
		    -c "$CONCURRENCY" -S "$SEED" -R "$RATE" $SEEDS 2>"$CAPTURE.log"
		mv "$CAPTURE.tmp" "$CAPTURE"
		sed 's/^/  /' "$CAPTURE.log" >&2
	fi
fi
[ -r "$CAPTURE" ] || { log "cannot read $CAPTURE"; exit 1; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "warming the page cache"
cat "$CAPTURE" >/dev/null
FILE_BYTES=$(stat -c %s "$CAPTURE")
read -r PKTS CAPBYTES < <("$READLOOP" "$CAPTURE" | sed 's/[a-z_]*=//g' | awk '{print $1, $2}')

# ---- timing ----
PINCMD=()
[ -n "$PIN" ] && PINCMD=(taskset -c "$PIN")

# run_tool NAME PACKETS BYTES INPUT_NOTE cmd... : REPS timed runs, appends a row
ROWS=()
declare -A PPS
run_tool() {
	local name=$1 pk=$2 by=$3 note=$4; shift 4
	local i t0 t1 rc walls=() best='' bestcpu='' rss=0 rcs='' r cpu wall
	for ((i = 1; i <= REPS; i++)); do
		local d=$WORK/runs/$name.$i
		[ "$name" = stripwatch ] && rm -f "$WORK/stripwatch.db"
		t0=$(date +%s.%N)
		rc=0
		/usr/bin/time -v -o "$d.time" "${PINCMD[@]}" "$@" >"$d.out" 2>"$d.err" || rc=$?
		t1=$(date +%s.%N)
		wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')
		walls+=("$wall")
		r=$(awk -F': ' '/Maximum resident set size/{print $2}' "$d.time")
		cpu=$(awk -F': ' '/User time/{u=$2} /System time/{s=$2} END{printf "%.2f", u+s}' "$d.time")
		[ "${r:-0}" -gt "$rss" ] && rss=$r
		if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN{exit !(a<b)}'; then
			best=$wall; bestcpu=$cpu
		fi
		[ "$rc" != 0 ] && rcs="$rcs $rc"
		log "$name run $i: ${wall}s, RSS $((r / 1024)) MB, exit $rc"
	done
	local median
	median=$(printf '%s\n' "${walls[@]}" | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
	PPS[$name]=$(awk -v p="$pk" -v w="$best" 'BEGIN{printf "%.1f", p/w}')
	[ -n "$rcs" ] && note="$note; exit status:$rcs"
	ROWS+=("$name|$pk|$by|$best|$median|$rss|$bestcpu|$note")
}

run_tool readloop "$PKTS" "$CAPBYTES" "whole file" "$READLOOP" "$CAPTURE"
if want readloop-own; then
	run_tool readloop-own "$PKTS" "$CAPBYTES" "whole file; not the floor" \
	    "$READLOOP" -o "$CAPTURE"
fi

if want stripwatch && [ -z "$SW_NOTE" ]; then
	run_tool stripwatch "$PKTS" "$CAPBYTES" "whole file" \
	    "$ROOT/stripwatch" -r "$CAPTURE" -w "$WORK/stripwatch.db"
fi

if want ndpiReader; then
	run_tool ndpiReader "$PKTS" "$CAPBYTES" "whole file" ndpiReader -q -i "$CAPTURE"
fi

TS_NOTE=
if want tshark; then
	TS_FILE=$CAPTURE; TS_PKTS=$PKTS; TS_BYTES=$CAPBYTES; TS_NOTE="whole file"
	if [ -z "$TSHARK_PACKETS" ]; then
		probe=$(( PKTS < 300000 ? PKTS : 300000 ))
		if [ "$probe" -lt "$PKTS" ]; then
			editcap -r "$CAPTURE" "$WORK/tshark-probe.pcap" "1-$probe" >/dev/null
			pf=$WORK/tshark-probe.pcap
		else
			pf=$CAPTURE
		fi
		t0=$(date +%s.%N)
		/usr/bin/time -v -o "$WORK/runs/tshark.probe.time" "${PINCMD[@]}" \
		    tshark -r "$pf" -Y smtp -q >/dev/null 2>&1 || true
		t1=$(date +%s.%N)
		prss=$(awk -F': ' '/Maximum resident set size/{print $2}' "$WORK/runs/tshark.probe.time")
		# Packets that fit both limits, with 20% headroom for growing state.
		TSHARK_PACKETS=$(awk -v p="$probe" -v w="$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')" \
		    -v r="$prss" -v n="$PKTS" -v ms="$TSHARK_MAX_SECONDS" -v mr="$TSHARK_MAX_RSS_MB" 'BEGIN{
			byt = ms / (w / p) / 1.2
			byr = mr * 1024 / (r / p) / 1.2
			k = byt < byr ? byt : byr
			if (k >= n) print 0; else printf "%d", k }')
		log "tshark probe: $probe packets in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')s, RSS $((prss / 1024)) MB -> $( [ "$TSHARK_PACKETS" = 0 ] && echo "whole file" || echo "first $TSHARK_PACKETS packets")"
		rm -f "$WORK/tshark-probe.pcap"
	fi
	if [ "$TSHARK_PACKETS" != 0 ] && [ "$TSHARK_PACKETS" -lt "$PKTS" ]; then
		TS_FILE=$WORK/tshark-prefix.pcap
		editcap -r "$CAPTURE" "$TS_FILE" "1-$TSHARK_PACKETS" >/dev/null
		read -r TS_PKTS TS_BYTES < <("$READLOOP" "$TS_FILE" | sed 's/[a-z_]*=//g' | awk '{print $1, $2}')
		cat "$TS_FILE" >/dev/null
		TS_NOTE="first $TS_PKTS packets (limits ${TSHARK_MAX_SECONDS}s, ${TSHARK_MAX_RSS_MB} MB)"
	fi
	run_tool tshark "$TS_PKTS" "$TS_BYTES" "$TS_NOTE" tshark -r "$TS_FILE" -Y smtp -q
	if [ "$TS_FILE" != "$CAPTURE" ]; then rm -f "$TS_FILE"; fi
fi

# ---- instructions (callgrind) ----
# count_instructions NAME cmd... : one run under callgrind, its total kept
INSTR=()
count_instructions() {
	local name=$1 out=$WORK/runs/$1.callgrind n; shift
	log "$name under callgrind"
	[ "$name" = stripwatch ] && rm -f "$WORK/stripwatch.db"
	valgrind --tool=callgrind --callgrind-out-file="$out" "$@" \
	    >/dev/null 2>"$WORK/runs/$name.callgrind.err" || true
	n=$(callgrind_annotate --auto=no "$out" 2>/dev/null |
	    awk '/PROGRAM TOTALS/{gsub(",", "", $1); print $1}')
	INSTR+=("$name|${n:-0}")
}
if [ -n "$INSTRUCTIONS" ]; then
	count_instructions readloop "$READLOOP" "$CAPTURE"
	want readloop-own && count_instructions readloop-own "$READLOOP" -o "$CAPTURE"
	if want stripwatch && [ -z "$SW_NOTE" ]; then
		count_instructions stripwatch "$ROOT/stripwatch" -r "$CAPTURE" \
		    -w "$WORK/stripwatch.db"
	fi
fi

# ---- report ----
cpu=$(awk -F': *' '/^model name/{print $2; exit}' /proc/cpuinfo)
sessions=$(sed -n 's/.* packets, \([0-9]*\) sessions (\([0-9]*\) SMTP.*/\1 sessions, \2 of them SMTP/p' "$CAPTURE.log" 2>/dev/null || true)
{
	echo "### stripwatch benchmark, $(date -u +%Y-%m-%d)"
	echo
	echo "- capture: \`$CAPTURE\`, $FILE_BYTES bytes ($(awk -v b="$FILE_BYTES" 'BEGIN{printf "%.2f GiB", b/1073741824}')), $PKTS packets, $CAPBYTES packet bytes${sessions:+, $sessions}"
	[ -s "$CAPTURE.log" ] && echo "- built by bench/mkcapture: size $SIZE, SMTP ratio $SMTP_RATIO% of bytes, concurrency $CONCURRENCY, rate $RATE Mbit/s, seed $SEED; $(sed -n 's/^mkcapture: time span \([0-9.]*\) s.*/time span \1 s/p' "$CAPTURE.log")"
	echo "- machine: $cpu, $(nproc) cores; page cache warm; $REPS runs per tool, best wall time${PIN:+; pinned to CPU $PIN}"
	[ -n "$SW_NOTE" ] && want stripwatch && echo "- stripwatch: not run ($SW_NOTE)"
	echo "- load average before / after the runs: $LOAD_BEFORE / $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "| tool | input | packets | wall s (best) | wall s (median) | packets/s | Gbit/s | peak RSS MB | CPU s | packets/CPU-s | x floor | x nDPI |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for row in "${ROWS[@]}"; do
		IFS='|' read -r name pk by best median rss cpus note <<<"$row"
		awk -v n="$name" -v pk="$pk" -v by="$by" -v b="$best" -v m="$median" \
		    -v rss="$rss" -v cpu="$cpus" -v note="$note" \
		    -v fl="${PPS[readloop]:-0}" -v nd="${PPS[ndpiReader]:-0}" 'BEGIN{
			pps = pk / b
			fr = fl > 0 ? sprintf("%.3f", pps / fl) : "-"
			nr = nd > 0 ? sprintf("%.2f", pps / nd) : "-"
			cps = cpu > 0 ? sprintf("%.0f", pk / cpu) : "-"
			printf "| %s | %s | %d | %.2f | %.2f | %.0f | %.3f | %.0f | %s | %s | %s | %s |\n",
			    n, note, pk, b, m, pps, by * 8 / b / 1e9, rss / 1024, cpu, cps, fr, nr }'
	done
	# The performance issue's packet-rate targets, on this run's figures.
	if [ -n "${PPS[stripwatch]:-}" ]; then
		echo
		awk -v sw="${PPS[stripwatch]}" -v fl="${PPS[readloop]:-0}" \
		    -v nd="${PPS[ndpiReader]:-0}" 'BEGIN{
			if (fl > 0)
				printf "- target: stripwatch at >= 0.5x the floor: %.3fx, %s\n",
				    sw / fl, (sw / fl >= 0.5 ? "met" : "NOT met")
			if (nd > 0)
				printf "- target: stripwatch at >= 3x ndpiReader: %.2fx, %s\n",
				    sw / nd, (sw / nd >= 3 ? "met" : "NOT met")
		}'
	fi
	if [ ${#INSTR[@]} -gt 0 ]; then
		echo
		echo "Instructions counted by callgrind (one run each):"
		echo
		for row in "${INSTR[@]}"; do
			IFS='|' read -r name n <<<"$row"
			awk -v t="$name" -v n="$n" -v p="$PKTS" 'BEGIN{
			    printf "- %s: %.2f G, %.0f a packet\n", t, n / 1e9, n / p }'
		done
		if [ -s "$WORK/runs/stripwatch.callgrind" ]; then
			echo
			echo "stripwatch's instructions by part:"
			echo
			echo '```'
			callgrind_annotate --auto=no --threshold=100 \
			    "$WORK/runs/stripwatch.callgrind" 2>/dev/null |
			    awk -f "$ROOT/bench/components.awk"
			echo '```'
		fi
	fi
	if want stripwatch && [ -z "$SW_NOTE" ]; then
		echo
		echo "stripwatch summary (stderr of the last run):"
		echo
		echo '```'
		tail -n 30 "$WORK/runs/stripwatch.$REPS.err"
		if command -v sqlite3 >/dev/null && [ -s "$WORK/stripwatch.db" ]; then
			for t in $(sqlite3 "$WORK/stripwatch.db" "select name from sqlite_master where type='table' order by name" 2>/dev/null); do
				echo "db table $t: $(sqlite3 "$WORK/stripwatch.db" "select count(*) from \"$t\"" 2>/dev/null) rows"
			done
		fi
		echo '```'
	fi
} | tee "$WORK/results.md"
log "written $WORK/results.md"
