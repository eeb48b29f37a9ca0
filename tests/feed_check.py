#!/usr/bin/python3
"""feed_check.py - the helper of tests/feed.sh (stdlib only).

  recv udp|tcp|unix ADDR OUT READY  a collector: binds ADDR (HOST:0 picks a
                                    port; unix: a path), writes the address
                                    to READY, then every datagram (4-byte
                                    length + bytes) or the TCP byte stream
                                    of each connection to OUT until SIGTERM.
  json FILE DB [WHERE]              every line is an ECS object of README's
                                    "SIEM feed", equal to the alert rows
  syslog udp|tcp|unix FILE DB FACILITY [WHERE]
                                    every message parses per RFC 5424 (TCP:
                                    RFC 6587 octet counting) and equals the
                                    alert rows (WHERE: an SQL condition
                                    that feed.sh writes)
  alerts BIN DB                     `stripwatch alerts` filters against SQL
  v6pcap OUT                        writes an IPv6 capture with a stripped
                                    STARTTLS session (two alerts)

Checks print "PASS name" / "FAIL name: why"; the exit status is the
number of failures (capped).
"""
import csv
import datetime
import io
import ipaddress
import json
import os
import re
import select
import signal
import socket
import sqlite3
import struct
import subprocess
import sys

SEVERITY_NUM = {"info": 1, "low": 21, "medium": 47, "high": 73}
SYSLOG_SEV = {"high": 2, "medium": 4, "low": 5, "info": 6}
FACILITY = {"kern": 0, "user": 1, "mail": 2, "daemon": 3, "local0": 16,
            "local7": 23}
RANK = {"info": 0, "low": 1, "medium": 2, "high": 3}
COLS = ("id, run_id, session_id, kind, severity, ts, client_ip, client_port,"
        " server_ip, server_port, source, frame, evidence")

failures = 0


def check(name, fn):
    global failures
    try:
        fn()
        print("PASS " + name)
    except Exception as e:  # the reason goes to the log, the run goes on
        failures += 1
        print("FAIL %s: %s: %s" % (name, type(e).__name__, e))


def rows_of(db, where="", args=()):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    con.row_factory = sqlite3.Row
    rows = con.execute("SELECT %s FROM alerts %s ORDER BY ts, id" %
                       (COLS, where), args).fetchall()
    con.close()
    return [dict(r) for r in rows]


def rfc3339(us):
    t = datetime.datetime.fromtimestamp(us // 1000000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%06dZ" % (us % 1000000)


# --- collector -------------------------------------------------------------

def recv(proto, addr, out, ready):
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    if proto == "unix":
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(addr)
        where = addr
    else:
        host, port = addr.rsplit(":", 1)
        host = host.strip("[]")
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM if proto == "udp"
                          else socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, int(port)))
        if proto == "tcp":
            s.listen(4)
        where = str(s.getsockname()[1])
    f = open(out, "ab")
    conns = []
    with open(ready + ".tmp", "w") as r:
        r.write(where)
    os.rename(ready + ".tmp", ready)
    idle = 0
    while True:
        try:
            rd, _, _ = select.select([s] + conns, [], [], 0.1)
        except InterruptedError:
            rd = []
        for x in rd:
            if x is s and proto == "tcp":
                c, _ = s.accept()
                conns.append(c)
            elif x is s:
                d = s.recv(65536)
                f.write(struct.pack("!I", len(d)) + d)
            else:
                d = x.recv(65536)
                if d:
                    f.write(d)
                else:
                    x.close()
                    conns.remove(x)
        f.flush()
        # After SIGTERM: what is already queued is read, then the end.
        idle = idle + 1 if stop and not rd else 0
        if stop and idle >= 3:
            break
    f.close()


def datagrams(path):
    data = open(path, "rb").read()
    out, i = [], 0
    while i < len(data):
        n, = struct.unpack("!I", data[i:i + 4])
        out.append(data[i + 4:i + 4 + n])
        i += 4 + n
    return out


def octet_frames(data):
    """RFC 6587 3.4.1: MSG-LEN SP SYSLOG-MSG, MSG-LEN = NONZERO-DIGIT *DIGIT."""
    out, i = [], 0
    while i < len(data):
        m = re.compile(rb"[1-9][0-9]{0,8} ").match(data, i)
        assert m, "bad octet count at byte %d: %r" % (i, data[i:i + 20])
        n = int(m.group()[:-1])
        i = m.end()
        assert i + n <= len(data), "frame past the end of the stream"
        out.append(data[i:i + n])
        i += n
    return out


