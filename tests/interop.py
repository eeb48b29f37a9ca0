#!/usr/bin/env python3
"""Interop suite: stripwatch TCP reassembly vs. tshark "follow tcp".

Usage (from the repository root, after `make`):

    python3 tests/interop.py [options] [FILTER ...]

    --corpus DIR     capture folder (default: ../shared/pcaps/public relative
                     to the repository root). Missing folder: SKIP, exit 0.
    --stripwatch P   binary to test (default: ./stripwatch at the repo root)
    --sw-arg ARG     extra argument for stripwatch (repeatable), e.g.
                     --sw-arg=--no-checksum
    --known FILE     known-differences list (default: tests/interop-known.tsv)
    --jobs N         files processed in parallel (default 2)
    --tshark-only    do not run stripwatch; print what tshark reconstructs
    --keep DIR       keep each stripwatch database in DIR (for debugging)
    -v               detail: one line per connection, notes, stderr
    FILTER           only captures whose relative path contains FILTER

Every *.pcap, *.pcapng and *.pcap.gz under the corpus is processed (.gz is
decompressed to a temporary file first and both tools read that copy):

  1. `stripwatch -r FILE -w TMP.sqlite` must exit 0 or 3 (3 = damaged input);
     a signal, any other exit code, a timeout, a missing `flows` table, or
     "AddressSanitizer" / "runtime error:" on stderr fails the file.
  2. tshark rebuilds each TCP stream (`-z follow,tcp,raw,N`). In its output,
     lines indented with a tab belong to "Node 1", the others to "Node 0"
     (Node 0 = sender of the first packet of the stream). Records of the
     form "[N bytes missing in capture file]\\0" are placeholders tshark
     inserts for a gap the receiver ACKed; they are dropped (and counted as
     a gap) so that tshark's stream means what stripwatch's does: bytes in
     sequence order, retransmitted bytes once, bytes after a gap appended.
  3. tshark streams are matched to `flows` rows by the unordered endpoint
     pair; several connections on the same pair (port reuse) are paired in
     first-timestamp order. For each pair, byte count and SHA-256 of each
     direction are compared (direction = stripwatch's client->server "c2s"
     or server->client "s2c", mapped by address:port). The client role is
     checked too: if tshark saw a bare SYN, its sender must be the client.
  4. A stream on one side only is a mismatch (direction "*"), except a
     connection that carried no TCP payload at all (sum of tcp.len is 0 both
     ways, e.g. SYN scans): it is ignored when stripwatch has no row, and
     compared (0 bytes, SHA-256 of the empty string) when it has one.
     Stripwatch-only rows with 0 bytes both ways are ignored as well.
  5. tests/interop-known.tsv lists investigated differences (tab separated:
     file relative to corpus; tshark stream index, or "N+" for extra
     stripwatch rows on the endpoints of tshark stream N, or "-" for
     stripwatch rows on endpoints tshark never saw; direction c2s, s2c or
     "*" (any difference of that connection); one-line reason). A listed
     difference is reported "known" and counts as passed; a listed entry
     that no longer differs is "stale" and counts as failed.

Output: one line per file (PASS / KNOWN / FAIL / ERROR) followed by the
details of every difference, then exactly `N passed, M failed` where N and M
count compared connections (a crash or unreadable database adds one failure
for the file). Exit status 1 if anything failed, else 0; 2 if the binary is
missing. The binary is copied to a temp dir first, so a concurrent `make`
cannot swap it mid-run. Whole corpus (125 files): about 75 s of CPU, mostly
tshark; 1.5 to 2.5 min of wall time with --jobs 2 on a busy 2-core box.

With -v, each mismatching connection is also explained by an independent
reassembly built from per-segment tshark fields (raw seq, payload): byte
count, gaps, conflicting overlaps, snaplen-cut segments, and whether
stripwatch's hash equals the first-wins or the last-wins variant.

tshark behaviour this relies on (checked on tshark 4.0.17, packet-tcp.c
follow_tcp_tap_listener): overlapping bytes are first-wins; data after a
gap is only emitted once the other side ACKs past the gap (with the
placeholder above), so out-of-order data after a never-ACKed gap at the end
of a capture is silently dropped by tshark; snaplen-cut payload is skipped;
several -z follow blocks print in reverse order (parsed by their "Filter:"
line); TCP checksums are not verified (default), so bad-checksum segments
count; there is no idle timeout, so a 4-tuple reused much later stays in
one stream. Python 3 standard library only.
"""

