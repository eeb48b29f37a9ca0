#!/usr/bin/env bash
# reseg_test.sh - segmentation-invariance test for stripwatch's TCP reassembly.
#
# For each capture, tests/resegment.py writes variants that carry the same
# TCP byte streams in different packets (split, coalesce, reorder, duplicate,
# all = split+reorder+duplicate, wrap = sequence numbers wrapping past 2^32).
# stripwatch runs on the original and on every variant; for every connection
# (matched by client ip/port + server ip/port, in first_ts order) c2s/s2c
# bytes and SHA-256 must be identical and c2s_gaps, s2c_gaps and conflicts
# must equal the original's.
#
# Usage: tests/reseg_test.sh [options] [CAPTURE ...]
#   -j N           parallel jobs (default: number of CPUs, at most 4)
#   --tshark       check the variants with tshark instead of stripwatch: the
#                  "follow,tcp,raw" byte stream of every TCP stream of the
#                  variant must equal the original's (validates resegment.py)
#   --both         run the stripwatch check and the tshark check
#   --bin PATH     stripwatch binary (default: ./stripwatch at the repo root)
#   --keep DIR     keep variants and databases in DIR (default: temp dir,
#                  removed at exit)
#   --variants L   space-separated MODE:SEED list (default below)
#   -v             print every flow difference, not only the first few
# Without CAPTURE arguments: every pcaps/*/input.pcap of the repo plus the
# list DEFAULT_SHARED below, taken from ../shared/pcaps/public when it exists.
# Prints one PASS/FAIL line per variant, ends with "reseg: N passed, M failed";
# exits 1 on any failure (2 on usage errors).
#
# Choices, documented:
#  * stripwatch always runs with --no-checksum, on the original and on the
#    variants.  Many public captures carry offload-garbled checksums; the
#    rebuilt packets get correct checksums while untouched packets keep the
#    originals', so checksum validation would compare different inputs.
#  * Only connections that are clean in the original are compared:
#    c2s_gaps = s2c_gaps = conflicts = 0.  A stream with a hole is
#    legitimately sensitive to reordering (what is buffered when, which side
#    of the hole a duplicate lands on), and where the capture already holds
#    a retransmission with different bytes, splitting it changes how many
#    conflicting segments there are.  Such connections are counted as
#    "skipped" in the PASS/FAIL line, never silently.  resegment.py itself
#    also never moves such overlapping segments (see its header).
#  * A variant must not make stripwatch fail (exit 1/2) nor report damaged
#    input (exit 3) where the original did not; the reverse is accepted
#    (resegment.py writes only the readable part of a corrupt file).
#  * reorder never moves a segment behind the peer's ACK of it (nor a
#    segment picked up mid-stream before the first one), but where the
#    input itself already shows an ACK before the data it covers (capture
#    artefact, e.g. arkime/smtp-decrypted.pcap, 1flowB.pcap), those late
#    segments may be shuffled among themselves: the hole is filled a packet
#    later, so the stream must still come out complete.
#    resegment.py --strict-acks leaves such segments in place (diagnosis).
#  * protocol differences are reported as WARN but do not fail the variant
#    (classification may legitimately need more than one packet).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEFAULT_VARIANTS="split:1 split:2 coalesce:1 reorder:1 reorder:2 duplicate:1 all:1 all:2 wrap:1"
# Public captures used by default (relative to ../shared/pcaps/public):
# several data segments per direction, both IP versions, VLAN, NULL/loopback,
# pcapng, retransmissions present, a 2 MB stream, a corrupt file tail.
DEFAULT_SHARED="
ndpi/smtp-starttls.pcap
zeek/smtp.pcap
suricata-verify/smtp-data-rejected/10.7.29.101_49898-178.63.41.150_25.pcap
zeek/communityid/ipv6.pcap
suricata-verify/mime/mime-stream-depth/input.pcap
arkime/smtp-starttls.pcap
suricata-verify/smtp-startssl/input.pcap
suricata-verify/smtp-url-base64/smtp-url-b64.pcap
zeek/tls/pop3-starttls.pcap
zeek/smtp/smtp-bdat-cmd-invalid.pcapng
arkime/smtp-decrypted.pcap
arkime/arkime_synthetic.pcap
suricata-verify/issue-4220-01-ids/1flowB.pcap
ndpi/emotet.pcap
zeek/tls/imap-starttls.pcap
suricata-verify/smtp-rfc2231/input.pcap
zeek/smtp/rfc3030-bdat-multipart-chunked.pcap
suricata-verify/smtp-to-comma/10.7.29.101_49898-178.63.41.150_25.pcap
"

