#!/usr/bin/env python3
"""resegment.py - rewrite a capture so that every TCP stream carries exactly
the same bytes, but in different packets.

Usage:
  resegment.py [--mode M] [--seed S] [options] IN OUT
  resegment.py --batch IN OUTDIR MODE:SEED [MODE:SEED ...]
      writes OUTDIR/<MODE>-<SEED>.pcap for each spec (one process, faster)

Modes (a comma list is applied left to right, e.g. wrap,split,reorder):
  split      re-cut every data segment into random pieces of 1..--max-piece
             bytes (1-byte pieces included); FIN/PSH only on the last piece.
  coalesce   merge consecutive, contiguous data segments of one direction
             (never across data of the other direction)
             into one (payload <= --max-payload and IP length <= 65535),
             sent at the place, and with the headers, of the first one.
  reorder    shuffle data segments of one direction inside windows of 2..
             --window consecutive segments.  A window never spans a peer
             packet that ACKs one of its segments (data is not moved behind
             its ACK; --ignore-acks lifts this).  Timestamps and ACK numbers
             stay with the file position, so time stays monotonic and no
             segment acknowledges peer data that is not yet on the wire.
  duplicate  add exact retransmissions (copies of a segment) and overlapping
             retransmissions (tail of one segment + head of the next, same
             bytes), later in the connection, never after its last packet;
             a head brought forward never passes the peer's data sent
             before it (a reply never precedes its request).
  all        = split,reorder,duplicate
  wrap       (extra) shift the sequence space of every connection so that each
             direction's sequence numbers wrap past 2^32 inside its data.
             Rewrites every TCP packet (seq, ack, SACK blocks), not only data.

Invariants kept by every mode (this is what makes variants comparable):
  * Each direction's reassembled byte stream is unchanged: every byte placed
    on the wire is the byte at that sequence number in the original segment.
  * Packets that are not TCP, IP fragments, malformed packets, packets with
    an IPv6 routing/AH header, SYN and RST packets and URG segments are
    copied byte for byte.  Segments cut by the snaplen are copied too (wrap
    patches their seq/ack in place, checksum updated per RFC 1624).
  * No data segment is moved across a SYN, FIN or RST of its connection
    (either direction) nor across a segment cut by the snaplen.
  * reorder and duplicate only touch "clean" segments: those whose sequence
    range overlaps no other segment of the same direction.  Retransmissions
    already present in the input (possibly with different bytes), keepalive
    probes and their originals keep their relative order, so which copy is
    "first seen" never changes.
  * When a direction has no SYN (connection picked up mid-stream), its first
    data segment stays first.
  * Rebuilt packets copy the original link, IP and TCP headers (options too);
    only seq/ack, flags, IP total length / IPv6 payload length and the IPv4
    and TCP checksums are rewritten, checksums recomputed from scratch.
    Ethernet frames shorter than 60 bytes are zero-padded like a NIC would
    (the padding is not TCP payload; --no-pad disables it).
  * Linktype is kept; output is classic pcap (pcapng and gzip input are
    converted; microsecond pcap unless a timestamp needs nanoseconds).
  * Same input, mode and seed give the same output, byte for byte.

Reading: classic pcap is read here (a corrupt or cut record ends the input,
what came before is kept); pcapng through scapy's RawPcapNgReader.

Link types: Ethernet (+802.1Q/802.1ad tags), Linux SLL and SLL2, BSD
NULL/LOOP, raw IP.  IPv4 and IPv6.
"""

import argparse
import gzip
import os
import random
import struct
import sys

PAD_MIN = 60                  # Ethernet minimum frame without FCS
MAX_CAPLEN = 262144           # libpcap's MAXIMUM_SNAPLEN

DLT_NULL, DLT_EN10MB, DLT_RAW, DLT_RAW_BSD = 0, 1, 12, 14
DLT_LOOP, DLT_LINUX_SLL, DLT_LINUX_SLL2 = 108, 113, 276
DLT_RAW_LT, DLT_IPV4, DLT_IPV6 = 101, 228, 229
SUPPORTED_DLT = {DLT_NULL, DLT_EN10MB, DLT_RAW, DLT_RAW_BSD, DLT_LOOP,
                 DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_RAW_LT, DLT_IPV4,
                 DLT_IPV6}