import argparse
import binascii
import concurrent.futures
import gzip
import hashlib
import ipaddress
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EMPTY_SHA = hashlib.sha256(b"").hexdigest()
GAP_RE = re.compile(rb"\A\[(\d+) bytes missing in capture file\]\x00\Z")
SW_TIMEOUT = 120
TSHARK_TIMEOUT = 300
FOLLOW_BATCH = 400          # -z options per tshark invocation


def norm_ip(s):
    s = s.strip().strip("[]")
    try:
        return ipaddress.ip_address(s).compressed
    except ValueError:
        return s.lower()


def ep_str(ep):
    ip, port = ep
    return ("[%s]:%d" if ":" in ip else "%s:%d") % (ip, port)


def epoch_us(s):
    """'1254722767.492060000' -> 1254722767492060 (truncated, no float)."""
    if not s:
        return None
    neg = s.startswith("-")
    sec, _, frac = s.lstrip("-").partition(".")
    v = int(sec or 0) * 1000000 + int((frac + "000000")[:6])
    return -v if neg else v


def run(cmd, timeout):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)


# --------------------------------------------------------------- tshark side

class TStream:
    """One TCP stream as tshark sees it."""

    def __init__(self, idx):
        self.idx = idx
        self.first_frame = None
        self.first_ts = None
        self.eps = []            # endpoints in order of first appearance
        self.seglen = {}         # endpoint -> sum of tcp.len
        self.syn_sender = None   # sender of the first bare SYN
        self.data = {}           # endpoint -> bytearray (follow output)
        self.gaps = {}           # endpoint -> number of gap placeholders
        self.frames = 0

    def key(self):
        return tuple(sorted(self.eps))

    def payload_seen(self):
        return sum(self.seglen.values()) > 0


def tshark_fields(path):
    cmd = ["tshark", "-n", "-r", path, "-Y", "tcp && !icmp && !icmpv6",
           "-T", "fields", "-E", "separator=/t", "-E", "occurrence=l",
           "-e", "tcp.stream", "-e", "frame.number", "-e", "frame.time_epoch",
           "-e", "frame.protocols", "-e", "ip.src", "-e", "ip.dst",
           "-e", "ipv6.src", "-e", "ipv6.dst", "-e", "tcp.srcport",
           "-e", "tcp.dstport", "-e", "tcp.len", "-e", "tcp.flags.syn",
           "-e", "tcp.flags.ack"]
    p = run(cmd, TSHARK_TIMEOUT)
    streams = {}
    notes = []
    if p.returncode != 0:
        notes.append("tshark exit %d: %s" % (p.returncode, last_line(p.stderr)))
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        f = line.split("\t")
        if len(f) < 13 or not f[0]:
            continue
        idx = int(f[0])
        protos = f[3].split(":")
        # The network layer nearest below TCP ("ipv6.hopopts" and other
        # extension headers sit between them).
        l3 = "ip"
        if "tcp" in protos:
            for name in reversed(protos[:protos.index("tcp")]):
                if name in ("ip", "ipv6"):
                    l3 = name
                    break
        if l3 == "ipv6":
            src, dst = f[6], f[7]
        else:
            src, dst = f[4], f[5]
        if not src or not f[8]:
            continue
        s = streams.get(idx)
        if s is None:
            s = streams[idx] = TStream(idx)
            s.first_frame = int(f[1])
            s.first_ts = epoch_us(f[2])
        s.frames += 1
        a = (norm_ip(src), int(f[8]))
        b = (norm_ip(dst), int(f[9]))
        for ep in (a, b):
            if ep not in s.eps:
                s.eps.append(ep)
                s.seglen[ep] = 0
        s.seglen[a] += int(f[10] or 0)
        if f[11] in ("1", "True") and f[12] in ("0", "False") \
                and s.syn_sender is None:
            s.syn_sender = a
    return streams, notes


