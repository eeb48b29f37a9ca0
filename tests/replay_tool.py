#!/usr/bin/python3
"""replay_tool.py - the helper of tests/replay.sh and tests/sigkill.sh
(stdlib only).

  linktype FILE            prints the capture's link type (DLT number; for
                           pcapng the first interface's), or "?"
  check FILE               "ok", or why FILE cannot be replayed as it is
                           (damaged, frames cut by the snaplen); exit 1
  count FILE...            prints the number of records in the pcap files
  cat OUT FILE...          concatenates classic pcap files of one link type
                           into OUT (records unchanged, in the order given)
  compare REF LIVE [JSON]  REF is the offline run's database, LIVE the
                           sensor's; both hold exactly one run. Alerts,
                           flows and sessions must be equal as multisets
                           (see COLUMNS below for what is left out and why),
                           the runs' packet counters equal, and JSON (the
                           sensor's feed after a clean stop) must hold every
                           alert of LIVE exactly once
  feed JSON DB             after a SIGKILL: every complete line of JSON
                           names (event.id) an alert row of DB with the same
                           kind, severity, endpoints and evidence; a torn
                           last line is reported and ignored (see feed())

Prints "ok ..." or the differences on stdout; exit status 0 when equal.
"""
import collections
import os
import json
import sqlite3
import struct
import sys

# What is compared. Left out everywhere: row ids, run_id, session_id,
# flow_id, cert_id (numbering), ts / first_ts / last_ts (pcap time offline,
# the kernel's receive time live), frame, first_frame, last_frame,
# source_index and source (live there is one interface, not N files with
# their own frame numbers).
ALERT_COLS = ("kind", "severity", "client_ip", "client_port", "server_ip",
              "server_port", "evidence")
FLOW_COLS = ("client_ip", "client_port", "server_ip", "server_port",
             "c2s_bytes", "s2c_bytes", "c2s_sha256", "s2c_sha256",
             "c2s_packets", "s2c_packets", "c2s_gaps", "s2c_gaps",
             "c2s_gap_bytes", "s2c_gap_bytes", "conflicts", "handshake",
             "protocol", "close_reason")
SESSION_COLS = ("client_ip", "client_port", "server_ip", "server_port",
                "banner_host", "ehlo_name", "capabilities",
                "starttls_offered", "starttls_sent", "starttls_reply", "tls",
                "rcpt_domains", "mail_in_clear", "auth_mech", "outcome",
                "complete", "sni", "tls_version", "cipher", "cert_status",
                "sts")
# Per-run counters that must match: the same frames went in both ways.
# Not compared: started/ended (wall clock), first_ts/last_ts (packet time),
# drops/ifdrops (checked by replay.sh: zero), flows_peak and mem_peak (how
# many flows were open at once depends on when idle flows were expired,
# which is packet time: the offline files' clocks jump between captures,
# the replay's does not), status (checked by replay.sh), damaged (files
# only).
RUN_COLS = ("packets", "bytes", "tcp_packets", "truncated", "malformed",
            "fragments", "bad_checksums", "flows", "evicted")

# Alert kinds and session columns whose verdict depends on the certificate
# check "at packet time": offline that is the capture's time, live the
# replay's. They are compared unless a certificate seen was valid at one
# of those times and not at the other (see cert_time_exclusions).
CERT_KINDS = ("cert_expired", "cert_untrusted", "cert_changed",
              "sts_violation")


def rows(db, table, cols):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return [tuple(r) for r in con.execute(
            "SELECT %s FROM %s" % (", ".join(cols), table))]
    finally:
        con.close()


def norm_flow(r):
    # close_reason: "idle" (no packet for FLOW_IDLE_US of packet time) and
    # "end" (still open when the input ended) both mean the flow simply
    # stopped. Which one a flow gets depends on packet time only: offline
    # the clock jumps by months between the captures, so flows left open
    # in one file expire idle when the next starts; live the replay's
    # clock runs a few seconds. fin, rst, reuse and evict must match.
    r = list(r)
    i = FLOW_COLS.index("close_reason")
    if r[i] == "idle":
        r[i] = "end"
    return tuple(r)