VLAN_TYPES = (0x8100, 0x88a8, 0x9100)

F_FIN, F_SYN, F_RST, F_PSH, F_ACK, F_URG = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
M32 = 0xffffffff


class Damaged(Exception):
    pass


# --------------------------------------------------------------------------
# capture file I/O

class Rec:
    """One captured frame.  ts is integer nanoseconds."""
    __slots__ = ("ts", "data", "wirelen", "seg")

    def __init__(self, ts, data, wirelen, seg=None):
        self.ts, self.data, self.wirelen, self.seg = ts, data, wirelen, seg


def _open_maybe_gz(path):
    f = open(path, "rb")
    if f.read(2) == b"\x1f\x8b":
        f.close()
        return gzip.open(path, "rb")
    f.seek(0)
    return f


def read_capture(path):
    """Returns (linktype, [Rec], notes).  Stops at the first corrupt record
    of a classic pcap (what was read before is kept)."""
    f = _open_maybe_gz(path)
    magic = f.read(4)
    notes = []
    if magic == b"\x0a\x0d\x0d\x0a":
        f.close()
        return _read_pcapng(path, notes)
    endian = {b"\xd4\xc3\xb2\xa1": ("<", 1000), b"\xa1\xb2\xc3\xd4": (">", 1000),
              b"\x4d\x3c\xb2\xa1": ("<", 1), b"\xa1\xb2\x3c\x4d": (">", 1)}
    if magic not in endian:
        raise SystemExit("%s: not a pcap/pcapng file" % path)
    e, mult = endian[magic]
    hdr = f.read(20)
    if len(hdr) < 20:
        raise SystemExit("%s: truncated pcap header" % path)
    _vmaj, _vmin, _tz, _sig, _snap, linktype = struct.unpack(e + "HHiIII", hdr)
    linktype &= 0x0fffffff            # upper bits: FCS info, ignored here
    recs = []
    while True:
        h = f.read(16)
        if not h:
            break
        if len(h) < 16:
            notes.append("truncated record header after %d packets" % len(recs))
            break
        sec, frac, caplen, wirelen = struct.unpack(e + "IIII", h)
        if caplen > MAX_CAPLEN or frac >= 1000000000 // mult:
            notes.append("corrupt record after %d packets (caplen %d)"
                         % (len(recs), caplen))
            break
        data = f.read(caplen)
        if len(data) < caplen:
            notes.append("truncated record after %d packets" % len(recs))
            break
        recs.append(Rec(sec * 1000000000 + frac * mult, data, max(wirelen, caplen)))
    f.close()
    return linktype, recs, notes


def _read_pcapng(path, notes):
    try:
        from scapy.utils import RawPcapNgReader
    except ImportError:
        sys.path.append("/usr/lib/python3/dist-packages")
        from scapy.utils import RawPcapNgReader
    rd = RawPcapNgReader(path)
    recs, linktypes = [], set()
    while True:
        try:
            data, md = rd._read_packet(size=MAX_CAPLEN)
        except EOFError:
            break
        except Exception as ex:               # scapy raises assorted errors
            notes.append("pcapng read stopped: %s" % ex)
            break
        linktypes.add(md.linktype)
        if md.tshigh is None:
            ts = recs[-1].ts if recs else 0
        else:
            ticks = (md.tshigh << 32) | md.tslow
            ts = ticks * 1000000000 // md.tsresol
        recs.append(Rec(ts, data, max(md.wirelen, len(data))))
    rd.close()
    if len(linktypes) > 1:
        raise SystemExit("%s: several link types %s; pcap output cannot hold "
                         "them" % (path, sorted(linktypes)))
    return (linktypes.pop() if linktypes else DLT_EN10MB), recs, notes