def tshark_follow(path, streams):
    """Fill .data/.gaps of streams that carried payload."""
    todo = sorted(i for i, s in streams.items() if s.payload_seen())
    notes = []
    for k in range(0, len(todo), FOLLOW_BATCH):
        cmd = ["tshark", "-n", "-r", path, "-q"]
        for i in todo[k:k + FOLLOW_BATCH]:
            cmd += ["-z", "follow,tcp,raw,%d" % i]
        p = run(cmd, TSHARK_TIMEOUT)
        if p.returncode != 0 and k == 0:
            notes.append("tshark follow exit %d: %s"
                         % (p.returncode, last_line(p.stderr)))
        parse_follow(p.stdout.decode("ascii", "replace"), streams)
    return notes


def parse_follow(text, streams):
    cur = None
    nodes = [None, None]
    for line in text.split("\n"):
        if line.startswith("====="):
            cur = None
            continue
        if line.startswith("Filter: tcp.stream eq "):
            cur = streams.get(int(line.rsplit(" ", 1)[1]))
            nodes = [None, None]
            continue
        if cur is None:
            continue
        if line.startswith("Node 0: ") or line.startswith("Node 1: "):
            addr, _, port = line[8:].rpartition(":")
            ep = (norm_ip(addr), int(port or 0))
            nodes[int(line[5])] = ep
            cur.data.setdefault(ep, bytearray())
            cur.gaps.setdefault(ep, 0)
            continue
        if line.startswith("Follow:") or not line.strip():
            continue
        node = 1 if line.startswith("\t") else 0
        rec = binascii.unhexlify(line.strip())
        ep = nodes[node]
        if GAP_RE.match(rec):
            cur.gaps[ep] += 1
        else:
            cur.data[ep] += rec


def last_line(b):
    lines = [l for l in b.decode("utf-8", "replace").splitlines()
             if l.strip() and "Running as user" not in l]
    return lines[-1].strip() if lines else ""


# ------------------------------------------------- reference (for -v only)

def reference(path):
    """Independent reassembly from per-segment tshark fields, used to explain
    a mismatch: {stream: {endpoint: dict}}. Sequence numbers relative to the
    SYN (or to the first segment seen), first-wins and last-wins variants
    of overlapping bytes, gaps skipped, held data flushed at the end."""
    cmd = ["tshark", "-n", "-r", path, "-Y", "tcp && !icmp && !icmpv6",
           "-T", "fields", "-E", "separator=/t", "-E", "occurrence=l",
           "-e", "tcp.stream", "-e", "frame.number", "-e", "frame.protocols",
           "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
           "-e", "tcp.seq_raw", "-e", "tcp.len", "-e", "tcp.flags.syn",
           "-e", "tcp.payload"]
    p = run(cmd, TSHARK_TIMEOUT)
    segs = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        f = line.split("\t")
        if len(f) < 10 or not f[0] or not f[6]:
            continue
        protos = f[2].split(":")
        l3 = protos[protos.index("tcp") - 1] if "tcp" in protos else "ip"
        ep = (norm_ip(f[4] if l3 == "ipv6" else f[3]), int(f[5]))
        segs.setdefault(int(f[0]), {}).setdefault(ep, []).append((
            int(f[1]), int(f[6]), int(f[7] or 0), f[8] in ("1", "True"),
            binascii.unhexlify(f[9].replace(":", ""))))
    result = {}
    for idx, eps in segs.items():
        for ep, seq in eps.items():
            isn = None
            for fr, sq, ln, syn, pl in seq:
                if syn:
                    isn = (sq + 1) & 0xffffffff
                    break
            if isn is None:
                isn = next((sq for fr, sq, ln, syn, pl in seq if ln),
                           seq[0][1])
            first, last, notes = {}, {}, []
            before = 0
            for fr, sq, ln, syn, pl in seq:
                rel = ((sq + syn) - isn) & 0xffffffff
                if rel >= 0x80000000:
                    rel -= 0x100000000
                if len(pl) < ln:
                    notes.append("frame %d: %d of %d payload bytes captured"
                                 % (fr, len(pl), ln))
                conflict = 0
                for i, b in enumerate(pl):
                    o = rel + i
                    if o < 0:
                        before += 1
                        continue
                    if o in first:
                        conflict += first[o] != b
                    else:
                        first[o] = b
                    last[o] = b
                if conflict:
                    notes.append("frame %d: %d bytes conflict with earlier "
                                 "data at offset %d" % (fr, conflict, rel))
            if before:
                notes.append("%d bytes before the initial sequence number"
                             % before)
            prev, gaps = 0, 0
            for o in sorted(first):
                if o != prev:
                    gaps += 1
                    notes.append("gap of %d bytes at offset %d"
                                 % (o - prev, prev))
                prev = o + 1
            fw = bytes(first[o] for o in sorted(first))
            lw = bytes(last[o] for o in sorted(last))
            result.setdefault(idx, {})[ep] = {
                "len": len(fw), "gaps": gaps, "notes": notes,
                "first": hashlib.sha256(fw).hexdigest(),
                "last": hashlib.sha256(lw).hexdigest()}
    return result