def multiset_diff(name, cols, ref, live, out):
    a, b = collections.Counter(ref), collections.Counter(live)
    only_ref, only_live = a - b, b - a
    if not only_ref and not only_live:
        return True
    out.append("%s differ: %d offline, %d live; %d only offline, %d only "
               "live" % (name, len(ref), len(live),
                         sum(only_ref.values()), sum(only_live.values())))
    for tag, c in (("offline", only_ref), ("live", only_live)):
        for r, n in sorted(c.items(), key=lambda kv: repr(kv[0]))[:10]:
            out.append("  only %s (x%d): %s" % (tag, n, dict(zip(cols, r))))
    return False


def cert_time_exclusions(ref, live):
    """Certificates whose validity at the offline packet time differs from
    their validity at the live packet time (the test CA's certificates
    expire one day: from then on a replay is judged differently, which is
    right). Returns the set of server names/addresses affected, empty
    today."""
    q = "SELECT sha256, not_before, not_after, first_ts FROM certs"
    a = {r[0]: r for r in rows_q(ref, q)}
    b = {r[0]: r for r in rows_q(live, q)}
    bad = []
    for sha, (_, nb, na, t_ref) in a.items():
        if sha not in b or t_ref is None or b[sha][3] is None:
            continue
        t_live = b[sha][3]
        then = nb <= t_ref // 1000000 <= na
        now = nb <= t_live // 1000000 <= na
        if then != now:
            bad.append(sha)
    return bad


def rows_q(db, q):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return [tuple(r) for r in con.execute(q)]
    finally:
        con.close()


def compare(ref, live, feed_path=None):
    out = []
    ok = True
    runs = [rows(db, "runs", RUN_COLS) for db in (ref, live)]
    if len(runs[0]) != 1 or len(runs[1]) != 1:
        out.append("each database must hold one run: %d offline, %d live"
                   % (len(runs[0]), len(runs[1])))
        ok = False
    elif runs[0] != runs[1]:
        ok = False
        out.append("runs counters differ: offline %s, live %s" % (
            dict(zip(RUN_COLS, runs[0][0])), dict(zip(RUN_COLS, runs[1][0]))))
    excl = cert_time_exclusions(ref, live)
    acols, scols = ALERT_COLS, SESSION_COLS
    ra, la = rows(ref, "alerts", acols), rows(live, "alerts", acols)
    rs, ls = rows(ref, "sessions", scols), rows(live, "sessions", scols)
    if excl:
        # Only when a certificate crossed a validity bound between the
        # capture and now (never today): its verdicts legitimately differ.
        out.append("note: %d certificate(s) valid at one packet time and "
                   "not the other; %s alerts and cert_status not compared"
                   % (len(excl), "/".join(CERT_KINDS)))
        ra = [r for r in ra if r[0] not in CERT_KINDS]
        la = [r for r in la if r[0] not in CERT_KINDS]
        ci = scols.index("cert_status")
        si = scols.index("sts")
        rs = [r[:ci] + r[ci + 1:si] for r in rs]
        ls = [r[:ci] + r[ci + 1:si] for r in ls]
        scols = scols[:ci] + scols[ci + 1:si]
    # With several workers, sessions of one server (same address, or same
    # banner name, or same SNI) that overlap on two workers reach the
    # shared history (STARTTLS offers, certificate pins) in an order no
    # packet fixes.  REPLAY_ORDER_FREE names the kinds that history alone
    # decides (not compared); REPLAY_ORDER_SOFT those whose severity and
    # evidence name a history-based downgrade sign (compared on kind and
    # endpoints only).  Everything else must be equal.
    def kinds(var):
        return set(k for k in os.environ.get(var, "").split(",") if k)
    free, soft = kinds("REPLAY_ORDER_FREE"), kinds("REPLAY_ORDER_SOFT")
    if free or soft:
        out.append("note: %s not compared, %s compared on kind and "
                   "endpoints (history order across workers)" % (
                       "/".join(sorted(free)) or "nothing",
                       "/".join(sorted(soft)) or "nothing"))
        ra = [r for r in ra if r[0] not in free]
        la = [r for r in la if r[0] not in free]
        ep = acols.index("evidence")
        sv = acols.index("severity")

        def blur(r):
            if r[0] not in soft:
                return r
            r = list(r)
            r[ep] = r[sv] = ""
            return tuple(r)
        ra = [blur(r) for r in ra]
        la = [blur(r) for r in la]
    ok &= multiset_diff("alerts", acols, ra, la, out)
    ok &= multiset_diff("flows", FLOW_COLS,
                        [norm_flow(r) for r in rows(ref, "flows", FLOW_COLS)],
                        [norm_flow(r) for r in rows(live, "flows", FLOW_COLS)],
                        out)
    ok &= multiset_diff("sessions", scols, rs, ls, out)
    if feed_path is not None:
        # A clean stop: the feed holds every alert row exactly once.
        ids, problems, torn = feed_lines(feed_path)
        db_ids = [r[0] for r in rows(live, "alerts", ("id",))]
        if torn is not None:
            problems.append("feed ends in a torn line after a clean stop")
        if sorted(ids) != sorted(db_ids):
            problems.append("feed has %d lines (%d distinct ids), the "
                            "database %d alerts" % (len(ids), len(set(ids)),
                                                    len(db_ids)))
        problems += check_feed_rows(feed_path, live)
        if problems:
            ok = False
            out += ["feed: " + p for p in problems[:10]]
    if ok:
        out.append("ok: %d alerts, %d flows, %d sessions equal" % (
            len(la), len(rows(live, "flows", ("id",))), len(ls)))
    print("\n".join(out))
    return 0 if ok else 1


