#!/usr/bin/python3
"""mkcases.py - writes the hand-made regression captures under pcaps/.

Each case isolates one decoding or reassembly behaviour that the real
captures made by tests/mkfixtures.sh do not pin down on their own: link
types, sequence wrap, conflicting overlaps, port reuse, damaged files,
and one real capture rewritten as pcapng by editcap (tshark's package).
Deterministic: the same script writes the same bytes (the pcapng case:
for the same editcap).

usage: python3 tests/mkcases.py [OUTDIR]     (default: pcaps/)
"""
import os
import shutil
import struct
import subprocess
import sys

from scapy.all import (IP, IPv6, IPv6ExtHdrHopByHop, TCP, Ether, Dot1Q,
                       Raw, CookedLinux, Loopback, wrpcap, PcapWriter)
from scapy.layers.l2 import Dot1AD

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "pcaps")
T0 = 1767225600.0          # 2026-01-01T00:00:00Z

BANNER = b"220 mx.example.test ESMTP\r\n"
EHLO = b"EHLO client.example.test\r\n"
CAPS = (b"250-mx.example.test\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
        b"250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n")
QUIT = b"QUIT\r\n"
BYE = b"221 2.0.0 Bye\r\n"
DIALOGUE = [("s", BANNER), ("c", EHLO), ("s", CAPS), ("c", QUIT), ("s", BYE)]


class Conv:
    """A TCP conversation: handshake, data with ACKs, FIN both ways."""

    def __init__(self, ip, cport=40001, sport=25, isn_c=1000, isn_s=5000,
                 v6=False):
        self.ip, self.cport, self.sport, self.v6 = ip, cport, sport, v6
        self.seq = {"c": isn_c, "s": isn_s}
        self.pkts = []
        self.t = T0

    def _pkt(self, d, flags, seq, ack, data=b""):
        src, dst = (self.ip[0], self.ip[1]) if d == "c" else (self.ip[1],
                                                              self.ip[0])
        sp, dp = (self.cport, self.sport) if d == "c" else (self.sport,
                                                            self.cport)
        l3 = IPv6(src=src, dst=dst) if self.v6 else IP(src=src, dst=dst)
        p = l3 / TCP(sport=sp, dport=dp, flags=flags, seq=seq % 2**32,
                     ack=ack % 2**32, window=65535)
        if data:
            p = p / Raw(data)
        self.t += 0.001
        p.time = self.t
        return p

    def other(self, d):
        return "s" if d == "c" else "c"

    def handshake(self):
        c, s = self.seq["c"], self.seq["s"]
        self.pkts.append(self._pkt("c", "S", c, 0))
        self.pkts.append(self._pkt("s", "SA", s, c + 1))
        self.pkts.append(self._pkt("c", "A", c + 1, s + 1))
        self.seq["c"] += 1
        self.seq["s"] += 1
        return self

    def send(self, d, data, ack=True):
        o = self.other(d)
        self.pkts.append(self._pkt(d, "PA", self.seq[d], self.seq[o], data))
        self.seq[d] += len(data)
        if ack:
            self.pkts.append(self._pkt(o, "A", self.seq[o], self.seq[d]))
        return self

    def raw(self, d, flags, seq, data=b""):
        o = self.other(d)
        self.pkts.append(self._pkt(d, flags, seq, self.seq[o], data))
        return self

    def close(self):
        for d in ("c", "s"):
            o = self.other(d)
            self.pkts.append(self._pkt(d, "FA", self.seq[d], self.seq[o]))
            self.seq[d] += 1
        self.pkts.append(self._pkt("c", "A", self.seq["c"], self.seq["s"]))
        return self

    def dialogue(self, lines=DIALOGUE):
        for d, data in lines:
            self.send(d, data)
        return self


V4 = ("192.0.2.10", "198.51.100.25")
V6 = ("2001:db8::10", "2001:db8:1::25")


def write_readme(d, text):
    """Writes d/README.md as text, keeping the sections ("## ...") the
    existing file has beyond what text has, such as the expected alerts
    written by hand after the case was made."""
    path = os.path.join(d, "README.md")
    kept = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
        at = old.find("\n## ")
        if at >= 0 and "\n## " not in text:
            kept = old[at:]
    with open(path, "w") as f:
        f.write(text + kept)


def case(name, readme, pkts, linktype=None, raw_bytes=None):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "input.pcap")
    if raw_bytes is not None:
        with open(path, "wb") as f:
            f.write(raw_bytes)
    else:
        wrpcap(path, pkts, linktype=linktype)
    write_readme(d, "# %s\n\n%s\n\nProvenance: hand-made with scapy by "
                 "`tests/mkcases.py` (deterministic).\n" % (name, readme))


