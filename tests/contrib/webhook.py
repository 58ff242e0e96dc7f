#!/usr/bin/env python3
"""webhook.py ADDR PORT OUT - a tiny Alertmanager webhook receiver: appends the JSON body of
every POST, one per line, to OUT, and answers 200."""
import http.server
import sys


class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n) if n > 0 else b""
        with open(sys.argv[3], "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.HTTPServer((sys.argv[1], int(sys.argv[2])), Hook).serve_forever()
