#!/usr/bin/env python3
"""tls_mitm.py - TLS-intercepting SMTP STARTTLS proxy (test tool, stdlib only).

Test tool for stripwatch fixtures (see tests/mkfixtures.sh, case tls-intercept).
It plays the attacker of a "STARTTLS interception" attack, the kind an
on-path box with its own certificate performs:

  client --SMTP--> tls_mitm.py --SMTP--> real server
         <--TLS A-->           <--TLS B-->

* Up to STARTTLS it relays the cleartext SMTP dialogue unchanged, line by
  line in both directions (one send() per received chunk of complete lines).
* It forwards the client's STARTTLS to the server; when the server answers
  2xx it forwards that reply, then
    1. answers the client's TLS handshake itself (TLS A) with --cert/--key
       (its own certificate, e.g. for the MX name but from an attacker CA),
       recording the SNI name the client sent;
    2. opens its own TLS (TLS B) to the real server, sending the same SNI
       name (or --upstream-sni) and, by default, allowing at most the TLS
       version the client negotiated on TLS A; it does not verify the
       server's certificate (it only logs its fingerprint).
* From then on it decrypts what each side sends and re-encrypts it to the
  other, unchanged.

Every interception step is logged to stderr as a line containing " INTERCEPT ".
"""

import argparse
import hashlib
import select
import socket
import ssl
import sys
import threading
import time