# --- RFC 5424 parser -------------------------------------------------------

PRINTUS = rb"[\x21-\x7e]"
HEADER = re.compile(
    rb"<(0|[1-9][0-9]{0,2})>([1-9][0-9]{0,2}) "
    rb"(-|(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?"
    rb"(Z|[+-]\d{2}:\d{2})) "
    rb"(-|" + PRINTUS + rb"{1,255}) (-|" + PRINTUS + rb"{1,48}) "
    rb"(-|" + PRINTUS + rb"{1,128}) (-|" + PRINTUS + rb"{1,32}) ")
SD_NAME = re.compile(rb"[\x21-\x7e]{1,32}")


def sd_name(msg, i):
    m = SD_NAME.match(msg, i)
    assert m, "SD-NAME expected at %d" % i
    name = m.group()
    # SD-NAME excludes '=', SP, ']' and '"': take the longest legal run.
    cut = re.search(rb'[= \]"]', name)
    if cut:
        name = name[:cut.start()]
    assert name, "empty SD-NAME at %d" % i
    return name.decode("ascii"), i + len(name)


def parse_5424(msg):
    """Returns (pri, version, timestamp, host, app, procid, msgid, sd, text)
    with sd a list of (sd-id, {name: value}), escapes undone."""
    m = HEADER.match(msg)
    assert m, "HEADER does not match: %r" % msg[:120]
    pri, ver = int(m.group(1)), int(m.group(2))
    assert pri <= 191, "PRIVAL %d" % pri
    ts = m.group(3).decode()
    if ts != "-":
        datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    host, app, procid, msgid = (m.group(i).decode("ascii")
                                for i in range(12, 16))
    i = m.end()
    sd = []
    if msg[i:i + 1] == b"-":
        i += 1
    else:
        assert msg[i:i + 1] == b"[", "STRUCTURED-DATA expected"
        while msg[i:i + 1] == b"[":
            sdid, i = sd_name(msg, i + 1)
            params = {}
            while msg[i:i + 1] == b" ":
                name, i = sd_name(msg, i + 1)
                assert msg[i:i + 2] == b'="', "'=\"' after %s" % name
                i += 2
                val = bytearray()
                while True:
                    assert i < len(msg), "PARAM-VALUE not closed"
                    c = msg[i:i + 1]
                    if c == b"\\" and msg[i + 1:i + 2] in (b'"', b"\\",
                                                         b"]"):
                        val += msg[i + 1:i + 2]
                        i += 2
                    elif c == b'"':
                        i += 1
                        break
                    else:
                        assert c != b"]", "unescaped ] in %s" % name
                        val += c
                        i += 1
                assert name not in params, "param %s twice" % name
                params[name] = bytes(val).decode("utf-8")
            assert msg[i:i + 1] == b"]", "SD-ELEMENT not closed at %d" % i
            i += 1
            sd.append((sdid, params))
    text = None
    if i < len(msg):
        assert msg[i:i + 1] == b" ", "SP before MSG expected"
        body = msg[i + 1:]
        assert not body.startswith(b"\xef\xbb\xbf"), "BOM in MSG"
        text = body.decode("utf-8")
    return pri, ver, ts, host, app, procid, msgid, sd, text


# --- feed checks -----------------------------------------------------------

def json_check(path, db, where=None):
    rows = rows_of(db, "WHERE " + where if where else "")
    raw = open(path, "rb").read()
    lines = raw.decode("utf-8").split("\n")
    assert lines[-1] == "", "the last line does not end in LF"
    objs = [json.loads(l) for l in lines[:-1]]
    assert len(objs) == len(rows) > 0, (len(objs), len(rows))
    for o, r in zip(objs, rows):
        keys = {"@timestamp", "ecs", "event", "log", "rule", "source",
                "destination", "network", "observer", "stripwatch"}
        assert set(o) == keys, set(o) ^ keys
        assert o["@timestamp"] == rfc3339(r["ts"]), (o["@timestamp"], r)
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z",
                            o["@timestamp"])
        assert o["ecs"] == {"version": "8.11.0"}
        ev = o["event"]
        assert ev == {"kind": "alert",
                      "category": ["network", "intrusion_detection"],
                      "type": ["info"], "module": "stripwatch",
                      "dataset": "stripwatch.alert", "id": str(r["id"]),
                      "severity": SEVERITY_NUM[r["severity"]]}, ev
        assert type(ev["severity"]) is int and type(ev["id"]) is str
        assert o["log"] == {"level": r["severity"]}
        assert o["rule"] == {"name": r["kind"]}
        assert o["source"] == {"ip": r["client_ip"],
                               "port": r["client_port"]}, o["source"]
        assert o["destination"] == {"ip": r["server_ip"],
                                    "port": r["server_port"]}
        assert o["network"] == {
            "transport": "tcp", "protocol": "smtp",
            "type": "ipv6" if ":" in r["server_ip"] else "ipv4"}
        assert o["observer"] == {"type": "ids", "product": "stripwatch"}
        assert o["stripwatch"] == {
            "run_id": r["run_id"], "session_id": r["session_id"],
            "frame": r["frame"], "source": r["source"],
            "evidence": r["evidence"]}, (o["stripwatch"], r)
        for k in ("port",):
            assert type(o["source"][k]) is int
        assert type(o["stripwatch"]["frame"]) is int