def explain(ref, s, r, out):
    """Append reference diagnostics for one mismatching connection."""
    rs = ref.get(s.idx, {})
    for dname, ep in (("c2s", r["client"] if r else s.eps[0]),
                      ("s2c", r["server"] if r else s.eps[-1])):
        x = rs.get(ep)
        if x is None:
            out.append("    ref %s: no segments" % dname)
            continue
        tl, tsha, _ = direction_data(s, ep)
        agree = []
        if x["len"] == tl and x["first"] == tsha:
            agree.append("tshark")
        if r is not None:
            ssha = (r[dname + "_sha256"] or "").lower()
            if x["len"] == r[dname + "_bytes"]:
                if ssha == x["first"]:
                    agree.append("stripwatch(first-wins)")
                elif ssha == x["last"] and x["last"] != x["first"]:
                    agree.append("stripwatch(last-wins)")
        out.append("    ref %s %s: %d bytes, gaps %d, agrees with: %s"
                   % (dname, ep_str(ep), x["len"], x["gaps"],
                      ", ".join(agree) or "neither"))
        for n in x["notes"][:8]:
            out.append("      " + n)


# ----------------------------------------------------------- stripwatch side

def run_stripwatch(args, path, tmp):
    """Returns (rows or None, problems list, notes list)."""
    db = os.path.join(tmp, "out.sqlite")
    cmd = [args.stripwatch, "-r", path, "-w", db, "--no-fetch", "--all-flows"] + args.sw_arg
    problems, notes = [], []
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=SW_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return None, ["stripwatch timed out after %ds" % SW_TIMEOUT], notes
    err = p.stderr.decode("utf-8", "replace")
    if p.returncode < 0:
        try:
            name = signal.Signals(-p.returncode).name
        except ValueError:
            name = str(-p.returncode)
        problems.append("stripwatch killed by signal %s" % name)
    elif p.returncode not in (0, 3):
        problems.append("stripwatch exit code %d" % p.returncode)
    elif p.returncode == 3:
        notes.append("stripwatch exit 3 (input damaged)")
    for needle in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
        if needle in err:
            problems.append("stderr contains %r" % needle)
    if problems or args.verbose:
        tail = [l for l in err.splitlines() if l.strip()][-6:]
        notes += ["stderr: " + l for l in tail]
    if args.keep and os.path.exists(db):
        dst = os.path.join(args.keep, args.cur_rel.replace("/", "__")
                           + ".sqlite")
        shutil.copyfile(db, dst)
    if not os.path.exists(db):
        if not problems:
            problems.append("no database written")
        return None, problems, notes
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        con.row_factory = sqlite3.Row
        rows = [dict(r) for r in con.execute(
            "SELECT rowid AS _rowid, * FROM flows")]
        con.close()
    except sqlite3.Error as e:
        problems.append("cannot read flows table: %s" % e)
        return None, problems, notes
    for r in rows:
        r["client"] = (norm_ip(r["client_ip"] or ""), int(r["client_port"]))
        r["server"] = (norm_ip(r["server_ip"] or ""), int(r["server_port"]))
    return rows, problems, notes


# ------------------------------------------------------------------- compare

def compress(nums):
    """[1,2,3,7] -> '1-3,7'"""
    parts, start = [], None
    for i, n in enumerate(nums):
        if start is None:
            start = n
        if i + 1 == len(nums) or nums[i + 1] != n + 1:
            parts.append(str(start) if start == n else "%d-%d" % (start, n))
            start = None
    return ",".join(parts)