MAX_LINE = 65536
TLS_VERSIONS = {
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


def log(msg):
    sys.stderr.write("%s %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def parse_hostport(s):
    host, _, port = s.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    return host, int(port)


def take_lines(buf):
    lines = []
    while True:
        i = buf.find(b"\n")
        if i < 0:
            return lines, buf
        lines.append(buf[: i + 1])
        buf = buf[i + 1:]


def fingerprint(der):
    return hashlib.sha256(der).hexdigest() if der else "(none)"


_tls = threading.local()   # the SNI name seen by the current thread's handshake


def sni_callback(sslobj, name, ctx):
    _tls.sni = name
    return None


class Session:
    def __init__(self, conn_id, csock, ssock, cfg):
        self.id = conn_id
        self.c = csock
        self.s = ssock
        self.cfg = cfg
        self.cbuf = b""
        self.sbuf = b""
        self.starttls_pending = False

    def note(self, what):
        log("INTERCEPT conn=%d %s" % (self.id, what))

    # ---------------------------------------------------------- cleartext part
    def cleartext(self):
        """Relay SMTP lines until the server accepts STARTTLS.

        Returns True when both sides are ready for TLS, False on EOF/refusal."""
        while True:
            r, _, _ = select.select([self.c, self.s], [], [], self.cfg.idle_timeout)
            if not r:
                log("conn=%d idle timeout in cleartext" % self.id)
                return False
            for sock in r:
                data = sock.recv(65536)
                if not data:
                    log("conn=%d %s closed in cleartext" % (
                        self.id, "client" if sock is self.c else "server"))
                    return False
                if sock is self.c:
                    lines, self.cbuf = take_lines(self.cbuf + data)
                    for line in lines:
                        if line.strip().upper() == b"STARTTLS":
                            self.starttls_pending = True
                    if lines:
                        self.s.sendall(b"".join(lines))
                    if len(self.cbuf) > MAX_LINE:
                        raise OSError("client line too long")
                else:
                    lines, self.sbuf = take_lines(self.sbuf + data)
                    go_tls = False
                    for line in lines:
                        if self.starttls_pending and line[3:4] == b" ":
                            self.starttls_pending = False
                            if line[:1] == b"2":
                                go_tls = True
                            else:
                                log("conn=%d server refused STARTTLS: %r" % (self.id, line))
                    if lines:
                        self.c.sendall(b"".join(lines))
                    if go_tls:
                        if self.sbuf or self.cbuf:
                            raise OSError("unexpected bytes around STARTTLS: server %r client %r"
                                          % (self.sbuf, self.cbuf))
                        return True

    # ---------------------------------------------------------- TLS part
    def intercept(self):
        cfg = self.cfg
        _tls.sni = None
        self.c.settimeout(cfg.idle_timeout)
        self.s.settimeout(cfg.idle_timeout)
        # TLS A: we are the server for the client, with our own certificate.
        self.c = cfg.server_ctx.wrap_socket(self.c, server_side=True)
        sni = _tls.sni
        self.note("client TLS accepted: %s %s, client SNI %r, presented our certificate sha256 %s"
                  % (self.c.version(), self.c.cipher()[0], sni, cfg.own_fp))
        # TLS B: we are a client of the real server.
        up = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        up.check_hostname = False
        up.verify_mode = ssl.CERT_NONE
        want = cfg.upstream_version
        if want == "same":
            up.maximum_version = {"TLSv1.2": ssl.TLSVersion.TLSv1_2,
                                  "TLSv1.3": ssl.TLSVersion.TLSv1_3}.get(
                                      self.c.version(), ssl.TLSVersion.MAXIMUM_SUPPORTED)
        else:
            up.maximum_version = TLS_VERSIONS[want]
        up_sni = cfg.upstream_sni or sni
        self.s = up.wrap_socket(self.s, server_hostname=up_sni)
        real = self.s.getpeercert(binary_form=True)
        self.note("upstream TLS established: %s %s, SNI %r, real server certificate sha256 %s"
                  % (self.s.version(), self.s.cipher()[0], up_sni, fingerprint(real)))
        self.relay_tls()

    def relay_tls(self):
        peer = {self.c: self.s, self.s: self.c}
        name = {self.c: "client", self.s: "server"}
        nbytes = {self.c: 0, self.s: 0}
        while True:
            ready = [k for k in (self.c, self.s) if k.pending()]
            if not ready:
                ready, _, _ = select.select([self.c, self.s], [], [], self.cfg.idle_timeout)
                if not ready:
                    log("conn=%d idle timeout in TLS" % self.id)
                    break
            eof = None
            for sock in ready:
                try:
                    data = sock.recv(65536)
                except ssl.SSLWantReadError:
                    continue
                except (ssl.SSLError, OSError) as e:
                    log("conn=%d %s TLS read error: %s" % (self.id, name[sock], e))
                    data = b""
                if not data:
                    eof = sock
                    break
                nbytes[sock] += len(data)
                peer[sock].sendall(data)
            if eof is not None:
                log("conn=%d %s closed TLS after %d plaintext bytes (other side %d)" % (
                    self.id, name[eof], nbytes[eof], nbytes[peer[eof]]))
                other = peer[eof]
                other.settimeout(2)
                try:   # pass the close on: close_notify to the other side
                    other.unwrap()
                except (ssl.SSLError, OSError):
                    pass
                break
        self.note("relayed %d bytes client->server, %d bytes server->client inside TLS"
                  % (nbytes[self.c], nbytes[self.s]))

    def run(self):
        try:
            if self.cleartext():
                self.intercept()
        except (OSError, ssl.SSLError) as e:
            log("conn=%d error: %s" % (self.id, e))
        finally:
            for sock in (self.c, self.s):
                try:
                    sock.close()
                except OSError:
                    pass
            log("conn=%d closed" % self.id)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:10235", help="HOST:PORT to accept clients on")
    ap.add_argument("--upstream", default="127.0.0.1:10225", help="HOST:PORT of the real SMTP server")
    ap.add_argument("--cert", required=True, help="PEM chain the proxy presents (leaf first)")
    ap.add_argument("--key", required=True, help="PEM private key for --cert")
    ap.add_argument("--upstream-sni", default=None,
                    help="SNI name for the upstream TLS (default: the one the client sent)")
    ap.add_argument("--upstream-version", default="same", choices=("same", "1.2", "1.3"),
                    help="highest TLS version offered upstream (default: what the client negotiated)")
    ap.add_argument("--max-conns", type=int, default=0,
                    help="exit after this many connections have finished (0 = run forever)")
    ap.add_argument("--idle-timeout", type=float, default=60.0)
    ap.add_argument("--ready-file", help="create this file once listening")
    cfg = ap.parse_args()

    for name in ("listen", "upstream"):
        host, _ = parse_hostport(getattr(cfg, name))
        if not (host.startswith("127.") or host == "::1" or host == "localhost"):
            ap.error("--%s must be a loopback address" % name)

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cfg.cert, cfg.key)
    ctx.sni_callback = sni_callback
    cfg.server_ctx = ctx
    with open(cfg.cert, "rb") as f:
        first = f.read().decode("ascii", "replace")
    der = ssl.PEM_cert_to_DER_cert(first[: first.index("-----END CERTIFICATE-----") + 25])
    cfg.own_fp = fingerprint(der)

    lhost, lport = parse_hostport(cfg.listen)
    fam = socket.AF_INET6 if ":" in lhost else socket.AF_INET
    lsock = socket.socket(fam, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((lhost, lport))
    lsock.listen(16)
    log("listening on %s, upstream %s, own certificate sha256 %s (%s)"
        % (cfg.listen, cfg.upstream, cfg.own_fp, ssl.OPENSSL_VERSION))
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
