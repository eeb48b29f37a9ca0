#!/usr/bin/env python3
"""mkseeds.py - write the hand-made seed inputs of the fuzz targets.

    python3 fuzz/mkseeds.py [decode] [pcapfile] [reasm] [pipeline]
                                                          (default: all)

Writes fuzz/corpus/<target>/seed-<name>; files libFuzzer added (named by
their SHA-1) are left alone.  decode and reasm seeds are built with struct
only, in the input formats documented at the top of fuzz_decode.c and
fuzz_reasm.c.  pipeline seeds are small captures made with scapy (Debian:
python3-scapy, which lives in /usr/bin/python3) plus up to ten small
captures the project made itself under pcaps/; none comes from a public
capture.
"""
import gzip
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# The link types, in the order of dlts[] in fuzz_decode.c.
EN10MB, SLL, SLL2, RAW, IPV4, IPV6, NULL, LOOP = range(8)
VERIFY, LONGER = 0x01, 0x02

CLIENT4, SERVER4 = bytes([192, 0, 2, 1]), bytes([198, 51, 100, 25])
CLIENT6 = bytes.fromhex("20010db8000000000000000000000001")
SERVER6 = bytes.fromhex("20010db8000000000000000000000025")
BANNER = b"220 mx.example.net ESMTP\r\n"


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def cksum(data):
    """RFC 1071 one's complement sum, complemented."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def tcp(src, dst, payload=b"", sport=40000, dport=25, seq=1000, ack=0,
        flags=0x18, options=b""):
    """A TCP header with a correct checksum for the given IP addresses."""
    hlen = 20 + len(options)
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (hlen // 4) << 4,
                    flags, 65535, 0, 0) + options
    if len(src) == 4:
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(h) + len(payload))
    else:
        pseudo = src + dst + struct.pack("!IxxxB", len(h) + len(payload), 6)
    c = cksum(pseudo + h + payload)
    return h[:16] + struct.pack("!H", c) + h[18:] + payload


def ipv4(seg, src=CLIENT4, dst=SERVER4, proto=6, frag=0, total=None):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total or 20 + len(seg), 1,
                    frag, 64, proto, 0, src, dst)
    return h[:10] + struct.pack("!H", cksum(h)) + h[12:] + seg


def ipv6(seg, nh=6, exts=b"", src=CLIENT6, dst=SERVER6, plen=None):
    body = exts + seg
    return struct.pack("!IHBB16s16s", 6 << 28, len(body) if plen is None
                       else plen, nh, 64, src, dst) + body


def ext(nh, body=b"\x01\x04\0\0\0\0"):
    """A hop-by-hop / routing / destination options header (8n bytes)."""
    n = 2 + len(body)
    pad = (-n) % 8
    return struct.pack("!BB", nh, (n + pad) // 8 - 1) + body + b"\0" * pad


def eth(l3, etype=0x0800, tags=()):
    h = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02"
    for tpid, vid in tags:
        h += struct.pack("!HH", tpid, vid)
    return h + struct.pack("!H", etype) + l3


def decode_seeds():
    seg4 = tcp(CLIENT4, SERVER4, b"EHLO client.example.org\r\n")
    seg6 = tcp(CLIENT6, SERVER6, BANNER, sport=25, dport=40000)
    v4 = ipv4(seg4)
    v6 = ipv6(seg6)
    mss = b"\x02\x04\x05\xb4\x01\x01\x04\x02"
    syn = ipv4(tcp(CLIENT4, SERVER4, flags=0x02, ack=0, options=mss))
    seeds = {
        "eth-ipv4": (EN10MB, VERIFY, eth(v4)),
        "eth-ipv4-padded": (EN10MB, VERIFY, eth(syn) + b"\0" * 6),
        "eth-ipv4-badsum": (EN10MB, VERIFY, eth(v4[:-1] + b"X")),
        "eth-ipv6": (EN10MB, VERIFY, eth(v6, 0x86DD)),
        "eth-vlan": (EN10MB, VERIFY, eth(v4, tags=[(0x8100, 10)])),
        "eth-qinq": (EN10MB, 0, eth(v6, 0x86DD, [(0x88A8, 1), (0x8100, 2)])),
        "eth-vlan-too-many": (EN10MB, 0, eth(v4, tags=[(0x8100, 1)] * 5)),
        "eth-arp": (EN10MB, 0, eth(b"\0\1\x08\0\6\4\0\1" + b"\0" * 20,
                                   0x0806)),
        "eth-ipv4-udp": (EN10MB, VERIFY, eth(ipv4(b"\0" * 12, proto=17))),
        "eth-ipv4-fragment": (EN10MB, 0, eth(ipv4(seg4, frag=0x2000))),
        "eth-ipv4-tso": (EN10MB, VERIFY, eth(ipv4(seg4, total=0))),
        "eth-ipv4-snapcut": (EN10MB, VERIFY | LONGER | (5 << 2),
                             eth(v4)[:60]),
        "ipv6-hbh-dst": (RAW, VERIFY, ipv6(seg6, 0, ext(60) + ext(6))),
        "ipv6-routing-ah": (RAW, VERIFY, ipv6(
            seg6, 43, ext(51) + struct.pack("!BBH", 6, 4, 0) + b"\0" * 20)),
        "ipv6-atomic-frag": (IPV6, VERIFY, ipv6(
            seg6, 44, struct.pack("!BBHI", 6, 0, 0, 7))),
        "ipv6-fragment": (IPV6, 0, ipv6(seg6, 44,
                                        struct.pack("!BBHI", 6, 0, 1, 7))),
        "ipv6-jumbo": (RAW, VERIFY, ipv6(seg6, plen=0)),
        "sll-ipv4": (SLL, VERIFY, struct.pack("!HHH8sH", 0, 1, 6,
                                              b"\2" * 6 + b"\0\0", 0x0800)
                     + v4),
        "sll2-ipv6": (SLL2, VERIFY, struct.pack("!HHIHBB8s", 0x86DD, 0, 2,
                                                1, 0, 6, b"\2" * 6 + b"\0\0")
                      + v6),
        "raw-ipv4": (RAW, VERIFY, v4),
        "dlt-ipv4": (IPV4, VERIFY, v4),
        "null-ipv4-le": (NULL, VERIFY, struct.pack("<I", 2) + v4),
        "null-ipv6-be": (NULL, VERIFY, struct.pack(">I", 30) + v6),
        "loop-ipv6": (LOOP, VERIFY, struct.pack(">I", 24) + v6),
        "tcp-options-cut": (RAW, LONGER | (1 << 2), syn[:30]),
    }
    for name, (dlt, flags, frame) in seeds.items():
        write("decode", name, bytes([dlt, flags]) + frame)


# fuzz_reasm.c record encoding.
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
CUT = 0x20
SKIP_IF_STALLED, SKIP_ANYWAY = 0x80, 0x81
FORGET, FORGET_IN_DATA = 0x82, 0x84
NO_HIST = 0x04


def seg(seq, data, flags=ACK | PSH, extra=None):
    op = flags | (CUT if extra is not None else 0)
    r = struct.pack("!BIH", op, seq & 0xFFFFFFFF, len(data))
    if extra is not None:
        r += struct.pack("!H", extra)
    return r + data


def ack(n):
    return struct.pack("!BI", 0xC0, n & 0xFFFFFFFF)


def skip(op=SKIP_IF_STALLED):
    return bytes([op])


def reasm_seeds():
    text = (b"220 mx.example.net ESMTP\r\n250-mx.example.net\r\n"
            b"250-PIPELINING\r\n250-STARTTLS\r\n250 8BITMIME\r\n"
            b"220 2.0.0 Ready to start TLS\r\n")
    chunks = [text[i:i + 16] for i in range(0, len(text), 16)]

    def stream(order, isn=1000, cfg=0, syn=True, fin=True):
        out = struct.pack("!IB", isn, cfg)
        if syn:
            out += seg(0, b"", SYN)
        for i in order:
            out += seg(1 + 16 * i, chunks[i])
        if fin:
            out += seg(1 + len(text), b"", FIN | ACK)
        return out

    n = len(chunks)
    seeds = {
        "in-order": stream(range(n)),
        "reversed": stream(reversed(range(n))),
        "interleaved": stream(list(range(1, n, 2)) + list(range(0, n, 2))),
        "retransmit": stream([0, 1, 2, 1, 0] + list(range(3, n)) + [2, n - 1]),
        "midstream": stream(range(n), syn=False),
        "wrap": stream(range(n), isn=0xFFFFFFF0),
        "no-history": stream([0, 1, 0, 2, 1] + list(range(3, n)),
                             cfg=NO_HIST),
        "tiny-pool": stream(reversed(range(n)), cfg=1),
        "small-pool": stream(reversed(range(n)), cfg=2),
        "pool-at-bytes": stream(reversed(range(n)), cfg=3),
    }
    base = struct.pack("!IB", 5000, 0) + seg(0, b"", SYN)
    seeds["overlap-conflict"] = (base + seg(11, b"BBBBBBBBBB")
                                 + seg(6, b"XXXXXXXXXXXXXXX")
                                 + seg(1, b"AAAAAAAAAA"))
    seeds["overlap-same"] = (base + seg(11, b"0123456789")
                             + seg(6, b"567890123456789")
                             + seg(1, b"0123456789"))
    seeds["ack-before-data"] = (base + seg(1, b"hello ") + seg(20, b"world")
                                + ack(30) + seg(7, b"late bytes..."))
    seeds["stall-skip"] = (base + seg(1, b"hello ") + seg(20, b"world")
                           + seg(40, b"again") + ack(50) + skip()
                           + skip() + seg(7, b"too late"))
    seeds["skip-anyway"] = (base + seg(30, b"later") + skip(SKIP_ANYWAY)
                            + seg(1, b"early"))
    # Let go (history given back) before, and while, bytes are handed on;
    # the retransmissions after have nothing to be checked against.
    seeds["forget"] = (base + seg(1, b"hello ") + skip(FORGET)
                       + seg(7, b"world") + seg(1, b"HELLO world"))
    seeds["forget-in-data"] = (base + skip(FORGET_IN_DATA)
                               + seg(1, b"hello ") + seg(7, b"world")
                               + seg(1, b"HELLO world"))
    seeds["ack-beyond-fin"] = (base + seg(1, b"abc") + ack(100)
                               + seg(4, b"", FIN))
    seeds["snaplen-cut"] = (base + seg(1, b"head", extra=100)
                            + seg(105, b"tail") + seg(200, b"x", extra=5))
    seeds["syn-data"] = (struct.pack("!IB", 77, 0) + seg(0, b"fast open",
                                                          SYN)
                         + seg(10, b" data", ACK))
    seeds["keepalive"] = (base + seg(1, b"abcd") + seg(4, b"X")
                          + seg(5, b"efgh"))
    # More out-of-order pieces than segs_max, and a piece that fills holes.
    many = base
    for i in range(12, 0, -1):
        many += seg(1 + 10 * i, bytes([0x40 + i]) * 5)
    seeds["seg-cap"] = many + seg(1, bytes(range(48, 48 + 130)))
    holes = base
    for i in range(1, 8):
        holes += seg(1 + 20 * i, b"#" * 10)
    seeds["fill-holes"] = holes + seg(15, b"=" * 160) + seg(1, b"^" * 14)
    big = base + seg(3000, b"Z" * 3000) + seg(7000, b"Y" * 2000)
    seeds["byte-cap"] = big + seg(1, b"W" * 100)
    seeds["too-big-alone"] = struct.pack("!IB", 9, 2) + seg(0, b"", SYN) \
        + seg(50, b"Q" * 1500) + seg(1, b"q" * 10)
    for name, data in seeds.items():
        write("reasm", name, data)


def pipeline_seeds():
    try:
        from scapy.all import (Ether, Dot1Q, IP, IPv6, TCP, UDP, Raw,
                               IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt,
                               IPv6ExtHdrFragment, PcapNgWriter)
        from scapy.layers.l2 import CookedLinuxV2
    except ImportError:
        sys.exit("mkseeds.py: pipeline seeds need scapy "
                 "(apt-get install python3-scapy; run /usr/bin/python3)")
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

    T0 = 1700000000.0

    def session(l3, sport=40001, fin=True, tls=True):
        """An SMTP STARTTLS conversation; l3(src_is_client) gives IP."""
        c, s = 1000, 5000
        out = []

        def add(frm_client, flags, data=b""):
            nonlocal c, s
            ip = l3(frm_client)
            t = TCP(sport=sport if frm_client else 25,
                    dport=25 if frm_client else sport,
                    seq=c if frm_client else s,
                    ack=0 if flags == "S" else (s if frm_client else c),
                    flags=flags)
            out.append(ip / t / Raw(data) if data else ip / t)
            n = len(data) + (1 if "S" in flags or "F" in flags else 0)
            if frm_client:
                c += n
            else:
                s += n

        add(True, "S")
        add(False, "SA")
        add(True, "A")
        add(False, "PA", BANNER)
        add(True, "PA", b"EHLO client.example.org\r\n")
        add(False, "PA", b"250-mx.example.net\r\n250 STARTTLS\r\n")
        add(True, "PA", b"STARTTLS\r\n")
        add(False, "PA", b"220 2.0.0 Ready to start TLS\r\n")
        if tls:
            add(True, "PA", bytes.fromhex("160301002f0100002b0303")
                + b"\x11" * 32 + b"\x00\x00\x02\x13\x01\x01\x00")
        if fin:
            add(True, "FA")
            add(False, "FA")
            add(True, "A")
        return out

    def v4(fc):
        return (IP(src="192.0.2.1", dst="198.51.100.25") if fc
                else IP(src="198.51.100.25", dst="192.0.2.1"))

    def v6(fc):
        return (IPv6(src="2001:db8::1", dst="2001:db8::25") if fc
                else IPv6(src="2001:db8::25", dst="2001:db8::1"))

    def save(name, pkts, linktype=1, ng=False, snaplen=65535, times=None):
        """Writes pkts, 10 ms apart unless times says otherwise; frames
        longer than snaplen are cut, as a capture with -s would."""
        for i, p in enumerate(pkts):
            p.time = times[i] if times else T0 + i * 0.01
        path = os.path.join(HERE, "corpus", "pipeline", "seed-" + name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if ng:
            w = PcapNgWriter(path)
            for p in pkts:
                w.write(p)
            w.close()
        else:
            out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen,
                              linktype)
            for p in pkts:
                b = bytes(p)
                us = round(float(p.time) * 1e6)
                out += struct.pack("<IIII", us // 1000000, us % 1000000,
                                   min(len(b), snaplen), len(b))
                out += b[:snaplen]
            with open(path, "wb") as f:
                f.write(out)
        with open(path, "rb") as f:
            return f.read()

    def ether():
        return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")

    eth = [ether() / p for p in session(v4)]
    whole = save("smtp-starttls-eth.pcap", eth)
    save("smtp-starttls-raw.pcap", session(v4), linktype=101)
    save("smtp-starttls.pcapng", eth, ng=True)
    write("pipeline", "smtp-starttls.pcap.gz",
          gzip.compress(whole, mtime=0))
    # A file cut in the middle of a record, and one whose record header
    # claims more than the snaplen allows.
    write("pipeline", "truncated-record.pcap", whole[:len(whole) - 30])
    bad = bytearray(whole)
    struct.pack_into("<II", bad, 24 + 8, 0x00FFFFFF, 0x00FFFFFF)
    write("pipeline", "bad-record-length.pcap", bytes(bad))
    save("vlan.pcap", [ether() / Dot1Q(vlan=7) / Dot1Q(vlan=8) / p
                       for p in session(v4, fin=False)])
    ext = [ether() / p.__class__(src=p.src, dst=p.dst) /
           IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt() /
           IPv6ExtHdrFragment(m=0, offset=0, id=7) / p[TCP]
           for p in session(v6, tls=False)]
    save("ipv6-ext-headers.pcap", ext)
    sll2 = [CookedLinuxV2(proto=0x86DD, ifindex=2, pkttype=0) / p
            for p in session(v6, fin=False)]
    save("sll2.pcap", sll2, linktype=276)
    # Out of order, retransmitted, overlapping with different bytes, RST.
    s = session(v4, tls=False, fin=False)
    banner = s[3]
    dup = banner.copy()
    dup[Raw].load = b"220 evil.example.net ESMTP\r\n"
    rst = v4(True) / TCP(sport=40001, dport=25, flags="R", seq=9999)
    save("reorder-conflict-rst.pcap",
         s[:3] + [s[4], banner, dup, banner] + s[5:] + [rst], linktype=228)
    # Snaplen smaller than the packets, with a padded short frame.
    save("snaplen-64.pcap", [ether() / p for p in session(v4)], snaplen=64)
    # More flows than flows_max (64): eviction, then idle expiry later.
    flood, times = [], []
    for i in range(70):
        flood.append(IP(src="10.0.%d.%d" % (i // 250, i % 250 + 1),
                        dst="198.51.100.25") / TCP(sport=1024 + i, dport=25,
                                                   flags="S", seq=i))
        times.append(T0 + i * 0.001)
    flood.append(IP(src="10.9.9.9", dst="198.51.100.25") / TCP(
        sport=9, dport=25, flags="S"))
    times.append(T0 + 4000)
    save("flow-flood.pcap", flood, linktype=101, times=times)
    # Port reuse: a second SYN with a new ISN on the same tuple; UDP noise.
    s1 = session(v4, fin=False, tls=False)[:4]
    s2 = session(v4, fin=False, tls=False)[:4]
    for p in s2:
        p[TCP].seq += 100000 if p[TCP].sport == 40001 else 0
    udp = IP() / UDP(sport=53, dport=53) / Raw(b"\0" * 12)
    save("port-reuse-udp.pcap", [ether() / p for p in s1 + s2 + [udp]],
         times=[T0 + i * 0.01 + (1 if i >= 4 else 0) for i in range(9)])

# Small captures the project made itself (tests/mkcases.py, mkfixtures.sh);
# public captures under ../shared/pcaps stay out of the corpus.
PROJECT_PCAPS = [
    "clean-plaintext", "strip-xxxxxxxa", "starttls-454", "ack-before-data",
    "link-null", "link-sll-ipv6", "ipv6-hop-by-hop", "seq-wrap",
    "overlap-conflict", "missing-segment",
]


def project_seeds(target):
    top = os.path.dirname(HERE)
    for case in PROJECT_PCAPS:
        path = os.path.join(top, "pcaps", case, "input.pcap")
        if os.path.exists(path) and os.path.getsize(path) < 4096:
            with open(path, "rb") as f:
                write(target, "pcaps-" + case + ".pcap", f.read())


def pcapfile_seeds():
    """Savefiles in every form pcapfile.c reads, cut and lying in each way
    libpcap tells apart: the target compares the two readers."""
    frame = eth(ipv4(tcp(CLIENT4, SERVER4, BANNER, sport=25, dport=40000)))

    def savefile(order, magic, snap, recs, version=(2, 4)):
        out = struct.pack(order + "IHHiIII", magic, version[0], version[1],
                          0, 0, snap, 1)
        for sec, frac, data, caplen, wirelen in recs:
            out += struct.pack(order + "iiII", sec, frac,
                               len(data) if caplen is None else caplen,
                               len(data) if wirelen is None else wirelen)
            out += data
        return out

    two = [(1700000000, 5, frame, None, None),
           (1700000001, 999999, frame[:40], None, len(frame))]
    for order, tag in (("<", "le"), (">", "be")):
        write("pcapfile", tag + "-usec",
              savefile(order, 0xa1b2c3d4, 65535, two))
        write("pcapfile", tag + "-nsec",
              savefile(order, 0xa1b23c4d, 0, [(1700000000, 123456789,
                                               frame, None, None)]))
    write("pcapfile", "empty", savefile("<", 0xa1b2c3d4, 65535, []))
    write("pcapfile", "snap-cut",
          savefile("<", 0xa1b2c3d4, 32, two))
    write("pcapfile", "header-cut",
          savefile("<", 0xa1b2c3d4, 65535, two)[:-len(frame[:40]) - 20])
    write("pcapfile", "data-cut",
          savefile("<", 0xa1b2c3d4, 65535, two)[:-7])
    write("pcapfile", "caplen-huge",
          savefile("<", 0xa1b2c3d4, 65535, [(0, 0, frame, 300000, None)]))
    # One byte over the largest snapshot, all there: libpcap refuses it.
    write("pcapfile", "caplen-max-plus-one",
          savefile("<", 0xa1b2c3d4, 0, [(0, 0, bytes(262145), None, None)]))
    for order, tag in (("<", "le"), (">", "be")):
        write("pcapfile", tag + "-negative-time",
              savefile(order, 0xa1b2c3d4, 65535, [(-1, -1, frame, None, None)]))
    write("pcapfile", "caplen-over-len",
          savefile("<", 0xa1b2c3d4, 65535, [(1, 2, frame, None, 10)]))
    write("pcapfile", "version-2.3",
          savefile("<", 0xa1b2c3d4, 65535, two, version=(2, 3)))
    project_seeds("pcapfile")


def main():
    which = sys.argv[1:] or ["decode", "pcapfile", "reasm", "pipeline"]
    for t in which:
        {"decode": decode_seeds, "pcapfile": pcapfile_seeds,
         "reasm": reasm_seeds, "pipeline": pipeline_seeds}[t]()
        if t == "pipeline":
            project_seeds("pipeline")


if __name__ == "__main__":
    main()