def write_pcap(path, linktype, recs):
    nano = any(r.ts % 1000 for r in recs)
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b23c4d if nano else 0xa1b2c3d4,
                            2, 4, 0, 0, MAX_CAPLEN, linktype))
        for r in recs:
            sec, frac = divmod(r.ts, 1000000000)
            if not nano:
                frac //= 1000
            f.write(struct.pack("<IIII", sec, frac, len(r.data),
                                max(r.wirelen, len(r.data))))
            f.write(r.data)


# --------------------------------------------------------------------------
# decoding

class Seg:
    """A decoded TCP segment (only for packets we are able to rebuild)."""
    __slots__ = ("hdr", "l3off", "l4off", "v6", "src", "dst", "sport", "dport",
                 "seq", "ack", "flags", "payload", "key", "d", "conn", "trunc")

    @property
    def end(self):
        return (self.seq + len(self.payload)) & M32


def _l3_offset(data, linktype):
    """Offset of the IP header and its version (4/6), or None."""
    n = len(data)
    if linktype == DLT_EN10MB or linktype == DLT_LINUX_SLL:
        off = 12 if linktype == DLT_EN10MB else 14
        if n < off + 2:
            return None
        et = struct.unpack_from("!H", data, off)[0]
        while et in VLAN_TYPES:
            off += 4
            if n < off + 2:
                return None
            et = struct.unpack_from("!H", data, off)[0]
        ver = {0x0800: 4, 0x86dd: 6}.get(et)
        return (off + 2, ver) if ver else None
    if linktype == DLT_LINUX_SLL2:
        if n < 20:
            return None
        ver = {0x0800: 4, 0x86dd: 6}.get(struct.unpack_from("!H", data, 0)[0])
        return (20, ver) if ver else None
    if linktype in (DLT_NULL, DLT_LOOP):
        off = 4
    elif linktype in (DLT_RAW, DLT_RAW_BSD, DLT_RAW_LT, DLT_IPV4, DLT_IPV6):
        off = 0
    else:
        return None
    if n <= off:
        return None
    ver = data[off] >> 4
    return (off, ver) if ver in (4, 6) else None


def decode(data, linktype):
    """Returns a Seg for a well-formed, unfragmented, fully captured TCP
    packet; None for anything we must pass through untouched."""
    l3 = _l3_offset(data, linktype)
    if l3 is None:
        return None
    off, ver = l3
    n = len(data)
    if n < off + 20 or data[off] >> 4 != ver:
        return None
    trunc = False
    if ver == 4:
        ihl = (data[off] & 15) * 4
        total = struct.unpack_from("!H", data, off + 2)[0]
        if ihl < 20 or total < ihl + 20:
            return None
        if off + total > n:                               # cut by snaplen
            trunc, total = True, n - off
        if struct.unpack_from("!H", data, off + 6)[0] & 0x3fff:
            return None                                   # fragment
        if data[off + 9] != 6:
            return None
        l4, ipend = off + ihl, off + total
        src, dst = data[off + 12:off + 16], data[off + 16:off + 20]
    else:
        if n < off + 40:
            return None
        plen = struct.unpack_from("!H", data, off + 4)[0]
        ipend = off + 40 + plen
        if plen == 0:
            return None                                   # jumbo
        if ipend > n:
            trunc, ipend = True, n                        # cut by snaplen
        nh, l4 = data[off + 6], off + 40
        while nh in (0, 60):                              # hop-by-hop, dstopts
            if l4 + 8 > ipend:
                return None
            nh, l4 = data[l4], l4 + (data[l4 + 1] + 1) * 8
        if nh != 6:
            return None               # fragment, routing, AH, ESP, not TCP
        src, dst = data[off + 8:off + 24], data[off + 24:off + 40]
    if l4 + 20 > ipend:
        return None
    doff = (data[l4 + 12] >> 4) * 4
    if doff < 20 or l4 + doff > ipend:
        return None
    s = Seg()
    s.hdr = data[:l4 + doff]
    s.l3off, s.l4off, s.v6 = off, l4, ver == 6
    s.src, s.dst = bytes(src), bytes(dst)
    s.sport, s.dport, s.seq, s.ack = struct.unpack_from("!HHII", data, l4)
    s.flags = data[l4 + 13]
    s.payload = data[l4 + doff:ipend]
    s.trunc = trunc
    a, b = (s.src, s.sport), (s.dst, s.dport)
    s.key = (a, b) if a <= b else (b, a)
    s.d = 0 if a <= b else 1
    s.conn = None
    return s


