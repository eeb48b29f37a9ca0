#!/usr/bin/python3
"""mkadversarial.py - writes the adversarial captures of tests/adversarial.sh.

One classic pcap (Ethernet) per scenario, written with struct alone (scapy
is far too slow for millions of packets), every IPv4 and TCP checksum
correct, every SMTP payload real SMTP so that the dissector engages.  The
same --seed writes the same bytes.  Next to each SCENARIO.pcap goes
SCENARIO.info: KEY=VALUE lines (numbers and plain words only) saying what
the file holds, for the suite to compare with what stripwatch stored.

  syn-flood         --syns SYNs from random sources to port 25 of a few
                    servers, never answered
  tiny-flows        --flows complete tiny TCP sessions (handshake, a few
                    bytes, FIN both ways), 64 at a time, on mixed ports; one
                    in 8 is a two-line SMTP session (220 banner, QUIT, 221)
  long-line         two SMTP sessions whose client sends a --line-bytes line
                    without LF in MSS-sized segments: the first never ends
                    it (FIN), the second ends it, gets 500, then mails in
                    clear
  multiline-reply   the same two ways for the server's EHLO reply: endless
                    250- continuation lines (--reply-bytes)
  pipeline-flood    MAIL, --commands pipelined RCPT TO and DATA before any
                    reply, then every reply, the message and QUIT
  overlap-conflict  SMTP sessions with overlapping segments: conflicting
                    retransmissions (the real copy first, the forged first,
                    out of order), 1000 conflicting copies, and a session of
                    benign identical overlaps
  seq-wrap          a stripped SMTP session (XXXXXXXA) whose sequence
                    numbers wrap 2^32 inside the EHLO reply (server) and
                    inside the message body (client), with a reordering and
                    a retransmission across the wrap
  fragments         IPv4 fragments of SMTP segments (overlapping fragments
                    with conflicting bytes, a TCP header cut in a tiny first
                    fragment), IPv6 fragments, an IPv6 atomic fragment (a
                    whole packet) and three malformed frames
  zero-window       an SMTP session whose server closes its window during
                    DATA: a window-full stall, zero-window probes (empty
                    Linux-style and one-byte BSD-style), window updates
  bogus-tls         STARTTLS sessions followed by TLS records with absurd
                    lengths (0xFFFF, a handshake longer than its record,
                    16 MB hellos and certificates, empty records, records
                    cut by the FIN)
  history-flood     --history-flows web sessions that carry data both ways
                    and stay open (no FIN), then the overlap-conflict
                    sessions: held flows that are not SMTP must not use up
                    the retransmit-check history the SMTP sessions need,
                    with --all-flows too
  haystack          tiny flows and a SYN flood interleaved, with the packets
                    of --hide FILE (default pcaps/strip-xxxxxxxa/input.pcap)
                    merged in at --hide-at (a fraction of the flood), their
                    timestamps shifted to fit

usage: mkadversarial.py [--seed N] [--tag TAG] [options] OUTDIR [SCENARIO...]
(no SCENARIO: all of them; --tag T names the files SCENARIO-T.pcap)
"""
import argparse
import hashlib
import os
import random
import struct
import sys

T0 = 1767225600 * 1000000          # 2026-01-01T00:00:00Z, microseconds
SNAPLEN = 262144
MSS = 1460

ETH = bytes.fromhex("020000000002" "020000000001" "0800")
ETH6 = bytes.fromhex("020000000002" "020000000001" "86dd")
HDR4 = struct.Struct("!14sBBHHHBBHIIHHIIBBHHH")   # Ethernet, IPv4, TCP
REC = struct.Struct("<IIII")

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
PA, FA, SA = PSH | ACK, FIN | ACK, SYN | ACK
MSS_OPT = struct.pack("!BBH", 2, 4, MSS)


def wsum(b):
    """The ones' complement sum of b as 16-bit words, modulo 0xffff (the
    value of a big-endian number is congruent to the sum of its words)."""
    if len(b) & 1:
        b += b"\0"
    return int.from_bytes(b, "big") % 0xffff


def fold_cksum(s):
    """Checksum field for a sum s that is known not to be all zeros."""
    s %= 0xffff
    return 0xffff - (s or 0xffff)


def ip4(s):
    a, b, c, d = (int(x) for x in s.split("."))
    return a << 24 | b << 16 | c << 8 | d


def ip6(s):
    import ipaddress
    return ipaddress.IPv6Address(s).packed