def syslog_check(proto, path, db, facility, where=None):
    rows = {r["id"]: r for r in rows_of(db, "WHERE " + where if where
                                        else "")}
    if proto == "tcp":
        msgs = octet_frames(open(path, "rb").read())
    else:
        msgs = datagrams(path)
    assert len(msgs) == len(rows) > 0, (len(msgs), len(rows))
    host = re.sub(r"[^\x21-\x7e]", "-", socket.gethostname()) or "-"
    seen = []
    for msg in msgs:
        pri, ver, ts, h, app, procid, msgid, sd, text = parse_5424(msg)
        assert len(sd) == 1 and sd[0][0] == "stripwatch@32473", sd
        p = sd[0][1]
        r = rows[int(p["id"])]
        seen.append(r["id"])
        assert pri == FACILITY[facility] * 8 + SYSLOG_SEV[r["severity"]], pri
        assert ver == 1 and app == "stripwatch" and h == host, (ver, app, h)
        assert procid.isdigit(), procid
        assert msgid == r["kind"], msgid
        assert ts == rfc3339(r["ts"]), (ts, r["ts"])
        want = {"id": str(r["id"]), "run": str(r["run_id"]),
                "kind": r["kind"], "severity": r["severity"],
                "src": r["client_ip"], "sport": str(r["client_port"]),
                "dst": r["server_ip"], "dport": str(r["server_port"]),
                "frame": str(r["frame"]), "source": r["source"]}
        if r["session_id"]:
            want["session"] = str(r["session_id"])
        assert p == want, (p, want)
        assert text == (r["evidence"] or None), (text, r["evidence"])
    assert seen == sorted(rows), "messages out of order or repeated"


# --- stripwatch alerts -----------------------------------------------------

def run_alerts(binary, db, args, want_rc=0):
    p = subprocess.run([binary, "alerts", "-w", db] + args,
                       capture_output=True, env=dict(os.environ,
                                                     COLUMNS="160"))
    assert p.returncode == want_rc, (args, p.returncode, p.stderr)
    return p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


