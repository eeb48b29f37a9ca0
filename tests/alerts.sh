#!/bin/sh
# alerts.sh - alert behaviour across runs and feeds:
#  - STARTTLS history persists in the database: a server seen offering
#    STARTTLS in one run and not in a later one raises starttls_missing;
#  - the same later capture alone raises nothing of the kind;
#  - --json writes one valid JSON object per alert, the same alerts the
#    database holds, whatever bytes were on the wire;
#  - a bad --expect-starttls file is refused with its line number.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin="$top/stripwatch"
py=${PYTHON:-/usr/bin/python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok() { echo "PASS $1"; passed=$((passed + 1)); }
ko() { echo "FAIL $1"; failed=$((failed + 1)); }

# History across runs: postfix offered STARTTLS (clean-starttls); later a
# session through the attacker's proxy lost the line (strip-line-removed).
"$bin" -q --no-fetch -r "$top/pcaps/clean-starttls/input.pcap" -w "$tmp/h.db"
"$bin" -q --no-fetch -r "$top/pcaps/strip-line-removed/input.pcap" -w "$tmp/h.db"
n=$(sqlite3 "$tmp/h.db" "SELECT count(*) FROM alerts WHERE
    kind='starttls_missing' AND run_id=2")
[ "$n" = 1 ] && ok "history across runs" || ko "history across runs: $n"

"$bin" -q --no-fetch -r "$top/pcaps/strip-line-removed/input.pcap" -w "$tmp/alone.db"
n=$(sqlite3 "$tmp/alone.db" "SELECT count(*) FROM alerts WHERE
    kind='starttls_missing'")
[ "$n" = 0 ] && ok "no history, no starttls_missing" ||
    ko "no history: $n starttls_missing"

# The same server earlier in one run counts too (two files, one run).
"$bin" -q --no-fetch -r "$top/pcaps/clean-starttls/input.pcap" \
    -r "$top/pcaps/strip-line-removed/input.pcap" -w "$tmp/one.db"
n=$(sqlite3 "$tmp/one.db" "SELECT count(*) FROM alerts WHERE
    kind='starttls_missing'")
[ "$n" = 1 ] && ok "history within a run" || ko "history within a run: $n"

# JSON feed: parsed, not string-compared.
for c in strip-xxxxxxxa inject-after-220 starttls-cmd-mangled; do
	"$bin" -q --no-fetch -r "$top/pcaps/$c/input.pcap" -w "$tmp/j-$c.db" \
	    --json "$tmp/j-$c.json"
	if "$py" - "$tmp/j-$c.json" "$tmp/j-$c.db" <<'PYEOF'
import json, sqlite3, sys
lines = open(sys.argv[1], encoding="ascii").read().splitlines()
objs = [json.loads(l) for l in lines]
db = sqlite3.connect(sys.argv[2])
rows = db.execute("SELECT id, kind, severity, ts, client_ip, client_port,"
                  " server_ip, server_port, frame, evidence FROM alerts"
                  " ORDER BY id").fetchall()
assert len(objs) == len(rows) > 0, (len(objs), len(rows))
for o, r in zip(objs, rows):
    # ECS objects (README: SIEM feed); @timestamp is checked in feed.sh.
    got = (int(o["event"]["id"]), o["rule"]["name"], o["log"]["level"],
           o["source"]["ip"], o["source"]["port"], o["destination"]["ip"],
           o["destination"]["port"], o["stripwatch"]["frame"],
           o["stripwatch"]["evidence"])
    assert got == tuple(r[:3]) + tuple(r[4:]), (got, r)
PYEOF
	then ok "json $c"; else ko "json $c"; fi
done

# Evidence with every byte value stays valid JSON.
"$py" - "$tmp/bytes.pcap" <<'PYEOF'
import struct, sys
def pkt(src, dst, sp, dp, seq, flags, data=b""):
    tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, 1, 5 << 4, flags, 65535, 0, 0) + data
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0,
                     bytes(src), bytes(dst))
    return ip + tcp
c, s = [10, 0, 0, 1], [10, 0, 0, 2]
junk = bytes(range(256)).replace(b"\n", b"")
frames = [pkt(c, s, 4000, 25, 100, 0x02), pkt(s, c, 25, 4000, 500, 0x12),
          pkt(s, c, 25, 4000, 501, 0x18, b"220 mx ESMTP\r\n"),
          pkt(c, s, 4000, 25, 101, 0x18, b"EHLO x\r\n"),
          pkt(s, c, 25, 4000, 515, 0x18, b"250-mx\r\n250 STARTTLS\r\n"),
          pkt(c, s, 4000, 25, 109, 0x18, b"STARTTLS\r\n" + junk + b"\r\n")]
out = open(sys.argv[1], "wb")
out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
for i, f in enumerate(frames):
    out.write(struct.pack("<IIII", 1700000000 + i, 0, len(f), len(f)) + f)
PYEOF
"$bin" -q --no-fetch -r "$tmp/bytes.pcap" -w "$tmp/b.db" --json "$tmp/b.json"
if "$py" -c 'import json,sys; o=[json.loads(l) for l in open(sys.argv[1])]; assert any(x["rule"]["name"]=="starttls_command_injection" for x in o), o' "$tmp/b.json"; then
	ok "json with raw bytes"
else
	ko "json with raw bytes"
fi

# A broken --expect-starttls file names its line.
printf '192.0.2.0/24\nnot-an-address\n' >"$tmp/expect.txt"
"$bin" -q --no-fetch -r "$top/pcaps/clean-starttls/input.pcap" -w "$tmp/e.db" \
    --expect-starttls "$tmp/expect.txt" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -q "expect.txt:2" "$tmp/err"; then
	ok "bad expect file"
else
	ko "bad expect file: exit $rc: $(cat "$tmp/err")"
fi
echo "alerts: $passed passed, $failed failed"
[ $failed -eq 0 ]