class Writer:
    """A pcap file: frames get the clock's time and a Wireshark number."""

    def __init__(self, path, linktype=1):
        self.f = open(path, "wb")
        self.f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0,
                                 SNAPLEN, linktype))
        self.buf = []
        self.nbuf = 0
        self.frames = 0
        self.now = T0
        self.step = 10              # µs between frames unless advanced
        self.ipid = 0

    def raw(self, frame, ts=None):
        if ts is None:
            self.now += self.step
            ts = self.now
        n = len(frame)
        self.buf.append(REC.pack(ts // 1000000, ts % 1000000, n, n))
        self.buf.append(frame)
        self.nbuf += n + 16
        if self.nbuf > (1 << 20):
            self.flush()
        self.frames += 1
        return self.frames

    def advance(self, us):
        self.now += us

    def flush(self):
        self.f.write(b"".join(self.buf))
        self.buf = []
        self.nbuf = 0

    def close(self):
        self.flush()
        self.f.close()

    def next_id(self):
        self.ipid = (self.ipid + 1) & 0xffff
        return self.ipid


def tcp4(ident, src, dst, sport, dport, seq, ack, flags, payload=b"",
         win=65535, opts=b"", psum=None):
    """An Ethernet + IPv4 + TCP frame; src/dst are 32-bit integers."""
    thl = 20 + len(opts)
    tlen = thl + len(payload)
    total = 20 + tlen
    s = (0x4500 + total + ident + 0x4000 + 0x4006 + (src >> 16) +
         (src & 0xffff) + (dst >> 16) + (dst & 0xffff))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    ipck = ~s & 0xffff
    if psum is None:
        psum = wsum(payload) if payload else 0
    off = (thl // 4) << 12 | flags
    t = ((src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 +
         tlen + sport + dport + (seq >> 16) + (seq & 0xffff) + (ack >> 16) +
         (ack & 0xffff) + off + win + psum)
    if opts:
        t += wsum(opts)
    return HDR4.pack(ETH, 0x45, 0, total, ident, 0x4000, 64, 6, ipck, src,
                     dst, sport, dport, seq, ack, off >> 8, off & 0xff, win,
                     fold_cksum(t), 0) + opts + payload


def ip4_header(total, ident, frag, proto, src, dst):
    h = struct.pack("!BBHHHBBHII", 0x45, 0, total, ident, frag, 64, proto, 0,
                    src, dst)
    return h[:10] + struct.pack("!H", fold_cksum(wsum(h))) + h[12:]


def tcp_segment(pseudo_sum, sport, dport, seq, ack, flags, payload=b"",
                win=65535, opts=b""):
    """TCP header + payload with its checksum over the given pseudo sum."""
    thl = 20 + len(opts)
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (thl // 4) << 4,
                    flags, win, 0, 0) + opts
    ck = fold_cksum(pseudo_sum + len(h) + len(payload) + wsum(h + payload))
    return h[:16] + struct.pack("!H", ck) + h[18:] + payload


def pseudo4(src, dst):
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6


def pseudo6(src, dst):
    return wsum(src) + wsum(dst) + 6


# ---- SMTP text -----------------------------------------------------------

BANNER = b"220 mx.example.test ESMTP Postfix (Debian/GNU)\r\n"
EHLO = b"EHLO client.example.org\r\n"
CAPS_LIST = [b"mx.example.test", b"PIPELINING", b"SIZE 10240000", b"VRFY",
             b"ETRN", b"STARTTLS", b"ENHANCEDSTATUSCODES", b"8BITMIME",
             b"DSN", b"SMTPUTF8", b"CHUNKING"]


def ehlo_reply(caps=CAPS_LIST):
    return b"".join(b"250-" + c + b"\r\n" for c in caps[:-1]) + \
        b"250 " + caps[-1] + b"\r\n"


CAPS = ehlo_reply()
CAPS_STRIPPED = CAPS.replace(b"STARTTLS", b"XXXXXXXA")
MAIL = b"MAIL FROM:<alice@example.org>\r\n"
RCPT = b"RCPT TO:<bob@example.test>\r\n"
OK_MAIL = b"250 2.1.0 Ok\r\n"
OK_RCPT = b"250 2.1.5 Ok\r\n"
DATA = b"DATA\r\n"
GO_AHEAD = b"354 End data with <CR><LF>.<CR><LF>\r\n"
QUEUED = b"250 2.0.0 Ok: queued as 4F3A2B1C0D\r\n"
QUIT = b"QUIT\r\n"
BYE = b"221 2.0.0 Bye\r\n"
STARTTLS = b"STARTTLS\r\n"
READY = b"220 2.0.0 Ready to start TLS\r\n"


def message(size=600, tag=b"adversarial"):
    head = (b"Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
            b"From: alice@example.org\r\nTo: bob@example.test\r\n"
            b"Subject: stripwatch " + tag + b"\r\n"
            b"Message-Id: <" + tag + b"@example.org>\r\n\r\n")
    line = b"The quick brown fox jumps over the lazy dog 0123456789.\r\n"
    body = (line * (size // len(line) + 1))[:size]
    body = body[:body.rfind(b"\r\n") + 2] if b"\r\n" in body else b"\r\n"
    return head + body + b".\r\n"


# ---- a TCP conversation --------------------------------------------------

class Conv:
    """One TCP connection over IPv4 (or IPv6): [0] client, [1] server.

    send() segments data at the MSS and has the peer acknowledge; seg()
    emits a segment at any stream offset without changing the state, for
    retransmissions, overlaps and reordering.  stream[d] is what a correct
    reassembler delivers (the caller keeps it right when it uses seg())."""

    def __init__(self, w, cip, sip, cport, sport, isn=(1000, 5000), v6=False):
        self.w, self.v6 = w, v6
        self.ip = [cip, sip]
        self.port = [cport, sport]
        if v6:
            self.ipb = [ip6(cip), ip6(sip)]
            self.psum = [pseudo6(self.ipb[0], self.ipb[1]),
                         pseudo6(self.ipb[1], self.ipb[0])]
        else:
            self.ipn = [ip4(cip), ip4(sip)]
        self.isn = list(isn)
        self.nxt = [isn[0], isn[1]]     # next sequence number, unwrapped
        self.win = [65535, 65535]
        self.stream = [bytearray(), bytearray()]
        self.frames = [[], []]          # data frames per direction

    def frame(self, d, seq, ack, flags, payload=b"", win=None, opts=b""):
        if win is None:
            win = self.win[d]
        s, o = d, 1 - d
        seq &= 0xffffffff
        ack &= 0xffffffff
        if not self.v6:
            return tcp4(self.w.next_id(), self.ipn[s], self.ipn[o],
                        self.port[s], self.port[o], seq, ack, flags, payload,
                        win, opts)
        seg = tcp_segment(self.psum[s], self.port[s], self.port[o], seq, ack,
                          flags, payload, win, opts)
        return ETH6 + struct.pack("!IHBB", 0x60000000, len(seg), 6, 64) + \
            self.ipb[s] + self.ipb[o] + seg

    def emit(self, d, seq, ack, flags, payload=b"", win=None, opts=b""):
        return self.w.raw(self.frame(d, seq, ack, flags, payload, win, opts))

    def ackno(self, d):
        """What d acknowledges: everything the other side sent."""
        return self.nxt[1 - d]

    def handshake(self):
        self.emit(0, self.nxt[0], 0, SYN, win=64240, opts=MSS_OPT)
        self.emit(1, self.nxt[1], self.nxt[0] + 1, SA, win=65160,
                  opts=MSS_OPT)
        self.nxt[0] += 1
        self.nxt[1] += 1
        self.emit(0, self.nxt[0], self.nxt[1], ACK)
        return self

    def send(self, d, data, mss=MSS, ack_every=2, ack=True):
        n = 0
        for i in range(0, len(data), mss):
            chunk = data[i:i + mss]
            f = self.emit(d, self.nxt[d], self.ackno(d), PA, chunk)
            self.frames[d].append(f)
            self.nxt[d] += len(chunk)
            self.stream[d] += chunk
            n += 1
            if ack and n % ack_every == 0:
                self.emit(1 - d, self.nxt[1 - d], self.nxt[d], ACK)
        if ack and n % ack_every != 0:
            self.emit(1 - d, self.nxt[1 - d], self.nxt[d], ACK)
        return self

    def seg(self, d, off, data, flags=PA, win=None):
        """A segment at stream offset off (0 = first byte after the SYN)."""
        return self.emit(d, self.isn[d] + 1 + off, self.ackno(d), flags, data,
                         win)

    def dialogue(self, steps):
        for d, data in steps:
            self.send(d, data)
        return self

    def close(self):
        self.emit(0, self.nxt[0], self.nxt[1], FA)
        self.nxt[0] += 1
        self.emit(1, self.nxt[1], self.nxt[0], FA)
        self.nxt[1] += 1
        self.emit(0, self.nxt[0], self.nxt[1], ACK)
        return self

    def sha(self, d):
        return hashlib.sha256(bytes(self.stream[d])).hexdigest()


class Info:
    """KEY=VALUE lines beside the capture."""

    def __init__(self):
        self.items = []

    def __setitem__(self, k, v):
        v = str(v)
        assert all(c.isalnum() or c in "._:-/" for c in v), (k, v)
        self.items.append((k, v))

    def conv(self, prefix, c):
        """What a flows row of this connection must say."""
        self[prefix + "_cport"] = c.port[0]
        self[prefix + "_sport"] = c.port[1]
        self[prefix + "_c2s_bytes"] = len(c.stream[0])
        self[prefix + "_s2c_bytes"] = len(c.stream[1])
        self[prefix + "_c2s_sha256"] = c.sha(0)
        self[prefix + "_s2c_sha256"] = c.sha(1)

    def write(self, path):
        with open(path, "w") as f:
            for k, v in self.items:
                f.write("%s=%s\n" % (k, v))


# ---- the floods (generators of frames, no timestamps) --------------------

TINY_PORTS = [(80, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
              (443, b"\x16\x03\x01\x00\x05hello"),
              (8080, b"GET /x HTTP/1.0\r\n\r\n"),
              (22, b"SSH-2.0-OpenSSH_9.2\r\n"),
              (3306, b"\x05\x00\x00\x00\x0e"),
              (6379, b"PING\r\n"),
              (0, b"hi\r\n")]          # 0: a random high port
TINY_SMTP_PORTS = (25, 587)
TINY_BANNER = b"220 mx%d.example.test ESMTP\r\n"
TINY_BYE = b"221 2.0.0 Bye\r\n"
TINY_BATCH = 64                     # flows open at once


def tiny_flows(rng, n, stats, base=0):
    """n tiny sessions, TINY_BATCH interleaved at a time.  One in eight
    speaks SMTP (7 packets), the others 5 packets: SYN, SYN/ACK, the
    client's ACK+data+FIN, the server's FIN/ACK, the client's ACK."""
    servers = [ip4("192.0.2.%d" % i) for i in range(1, 33)] + \
        [ip4("198.51.100.%d" % i) for i in range(1, 33)]
    psums = {}

    def ps(p):
        v = psums.get(p)
        if v is None:
            v = psums[p] = wsum(p)
        return v

    bye_s = ps(TINY_BYE)
    quit_s = ps(QUIT)
    ident = 0
    stats.setdefault("tiny_smtp", 0)
    stats.setdefault("tiny_packets", 0)
    for b0 in range(0, n, TINY_BATCH):
        flows = []
        for i in range(b0, min(n, b0 + TINY_BATCH)):
            k = base + i
            cip = 0x0a000000 | (k & 0xffffff)           # 10.x.y.z, unique
            sip = servers[rng.randrange(len(servers))]
            cport = 1024 + rng.randrange(64000)
            cs, ss = rng.getrandbits(32), rng.getrandbits(32)
            if i % 8 == 7:
                port = TINY_SMTP_PORTS[(i >> 3) & 1]
                banner = TINY_BANNER % (sip & 0xff)
                bs = ps(banner)
                m = mk = cs + 1
                n1 = ss + 1
                pk = [
                    (cip, sip, cport, port, cs, 0, SYN, b"", 0, MSS_OPT),
                    (sip, cip, port, cport, ss, cs + 1, SA, b"", 0, MSS_OPT),
                    (cip, sip, cport, port, m, n1, ACK, b"", 0, b""),
                    (sip, cip, port, cport, n1, m, PA, banner, bs, b""),
                    (cip, sip, cport, port, m, n1 + len(banner), PA | FIN,
                     QUIT, quit_s, b""),
                    (sip, cip, port, cport, n1 + len(banner), mk + 7,
                     PA | FIN, TINY_BYE, bye_s, b""),
                    (cip, sip, cport, port, mk + 7,
                     n1 + len(banner) + len(TINY_BYE) + 1, ACK, b"", 0, b""),
                ]
                stats["tiny_smtp"] += 1
            else:
                port, data = TINY_PORTS[rng.randrange(len(TINY_PORTS))]
                if port == 0:
                    port = 10000 + rng.randrange(50000)
                ds = ps(data)
                e = cs + 1 + len(data) + 1
                pk = [
                    (cip, sip, cport, port, cs, 0, SYN, b"", 0, MSS_OPT),
                    (sip, cip, port, cport, ss, cs + 1, SA, b"", 0, MSS_OPT),
                    (cip, sip, cport, port, cs + 1, ss + 1, PA | FIN, data,
                     ds, b""),
                    (sip, cip, port, cport, ss + 1, e, FA, b"", 0, b""),
                    (cip, sip, cport, port, e, ss + 2, ACK, b"", 0, b""),
                ]
            flows.append(pk)
        for step in range(7):
            for pk in flows:
                if step < len(pk):
                    s, d, sp, dp, seq, ack, fl, pl, psum, opts = pk[step]
                    ident = (ident + 1) & 0xffff
                    stats["tiny_packets"] += 1
                    yield tcp4(ident, s, d, sp, dp, seq & 0xffffffff,
                               ack & 0xffffffff, fl, pl,
                               65535 if step > 1 else 64240, opts, psum)


def unique_syn_flood(rng, n, stats):
    """SYNs on distinct 4-tuples: the source address and port come from
    the index, shuffled by a per-seed offset, so each SYN opens a flow."""
    servers = [ip4("203.0.113.%d" % i) for i in (25, 26, 27, 28)]
    off = rng.getrandbits(20)
    ident = 0
    stats.setdefault("syns", 0)
    for i in range(n):
        k = (i + off) & 0x3fffff
        src = ip4("100.64.0.0") | k                      # 100.64.0.0/10
        ident = (ident + 1) & 0xffff
        stats["syns"] += 1
        yield tcp4(ident, src, servers[i & 3], 1024 + rng.randrange(64512),
                   25, rng.getrandbits(32), 0, SYN, b"", 1024, MSS_OPT)


WEB_GET = b"GET /index.html HTTP/1.1\r\nHost: www.example.test\r\n\r\n"
WEB_OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def open_web_flows(n, stats):
    """n HTTP exchanges that never close: SYN, SYN/ACK, the client's
    request, the server's answer, the client's ACK; 64 at a time."""
    servers = [ip4("203.0.113.%d" % i) for i in range(80, 96)]
    get_s, ok_s = wsum(WEB_GET), wsum(WEB_OK)
    ident = 0
    stats.setdefault("web_flows", 0)
    for b0 in range(0, n, TINY_BATCH):
        flows = []
        for i in range(b0, min(n, b0 + TINY_BATCH)):
            cip = ip4("100.64.0.0") | i                 # unique client
            sip = servers[i & 15]
            cport = 1024 + (i * 7919) % 64000
            c, sv = 1000 + i, 900000 + i
            flows.append([
                (cip, sip, cport, 80, c, 0, SYN, b"", 0, MSS_OPT),
                (sip, cip, 80, cport, sv, c + 1, SA, b"", 0, MSS_OPT),
                (cip, sip, cport, 80, c + 1, sv + 1, PA, WEB_GET, get_s,
                 b""),
                (sip, cip, 80, cport, sv + 1, c + 1 + len(WEB_GET), PA,
                 WEB_OK, ok_s, b""),
                (cip, sip, cport, 80, c + 1 + len(WEB_GET),
                 sv + 1 + len(WEB_OK), ACK, b"", 0, b""),
            ])
            stats["web_flows"] += 1
        for step in range(5):
            for pk in flows:
                s, d, sp, dp, seq, ack, fl, pl, psum, opts = pk[step]
                ident = (ident + 1) & 0xffff
                yield tcp4(ident, s, d, sp, dp, seq, ack, fl, pl,
                           65535 if step > 1 else 64240, opts, psum)


# ---- scenarios -----------------------------------------------------------

def sc_syn_flood(w, rng, a, info):
    stats = {}
    w.step = 2
    for fr in unique_syn_flood(rng, a.syns, stats):
        w.raw(fr)
    info["packets"] = w.frames
    info["syns"] = stats["syns"]


def sc_tiny_flows(w, rng, a, info):
    stats = {}
    w.step = 1
    for fr in tiny_flows(rng, a.flows, stats):
        w.raw(fr)
    info["packets"] = w.frames
    info["flows"] = a.flows
    info["smtp_sessions"] = stats["tiny_smtp"]


def long_line(size, rng):
    """A MAIL FROM whose address never ends: size bytes, no LF."""
    head = b"MAIL FROM:<"
    alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789.-"
    block = bytes(alphabet[rng.randrange(len(alphabet))] for _ in range(4096))
    body = (block * (size // len(block) + 1))[:size - len(head)]
    return head + body


def sc_long_line(w, rng, a, info):
    line = long_line(a.line_bytes, rng)
    info["line_bytes"] = len(line)
    # 1: the line never ends; the client gives up with FIN.
    c = Conv(w, "192.0.2.10", "198.51.100.25", 40001, 25).handshake()
    c.dialogue([(1, BANNER), (0, EHLO), (1, CAPS)])
    c.send(0, line, ack_every=4)
    c.close()
    info.conv("endless", c)
    w.advance(1000000)
    # 2: the line ends after size bytes; the server refuses it and the
    # client goes on with mail in clear (STARTTLS offered, not used).
    c = Conv(w, "192.0.2.11", "198.51.100.25", 40002, 25).handshake()
    c.dialogue([(1, BANNER), (0, EHLO), (1, CAPS)])
    c.send(0, line + b">\r\n", ack_every=4)
    c.send(1, b"500 5.5.2 Error: line too long\r\n")
    c.dialogue([(0, MAIL), (1, OK_MAIL), (0, RCPT), (1, OK_RCPT),
                (0, DATA), (1, GO_AHEAD)])
    c.send(0, message(2000, b"long-line"))
    c.dialogue([(1, QUEUED), (0, QUIT), (1, BYE)])
    c.close()
    info.conv("ended", c)


def multiline(size, rng):
    """250- continuation lines, distinct keywords, about size bytes."""
    out = [b"250-mx.example.test\r\n", b"250-PIPELINING\r\n",
           b"250-STARTTLS\r\n"]
    n = len(out[0]) + len(out[1]) + len(out[2])
    i = 0
    while n < size:
        ln = b"250-X-NOISE%07d %s\r\n" % (i, b"z" * (20 + rng.randrange(40)))
        out.append(ln)
        n += len(ln)
        i += 1
    return b"".join(out), i + 3


def sc_multiline(w, rng, a, info):
    reply, lines = multiline(a.reply_bytes, rng)
    info["reply_bytes"] = len(reply)
    info["reply_lines"] = lines
    # 1: the reply never ends; the server closes.
    c = Conv(w, "192.0.2.20", "198.51.100.26", 40011, 25).handshake()
    c.dialogue([(1, BANNER), (0, EHLO)])
    c.send(1, reply, ack_every=4)
    c.close()
    info.conv("endless", c)
    w.advance(1000000)
    # 2: it ends with "250 HELP"; the client mails in clear.
    c = Conv(w, "192.0.2.21", "198.51.100.26", 40012, 25).handshake()
    c.dialogue([(1, BANNER), (0, EHLO)])
    c.send(1, reply + b"250 HELP\r\n", ack_every=4)
    c.dialogue([(0, MAIL), (1, OK_MAIL), (0, RCPT), (1, OK_RCPT),
                (0, DATA), (1, GO_AHEAD), (0, message(2000, b"multiline")),
                (1, QUEUED), (0, QUIT), (1, BYE)])
    c.close()
    info.conv("ended", c)


def sc_pipeline(w, rng, a, info):
    c = Conv(w, "192.0.2.30", "198.51.100.27", 40021, 25).handshake()
    c.dialogue([(1, BANNER), (0, EHLO), (1, CAPS)])
    cmds = [MAIL]
    for i in range(a.commands):
        cmds.append(b"RCPT TO:<user%d@d%d.example.test>\r\n" % (i, i % 1000))
    cmds.append(DATA)
    c.send(0, b"".join(cmds), ack_every=4)
    c.send(1, OK_MAIL + OK_RCPT * a.commands + GO_AHEAD, ack_every=4)
    c.dialogue([(0, message(2000, b"pipeline")), (1, QUEUED), (0, QUIT),
                (1, BYE)])
    c.close()
    info["commands"] = a.commands + 2
    info.conv("flood", c)


def sc_overlap(w, rng, a, info):
    # A: the server's EHLO reply, then a retransmission overlapping it
    # (from its middle on) with STARTTLS overwritten: the first copy wins.
    c = Conv(w, "192.0.2.40", "198.51.100.28", 40031, 25).handshake()
    c.dialogue([(1, BANNER), (0, EHLO)])
    off = len(c.stream[1])
    c.send(1, CAPS)
    cut = CAPS.index(b"STARTTLS") - 10
    c.seg(1, off + cut, CAPS_STRIPPED[cut:])
    # and the client's MAIL FROM, split 20/rest, then a copy of bytes
    # 10..30 with other bytes in it.
    off = len(c.stream[0])
    m = MAIL
    c.seg(0, off, m[:20])
    c.seg(0, off + 20, m[20:])
    c.stream[0] += m
    c.nxt[0] += len(m)
    c.seg(0, off + 10, b"MAIL FROM:<mallory@evil.example>"[10:30])
    c.send(1, OK_MAIL)
    c.dialogue([(0, QUIT), (1, BYE)])
    c.close()
    info.conv("real_first", c)
    info["real_first_conflicts"] = 2
    # B: the forged copy first, then the real one: the forged bytes are
    # what the sensor keeps, so STARTTLS looks stripped (and it conflicts).
    c = Conv(w, "192.0.2.41", "198.51.100.28", 40032, 25).handshake()
    c.dialogue([(1, BANNER), (0, EHLO)])
    off = len(c.stream[1])
    f = c.seg(1, off, CAPS_STRIPPED)
    c.seg(1, off, CAPS)
    c.stream[1] += CAPS_STRIPPED
    c.nxt[1] += len(CAPS)
    c.emit(0, c.nxt[0], c.nxt[1], ACK)
    c.dialogue([(0, QUIT), (1, BYE)])
    c.close()
    info.conv("forged_first", c)
    info["forged_first_conflicts"] = 1
    info["forged_first_frame"] = f
    # C: out of order: bytes 10.. of the client's RCPT arrive first, then
    # bytes 0..20 with other bytes where they overlap.
    c = Conv(w, "192.0.2.42", "198.51.100.28", 40033, 25).handshake()
    c.dialogue([(1, BANNER), (0, EHLO), (1, CAPS), (0, MAIL), (1, OK_MAIL)])
    off = len(c.stream[0])
    r = RCPT
    c.seg(0, off + 10, r[10:])
    forged = b"RCPT TO:<eve@evil.example>\r\n"
    c.seg(0, off, forged[:20])
    # Bytes 0..9 came only in the forged copy; 10..19 twice, real first.
    c.stream[0] += forged[:10] + r[10:]
    c.nxt[0] += len(r)
    c.emit(1, c.nxt[1], c.nxt[0], ACK)
    c.send(1, OK_RCPT)
    c.dialogue([(0, QUIT), (1, BYE)])
    c.close()
    info.conv("out_of_order", c)
    info["out_of_order_conflicts"] = 1
    # D: a thousand conflicting copies of the banner's bytes.
    c = Conv(w, "192.0.2.43", "198.51.100.28", 40034, 25).handshake()
    c.send(1, BANNER)
    for i in range(1000):
        junk = bytes((BANNER[j] ^ (1 + (i + j) % 255)) for j in
                     range(len(BANNER)))
        c.seg(1, 0, junk)
    c.dialogue([(0, QUIT), (1, BYE)])
    c.close()
    info.conv("many", c)
    info["many_conflicts"] = 1000
    # E: overlaps that carry the same bytes: retransmissions, no conflict.
    c = Conv(w, "192.0.2.44", "198.51.100.28", 40035, 25).handshake()
    c.dialogue([(1, BANNER), (0, EHLO)])
    off = len(c.stream[1])
    c.send(1, CAPS)
    for cut in (0, 7, 33, len(CAPS) - 5):
        c.seg(1, off + cut, CAPS[cut:])
    c.dialogue([(0, QUIT), (1, BYE)])
    c.close()
    info.conv("benign", c)


def sc_history_flood(w, rng, a, info):
    stats = {}
    w.step = 1
    for fr in open_web_flows(a.history_flows, stats):
        w.raw(fr)
    info["web_flows"] = stats["web_flows"]
    w.step = 10
    sc_overlap(w, rng, a, info)


def sc_seq_wrap(w, rng, a, info):
    # The server's sequence space wraps inside "XXXXXXXA", the client's
    # inside the message body.
    s_off = len(BANNER) + CAPS_STRIPPED.index(b"XXXXXXXA") + 4
    s_isn = (1 << 32) - 1 - s_off
    body = message(100000, b"seq-wrap")
    c_off = len(EHLO) + len(MAIL) + len(RCPT) + len(DATA) + 50000
    c_isn = (1 << 32) - 1 - c_off
    c = Conv(w, "192.0.2.50", "198.51.100.29", 40041, 25,
             isn=(c_isn, s_isn)).handshake()
    c.dialogue([(1, BANNER), (0, EHLO)])
    info["stripped_frame"] = w.frames + 1
    c.send(1, CAPS_STRIPPED)
    info["mail_frame"] = w.frames + 1
    c.dialogue([(0, MAIL), (1, OK_MAIL), (0, RCPT), (1, OK_RCPT), (0, DATA),
                (1, GO_AHEAD)])
    # The body: segments around the wrap sent out of order, one twice.
    off = len(c.stream[0])
    segs = [(i, body[i:i + MSS]) for i in range(0, len(body), MSS)]
    wrap_at = next(k for k, (i, s) in enumerate(segs)
                   if off + i + len(s) > c_off)
    order = list(range(len(segs)))
    order[wrap_at - 1], order[wrap_at + 1] = order[wrap_at + 1], \
        order[wrap_at - 1]
    for k in order:
        i, s = segs[k]
        c.seg(0, off + i, s)
        if k == wrap_at:
            c.seg(0, off + i, s)        # a retransmission across the wrap
    c.stream[0] += body
    c.nxt[0] += len(body)
    c.emit(1, c.nxt[1], c.nxt[0], ACK)
    c.dialogue([(1, QUEUED), (0, QUIT), (1, BYE)])
    c.close()
    info["server_wraps"] = int(c.nxt[1] > (1 << 32))
    info["client_wraps"] = int(c.nxt[0] > (1 << 32))
    info.conv("wrap", c)


def frag4_frames(w, c, d, payload, sizes, flags=PA, forge=None):
    """The segment at c.nxt[d] as IPv4 fragments of the given sizes (all
    but the last multiples of 8, TCP header included).  forge=(i, bytes):
    fragment i sent first with these bytes instead (an overlap with other
    bytes).  Returns the number of fragment frames."""
    src, dst = c.ipn[d], c.ipn[1 - d]
    seg = tcp_segment(pseudo4(src, dst), c.port[d], c.port[1 - d],
                      c.nxt[d] & 0xffffffff, c.ackno(d) & 0xffffffff, flags,
                      payload, c.win[d])
    ident = w.next_id()
    pieces, o = [], 0
    for i, n in enumerate(sizes + [len(seg)]):
        if o >= len(seg):
            break
        n = min(n, len(seg) - o)
        pieces.append((o, seg[o:o + n]))
        o += n
    count = 0
    for i, (o, p) in enumerate(pieces):
        mf = 0x2000 if i < len(pieces) - 1 else 0
        if forge is not None and forge[0] == i:
            q = forge[1][:len(p)].ljust(len(p), b"X")
            w.raw(ETH + ip4_header(20 + len(q), ident, mf | o // 8, 6, src,
                                   dst) + q)
            count += 1
        w.raw(ETH + ip4_header(20 + len(p), ident, mf | o // 8, 6, src, dst)
              + p)
        count += 1
    c.nxt[d] += len(payload)
    return count


def frag6_frames(w, c, d, payload, first, atomic=False):
    """The segment as IPv6 fragments (Fragment header); atomic: one
    fragment, offset 0 and M clear, which is a whole packet."""
    src, dst = c.ipb[d], c.ipb[1 - d]
    seg = tcp_segment(c.psum[d], c.port[d], c.port[1 - d],
                      c.nxt[d] & 0xffffffff, c.ackno(d) & 0xffffffff, PA,
                      payload, c.win[d])
    ident = 0x1234 + w.next_id()
    parts = [(0, seg)] if atomic else [(0, seg[:first]), (first, seg[first:])]
    for i, (o, p) in enumerate(parts):
        m = 1 if i < len(parts) - 1 else 0
        fh = struct.pack("!BBHI", 6, 0, o | m, ident)
        w.raw(ETH6 + struct.pack("!IHBB", 0x60000000, 8 + len(p), 44, 64) +
              src + dst + fh + p)
    c.nxt[d] += len(payload)
    return 0 if atomic else len(parts)


def sc_fragments(w, rng, a, info):
    nfrag = 0
    # IPv4: the EHLO reply in fragments, one of them sent twice with
    # different bytes (XXXXXXXA); the RCPT reply with its TCP header cut
    # after 8 bytes (a tiny first fragment).
    c = Conv(w, "192.0.2.60", "198.51.100.30", 40051, 25).handshake()
    c.dialogue([(1, BANNER), (0, EHLO)])
    cut = (20 + CAPS.index(b"STARTTLS")) // 8 * 8
    forged = (tcp_segment(0, 0, 0, 0, 0, 0, CAPS_STRIPPED))[cut:cut + 96]
    nfrag += frag4_frames(w, c, 1, CAPS, [cut, 96], forge=(1, forged))
    hole1 = len(CAPS)
    c.emit(0, c.nxt[0], c.nxt[1], ACK)
    c.dialogue([(0, MAIL), (1, OK_MAIL), (0, RCPT)])
    nfrag += frag4_frames(w, c, 1, OK_RCPT, [8])
    hole2 = len(OK_RCPT)
    c.emit(0, c.nxt[0], c.nxt[1], ACK)
    c.dialogue([(0, DATA), (1, GO_AHEAD), (0, message(800, b"fragments")),
                (1, QUEUED), (0, QUIT), (1, BYE)])
    c.close()
    info["v4_cport"] = c.port[0]
    info["v4_s2c_gap_bytes"] = hole1 + hole2
    info["v4_s2c_holes"] = 2
    info["v4_c2s_bytes"] = len(c.stream[0])
    # IPv6: the banner in an atomic fragment (a whole packet), the EHLO
    # reply in two fragments.
    c = Conv(w, "2001:db8::60", "2001:db8:1::25", 40052, 25,
             v6=True).handshake()
    frag6_frames(w, c, 1, BANNER, 0, atomic=True)
    c.stream[1] += BANNER
    c.emit(0, c.nxt[0], c.nxt[1], ACK)
    c.send(0, EHLO)
    nfrag += frag6_frames(w, c, 1, CAPS, 64)
    c.emit(0, c.nxt[0], c.nxt[1], ACK)
    c.dialogue([(0, QUIT), (1, BYE)])
    c.close()
    info["v6_cport"] = c.port[0]
    info["v6_s2c_gap_bytes"] = len(CAPS)
    info["v6_banner"] = "mx.example.test"
    # Three malformed frames: IP total length past the frame, IHL 4, a
    # TCP data offset of 4 words.
    src, dst = ip4("192.0.2.61"), ip4("198.51.100.30")
    seg = tcp_segment(pseudo4(src, dst), 40053, 25, 1, 1, ACK)
    h = ip4_header(20 + len(seg) + 100, 7, 0x4000, 6, src, dst)
    w.raw(ETH + h + seg)
    h = ip4_header(20 + len(seg), 8, 0x4000, 6, src, dst)
    w.raw(ETH + bytes([0x44]) + h[1:] + seg)
    bad = seg[:12] + bytes([0x40]) + seg[13:]
    w.raw(ETH + ip4_header(20 + len(bad), 9, 0x4000, 6, src, dst) + bad)
    info["fragments"] = nfrag
    info["malformed"] = 3


def sc_zero_window(w, rng, a, info):
    c = Conv(w, "192.0.2.70", "198.51.100.31", 40061, 25).handshake()
    c.dialogue([(1, BANNER), (0, EHLO), (1, CAPS), (0, MAIL), (1, OK_MAIL),
                (0, RCPT), (1, OK_RCPT), (0, DATA), (1, GO_AHEAD)])
    body = message(200000, b"zero-window")
    sent = 0
    # The server's window: 16 KiB, then it fills.
    win = 16384
    c.win[1] = win
    c.emit(1, c.nxt[1], c.nxt[0], ACK, win=win)
    chunk = body[:win]
    c.send(0, chunk, ack=False)
    sent += len(chunk)
    # Stall: window full; the server acknowledges with a zero window.
    w.advance(200000)
    c.emit(1, c.nxt[1], c.nxt[0], ACK, win=0)
    probes = 0
    # Linux-style probes: an empty segment one below the next sequence
    # number; the server repeats its zero-window ACK.
    for back in (200000, 400000, 800000):
        w.advance(back)
        c.emit(0, c.nxt[0] - 1, c.nxt[1], ACK)
        c.emit(1, c.nxt[1], c.nxt[0], ACK, win=0)
        probes += 1
    # BSD-style probes: the next byte, beyond the window, three times.
    for back in (1600000, 3200000, 6400000):
        w.advance(back)
        c.emit(0, c.nxt[0], c.nxt[1], PA, body[sent:sent + 1])
        c.emit(1, c.nxt[1], c.nxt[0], ACK, win=0)
        probes += 1
    # The window opens a little, fills again, then opens for good.
    w.advance(100000)
    c.emit(1, c.nxt[1], c.nxt[0], ACK, win=1000)
    c.send(0, body[sent:sent + 1000], ack=False)
    sent += 1000
    c.emit(1, c.nxt[1], c.nxt[0], ACK, win=0)
    w.advance(500000)
    c.emit(0, c.nxt[0], c.nxt[1], PA, body[sent:sent + 1])
    c.emit(1, c.nxt[1], c.nxt[0], ACK, win=0)
    probes += 1
    w.advance(500000)
    c.win[1] = 65535
    c.emit(1, c.nxt[1], c.nxt[0], ACK, win=65535)
    c.send(0, body[sent:])
    c.dialogue([(1, QUEUED), (0, QUIT), (1, BYE)])
    c.close()
    info["probes"] = probes
    info.conv("zw", c)


def tls_record(ctype, body, length=None, version=0x0303):
    n = len(body) if length is None else length
    return struct.pack("!BHH", ctype, version, n) + body


def handshake_msg(htype, body, length=None):
    n = len(body) if length is None else length
    return struct.pack("!B", htype) + n.to_bytes(3, "big") + body


def client_hello(rng, sni=b"mx.example.test"):
    ext_sni = struct.pack("!HHHBH", 0, len(sni) + 5, len(sni) + 3, 0,
                          len(sni)) + sni
    ext_sv = struct.pack("!HHB", 43, 5, 4) + b"\x03\x04\x03\x03"
    exts = ext_sni + ext_sv
    body = (b"\x03\x03" + bytes(rng.getrandbits(8) for _ in range(32)) +
            b"\x20" + bytes(rng.getrandbits(8) for _ in range(32)) +
            b"\x00\x04\x13\x01\xc0\x2f" + b"\x01\x00" +
            struct.pack("!H", len(exts)) + exts)
    return handshake_msg(1, body)


def starttls_session(w, cport, sport=25):
    c = Conv(w, "192.0.2.80", "198.51.100.32", cport, sport).handshake()
    c.dialogue([(1, BANNER), (0, EHLO), (1, CAPS), (0, STARTTLS),
                (1, READY)])
    return c


def sc_bogus_tls(w, rng, a, info):
    n = 0
    # 1: the ClientHello record claims 0xFFFF bytes (RFC 8446: 2^14 + 256
    # at most) and the connection ends inside it.
    c = starttls_session(w, 40071)
    ch = client_hello(rng)
    c.send(0, tls_record(22, ch, length=0xffff))
    c.send(1, tls_record(21, b"\x02\x32"))            # decode_error alert
    c.close()
    n += 1
    # 2: a hello whose handshake length (16 MB) is far beyond its record,
    # followed by 2 MB of records continuing it.
    c = starttls_session(w, 40072)
    ch = client_hello(rng)
    big = handshake_msg(1, ch[4:], length=0xffffff)
    recs = [tls_record(22, big)]
    junk = bytes(rng.getrandbits(8) for _ in range(16384))
    for _ in range(a.tls_junk // 16384):
        recs.append(tls_record(22, junk))
    c.send(0, b"".join(recs), ack_every=4)
    c.close()
    n += 1
    # 3: a normal hello; the server's ServerHello is fine, then a
    # Certificate of 16 MB declared, 2 MB of it sent, then the end.
    c = starttls_session(w, 40073)
    c.send(0, tls_record(22, client_hello(rng)))
    sh_body = (b"\x03\x03" + bytes(32) + b"\x00" + b"\xc0\x2f\x00" +
               b"\x00\x00")
    cert = handshake_msg(11, b"", length=0xffffff)
    out = tls_record(22, handshake_msg(2, sh_body)) + tls_record(22, cert)
    for _ in range(a.tls_junk // 16384):
        out += tls_record(22, junk)
    c.send(1, out, ack_every=4)
    c.close()
    n += 1
    # 4: records longer than what follows them (a record header claiming
    # 16 KiB with 100 bytes and a FIN), and empty records, a thousand.
    c = starttls_session(w, 40074)
    c.send(0, tls_record(22, b"", length=0) * 1000 +
           tls_record(23, b"\x00" * 100, length=16384))
    c.send(1, tls_record(22, handshake_msg(2, b"\x03\x03", length=70000)))
    c.close()
    n += 1
    # 5: a handshake message claiming more than its record, then an
    # application-data record in the middle of it (RFC 8446 5.1 forbids).
    c = starttls_session(w, 40075)
    ch = client_hello(rng)
    c.send(0, tls_record(22, ch[:40]) + tls_record(23, b"\x17" * 50) +
           tls_record(22, ch[40:]))
    c.close()
    n += 1
    info["sessions"] = n


HIDE_DEFAULT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                            "pcaps", "strip-xxxxxxxa", "input.pcap")


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic == 0xa1b2c3d4:
        e, nano = "<", False
    elif magic == 0xd4c3b2a1:
        e, nano = ">", False
    elif magic == 0xa1b23c4d:
        e, nano = "<", True
    elif magic == 0x4d3cb2a1:
        e, nano = ">", True
    else:
        sys.exit("mkadversarial: %s: not a classic pcap" % path)
    linktype = struct.unpack(e + "I", data[20:24])[0]
    if linktype != 1:
        sys.exit("mkadversarial: %s: link type %d, want Ethernet (1)"
                 % (path, linktype))
    out, o = [], 24
    while o + 16 <= len(data):
        sec, frac, cap, wire = struct.unpack(e + "IIII", data[o:o + 16])
        usec = frac // 1000 if nano else frac
        out.append((sec * 1000000 + usec, data[o + 16:o + 16 + cap]))
        o += 16 + cap
    return out


def sc_haystack(w, rng, a, info):
    """Tiny flows and SYNs, one packet every microsecond, in random order;
    the hidden capture's packets go in at --hide-at of the flood with
    their own spacing, shifted so its first packet follows the flood's
    packet there."""
    hidden = read_pcap(a.hide)
    stats = {}
    tiny = tiny_flows(random.Random("%d:haystack-tiny" % a.seed),
                      a.haystack_flows, stats, base=1 << 23)
    syns = unique_syn_flood(random.Random("%d:haystack-syn" % a.seed),
                            a.haystack_syns, stats)
    per_flow = (7 + 5 * 7) / 8
    total = int(a.haystack_flows * per_flow) + a.haystack_syns
    at = int(total * a.hide_at)
    w.step = 1
    p_syn = a.haystack_syns / max(1, total)
    h0 = hidden[0][0]
    hi = 0
    shift = None
    frames = []
    i = 0
    sources = [tiny, syns]
    while sources:
        if shift is None and i == at:
            shift = w.now + 1 - h0
        while shift is not None and hi < len(hidden) and \
                hidden[hi][0] + shift <= w.now + 1:
            frames.append(w.raw(hidden[hi][1], hidden[hi][0] + shift))
            w.now = hidden[hi][0] + shift
            hi += 1
        src = syns if (rng.random() < p_syn and syns in sources) or \
            tiny not in sources else tiny
        try:
            w.raw(next(src))
        except StopIteration:
            sources.remove(src)
            continue
        i += 1
    if shift is None:
        shift = w.now + 1 - h0
    while hi < len(hidden):
        frames.append(w.raw(hidden[hi][1], max(w.now + 1,
                                               hidden[hi][0] + shift)))
        w.now = max(w.now + 1, hidden[hi][0] + shift)
        hi += 1
    info["packets"] = w.frames
    info["flows"] = a.haystack_flows
    info["syns"] = stats["syns"]
    info["smtp_sessions"] = stats["tiny_smtp"]
    info["hidden_packets"] = len(hidden)
    info["hidden_shift_us"] = shift
    for k, f in enumerate(frames):
        info["hidden_frame_%d" % (k + 1)] = f


SCENARIOS = {
    "syn-flood": sc_syn_flood,
    "tiny-flows": sc_tiny_flows,
    "long-line": sc_long_line,
    "multiline-reply": sc_multiline,
    "pipeline-flood": sc_pipeline,
    "overlap-conflict": sc_overlap,
    "seq-wrap": sc_seq_wrap,
    "fragments": sc_fragments,
    "zero-window": sc_zero_window,
    "bogus-tls": sc_bogus_tls,
    "history-flood": sc_history_flood,
    "haystack": sc_haystack,
}


def main():
    p = argparse.ArgumentParser(
        description="Write adversarial captures for tests/adversarial.sh.")
    p.add_argument("outdir")
    p.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                   help="some of: " + " ".join(SCENARIOS))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--tag", default="", help="files SCENARIO-TAG.pcap")
    p.add_argument("--flows", type=int, default=1000000,
                   help="tiny-flows: sessions (default 1000000)")
    p.add_argument("--syns", type=int, default=300000,
                   help="syn-flood: SYNs (default 300000)")
    p.add_argument("--line-bytes", type=int, default=10 << 20,
                   help="long-line: bytes of the line (default 10 MiB)")
    p.add_argument("--reply-bytes", type=int, default=20 << 20,
                   help="multiline-reply: bytes of the reply (default 20 MiB)")
    p.add_argument("--commands", type=int, default=100000,
                   help="pipeline-flood: pipelined RCPTs (default 100000)")
    p.add_argument("--tls-junk", type=int, default=2 << 20,
                   help="bogus-tls: bytes after the oversized messages")
    p.add_argument("--hide", default=HIDE_DEFAULT,
                   help="haystack: the capture to hide (Ethernet pcap)")
    p.add_argument("--hide-at", type=float, default=0.6,
                   help="haystack: where, as a fraction of the flood")
    p.add_argument("--history-flows", type=int, default=80000,
                   help="history-flood: open web sessions (default 80000)")
    p.add_argument("--haystack-flows", type=int, default=100000)
    p.add_argument("--haystack-syns", type=int, default=100000)
    a = p.parse_args()
    names = a.scenarios or list(SCENARIOS)
    for n in names:
        if n not in SCENARIOS:
            p.error("unknown scenario %r" % n)
    os.makedirs(a.outdir, exist_ok=True)
    for n in names:
        base = os.path.join(a.outdir, n + ("-" + a.tag if a.tag else ""))
        w = Writer(base + ".pcap")
        info = Info()
        info["scenario"] = n
        info["seed"] = a.seed
        SCENARIOS[n](w, random.Random("%d:%s" % (a.seed, n)), a, info)
        w.close()
        info["frames"] = w.frames
        info.write(base + ".info")


if __name__ == "__main__":
    main()
