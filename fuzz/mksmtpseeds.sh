#!/bin/sh
# mksmtpseeds.sh - writes fuzz/corpus/smtp/ seeds from the project's own
# captures: each TCP payload in packet order becomes a record
# (op = direction, 2-byte length, bytes) for fuzz_smtp.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out="$top/fuzz/corpus/smtp"
mkdir -p "$out"
for d in "$top"/pcaps/*/; do
	c=$(basename "$d")
	tshark -r "$d/input.pcap" -Y "tcp.len > 0 && tcp.stream == 0" \
	    -T fields -e tcp.srcport -e tcp.dstport -e tcp.payload 2>/dev/null |
	/usr/bin/python3 -c '
import sys, struct
recs = []
first = None
for line in sys.stdin:
    f = line.rstrip("\n").split("\t")
    if len(f) < 3 or not f[2]:
        continue
    sp, dp, data = int(f[0]), int(f[1]), bytes.fromhex(f[2].replace(":", ""))
    # the side that is not the lower (server) port is the client
    server = min(sp, dp) if first is None else first
    first = server
    d = 1 if sp == server else 0
    recs.append(struct.pack("!BH", d, len(data)) + data)
sys.stdout.buffer.write(b"\x00" + b"".join(recs))
' >"$out/seed-$c"
	[ -s "$out/seed-$c" ] || rm -f "$out/seed-$c"
done
ls "$out" | wc -l