def _csum(data):
    if len(data) & 1:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def build(seg, seq, flags, payload, ack=None, pad=False, tcp_hdr=None):
    """Frame bytes: seg's headers with a new seq/flags/payload."""
    h = bytearray(seg.hdr)
    l3, l4 = seg.l3off, seg.l4off
    if tcp_hdr is not None:
        h[l4:] = tcp_hdr
    struct.pack_into("!I", h, l4 + 4, seq & M32)
    if ack is not None:
        struct.pack_into("!I", h, l4 + 8, ack & M32)
    h[l4 + 13] = flags & 0xff
    h[l4 + 16:l4 + 18] = b"\0\0"
    tcplen = len(h) - l4 + len(payload)
    if seg.v6:
        plen = len(h) - l3 - 40 + len(payload)
        if plen > 0xffff:
            raise ValueError("IPv6 payload too long")
        struct.pack_into("!H", h, l3 + 4, plen)
        pseudo = seg.src + seg.dst + struct.pack("!I3xB", tcplen, 6)
    else:
        total = len(h) - l3 + len(payload)
        if total > 0xffff:
            raise ValueError("IPv4 datagram too long")
        ihl = (h[l3] & 15) * 4
        struct.pack_into("!H", h, l3 + 2, total)
        h[l3 + 10:l3 + 12] = b"\0\0"
        struct.pack_into("!H", h, l3 + 10, _csum(bytes(h[l3:l3 + ihl])))
        pseudo = seg.src + seg.dst + struct.pack("!xBH", 6, tcplen)
    c = _csum(pseudo + bytes(h[l4:]) + payload)
    struct.pack_into("!H", h, l4 + 16, c if c else 0xffff)
    out = bytes(h) + payload
    if pad and len(out) < PAD_MIN:
        out += b"\0" * (PAD_MIN - len(out))
    return out


# --------------------------------------------------------------------------
# connection bookkeeping

def sdiff(a, b):
    """Signed difference a-b in 32-bit sequence space."""
    return ((a - b + 0x80000000) & M32) - 0x80000000


class Conn:
    def __init__(self, key):
        self.key = key
        self.syn_seq = [None, None]    # SYN seq per direction
        self.first_data = [None, None]  # Seg
        self.data = [[], []]           # data Segs per direction, file order


def is_data(s):
    return len(s.payload) > 0 and not s.flags & (F_SYN | F_RST | F_URG) \
        and not s.trunc


def is_barrier(s):
    """Packets no data segment is moved across: SYN, FIN, RST, and segments
    cut by the snaplen (passed through unchanged)."""
    return bool(s.flags & (F_SYN | F_FIN | F_RST)) or s.trunc


def analyse(recs, linktype):
    """Decode every record and group segments into connections.  A new
    connection instance starts on a SYN whose seq differs from the SYN
    already seen for that 4-tuple and direction."""
    conns, cur = [], {}
    for r in recs:
        s = r.seg = decode(r.data, linktype)
        if s is None:
            continue
        c = cur.get(s.key)
        if s.flags & F_SYN and c is not None:
            old = c.syn_seq[s.d]
            if (old is not None and old != s.seq) or (
                    old is None and c.data[s.d] and not s.flags & F_ACK):
                c = None
        if c is None:
            c = cur[s.key] = Conn(s.key)
            conns.append(c)
        s.conn = c
        if s.flags & F_SYN and c.syn_seq[s.d] is None:
            c.syn_seq[s.d] = s.seq
        if len(s.payload) and not s.flags & (F_SYN | F_RST) and not s.trunc:
            if c.first_data[s.d] is None:
                c.first_data[s.d] = s
            c.data[s.d].append(s)
    return conns


