#!/usr/bin/env python3
"""tlsrpt_collector.py - an HTTPS TLS-RPT collector for the test world.

    tlsrpt_collector.py DIR ADDR PORT CERT KEY

Serves HTTPS on ADDR:PORT with CERT/KEY (made by mkcerts.sh, test CA),
one thread per connection.  Every request is stored as DIR/N.json
(method, path, headers) and DIR/N.body (the raw body), N = 1, 2, ... in
arrival order.  The answer's status is the number in DIR/status when that
file exists, else 200.  A request whose path starts with the text of
DIR/hang (when that file exists) is neither stored nor answered: the
collector creates DIR/hung and holds the connection for 60 s (a sender
that dies waiting).  Writes its pid to DIR/pid and creates DIR/ready once
it listens.
"""
import http.server
import json
import os
import ssl
import sys
import threading
import time


def main():
    if len(sys.argv) != 6:
        sys.stderr.write("usage: tlsrpt_collector.py DIR ADDR PORT CERT KEY\n")
        return 2
    out, addr, port, cert, key = sys.argv[1:]
    os.makedirs(out, exist_ok=True)
    seq = [0]
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def _hang(self):
            try:
                with open(os.path.join(out, "hang")) as f:
                    prefix = f.read().strip()
            except OSError:
                return False
            if not prefix or not self.path.startswith(prefix):
                return False
            open(os.path.join(out, "hung"), "w").close()
            time.sleep(60)
            return True

        def _store(self, body):
            with lock:
                seq[0] += 1
                n = seq[0]
            base = os.path.join(out, str(n))
            with open(base + ".body", "wb") as f:
                f.write(body)
            with open(base + ".json", "w") as f:
                json.dump({"method": self.command, "path": self.path,
                           "headers": {k.lower(): v for k, v in
                                       self.headers.items()}}, f)

        def _answer(self):
            status = 200
            try:
                with open(os.path.join(out, "status")) as f:
                    status = int(f.read().strip())
            except (OSError, ValueError):
                pass
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n) if n > 0 else b""
            if self._hang():
                return
            self._store(body)
            self._answer()

        def do_GET(self):
            self._store(b"")
            self._answer()

    srv = http.server.ThreadingHTTPServer((addr, int(port)), Handler)
    srv.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(os.path.join(out, "pid"), "w") as f:
        f.write("%d\n" % os.getpid())
    open(os.path.join(out, "ready"), "w").close()
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