def match(streams, rows):
    """Pair tshark streams with rows. Returns (pairs, t_only, r_only)."""
    by_key_t, by_key_r = {}, {}
    for s in streams.values():
        by_key_t.setdefault(s.key(), []).append(s)
    for r in rows:
        by_key_r.setdefault(tuple(sorted((r["client"], r["server"]))),
                            []).append(r)
    pairs, t_only, r_only = [], [], []
    for key in set(by_key_t) | set(by_key_r):
        ts = sorted(by_key_t.get(key, []), key=lambda s: s.first_frame)
        rs = sorted(by_key_r.get(key, []),
                    key=lambda r: (r["first_ts"] or 0, r["_rowid"]))
        if len(ts) == len(rs):
            pairs += list(zip(ts, rs))
            continue
        cand = sorted((abs((s.first_ts or 0) - (r["first_ts"] or 0)), i, j)
                      for i, s in enumerate(ts) for j, r in enumerate(rs))
        used_t, used_r = set(), set()
        for _, i, j in cand:
            if i not in used_t and j not in used_r:
                used_t.add(i)
                used_r.add(j)
                pairs.append((ts[i], rs[j]))
        t_only += [s for i, s in enumerate(ts) if i not in used_t]
        r_only += [r for j, r in enumerate(rs) if j not in used_r]
    pairs.sort(key=lambda p: p[0].idx)
    t_only.sort(key=lambda s: s.idx)
    return pairs, t_only, r_only


def direction_data(s, ep):
    d = bytes(s.data.get(ep, b""))
    return len(d), hashlib.sha256(d).hexdigest(), s.gaps.get(ep, 0)


def compare_pair(s, r):
    """List of (direction, message) differences for one connection."""
    diffs = []
    for dname, ep, pfx in (("c2s", r["client"], "c2s"),
                           ("s2c", r["server"], "s2c")):
        tlen, tsha, tgaps = direction_data(s, ep)
        slen, ssha = r[pfx + "_bytes"], (r[pfx + "_sha256"] or "").lower()
        if slen is None:
            slen = -1
        if slen == 0 and ssha == "":
            ssha = EMPTY_SHA + "?"       # NULL hash for an empty stream
        if tlen != slen or tsha != ssha:
            what = "bytes" if tlen != slen else "sha256"
            diffs.append((dname, "%s differ: tshark %d bytes (gaps %d), "
                          "stripwatch %d bytes (gaps %s)%s"
                          % (what, tlen, tgaps, slen, r.get(pfx + "_gaps"),
                             "" if what == "bytes" else
                             " sha %s vs %s" % (tsha[:12], ssha[:12]))))
    if s.syn_sender is not None and s.syn_sender != r["client"]:
        diffs.append(("*", "client role: SYN sent by %s, stripwatch client "
                      "is %s" % (ep_str(s.syn_sender), ep_str(r["client"]))))
    return diffs


def load_known(path):
    known = {}
    if not os.path.exists(path):
        return known
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            f = line.split("\t")
            if f[0] == "file" and n == 1:
                continue
            if len(f) < 4:
                sys.exit("%s:%d: expected 4 tab-separated columns" % (path, n))
            known[(f[0], f[1], f[2])] = f[3]
    return known