def clean_segments(conn, d):
    """Data segments of one direction whose range overlaps no other data
    segment (nor the SYN) of that direction."""
    segs = conn.data[d]
    if not segs:
        return set()
    base = conn.syn_seq[d]
    base = (base + 1) & M32 if base is not None else segs[0].seq
    iv = sorted((sdiff(s.seq, base), sdiff(s.seq, base) + len(s.payload), i)
                for i, s in enumerate(segs))
    bad = set()
    maxend = -(1 << 62)
    for k, (lo, hi, i) in enumerate(iv):
        if lo < 0 and conn.syn_seq[d] is not None:
            bad.add(i)                        # overlaps the SYN / before ISN
        if lo < maxend or (k + 1 < len(iv) and iv[k + 1][0] < hi):
            bad.add(i)                        # overlaps an earlier / a later one
        maxend = max(maxend, hi)
    return {id(segs[i]) for i in range(len(segs)) if i not in bad}


# --------------------------------------------------------------------------
# transformations: each takes (recs, linktype, rng, opts) -> new recs

def mode_split(recs, lt, rng, o):
    pad = lt == DLT_EN10MB and not o.no_pad
    out = []
    for r in recs:
        s = r.seg
        if s is None or not is_data(s) or len(s.payload) < 2:
            out.append(r)
            continue
        p, n, pos = s.payload, len(s.payload), 0
        cuts = []
        while pos < n:
            k = 1 if rng.random() < 0.2 else rng.randint(1, o.max_piece)
            k = min(k, n - pos)
            cuts.append((pos, k))
            pos += k
        if len(cuts) == 1:                   # always split something
            k = rng.randint(1, n - 1)
            cuts = [(0, k), (k, n - k)]
        for j, (pos, k) in enumerate(cuts):
            last = j == len(cuts) - 1
            fl = s.flags if last else s.flags & ~(F_FIN | F_PSH)
            out.append(Rec(r.ts, build(s, s.seq + pos, fl, p[pos:pos + k],
                                       pad=pad), 0))
    return out


def _barrier_ranges(recs):
    """For each connection, sorted file positions of SYN/FIN/RST packets."""
    bar = {}
    for i, r in enumerate(recs):
        s = r.seg
        if s is not None and is_barrier(s):
            bar.setdefault(id(s.conn), []).append(i)
    return bar


def _movable(recs, conns):
    """ids of segments that reorder/duplicate may touch."""
    ok = set()
    for c in conns:
        for d in (0, 1):
            cl = clean_segments(c, d)
            if c.syn_seq[d] is None and c.first_data[d] is not None:
                cl.discard(id(c.first_data[d]))      # mid-stream pick-up
            for s in c.data[d]:
                if id(s) in cl and not s.flags & (F_FIN | F_URG):
                    ok.add(id(s))
    return ok


def mode_coalesce(recs, lt, rng, o):
    drop, repl = set(), {}
    groups = {}           # (conn, d) -> current run [(pos, seg)]

    def flush(run):
        # the merged segment takes the place (and headers, ACK number
        # included) of the run's first segment: its bytes arrive early,
        # never after an ACK that covers them
        if len(run) < 2:
            return
        first_pos, first = run[0]
        payload = b"".join(s.payload for _, s in run)
        fl = first.flags
        if any(s.flags & F_PSH for _, s in run):
            fl |= F_PSH
        repl[first_pos] = build(first, first.seq, fl, payload)
        for p, _ in run[1:]:
            drop.add(p)

    for i, r in enumerate(recs):
        s = r.seg
        if s is None:
            continue
        if is_barrier(s):                        # closes runs of both dirs
            for d in (0, 1):
                flush(groups.pop((id(s.conn), d), []))
            continue
        if not is_data(s):
            continue
        # The other side's data ends this side's run: merging across it
        # would make a reply arrive before the command it answers, which
        # no capture point sees (segment coalescing never crosses the
        # other direction).
        flush(groups.pop((id(s.conn), 1 - s.d), []))
        g = (id(s.conn), s.d)
        run = groups.get(g, [])
        limit = min(o.max_payload, 0xffff - (len(s.hdr) - s.l3off)
                    + (40 if s.v6 else 0))
        if run:
            size = sum(len(x.payload) for _, x in run)
            if run[-1][1].end != s.seq or size + len(s.payload) > limit:
                flush(run)
                run = []
        run.append((i, s))
        groups[g] = run
    for run in groups.values():
        flush(run)
    out = []
    for i, r in enumerate(recs):
        if i in drop:
            continue
        out.append(Rec(r.ts, repl[i], 0) if i in repl else r)
    return out