def parse_table(out):
    lines = out.split("\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    if not lines:
        return []
    head = lines[0]
    names = re.findall(r"\S+(?: \(UTC\))?", head)
    assert names == ["ID", "TIME (UTC)", "SEVERITY", "KIND", "CLIENT",
                     "SERVER", "FRAME", "EVIDENCE"], names
    starts = [head.index(n) for n in names]
    out = []
    for l in lines[1:]:
        cells = [l[a:b].strip() for a, b in
                 zip(starts, starts[1:] + [None])]
        # Every column starts where its heading does (aligned).
        for a in starts[1:]:
            assert l[a - 2:a] == "  " or l[a - 1] == " ", (l, a)
        out.append(dict(zip(names, cells)))
    return out


def endpoint(ip, port):
    return ("[%s]:%d" if ":" in ip else "%s:%d") % (ip, port)


def alerts_same(binary, db, args, where, sqlargs, limit=None):
    rows = rows_of(db, where, sqlargs)
    if limit is not None:
        rows = rows[-limit:] if limit else []
    # table
    out, _ = run_alerts(binary, db, args)
    t = parse_table(out)
    assert len(t) == len(rows), ("table", len(t), len(rows))
    for c, r in zip(t, rows):
        assert c["ID"] == str(r["id"]) and c["KIND"] == r["kind"]
        assert c["SEVERITY"] == r["severity"]
        assert c["TIME (UTC)"] == rfc3339(r["ts"])[:19].replace("T", " ")
        assert c["CLIENT"] == endpoint(r["client_ip"], r["client_port"])
        assert c["SERVER"] == endpoint(r["server_ip"], r["server_port"])
        assert c["FRAME"] == str(r["frame"])
        ev = c["EVIDENCE"]
        if ev.endswith("...") and ev != r["evidence"]:
            assert r["evidence"].startswith(ev[:-3]), (ev, r["evidence"])
        else:
            assert ev == r["evidence"], (ev, r["evidence"])
    # json: the feed's objects
    out, _ = run_alerts(binary, db, args + ["--format", "json"])
    objs = [json.loads(l) for l in out.splitlines()]
    assert [int(o["event"]["id"]) for o in objs] == [r["id"] for r in rows]
    for o, r in zip(objs, rows):
        assert o["@timestamp"] == rfc3339(r["ts"])
        assert o["rule"]["name"] == r["kind"]
        assert o["stripwatch"]["evidence"] == r["evidence"]
        assert o["stripwatch"]["run_id"] == r["run_id"]
    # csv
    out, _ = run_alerts(binary, db, args + ["--format", "csv"])
    assert out.endswith("\r\n") and "\n" not in out.replace("\r\n", "")
    recs = list(csv.reader(io.StringIO(out, newline="")))
    assert recs[0] == ["id", "run_id", "session_id", "timestamp", "ts_us",
                       "kind", "severity", "client_ip", "client_port",
                       "server_ip", "server_port", "source", "frame",
                       "evidence"], recs[0]
    assert len(recs) - 1 == len(rows), ("csv", len(recs) - 1, len(rows))
    for rec, r in zip(recs[1:], rows):
        want = [str(r["id"]), str(r["run_id"]),
                str(r["session_id"]) if r["session_id"] else "",
                rfc3339(r["ts"]), str(r["ts"]), r["kind"], r["severity"],
                r["client_ip"], str(r["client_port"]), r["server_ip"],
                str(r["server_port"]), r["source"], str(r["frame"]),
                r["evidence"]]
        assert rec == want, (rec, want)
    return len(rows)


def alerts_check(binary, db):
    rows = rows_of(db)
    assert len(rows) >= 8, len(rows)
    kinds = sorted({r["kind"] for r in rows})
    mid = rows[len(rows) // 2]
    v6 = [r for r in rows if ":" in r["server_ip"]]
    v4 = [r for r in rows if ":" not in r["server_ip"]][0]

    def same(name, args, where, sqlargs, limit=None, nonempty=True):
        def f():
            n = alerts_same(binary, db, args, where, sqlargs, limit)
            assert n > 0 or not nonempty, "no rows: a weak check"
        check("alerts " + name, f)

    same("all", [], "", ())
    same("kind", ["--kind", kinds[0]], "WHERE kind = ?", (kinds[0],))
    same("two kinds", ["--kind", kinds[0], "--kind", kinds[-1]],
         "WHERE kind IN (?, ?)", (kinds[0], kinds[-1]))
    for sev in ("low", "medium", "high"):
        same("severity " + sev, ["--severity", sev],
             "WHERE CASE severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2 "
             "WHEN 'low' THEN 1 ELSE 0 END >= ?", (RANK[sev],),
             nonempty=sev != "low")
    same("server addr", ["--server", v4["server_ip"]],
         "WHERE server_ip = ?", (v4["server_ip"],))
    same("server addr:port",
         ["--server", "%s:%d" % (v4["server_ip"], v4["server_port"])],
         "WHERE server_ip = ? AND server_port = ?",
         (v4["server_ip"], v4["server_port"]))
    if v6:
        r = v6[0]
        # Written long-hand: the address is compared as the store writes it.
        long = ipaddress.IPv6Address(r["server_ip"]).exploded
        same("server [v6]:port", ["--server", "[%s]:%d" %
                                  (long, r["server_port"])],
             "WHERE server_ip = ? AND server_port = ?",
             (r["server_ip"], r["server_port"]))
    same("since rfc3339", ["--since", rfc3339(mid["ts"])],
         "WHERE ts >= ?", (mid["ts"],))
    same("until rfc3339", ["--until", rfc3339(mid["ts"])],
         "WHERE ts < ?", (mid["ts"],))
    t = datetime.datetime.fromtimestamp(mid["ts"] // 1000000,
                                        datetime.timezone.utc)
    minute = int(t.replace(second=0).timestamp()) * 1000000
    same("since YYYY-MM-DD HH:MM", ["--since", t.strftime("%Y-%m-%d %H:%M")],
         "WHERE ts >= ?", (minute,))
    local = t.astimezone(datetime.timezone(datetime.timedelta(hours=-5)))
    same("until with offset", ["--until", local.strftime(
        "%Y-%m-%dT%H:%M:%S-05:00")], "WHERE ts < ?",
        (int(t.timestamp()) * 1000000,))
    day = int(t.replace(hour=0, minute=0, second=0).timestamp()) * 1000000
    same("since day until day", ["--since", t.strftime("%Y-%m-%d"),
                                 "--until", (t + datetime.timedelta(days=1))
                                 .strftime("%Y-%m-%d")],
         "WHERE ts >= ? AND ts < ?", (day, day + 86400000000))
    same("limit 3", ["--limit", "3"], "", (), limit=3)
    same("combined", ["--severity", "medium", "--kind", kinds[0], "--kind",
                      kinds[-1], "--limit", "2"],
         "WHERE kind IN (?, ?) AND severity IN ('medium', 'high')",
         (kinds[0], kinds[-1]), limit=2, nonempty=False)
    same("relative -1h (pcap times are older)", ["--since", "-1h"],
         "WHERE ts >= ?", (int((datetime.datetime.now().timestamp() -
                                3600) * 1000000),), nonempty=False)

    def usage_errors():
        for args in (["--severity", "urgent"], ["--kind", "nope"],
                     ["--since", "yesterday"], ["--since", "2026-02-30"],
                     ["--limit", "0"], ["--format", "xml"],
                     ["--server", "mx.example"], ["--bogus"], ["extra"]):
            _, err = run_alerts(binary, db, args, want_rc=2)
            assert err, args
    check("alerts usage errors exit 2", usage_errors)

    def bad_dbs():
        d = os.path.dirname(db)
        other = os.path.join(d, "other.db")
        con = sqlite3.connect(other)
        con.execute("CREATE TABLE alerts (id INTEGER)")
        con.commit()
        con.close()
        _, err = run_alerts(binary, other, [], want_rc=1)
        assert "not a stripwatch database" in err, err
        _, err = run_alerts(binary, os.path.join(d, "missing.db"), [],
                            want_rc=1)
        assert err, "no message"
        assert not os.path.exists(os.path.join(d, "missing.db"))
    check("alerts bad databases exit 1", bad_dbs)


# --- an IPv6 capture -------------------------------------------------------

def v6pcap(out):
    def pkt(src, dst, sp, dp, seq, flags, data=b""):
        tcp = struct.pack("!HHIIBBHHH", sp, dp, seq, 1, 5 << 4, flags,
                          65535, 0, 0) + data
        return struct.pack("!IHBB16s16s", 6 << 28, len(tcp), 6, 64, src,
                           dst) + tcp
    c = socket.inet_pton(socket.AF_INET6, "2001:db8::1")
    s = socket.inet_pton(socket.AF_INET6, "2001:db8::25")
    frames = [pkt(c, s, 40000, 25, 100, 0x02),
              pkt(s, c, 25, 40000, 500, 0x12),
              pkt(s, c, 25, 40000, 501, 0x18, b"220 mx6 ESMTP\r\n"),
              pkt(c, s, 40000, 25, 101, 0x18, b"EHLO x\r\n"),
              pkt(s, c, 25, 40000, 516, 0x18,
                  b"250-mx6\r\n250-XXXXXXXA\r\n250 8BITMIME\r\n"),
              pkt(c, s, 40000, 25, 109, 0x18, b"MAIL FROM:<a@b.test>\r\n")]
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 101))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000 + i, 123456 * i,
                                len(fr), len(fr)) + fr)


def main(argv):
    cmd = argv[1]
    if cmd == "recv":
        recv(*argv[2:6])
        return 0
    if cmd == "v6pcap":
        v6pcap(argv[2])
        return 0
    if cmd == "json":
        check("json %s" % os.path.basename(argv[2]),
              lambda: json_check(*argv[2:]))
    elif cmd == "syslog":
        check("syslog %s %s" % (argv[2], os.path.basename(argv[3])),
              lambda: syslog_check(*argv[2:]))
    elif cmd == "alerts":
        alerts_check(argv[2], argv[3])
    return min(failures, 100)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