def ether(pkts, tags=()):
    out = []
    for p in pkts:
        e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        for i, t in enumerate(tags):
            e = e / (Dot1AD(vlan=100 + i) if t == 0x88a8 else
                     Dot1Q(vlan=100 + i))
        q = e / p
        q.time = p.time
        out.append(q)
    return out


def main():
    # Link types.
    c = Conv(V4).handshake().dialogue().close()
    case("link-ethernet-qinq", "A clean EHLO/QUIT session behind an "
         "802.1ad + 802.1Q tag pair (QinQ).",
         ether(c.pkts, tags=(0x88a8, 0x8100)))

    c = Conv(V6, v6=True).handshake().dialogue().close()
    out = []
    for p in c.pkts:
        q = CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6,
                        src=b"\x02\0\0\0\0\1\0\0", proto=0x86dd) / p
        q.time = p.time
        out.append(q)
    case("link-sll-ipv6", "The same session over IPv6 in Linux cooked "
         "(SLL) framing.", out, linktype=113)

    c = Conv(V4).handshake().dialogue().close()
    out = []
    for p in c.pkts:
        q = Loopback(type=2) / p
        q.time = p.time
        out.append(q)
    case("link-null", "BSD loopback (DLT_NULL) framing, host byte order.",
         out, linktype=0)

    c = Conv(V6, v6=True).handshake()
    c.pkts = [IPv6(bytes(p[IPv6])[:40]) if False else p for p in c.pkts]
    c.dialogue().close()
    out = []
    for p in c.pkts:
        q = (IPv6(src=p[IPv6].src, dst=p[IPv6].dst) /
             IPv6ExtHdrHopByHop() / p[TCP])
        q.time = p.time
        out.append(q)
    case("ipv6-hop-by-hop", "Raw IPv6 (DLT_RAW) with a hop-by-hop "
         "extension header on every packet.", out, linktype=101)

    # Reassembly behaviours.
    c = Conv(V4, isn_c=2**32 - 30, isn_s=2**32 - 100).handshake()
    c.dialogue().close()
    case("seq-wrap", "Both directions' sequence numbers wrap past 2^32 in "
         "the middle of the dialogue.", ether(c.pkts))

    c = Conv(V4).handshake()
    c.send("s", BANNER).send("c", EHLO)
    # The EHLO reply arrives in two segments; then a copy of the second
    # one with STARTTLS overwritten by same-length filler.
    first, second = CAPS[:40], CAPS[40:]
    seq2 = c.seq["s"] + len(first)
    c.send("s", first, ack=False).send("s", second)
    forged = second.replace(b"STARTTLS", b"XXXXXXXA")
    c.raw("s", "PA", seq2, forged)
    c.send("c", QUIT).send("s", BYE).close()
    case("overlap-conflict", "The server's EHLO reply is retransmitted "
         "with STARTTLS overwritten by XXXXXXXA (same length).  The first "
         "copy is kept and the overlap is counted as one conflict.",
         ether(c.pkts))

    c = Conv(V4).handshake()
    c.send("s", BANNER).send("c", EHLO)
    # Out of order: the second half of the reply before the first.
    first, second = CAPS[:50], CAPS[50:]
    base = c.seq["s"]
    c.raw("s", "PA", base + len(first), second)
    c.raw("s", "PA", base, first)
    c.seq["s"] += len(CAPS)
    c.send("c", QUIT).send("s", BYE).close()
    case("out-of-order", "The EHLO reply's second segment arrives before "
         "its first; the stream comes out in order.", ether(c.pkts))

    c = Conv(V4, cport=40003).handshake()
    c.send("s", BANNER)
    body = b"".join(b"MAIL FROM:<a%02d@example.test>\r\n" % i
                    for i in range(10))[:300]
    base = c.seq["c"]
    # The server's ACK for all of it is captured first (capture points
    # often see it so), then the client's three segments, out of order.
    c.pkts.append(c._pkt("s", "A", c.seq["s"], base + 300))
    for i in (1, 0, 2):
        c.raw("c", "PA", base + 100 * i, body[100 * i:100 * (i + 1)])
    c.seq["c"] += 300
    c.close()
    case("ack-before-data", "The server's ACK for 300 client bytes is "
         "captured before them, and the client's segments arrive in the "
         "order 2, 1, 3.  No byte may be lost: 300 bytes, no gap.",
         ether(c.pkts))

    a = Conv(V4, cport=40002).handshake().dialogue().close()
    b = Conv(V4, cport=40002, isn_c=777777, isn_s=888888)
    b.t = a.t + 1
    b.handshake().dialogue().close()
    case("port-reuse", "Two connections on the same 5-tuple one after "
         "the other: two flows.", ether(a.pkts + b.pkts))

    c = Conv(V4).handshake()
    c.send("s", BANNER).send("c", EHLO)
    c.seq["s"] += len(CAPS)            # the EHLO reply was not captured
    c.send("c", QUIT).send("s", BYE).close()
    case("missing-segment", "The server's EHLO reply was not captured; "
         "the client's ACK covers it.  One gap of its size.", ether(c.pkts))

    c = Conv(V4).handshake()
    c.pkts = c.pkts[2:]                # capture starts after the SYN-ACK
    c.dialogue().close()
    case("midstream", "Capture starts after the handshake: roles come "
         "from the port and the 220 banner.", ether(c.pkts))

    # Damaged files: a whole capture, then cut in the middle of a record.
    c = Conv(V4).handshake().dialogue().close()
    tmp = os.path.join(OUT, ".tmp.pcap")
    wrpcap(tmp, ether(c.pkts))
    data = open(tmp, "rb").read()
    os.unlink(tmp)
    case("truncated-file", "The capture file ends in the middle of a "
         "packet record.  What was read is processed; exit status 3.",
         None, raw_bytes=data[:len(data) - 30])
    with open(os.path.join(OUT, "truncated-file", "expected-exit"), "w") as f:
        f.write("3\n")

    # A record header claiming a 4 GB packet after a few good records.
    off, n = 24, 0
    while n < 6:
        incl = struct.unpack("<I", data[off + 8:off + 12])[0]
        off += 16 + incl
        n += 1
    bad = bytearray(data)
    struct.pack_into("<II", bad, off + 8, 0xe9ff0a0d, 0xe9ff0a0d)
    case("bogus-record-length", "The seventh record header claims a "
         "3.9 GB packet.  The first six frames are processed; exit 3.",
         None, raw_bytes=bytes(bad))
    with open(os.path.join(OUT, "bogus-record-length", "expected-exit"),
              "w") as f:
        f.write("3\n")

    # Snaplen cut: every frame stored with at most 80 bytes.
    c = Conv(V4).handshake().dialogue().close()
    tmp = os.path.join(OUT, "snaplen-80")
    os.makedirs(tmp, exist_ok=True)
    w = PcapWriter(os.path.join(tmp, "input.pcap"), linktype=1, snaplen=80)
    for p in ether(c.pkts):
        raw = bytes(p)
        w.write_header(p) if not w.header_present else None
        w.write_packet(raw[:80], sec=int(p.time),
                       usec=int(round((p.time % 1) * 1e6)), wirelen=len(raw))
    w.close()
    write_readme(tmp, "# snaplen-80\n\nEvery frame cut to 80 bytes: payload "
                 "beyond the cut becomes gaps of the right size.\n\n"
                 "Provenance: hand-made with scapy by `tests/mkcases.py`.\n")