def _shuffle(rng, items):
    if len(items) < 2:
        return items
    for _ in range(8):
        p = items[:]
        rng.shuffle(p)
        if p != items:
            return p
    return items[::-1]


def mode_reorder(recs, lt, rng, o):
    pad = lt == DLT_EN10MB and not o.no_pad
    conns = {id(r.seg.conn): r.seg.conn for r in recs if r.seg is not None}
    movable = _movable(recs, conns.values())
    # per (conn, dir): runs of movable data positions.  A run ends at a SYN,
    # FIN or RST of the connection and (unless --ignore-acks) at a packet of
    # the peer that acknowledges a byte of the run: data is never moved
    # behind the ACK that covers it.
    runs, cur, acked = [], {}, {}
    for i, r in enumerate(recs):
        s = r.seg
        if s is None:
            continue
        if is_barrier(s):
            for d in (0, 1):
                run = cur.pop((id(s.conn), d), None)
                if run:
                    runs.append(run)
            continue
        g = (id(s.conn), 1 - s.d)
        if s.flags & F_ACK:
            if g not in acked or sdiff(s.ack, acked[g]) > 0:
                acked[g] = s.ack
            if g in cur and not o.ignore_acks and any(
                    sdiff(s.ack, recs[p].seg.seq) > 0 for p in cur[g]):
                runs.append(cur.pop(g))
        me = (id(s.conn), s.d)
        if o.strict_acks and me in acked and sdiff(acked[me], s.seq) > 0:
            continue        # already behind its ACK in the input: stays put
        if id(s) in movable:
            cur.setdefault(me, []).append(i)
    runs.extend(cur.values())
    new = list(recs)
    for run in runs:
        j = 0
        while j < len(run):
            w = rng.randint(2, max(2, o.window))
            win = run[j:j + w]
            for pos, src in zip(win, _shuffle(rng, win)):
                new[pos] = recs[src]
            j += w
    # Timestamps and ACK numbers belong to the file position: a segment moved
    # earlier must not acknowledge peer data that is not on the wire yet.
    out = []
    for i, r in enumerate(new):
        if r is recs[i]:
            out.append(r)
            continue
        s, here = r.seg, recs[i].seg
        ack = here.ack if s.flags & here.flags & F_ACK else None
        out.append(Rec(recs[i].ts, build(s, s.seq, s.flags, s.payload, ack=ack,
                                         pad=pad), 0))
    return out


def mode_duplicate(recs, lt, rng, o):
    pad = lt == DLT_EN10MB and not o.no_pad
    conns = {id(r.seg.conn): r.seg.conn for r in recs if r.seg is not None}
    movable = _movable(recs, conns.values())
    bar = _barrier_ranges(recs)
    pos_of = {id(r.seg): i for i, r in enumerate(recs) if r.seg is not None}
    ins = {}                                    # position -> [Rec] after it

    last = {}
    for i, r in enumerate(recs):
        if r.seg is not None:
            last[id(r.seg.conn)] = i

    def limit_after(conn, p):
        """Last position after which a copy of the packet at p may go:
        before the connection's next SYN/FIN/RST and not after its last
        packet (a copy sent later could outlive the flow's idle timeout)."""
        for b in bar.get(id(conn), ()):
            if b > p:
                return b - 1
        return last[id(conn)]

    def put(after, lim, data):
        at = min(after + rng.randint(0, 3), lim)
        ins.setdefault(at, []).append(data)

    for c in conns.values():
        for d in (0, 1):
            segs = [s for s in c.data[d] if id(s) in movable]
            for s in segs:                      # exact retransmissions
                if rng.random() < o.dup_rate:
                    p = pos_of[id(s)]
                    put(p, limit_after(c, p), recs[p].data)
            by_seq = {s.seq: s for s in segs}
            for a in segs:                      # overlapping retransmissions
                b = by_seq.get(a.end)
                if b is None or rng.random() >= o.dup_rate:
                    continue
                pa, pb = pos_of[id(a)], pos_of[id(b)]
                if any(pa < x < pb or pb < x < pa for x in bar.get(id(c), ())):
                    continue
                cut = rng.randint(0, len(a.payload) - 1)
                take = rng.randint(1, len(b.payload))
                fl = (a.flags | (b.flags & F_PSH)) & ~F_FIN
                data = build(a, a.seq + cut, fl,
                             a.payload[cut:] + b.payload[:take], pad=pad)
                lo, hi = min(pa, pb), max(pa, pb)
                # b's head may come early, but never ahead of the peer's
                # data sent before b: a reply cannot precede its request.
                for x in range(lo + 1, hi):
                    q = recs[x].seg
                    if (q is not None and q.conn is c and q.d != d and
                            is_data(q)):
                        lo = x
                if lo < hi and rng.random() < 0.3:
                    # between the two: brings b's head before b itself
                    ins.setdefault(rng.randint(lo, hi - 1), []).append(data)
                else:
                    put(hi, limit_after(c, hi), data)
    out = []
    for i, r in enumerate(recs):
        out.append(r)
        for data in ins.get(i, ()):
            out.append(Rec(r.ts, data, 0))
    return out