def event_id(obj):
    """The alert's row id: ECS event.id (a string), or the older flat
    "id"; None when neither is there."""
    ev = obj.get("event")
    if isinstance(ev, dict) and "id" in ev:
        return int(ev["id"])
    if "event.id" in obj:
        return int(obj["event.id"])
    if "id" in obj:
        return int(obj["id"])
    return None


def field(obj, dotted):
    """ECS nested ("source": {"ip": ..}) or flat ("source.ip") fields."""
    if dotted in obj:
        return obj[dotted]
    cur = obj
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def feed_lines(path):
    """Returns (objects, problems, torn): the parsed complete lines (each
    ended by a newline), what is wrong with them, and the bytes after the
    last newline (None when the file ends in a newline).

    A torn line: the kill can cut the sensor's write of a commit's lines,
    leaving a last line without its newline. It is acceptable only as the
    file's final bytes: every line before it must be complete and valid,
    and the torn bytes must not parse as a whole object (which would mean
    the line was complete but not terminated: then it is checked like the
    others). A line that is not valid JSON anywhere else is a failure."""
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(b"\n")
    tail = parts.pop()		# b"" when the file ends in a newline
    objs, problems = [], []
    for n, line in enumerate(parts, 1):
        try:
            objs.append(json.loads(line.decode("utf-8")))
        except (ValueError, UnicodeDecodeError) as e:
            problems.append("line %d is not valid JSON (%s): %r" %
                            (n, e, line[:120]))
    torn = None
    if tail:
        try:
            objs.append(json.loads(tail.decode("utf-8")))
        except (ValueError, UnicodeDecodeError):
            torn = tail
            if not tail.startswith(b"{"):
                problems.append("torn last line does not start a JSON "
                                "object: %r" % tail[:120])
    ids = []
    for o in objs:
        if not isinstance(o, dict) or event_id(o) is None:
            problems.append("line without an alert id: %r" % (o,))
            continue
        ids.append(event_id(o))
    return ids, problems, torn


def check_feed_rows(path, db):
    """Each parsed line against its row: kind, severity, endpoints and
    evidence equal."""
    ids, problems, torn = feed_lines(path)
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    if torn is not None or lines[-1] == b"":
        lines = lines[:-1]
    objs = []
    for line in lines:
        try:
            objs.append(json.loads(line.decode("utf-8")))
        except (ValueError, UnicodeDecodeError):
            pass
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    out = []
    try:
        for o in objs:
            if not isinstance(o, dict) or event_id(o) is None:
                continue
            i = event_id(o)
            r = con.execute("SELECT kind, severity, client_ip, client_port,"
                            " server_ip, server_port, evidence FROM alerts"
                            " WHERE id = ?", (i,)).fetchone()
            if r is None:
                out.append("alert id %d is on the feed, not in the "
                           "database" % i)
                continue
            got = (field(o, "rule.name"), field(o, "log.level"),
                   field(o, "source.ip"), field(o, "source.port"),
                   field(o, "destination.ip"), field(o, "destination.port"),
                   field(o, "stripwatch.evidence"))
            if got[0] is None:	# the pre-ECS flat names
                got = (o.get("kind"), o.get("severity"), o.get("client_ip"),
                       o.get("client_port"), o.get("server_ip"),
                       o.get("server_port"), o.get("evidence"))
            if got != tuple(r):
                out.append("alert id %d: feed %s, database %s" %
                           (i, got, tuple(r)))
    finally:
        con.close()
    return out