def process_file(args, rel, known):
    """Returns dict(rel, status, passed, failed, known, lines)."""
    res = {"rel": rel, "passed": 0, "failed": 0, "known": 0, "conns": 0,
           "lines": []}
    out = res["lines"]
    src = os.path.join(args.corpus, rel)
    tmp = tempfile.mkdtemp(prefix="interop-")
    try:
        path = src
        if rel.endswith(".gz"):
            path = os.path.join(tmp, os.path.basename(rel)[:-3])
            with gzip.open(src, "rb") as fi, open(path, "wb") as fo:
                shutil.copyfileobj(fi, fo)
        streams, tnotes = tshark_fields(path)
        tnotes += tshark_follow(path, streams)
        if args.verbose:
            out += ["  note: " + n for n in tnotes]
        if args.tshark_only:
            return tshark_report(args, res, streams)
        args_local = argparse.Namespace(**vars(args))
        args_local.cur_rel = rel
        rows, problems, notes = run_stripwatch(args_local, path, tmp)
        compare_file(args, rel, known, res, streams, rows, problems, notes,
                     path)
        return res
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def compare_file(args, rel, known, res, streams, rows, problems, notes, path):
    out = res["lines"]
    ref = None

    if args.verbose or problems:
        out += ["  " + n for n in notes]
    for p in problems:
        out.append("  FAIL run: %s" % p)
    if problems:
        res["failed"] += 1
    if rows is None:
        rows = []

    pairs, t_only, r_only = match(streams, rows)
    # diffs: key (stream, direction) -> message
    conn_results = []     # (stream label, [(dir, msg)], detail)
    for s, r in pairs:
        conn_results.append((str(s.idx), compare_pair(s, r), (s, r)))
    ignored_t = [s.idx for s in t_only if not s.payload_seen()]
    if ignored_t and args.verbose:
        out.append("  ignored %d tshark streams without payload and without "
                   "stripwatch row: %s" % (len(ignored_t), compress(ignored_t)))
    for s in t_only:
        if not s.payload_seen():
            continue
        a, b = (s.eps + s.eps)[:2]
        conn_results.append((str(s.idx), [(
            "*", "no stripwatch row for %s <-> %s (tshark %d+%d bytes)"
            % (ep_str(a), ep_str(b), direction_data(s, a)[0],
               direction_data(s, b)[0]))], (s, None)))
    by_key = {}
    for s in streams.values():
        by_key.setdefault(s.key(), []).append(s)
    ignored_r = 0
    for r in r_only:
        if not r["c2s_bytes"] and not r["s2c_bytes"]:
            ignored_r += 1
            continue
        # an extra row on the endpoints of tshark stream N is labelled "N+"
        same = by_key.get(tuple(sorted((r["client"], r["server"]))), [])
        label = "-"
        if same:
            near = min(same, key=lambda s: abs((s.first_ts or 0)
                                               - (r["first_ts"] or 0)))
            label = "%d+" % near.idx
        conn_results.append((label, [(
            "*", "extra stripwatch row %s -> %s first_ts %s (%s+%s bytes), "
            "no tshark stream left to pair with"
            % (ep_str(r["client"]), ep_str(r["server"]), r["first_ts"],
               r["c2s_bytes"], r["s2c_bytes"]))], (None, r)))
    if ignored_r and args.verbose:
        out.append("  ignored %d stripwatch-only rows with 0 bytes both ways"
                   % ignored_r)

    used_known = set()
    for label, diffs, (s, r) in sorted(conn_results, key=lambda c: (
            c[0] == "-", int(c[0].rstrip("+")) if c[0] != "-" else 0)):
        bad = False
        kn = False
        for d, msg in diffs:
            kk = None
            for cand in ((rel, label, d), (rel, label, "*")):
                if cand in known:
                    kk = cand
                    break
            if kk:
                used_known.add(kk)
                kn = True
                out.append("  known: stream %s %s: %s [%s]"
                           % (label, d, msg, known[kk]))
            else:
                bad = True
                out.append("  FAIL: %s stream %s %s: %s" % (rel, label, d, msg))
        if diffs and args.verbose and s is not None:
            if ref is None:
                ref = reference(path)
            explain(ref, s, r, out)
        res["conns"] += 1
        if bad:
            res["failed"] += 1
        else:
            res["passed"] += 1
            res["known"] += kn
        if args.verbose and s is not None and r is not None:
            out.append("  stream %s: %s -> %s  c2s %s/%s  s2c %s/%s  %s%s"
                       % (label, ep_str(r["client"]), ep_str(r["server"]),
                          direction_data(s, r["client"])[0], r["c2s_bytes"],
                          direction_data(s, r["server"])[0], r["s2c_bytes"],
                          r.get("protocol"), "" if not diffs else "  DIFF"))
    # stale known entries for this file
    for kk, reason in known.items():
        if kk[0] == rel and kk not in used_known:
            res["failed"] += 1
            out.append("  FAIL stale: %s stream %s %s is listed as known "
                       "(%s) but no longer differs" % (rel, kk[1], kk[2],
                                                        reason))
    if res["failed"]:
        res["status"] = "FAIL"
    elif res["known"]:
        res["status"] = "KNOWN"
    else:
        res["status"] = "PASS"