usage() { sed -n '2,/^set -u/p' "$0" | sed -e '/^set -u/d' -e 's/^# \{0,1\}//'; exit 2; }

JOBS=$(nproc 2>/dev/null || echo 2); [ "$JOBS" -gt 4 ] && JOBS=4
CHECK=stripwatch BIN="$ROOT/stripwatch" KEEP="" VARIANTS=$DEFAULT_VARIANTS VERBOSE=0
CAPS=()
while [ $# -gt 0 ]; do
    case $1 in
        -j) JOBS=${2:?}; shift ;;
        --tshark) CHECK=tshark ;;
        --both) CHECK=both ;;
        --bin) BIN=${2:?}; shift ;;
        --keep) KEEP=${2:?}; shift ;;
        --variants) VARIANTS=${2:?}; shift ;;
        -v) VERBOSE=1 ;;
        -h|--help) usage ;;
        -*) echo "reseg_test: unknown option $1" >&2; usage ;;
        *) CAPS+=("$1") ;;
    esac
    shift
done

# python with scapy (Debian's python3-scapy lives in /usr/lib/python3)
PY=""
for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import scapy' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then
    echo "reseg_test: need python3 with scapy (apt-get install python3-scapy)" >&2
    exit 1
fi

if [ "$CHECK" != tshark ]; then
    if [ ! -x "$BIN" ] && [ "$BIN" = "$ROOT/stripwatch" ] && [ -f "$ROOT/Makefile" ]; then
        make -C "$ROOT" >/dev/null 2>&1
    fi
    if [ ! -x "$BIN" ]; then
        echo "reseg_test: $BIN not found (build with make, or use --tshark)" >&2
        exit 1
    fi
fi
if [ "$CHECK" != stripwatch ] && ! command -v tshark >/dev/null; then
    echo "reseg_test: tshark not found" >&2
    exit 1
fi