def feed(path, db):
    ids, problems, torn = feed_lines(path)
    problems += check_feed_rows(path, db)
    dup = [i for i, n in collections.Counter(ids).items() if n > 1]
    if dup:
        problems.append("ids on the feed twice: %s" % dup[:10])
    if problems:
        print("\n".join(problems[:20]))
        return 1
    print("ok: %d lines%s" % (len(ids), "" if torn is None else
                              ", torn last line of %d bytes ignored" %
                              len(torn)))
    return 0


def linktype(path):
    with open(path, "rb") as f:
        h = f.read(4096)
    if len(h) >= 24 and h[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        return struct.unpack("<I", h[20:24])[0] & 0x0fffffff
    if len(h) >= 24 and h[:4] in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        return struct.unpack(">I", h[20:24])[0] & 0x0fffffff
    if h[:4] == b"\x0a\x0d\x0d\x0a" and len(h) >= 12:
        e = "<" if h[8:12] == b"\x4d\x3c\x2b\x1a" else ">"
        off = struct.unpack(e + "I", h[4:8])[0]
        while off + 12 <= len(h):
            btype, blen = struct.unpack(e + "II", h[off:off + 8])
            if btype == 1:
                return struct.unpack(e + "H", h[off + 8:off + 10])[0]
            if blen < 12:
                break
            off += blen
    return None


def records(path):
    """Classic pcap only: (endian, header, [record bytes])."""
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("%s: not a classic pcap file" % path)
    recs, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        if off + 16 + incl > len(data):
            raise ValueError("%s: cut record at offset %d" % (path, off))
        recs.append(data[off:off + 16 + incl])
        off += 16 + incl
    if off != len(data):
        raise ValueError("%s: %d stray bytes at the end" %
                         (path, len(data) - off))
    return e, data[:24], recs


def cat(out, paths):
    hdr, key, allrecs = None, None, []
    for p in paths:
        e, h, recs = records(p)
        k = (h[:4], linktype(p))
        if key is None:
            key, hdr = k, bytearray(h)
        elif k != key:
            raise ValueError("%s: other byte order, resolution or link type "
                             "than %s" % (p, paths[0]))
        # The largest snaplen of all, so no record is longer than it says.
        snap = max(struct.unpack(e + "I", hdr[16:20])[0],
                   struct.unpack(e + "I", h[16:20])[0])
        hdr[16:20] = struct.pack(e + "I", snap)
        allrecs += recs
    with open(out, "wb") as f:
        f.write(bytes(hdr))
        for r in allrecs:
            f.write(r)
    return 0


def check(path):
    """Why the capture cannot be replayed byte for byte, or None: a cut or
    corrupt record (the file is damaged), or frames cut by the snaplen (a
    sender can only send the bytes that were kept: the live sensor would
    see a short, malformed frame where the offline run sees a truncated
    one, with the original length)."""
    try:
        e, h, recs = records(path)
    except (ValueError, OSError) as ex:
        return str(ex)
    cut = 0
    for r in recs:
        incl, orig = struct.unpack(e + "II", r[8:16])
        if incl < orig:
            cut += 1
    if cut:
        return "%d frame(s) cut by the snaplen" % cut
    return None


def main(argv):
    if len(argv) == 2 and argv[0] == "check":
        why = check(argv[1])
        print("ok" if why is None else why)
        return 0 if why is None else 1
    if len(argv) >= 2 and argv[0] == "linktype":
        lt = linktype(argv[1])
        print("?" if lt is None else lt)
        return 0
    if len(argv) >= 2 and argv[0] == "count":
        print(sum(len(records(p)[2]) for p in argv[1:]))
        return 0
    if len(argv) >= 3 and argv[0] == "cat":
        return cat(argv[1], argv[2:])
    if len(argv) in (3, 4) and argv[0] == "compare":
        return compare(argv[1], argv[2], argv[3] if len(argv) == 4 else None)
    if len(argv) == 3 and argv[0] == "feed":
        return feed(argv[1], argv[2])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
