#!/usr/bin/env python3
"""odd_https.py ADDR PORT CERT KEY - HTTPS answers nginx will not give, for
tests/fetch.sh, chosen by the Host header:

  mta-sts.trunc.example    Content-Length 1000, 15 bytes, close (STS-80)
  mta-sts.trickle.example  200, then one byte every 200 ms until the client
                           gives up (STS-45: the limit is on the whole fetch)
  mta-sts.eof.example      HTTP/1.0 200, no Content-Length, body ends at
                           close: a good policy, served whole
  anything else            404

Serves until killed; one thread per connection.
"""
import socket
import ssl
import sys
import threading
import time

GOOD = b"version: STSv1\nmode: enforce\nmx: mail.good.example\nmax_age: 86400\n"


def host_of(req):
    for line in req.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"host":
            return value.strip().split(b":")[0].decode("ascii", "replace")
    return ""


def serve(conn):
    try:
        conn.do_handshake()
        req = b""
        while b"\r\n\r\n" not in req and len(req) < 8192:
            data = conn.recv(4096)
            if not data:
                return
            req += data
        host = host_of(req)
        if host == "mta-sts.trunc.example":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: 1000\r\nConnection: close\r\n\r\n"
                         + GOOD[:15])
        elif host == "mta-sts.trickle.example":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                         b"Content-Length: 1000\r\n\r\n")
            for _ in range(1000):
                time.sleep(0.2)
                conn.sendall(b"a")
        elif host == "mta-sts.eof.example":
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n"
                         + GOOD)
        else:
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


def main():
    addr, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(16)
    while True:
        raw, _ = srv.accept()
        try:
            conn = ctx.wrap_socket(raw, server_side=True,
                                   do_handshake_on_connect=False)
        except (OSError, ssl.SSLError):
            raw.close()
            continue
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == "__main__":
    main()
