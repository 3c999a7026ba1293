#!/usr/bin/env python3
"""hostile_https.py - a policy host that sends oversized response headers.

    hostile_https.py WWW LOG ADDR PORT CERT KEY READY

Serves HTTPS on ADDR:PORT with CERT/KEY (the world's policy.crt).  What a
GET gets depends on the Host header's domain (the part after "mta-sts."):

    fhdrmany.test   200 with 2048 header lines of 1 KiB each (2 MiB): every
                    line is under libcurl's own 100 KiB line limit, so only
                    a cap on the whole header stops it
    fhdrok.test     200 with 10 header lines of 1 KiB (10 KiB), then the
                    policy from WWW/<host>/.well-known/mta-sts.txt
    anything else   200 with one 8 MiB header line

Every request is logged to LOG as soon as its head has been read, in the
world's nginx format ("HOST ADDR \"REQUEST-LINE\" 200 0"), so that lib.sh
count_fetches counts it.  Creates READY once it listens.  One thread per
connection; a client that hangs up mid-header is normal here.
"""
import os
import socket
import ssl
import sys
import threading

LINE = b"X-Filler: " + b"f" * 1012 + b"\r\n"   # 1024 bytes with the CRLF


def head(status_body_len):
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
            b"Connection: close\r\nContent-Length: %d\r\n" % status_body_len)


def serve(conn, www, log, addr, lock):
    try:
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        lines = data.split(b"\r\n")
        request = lines[0].decode("latin-1")
        host = ""
        for ln in lines[1:]:
            if ln.lower().startswith(b"host:"):
                host = ln[5:].strip().decode("latin-1").split(":")[0].lower()
        with lock:
            with open(log, "a") as f:
                f.write('%s %s "%s" 200 0\n' % (host, addr, request))
        domain = host[len("mta-sts."):] if host.startswith("mta-sts.") else host
        if domain == "fhdrmany.test":
            conn.sendall(head(0))
            for _ in range(2048):
                conn.sendall(LINE)
            conn.sendall(b"\r\n")
        elif domain == "fhdrok.test":
            path = os.path.join(www, host, ".well-known", "mta-sts.txt")
            with open(path, "rb") as f:
                body = f.read()
            conn.sendall(head(len(body)) + LINE * 10 + b"\r\n" + body)
        else:
            conn.sendall(head(0) + b"X-Huge: ")
            block = b"h" * 65536
            for _ in range(128):        # 8 MiB in one header line
                conn.sendall(block)
            conn.sendall(b"\r\n\r\n")
    except (OSError, ssl.SSLError):
        pass                            # the client gave up: expected
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    if len(sys.argv) != 8:
        sys.stderr.write("usage: hostile_https.py WWW LOG ADDR PORT CERT KEY READY\n")
        return 2
    www, log, addr, port, cert, key, ready = sys.argv[1:]
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, int(port)))
    srv.listen(16)
    open(ready, "w").close()
    lock = threading.Lock()
    while True:
        raw, _ = srv.accept()
        try:
            raw.settimeout(30)
            conn = ctx.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            continue
        threading.Thread(target=serve, args=(conn, www, log, addr, lock),
                         daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