def mode_wrap(recs, lt, rng, o):
    pad = lt == DLT_EN10MB and not o.no_pad
    conns = {id(r.seg.conn): r.seg.conn for r in recs if r.seg is not None}
    shift = {}
    for c in conns.values():
        sh = []
        for d in (0, 1):
            segs = c.data[d]
            base = c.syn_seq[d]
            if base is None:
                base = segs[0].seq if segs else 0
            span = max([sdiff(s.end, base) for s in segs] + [2])
            # put 2^32 somewhere inside the stream (after >= 1 byte)
            target = (1 << 32) - rng.randint(1, max(1, span - 1))
            sh.append((target - base) & M32)
        shift[id(c)] = sh
    out = []
    for r in recs:
        s = r.seg
        if s is None:
            out.append(r)
            continue
        sh = shift[id(s.conn)]
        tcp = bytearray(s.hdr[s.l4off:])
        _shift_sack(tcp, sh[1 - s.d])
        ack = s.ack + sh[1 - s.d] if s.flags & F_ACK else None
        if s.trunc:
            # payload not all captured: patch seq/ack/SACK in place and
            # update the checksum incrementally (RFC 1624)
            struct.pack_into("!I", tcp, 4, (s.seq + sh[s.d]) & M32)
            if ack is not None:
                struct.pack_into("!I", tcp, 8, ack & M32)
            struct.pack_into("!H", tcp, 16,
                             _csum_update(s.hdr[s.l4off:], bytes(tcp)))
            d = bytearray(r.data)
            d[s.l4off:s.l4off + len(tcp)] = tcp
            out.append(Rec(r.ts, bytes(d), r.wirelen))
            continue
        out.append(Rec(r.ts, build(s, s.seq + sh[s.d], s.flags, s.payload,
                                   ack=ack, pad=pad, tcp_hdr=bytes(tcp)),
                       0))
    return out