if [ ${#CAPS[@]} -eq 0 ]; then
    for f in "$ROOT"/pcaps/*/input.pcap; do [ -f "$f" ] && CAPS+=("$f"); done
    SHARED="$ROOT/../shared/pcaps/public"
    if [ -d "$SHARED" ]; then
        for f in $DEFAULT_SHARED; do
            if [ -f "$SHARED/$f" ]; then CAPS+=("$SHARED/$f")
            else echo "reseg_test: note: $SHARED/$f missing, skipped" >&2; fi
        done
    fi
fi
if [ ${#CAPS[@]} -eq 0 ]; then
    echo "reseg_test: no captures" >&2
    exit 2
fi

if [ -n "$KEEP" ]; then WORK=$KEEP; mkdir -p "$WORK"
else WORK=$(mktemp -d "${TMPDIR:-/tmp}/reseg.XXXXXX"); trap 'rm -rf "$WORK"' EXIT; fi

# ---------------------------------------------------------------- helper
cat >"$WORK/helper.py" <<'PYEOF'
import sqlite3, subprocess, sys

COLS = ("client_ip, client_port, server_ip, server_port, protocol, "
        "c2s_bytes, s2c_bytes, c2s_sha256, s2c_sha256, c2s_gaps, s2c_gaps, "
        "conflicts")
CMP = ("c2s_bytes", "s2c_bytes", "c2s_sha256", "s2c_sha256",
       "c2s_gaps", "s2c_gaps", "conflicts")


def flows(db):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    con.row_factory = sqlite3.Row
    rows = con.execute("SELECT %s FROM flows ORDER BY first_ts, rowid"
                       % COLS).fetchall()
    con.close()
    by = {}
    for r in rows:
        k = (str(r["client_ip"]), r["client_port"], str(r["server_ip"]),
             r["server_port"])
        by.setdefault(k, []).append(dict(r))
    return by


def alerts(db):
    """{endpoints: sorted [(kind, severity, evidence)]}; frames and times
    legitimately change with the packets, the judgement must not."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        rows = con.execute("SELECT client_ip, client_port, server_ip, "
                           "server_port, kind, severity, evidence "
                           "FROM alerts").fetchall()
        # What the TLS and MTA-STS stages made of each session, too.
        rows += con.execute("SELECT client_ip, client_port, server_ip, "
                            "server_port, 'session', "
                            "coalesce(cert_status, ''), "
                            "coalesce(sni, '') || '|' || "
                            "coalesce(tls_version, '') || '|' || "
                            "coalesce(sts, '') FROM sessions").fetchall()
    finally:
        con.close()
    by = {}
    for r in rows:
        by.setdefault((str(r[0]), r[1], str(r[2]), r[3]), []).append(
            tuple(r[4:]))
    return {k: sorted(v) for k, v in by.items()}


def fk(k):
    return "%s:%s -> %s:%s" % k


def compare(orig_db, var_db, verbose):
    """Returns (ok, summary, detail lines)."""
    try:
        a, b = flows(orig_db), flows(var_db)
        aa, ab = alerts(orig_db), alerts(var_db)
    except sqlite3.Error as ex:
        return False, "cannot read flows: %s" % ex, []
    n_cmp = n_skip = 0
    bad, warn = [], []
    for k, rows in a.items():
        clean = [r for r in rows if not (r["c2s_gaps"] or r["s2c_gaps"]
                                         or r["conflicts"])]
        n_skip += len(rows) - len(clean)
        if not clean:
            continue
        vr = b.get(k, [])
        if len(vr) != len(rows):
            rk = (k[2], k[3], k[0], k[1])
            hint = " (variant has it reversed: client/server swapped)" \
                if rk in b and rk not in a else ""
            bad.append("%s: %d flow row(s) in original, %d in variant%s"
                       % (fk(k), len(rows), len(vr), hint))
            n_cmp += len(clean)
            continue
        for i, (r, v) in enumerate(zip(rows, vr)):
            if r not in clean:
                continue
            n_cmp += 1
            tag = fk(k) + ("" if len(rows) == 1 else " #%d" % i)
            diffs = ["%s %s -> %s" % (c, r[c], v[c]) for c in CMP
                     if r[c] != v[c]]
            if diffs:
                bad.append("%s: %s" % (tag, "; ".join(diffs)))
            if len(rows) == 1 and aa.get(k, []) != ab.get(k, []):
                bad.append("%s: alerts %s -> %s" % (tag, aa.get(k, []),
                                                    ab.get(k, [])))
            if r["protocol"] != v["protocol"]:
                warn.append("%s: protocol %s -> %s" % (tag, r["protocol"],
                                                       v["protocol"]))
    for k, rows in b.items():
        if k not in a:
            bad.append("%s: %d new flow row(s) in variant only" % (fk(k), len(rows)))
    summ = "%d flows compared, %d skipped (gaps/conflicts in original)" % (n_cmp, n_skip)
    if warn:
        summ += ", WARN %d protocol change(s)" % len(warn)
    det = bad if verbose else bad[:6] + (["... %d more (use -v)" % (len(bad) - 6)]
                                         if len(bad) > 6 else [])
    return not bad, summ, det + (["WARN " + w for w in warn] if verbose else [])


def tshark_streams(pcap):
    """{(node0, node1): [bytes c0, bytes c1]} from tshark follow,tcp,raw."""
    ids = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-e",
                          "tcp.stream"], capture_output=True, text=True).stdout
    n = max([int(x) for x in ids.split() if x.isdigit()] + [-1]) + 1
    out, res = "", {}
    for lo in range(0, n, 200):
        args = ["tshark", "-r", pcap, "-q"]
        for i in range(lo, min(n, lo + 200)):
            args += ["-z", "follow,tcp,raw,%d" % i]
        out += subprocess.run(args, capture_output=True, text=True).stdout
    node, cur = {}, None
    for line in out.splitlines():
        if line.startswith("Filter:"):
            cur, node = [bytearray(), bytearray()], {}
        elif line.startswith("Node 0:") or line.startswith("Node 1:"):
            node[int(line[5])] = line.split(": ", 1)[1]
            if len(node) == 2:
                res.setdefault((node[0], node[1]), []).append(cur)
        elif line.startswith(("====", "Follow:")) or cur is None \
                or not line.strip():
            continue
        elif line.startswith("\t"):
            cur[1] += bytes.fromhex(line.strip())
        else:
            cur[0] += bytes.fromhex(line.strip())
    return res


def tshark_compare(orig, var, verbose):
    import hashlib
    a, b = tshark_streams(orig), tshark_streams(var)
    bad = []
    for k, lst in a.items():
        vl = b.get(k)
        if vl is None or len(vl) != len(lst):
            bad.append("%s <-> %s: %d stream(s) in original, %d in variant"
                       % (k[0], k[1], len(lst), len(vl or [])))
            continue
        for s, v in zip(lst, vl):
            for d in (0, 1):
                if s[d] != v[d]:
                    bad.append("%s %s %s: %d bytes sha %s -> %d bytes sha %s"
                               % (k[0], "->" if d == 0 else "<-", k[1],
                                  len(s[d]), hashlib.sha256(s[d]).hexdigest()[:12],
                                  len(v[d]), hashlib.sha256(v[d]).hexdigest()[:12]))
    for k in b:
        if k not in a:
            bad.append("%s <-> %s: stream only in variant" % k)
    nbytes = sum(len(x) for lst in a.values() for s in lst for x in s)
    return not bad, "%d streams, %d bytes" % (sum(map(len, a.values())), nbytes), \
        bad if verbose else bad[:6]


if __name__ == "__main__":
    mode, x, y, verbose = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
    ok, summ, det = (compare if mode == "db" else tshark_compare)(x, y, verbose)
    print(("OK " if ok else "BAD ") + summ)
    for d in det:
        print("    " + d)
PYEOF

# ---------------------------------------------------------------- worker
# one capture: make the variants, run the checks, write lines to $out
worker() {
    local idx=$1 cap=$2
    local name=${cap#"$ROOT/../shared/pcaps/public/"}
    name=${name#"$ROOT/"}
    local d="$WORK/$idx" out="$WORK/$idx.res"
    mkdir -p "$d"
    : >"$out"
    # shellcheck disable=SC2086 # VARIANTS is a word list
    if ! $PY "$ROOT/tests/resegment.py" -q --batch "$cap" "$d" $VARIANTS 2>"$d/gen.err"; then
        echo "FAIL $name: resegment.py failed: $(tail -1 "$d/gen.err")" >>"$out"
        cat "$out"; return
    fi
    local orc=0 args=""
    # A case's own options (trust anchors, policies), paths from the top.
    [ -f "$(dirname "$cap")/args" ] && args=$(cat "$(dirname "$cap")/args")
    cd "$ROOT" || return
    if [ "$CHECK" != tshark ]; then
        # shellcheck disable=SC2086 # args is a word list
        timeout 120 "$BIN" -r "$cap" -w "$d/orig.sqlite" --no-checksum --no-fetch --all-flows $args >"$d/orig.log" 2>&1
        orc=$?
        if [ $orc -ne 0 ] && [ $orc -ne 3 ]; then
            echo "FAIL $name (original): stripwatch exit $orc: $(tail -1 "$d/orig.log")" >>"$out"
            cat "$out"; return
        fi
    fi
    local v f rc res line
    for v in $VARIANTS; do
        f="$d/${v%%:*}-${v#*:}.pcap"; f=${f//,/+}
        [ "${v#*:}" = "$v" ] && f="$d/${v//,/+}-1.pcap"
        if [ "$CHECK" != tshark ]; then
            # shellcheck disable=SC2086
            timeout 120 "$BIN" -r "$f" -w "$f.sqlite" --no-checksum --no-fetch --all-flows $args >"$f.log" 2>&1
            rc=$?
            if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
                line="FAIL $name $v: stripwatch exit $rc: $(tail -1 "$f.log")"
            elif [ $rc -eq 3 ] && [ $orc -eq 0 ]; then
                line="FAIL $name $v: stripwatch exit 3 (damaged input), original exit 0"
            else
                res=$($PY "$WORK/helper.py" db "$d/orig.sqlite" "$f.sqlite" "$VERBOSE")
                if [ "${res%% *}" = OK ]; then line="PASS $name $v: ${res#OK }"
                else line="FAIL $name $v: ${res#BAD }"; fi
            fi
            echo "$line" >>"$out"
        fi
        if [ "$CHECK" != stripwatch ]; then
            res=$($PY "$WORK/helper.py" tshark "$cap" "$f" "$VERBOSE")
            if [ "${res%% *}" = OK ]; then line="PASS $name $v [tshark]: ${res#OK }"
            else line="FAIL $name $v [tshark]: ${res#BAD }"; fi
            echo "$line" >>"$out"
        fi
    done
    cat "$out"
}
export -f worker
export ROOT WORK PY BIN CHECK VARIANTS VERBOSE

for i in "${!CAPS[@]}"; do printf '%s\0%s\0' "$i" "${CAPS[$i]}"; done |
    xargs -0 -n 2 -P "$JOBS" bash -c 'worker "$@"' _

pass=$(cat "$WORK"/*.res 2>/dev/null | grep -c '^PASS')
fail=$(cat "$WORK"/*.res 2>/dev/null | grep -c '^FAIL')
echo "reseg: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