def pcapng_case():
    """clean-starttls-tls12 as pcapng: libpcap reads it, after our own
    reader has looked at it and declined; nothing may change."""
    src = os.path.join(OUT, "clean-starttls-tls12")
    d = os.path.join(OUT, "pcapng-tls12")
    os.makedirs(d, exist_ok=True)
    subprocess.run(["editcap", "-F", "pcapng",
                    os.path.join(src, "input.pcap"),
                    os.path.join(d, "input.pcapng")], check=True)
    # The same session: the source case's checked rows, not new ones.
    for f in ("expected-alerts.tsv", "expected-flows.tsv",
              "expected-sessions.tsv"):
        shutil.copy(os.path.join(src, f), os.path.join(d, f))
    with open(os.path.join(d, "args"), "w") as f:
        f.write("--ca-file pcaps/clean-starttls-tls12/ca.pem\n")
    write_readme(d, "# pcapng-tls12\n\n"
                 "pcaps/clean-starttls-tls12 (a real postfix + swaks STARTTLS "
                 "session, TLS 1.2) rewritten as pcapng with `editcap -F "
                 "pcapng` by `tests/mkcases.py`.  It must give exactly the "
                 "source case's flows, sessions and alerts (none: a clean "
                 "session); the expected files are copies of that case's.\n\n"
                 "Regression: stripwatch once read a file through a "
                 "duplicate of libpcap's descriptor to see whether its own "
                 "reader takes it; the duplicate shares the file offset, so "
                 "after declining a pcapng file it had moved libpcap's, and "
                 "this capture came out damaged after frame 17 with half "
                 "its bytes.\n\n"
                 "## Expected alerts\n\nnone: no downgrade sign in this "
                 "capture.\n")


if __name__ == "__main__":
    main()
    pcapng_case()