def _csum_update(old, new):
    """TCP checksum after the header bytes old became new (same length,
    checksum field at offset 16 of both): RFC 1624, HC' = ~(~HC + ~m + m')."""
    c = struct.unpack_from("!H", old, 16)[0]
    fmt = "!%dH" % (len(old) // 2)
    ow, nw = list(struct.unpack(fmt, old)), list(struct.unpack(fmt, new))
    ow[8] = nw[8] = 0
    acc = (~c & 0xffff) + sum(~w & 0xffff for w in ow) + sum(nw)
    while acc >> 16:
        acc = (acc & 0xffff) + (acc >> 16)
    return ~acc & 0xffff


def _shift_sack(tcp, delta):
    i, end = 20, (tcp[12] >> 4) * 4
    while i < end:
        kind = tcp[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if i + 1 >= end or tcp[i + 1] < 2:
            break
        ln = tcp[i + 1]
        if kind == 5:
            for j in range(i + 2, min(i + ln, end) - 7, 8):
                lo, hi = struct.unpack_from("!II", tcp, j)
                struct.pack_into("!II", tcp, j, (lo + delta) & M32,
                                 (hi + delta) & M32)
        i += ln


MODES = {"split": mode_split, "coalesce": mode_coalesce,
         "reorder": mode_reorder, "duplicate": mode_duplicate,
         "wrap": mode_wrap}
ALIASES = {"all": ["split", "reorder", "duplicate"]}


def expand_modes(spec):
    out = []
    for m in spec.split(","):
        m = m.strip()
        if m in ALIASES:
            out.extend(ALIASES[m])
        elif m in MODES:
            out.append(m)
        else:
            raise SystemExit("unknown mode %r (choose from %s)"
                             % (m, ", ".join(sorted(MODES) + ["all"])))
    return out


def transform(linktype, recs, modes, seed, o):
    rng = random.Random("%s/%s" % (",".join(modes), seed))
    for m in modes:
        recs = [Rec(r.ts, r.data, r.wirelen) for r in recs]
        analyse(recs, linktype)
        recs = MODES[m](recs, linktype, rng, o)
        for r in recs:
            r.seg = None
            if r.wirelen < len(r.data):
                r.wirelen = len(r.data)
    return recs


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Rewrite a capture so every TCP stream keeps its bytes "
        "but travels in different packets.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Modes" + __doc__.split("Modes", 1)[1])
    ap.add_argument("--mode", default="split",
                    help="split|coalesce|reorder|duplicate|all|wrap or a "
                    "comma list (default split)")
    ap.add_argument("--seed", default="1", help="random seed (default 1)")
    ap.add_argument("--max-piece", type=int, default=512,
                    help="split: largest piece in bytes (default 512)")
    ap.add_argument("--max-payload", type=int, default=65536,
                    help="coalesce: largest merged payload (default 65536, "
                    "always kept within IP's 65535-byte limit)")
    ap.add_argument("--window", type=int, default=4,
                    help="reorder: largest window (default 4)")
    ap.add_argument("--ignore-acks", action="store_true",
                    help="reorder: also move data behind the peer's ACK of it")
    ap.add_argument("--strict-acks", action="store_true",
                    help="reorder: leave in place segments that the input "
                    "already shows after the peer's ACK of them")
    ap.add_argument("--dup-rate", type=float, default=0.3,
                    help="duplicate: probability per segment (default 0.3)")
    ap.add_argument("--no-pad", action="store_true",
                    help="do not pad rebuilt Ethernet frames to 60 bytes")
    ap.add_argument("--batch", action="store_true",
                    help="IN OUTDIR MODE:SEED...: write OUTDIR/MODE-SEED.pcap")
    ap.add_argument("-q", "--quiet", action="store_true")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("specs", nargs="*", help=argparse.SUPPRESS)
    o = ap.parse_args(argv)
    if o.max_piece < 1 or o.window < 2:
        ap.error("--max-piece must be >= 1 and --window >= 2")
    if o.batch:
        jobs = []
        for sp in o.specs:
            m, _, sd = sp.partition(":")
            jobs.append((m, sd or "1",
                         os.path.join(o.output, "%s-%s.pcap"
                                      % (m.replace(",", "+"), sd or "1"))))
    else:
        if o.specs:
            ap.error("extra arguments (did you mean --batch?)")
        jobs = [(o.mode, o.seed, o.output)]
    linktype, recs, notes = read_capture(o.input)
    for n in notes:
        print("resegment: %s: %s" % (o.input, n), file=sys.stderr)
    if linktype not in SUPPORTED_DLT:
        print("resegment: %s: linktype %d not supported, packets copied "
              "unchanged" % (o.input, linktype), file=sys.stderr)
    for m, sd, path in jobs:
        out = transform(linktype, recs, expand_modes(m), sd, o)
        write_pcap(path, linktype, out)
        if not o.quiet:
            print("resegment: %s -> %s (%s seed %s): %d -> %d packets"
                  % (o.input, path, m, sd, len(recs), len(out)),
                  file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