def tshark_report(args, res, streams):
    out = res["lines"]
    for s in sorted(streams.values(), key=lambda s: s.idx):
        if not s.payload_seen():
            res["known"] += 1          # reused as "empty" counter here
            continue
        res["passed"] += 1
        parts = []
        for ep in s.eps:
            n, h, g = direction_data(s, ep)
            parts.append("%s %d bytes%s sha %s" % (
                ep_str(ep), n, " gaps %d" % g if g else "", h[:16]))
        syn = ep_str(s.syn_sender) if s.syn_sender else "none"
        if args.verbose:
            out.append("  stream %d t0=%s syn=%s | %s"
                       % (s.idx, s.first_ts, syn, " | ".join(parts)))
    res["status"] = "TSHARK"
    return res


def find_captures(corpus, filters):
    found = []
    for dirpath, dirnames, files in os.walk(corpus):
        dirnames.sort()
        for fn in files:
            if fn.endswith((".pcap", ".pcapng", ".pcap.gz")):
                rel = os.path.relpath(os.path.join(dirpath, fn), corpus)
                if not filters or any(f in rel for f in filters):
                    found.append(rel)
    return sorted(found)


DEFAULT_CORPUS = os.path.normpath(os.path.join(REPO, "..", "shared", "pcaps",
                                               "public"))


def main():
    ap = argparse.ArgumentParser(
        description="stripwatch vs tshark TCP reassembly interop suite")
    ap.add_argument("--corpus", default=DEFAULT_CORPUS)
    ap.add_argument("--stripwatch", default=os.path.join(REPO, "stripwatch"))
    ap.add_argument("--sw-arg", action="append", default=[])
    ap.add_argument("--known",
                    default=os.path.join(REPO, "tests", "interop-known.tsv"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--tshark-only", action="store_true")
    ap.add_argument("--keep")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("filters", nargs="*")
    args = ap.parse_args()

    args.corpus = os.path.normpath(args.corpus)
    if not os.path.isdir(args.corpus):
        print("SKIP: corpus folder %s does not exist" % args.corpus)
        return 0
    if shutil.which("tshark") is None:
        print("SKIP: tshark not installed")
        return 0
    if not args.tshark_only and not os.access(args.stripwatch, os.X_OK):
        print("ERROR: %s not found or not executable (run make)"
              % args.stripwatch)
        return 2
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
    known = load_known(args.known)
    files = find_captures(args.corpus, args.filters)
    snapdir = tempfile.mkdtemp(prefix="interop-bin-")
    try:
        if not args.tshark_only:
            # run a private copy: a concurrent `make` must not swap the
            # binary under a running suite
            snap = os.path.join(snapdir, "stripwatch")
            shutil.copy2(args.stripwatch, snap)
            args.stripwatch = snap
        return run_all(args, known, files)
    finally:
        shutil.rmtree(snapdir, ignore_errors=True)


def run_all(args, known, files):

    passed = failed = 0
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as ex:
        futs = [ex.submit(process_file, args, rel, known) for rel in files]
        for rel, fut in zip(files, futs):
            try:
                res = fut.result()
            except Exception as e:          # a bug here must not hide others
                res = {"rel": rel, "status": "ERROR", "passed": 0,
                       "failed": 1, "known": 0, "conns": 0,
                       "lines": ["  FAIL: %s: %s: %s" % (rel,
                                                         type(e).__name__, e)]}
            if args.tshark_only:
                print("TSHARK %s: %d streams with payload, %d without"
                      % (rel, res["passed"], res["known"]))
            else:
                print("%s %s (%d connections%s)" % (
                    res["status"], rel, res["conns"],
                    ", %d known" % res["known"] if res["known"] else ""))
            for l in res["lines"]:
                print(l)
            sys.stdout.flush()
            passed += res["passed"]
            failed += res["failed"]
    if not args.tshark_only:
        # known entries naming files that are not in the corpus are stale
        present = set(files)
        for kk, reason in known.items():
            if kk[0] not in present and not args.filters and \
                    args.corpus == DEFAULT_CORPUS:
                failed += 1
                print("FAIL stale: %s stream %s %s listed as known but the "
                      "file is not in the corpus" % kk)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
