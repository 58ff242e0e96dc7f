#!/usr/bin/python3
"""tests/gen/fmgen.py: stdlib-only TCP/HTTP servers and clients for the sample generator.

Each subcommand runs inside a network namespace (the shell scenario chooses which) and writes
what it did as JSON (one file, or one JSON object per line for server logs) so that the scenario
can record ground truth next to the capture. Times are time.time() seconds (epoch) and
durations are seconds measured with time.monotonic().
"""

import argparse
import errno
import http.client
import http.server
import json
import os
import socket
import socketserver
import struct
import sys
import threading
import time


def now():
    return round(time.time(), 6)


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def any_addr(host):
    return "::" if ":" in host else "0.0.0.0"


def dump(path, obj):
    data = json.dumps(obj, indent=1, sort_keys=True)
    if path == "-":
        print(data)
    else:
        with open(path, "w") as f:
            f.write(data + "\n")


class JsonLog:
    """Append-only JSON-lines log, safe across threads."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        if path:
            open(path, "w").close()

    def write(self, **kw):
        if not self.path:
            return
        kw.setdefault("ts", now())
        with self.lock:
            with open(self.path, "a") as f:
                f.write(json.dumps(kw, sort_keys=True) + "\n")


def classify(exc):
    """Map a socket exception to ok/refused/timeout/reset/error."""
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return "reset"
    if isinstance(exc, OSError):
        if exc.errno == errno.ETIMEDOUT:
            return "timeout"
        if exc.errno == errno.ECONNREFUSED:
            return "refused"
        if exc.errno in (errno.ECONNRESET, errno.EPIPE):
            return "reset"
    return "error"


def abort_close(sock):
    """Close with SO_LINGER {on, 0}: the kernel sends RST and discards unsent data."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def bound_socket(host):
    """A TCP socket bound to an ephemeral port, so the port is known even if connect fails."""
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.bind((any_addr(host), 0))
    return s, s.getsockname()[1]


# ---------------------------------------------------------------------------- servers


class QuietHandler(http.server.BaseHTTPRequestHandler):
    """The generator's HTTP/1.1 handlers: keep-alive, fixed Server header, no access log."""
    protocol_version = "HTTP/1.1"
    server_version = "fmgen/1.0"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass


def http_server_class(host):
    """A threading HTTP server class for host's address family (daemon threads, SO_REUSEADDR)."""

    class Server(http.server.ThreadingHTTPServer):
        address_family = family_of(host)
        daemon_threads = True
        allow_reuse_address = True

    return Server


def serve(srv, log, a):
    """Log that srv listens on a.host:a.port and answer requests for a.lifetime seconds."""
    log.write(event="listening", host=a.host, port=a.port)
    srv.timeout = 0.5
    deadline = time.monotonic() + a.lifetime
    while time.monotonic() < deadline:
        srv.handle_request()
    srv.server_close()


def listen_socket(host, port, backlog, rcvbuf=0):
    """A listening TCP socket on host:port (SO_REUSEADDR; SO_RCVBUF before bind when given)."""
    ls = socket.socket(family_of(host), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    ls.bind((host, port))
    ls.listen(backlog)
    return ls


# ---------------------------------------------------------------------------- HTTP server


def cmd_http_server(a):
    log = JsonLog(a.log)
    counter = {"n": 0}
    lock = threading.Lock()

    class Handler(QuietHandler):

        def do_GET(self):
            with lock:
                counter["n"] += 1
                n = counter["n"]
            status, delay = 200, 0.0
            if a.slow_every and n % a.slow_every == 0:
                delay = a.slow_delay
            if a.error_every and n % a.error_every == 0:
                status = a.error_status
            if delay:
                time.sleep(delay)
            if status == 200:
                size = a.body_bytes
                if self.path.startswith("/size/"):
                    try:
                        size = max(0, min(int(self.path[6:].split("/")[0].split("?")[0]), 1 << 20))
                    except ValueError:
                        pass
                body = (b"flowmedic sample body\n" * (size // 22 + 1))[:size]
                ctype = "text/plain"
            else:
                body = b"service unavailable\n"
                ctype = "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if status == 503:
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            log.write(event="request", n=n, client=self.client_address[0], client_port=self.client_address[1],
                      method="GET", path=self.path, status=status, delay_s=delay, body_bytes=len(body),
                      keep_alive=not self.close_connection)

    Server = http_server_class(a.host)

    serve(Server((a.host, a.port), Handler), log, a)


# ---------------------------------------------------------------------------- HTTP client


def cmd_http_client(a):
    """--plan: comma list of ka:N (one keep-alive connection, N requests) or close:N (N
    connections of one request each, Connection: close)."""
    results = []
    hosts = a.host.split(",")
    k = 0
    for item in a.plan.split(","):
        kind, _, n = item.partition(":")
        n = int(n or "1")
        conns = [n] if kind == "ka" else [1] * n
        for nreq in conns:
            host = hosts[k % len(hosts)]
            k += 1
            results.append(http_conn(host, a.port, nreq, kind == "ka", a))
            time.sleep(a.gap)
    ok = sum(1 for c in results for r in c["requests"] if r.get("status"))
    dump(a.out, {"connections": results, "requests_answered": ok})


def http_conn(host, port, nreq, keep_alive, a):
    rec = {"server": "%s:%d" % (host, port), "keep_alive": keep_alive, "requests": [], "t_start": now()}
    t0 = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=a.timeout)
    try:
        s, lport = bound_socket(host)
        s.settimeout(a.timeout)
        s.connect((host, port))
        conn.sock = s
        rec["client_port"] = lport
        rec["connect"] = "ok"
        rec["connect_s"] = round(time.monotonic() - t0, 6)
    except OSError as e:
        rec["client_port"] = locals().get("lport")
        rec["connect"] = classify(e)
        rec["error"] = str(e)
        return rec
    for i in range(nreq):
        path = "/%s/%d" % (a.path_prefix, i) if a.path_prefix else "/item/%d" % i
        hdrs = {} if keep_alive and i < nreq - 1 else {"Connection": "close"}
        r = {"path": path, "t_sent": now()}
        t1 = time.monotonic()
        try:
            conn.request("GET", path, headers=hdrs)
            resp = conn.getresponse()
            body = resp.read()
            r["status"] = resp.status
            r["body_bytes"] = len(body)
            r["response_s"] = round(time.monotonic() - t1, 6)
        except Exception as e:  # noqa: BLE001 - recorded, not hidden
            r["error"] = "%s: %s" % (type(e).__name__, e)
            r["result"] = classify(e)
            rec["requests"].append(r)
            break
        rec["requests"].append(r)
        if i < nreq - 1:
            time.sleep(a.gap)
    conn.close()
    rec["t_end"] = now()
    return rec


# ---------------------------------------------------------------------------- HTTP mix


def mix_status(path):
    """The http-mix server's answer by path (the query is not looked at): /api/pay* 503,
    /missing* 404, everything else 200."""
    base = path.split("?")[0]
    if base.startswith("/api/pay"):
        return 503
    if base.startswith("/missing"):
        return 404
    return 200


def cmd_http_mix_server(a):
    """HTTP/1.1 server for the per-request records sample: status by path (mix_status), GET,
    HEAD and POST (the body read by Content-Length), /chunked answered with a chunked body.
    Requests pipelined on one connection are answered in order (BaseHTTPRequestHandler reads
    them one after the other from the connection's buffer)."""
    log = JsonLog(a.log)

    class Handler(QuietHandler):

        def answer(self, method):
            n = int(self.headers.get("Content-Length") or 0)
            req_body = self.rfile.read(n) if n else b""
            status = mix_status(self.path)
            base = self.path.split("?")[0]
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            if status == 200 and base == "/chunked":
                chunks = [b"first chunk\n", b"second, longer chunk of the body\n", b"end\n"]
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                body_len = sum(len(c) for c in chunks)
                if method != "HEAD":
                    for c in chunks:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(c), c))
                    self.wfile.write(b"0\r\n\r\n")
            else:
                body = (b"flowmedic mix body\n" * 8) if status == 200 else (b"error %d\n" % status)
                self.send_header("Content-Length", str(len(body)))
                if status == 503:
                    self.send_header("Retry-After", "1")
                self.end_headers()
                body_len = len(body) if method != "HEAD" else 0
                if method != "HEAD":
                    self.wfile.write(body)
            self.wfile.flush()
            log.write(event="request", client=self.client_address[0], client_port=self.client_address[1],
                      method=method, path=self.path, host=self.headers.get("Host"), status=status,
                      request_body_bytes=len(req_body), response_body_bytes=body_len)

        def do_GET(self):
            self.answer("GET")

        def do_HEAD(self):
            self.answer("HEAD")

        def do_POST(self):
            self.answer("POST")

    Server = http_server_class(a.host)

    serve(Server((a.host, a.port), Handler), log, a)


def mix_request(method, target, host, body=b"", close=False):
    head = "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: fmgen\r\n" % (method, target, host)
    if body:
        head += "Content-Type: text/plain\r\nContent-Length: %d\r\n" % len(body)
    if close:
        head += "Connection: close\r\n"
    return head.encode("latin-1") + b"\r\n" + body


def mix_read_responses(sock, n, methods, timeout):
    """Read n responses (framing by Content-Length or chunked; HEAD answers have no body);
    returns their status codes."""
    sock.settimeout(timeout)
    buf = b""
    out = []
    for i in range(n):
        while b"\r\n\r\n" not in buf:
            d = sock.recv(65536)
            if not d:
                return out
            buf += d
        head, _, buf = buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        hdrs = {l.split(b":", 1)[0].strip().lower(): l.split(b":", 1)[1].strip() for l in lines[1:] if b":" in l}
        if methods[i] != "HEAD":
            if hdrs.get(b"transfer-encoding", b"").lower() == b"chunked":
                while True:
                    while b"\r\n" not in buf:
                        buf += sock.recv(65536)
                    size_line, _, buf = buf.partition(b"\r\n")
                    size = int(size_line.split(b";")[0], 16)
                    while len(buf) < size + 2:
                        buf += sock.recv(65536)
                    buf = buf[size + 2:]
                    if size == 0:
                        break
            else:
                need = int(hdrs.get(b"content-length", b"0"))
                while len(buf) < need:
                    buf += sock.recv(65536)
                buf = buf[need:]
        out.append(status)
    return out


def cmd_http_mix_client(a):
    """Connections of the http-mix sample, each a list of requests; "pipe" connections write
    all their requests in one send before reading any answer (pipelining). Request targets
    cover queries, a long path (over flowmedic's 255 kept bytes), a long Host value, a path
    with a double quote, a backslash and an escape byte (hostile input for the encoders),
    404s, 503s, a POST with a body, HEAD and a chunked answer."""
    host = "%s:%d" % (a.host, a.port)
    long_host = "very-long-virtual-host-name-" + "x" * 120 + ".example"
    long_path = "/static/" + "long-segment/" * 25 + "end.css"
    conns = [
        ("seq", [("GET", "/api/orders?id=1&token=secret", host, b""),
                 ("GET", "/missing/page.html", host, b""),
                 ("GET", "/api/pay?amount=5&card=4111", host, b""),
                 ("POST", "/api/pay", host, b"amount=12.50&currency=EUR&ref=flowmedic"),
                 ("HEAD", "/index.html", host, b""),
                 ("GET", "/chunked", host, b"")]),
        ("pipe", [("GET", "/p/1?x=1", host, b""),
                  ("GET", "/api/pay/retry", host, b""),
                  ("GET", "/missing", host, b"")]),
        ("seq", [("GET", long_path + "?v=3", host, b""),
                 ("GET", "/odd/\"quote\\back\x1b[31mred", host, b""),
                 ("GET", "/vhost", long_host, b"")]),
        ("pipe", [("GET", "/q/%d" % i, host, b"") for i in range(6)]),
        ("seq", [("GET", "/api/pay/status", host, b""),
                 ("GET", "/", host, b"")]),
    ]
    results = []
    for kind, reqs in conns:
        rec = {"kind": kind, "requests": [], "t_start": now()}
        s, lport = bound_socket(a.host)
        s.settimeout(a.timeout)
        s.connect((a.host, a.port))
        rec["client_port"] = lport
        methods = [m for m, _, _, _ in reqs]
        msgs = [mix_request(m, t, h, b, close=(i == len(reqs) - 1)) for i, (m, t, h, b) in enumerate(reqs)]
        if kind == "pipe":
            s.sendall(b"".join(msgs))
            statuses = mix_read_responses(s, len(reqs), methods, a.timeout)
        else:
            statuses = []
            for i, m in enumerate(msgs):
                s.sendall(m)
                statuses += mix_read_responses(s, 1, methods[i:i + 1], a.timeout)
                time.sleep(a.gap)
        s.close()
        for (m, t, h, b), st in zip(reqs, statuses + [None] * (len(reqs) - len(statuses))):
            rec["requests"].append({"method": m, "target": t, "host": h, "request_body_bytes": len(b), "status": st})
        rec["t_end"] = now()
        results.append(rec)
        time.sleep(a.gap)
    dump(a.out, {"connections": results})


def cmd_idle_client(a):
    """One HTTP keep-alive connection with SO_KEEPALIVE (idle/interval --ka-idle seconds): a
    request, --idle seconds of silence (the kernel sends keep-alive probes), another request."""
    rec = {"server": "%s:%d" % (a.host, a.port), "requests": [], "t_start": now()}
    s, lport = bound_socket(a.host)
    rec["client_port"] = lport
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, a.ka_idle)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, a.ka_idle)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 5)
    rec["so_keepalive"] = "TCP_KEEPIDLE=%d TCP_KEEPINTVL=%d TCP_KEEPCNT=5" % (a.ka_idle, a.ka_idle)
    s.settimeout(a.timeout)
    s.connect((a.host, a.port))
    conn = http.client.HTTPConnection(a.host, a.port, timeout=a.timeout)
    conn.sock = s
    for i, last in ((0, False), (1, True)):
        hdrs = {"Connection": "close"} if last else {}
        t1 = time.monotonic()
        r = {"path": "/item/%d" % i, "t_sent": now()}
        try:
            conn.request("GET", r["path"], headers=hdrs)
            resp = conn.getresponse()
            r["status"] = resp.status
            r["body_bytes"] = len(resp.read())
            r["response_s"] = round(time.monotonic() - t1, 6)
        except Exception as e:  # noqa: BLE001 - recorded
            r["error"] = "%s: %s" % (type(e).__name__, e)
            r["result"] = classify(e)
            rec["requests"].append(r)
            break
        rec["requests"].append(r)
        if not last:
            rec["idle_from"] = now()
            time.sleep(a.idle)
            rec["idle_to"] = now()
    conn.close()
    rec["t_end"] = now()
    dump(a.out, rec)


# ---------------------------------------------------------------------------- bulk transfer


def payload(n):
    block = bytes(range(256)) * 64
    out = bytearray()
    while len(out) < n:
        out += block
    return bytes(out[:n])


def cmd_bulk_server(a):
    log = JsonLog(a.log)
    ls = listen_socket(a.host, a.port, 8, a.rcvbuf)
    ls.settimeout(a.lifetime)
    log.write(event="listening", port=a.port, rcvbuf=ls.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
    for _ in range(a.conns):
        try:
            c, peer = ls.accept()
        except socket.timeout:
            log.write(event="accept_timeout")
            break
        c.settimeout(30)
        t0 = time.monotonic()
        rec = {"event": "conn", "client_port": peer[1], "mode": a.mode}
        try:
            if a.mode == "sink":
                got = 0
                while True:
                    d = c.recv(65536)
                    if not d:
                        break
                    got += len(d)
                rec["received_bytes"] = got
                c.sendall(b"OK %d\n" % got)
                c.shutdown(socket.SHUT_WR)
                c.recv(16)
                c.close()
            elif a.mode == "slow-sink":
                # read nothing for --initial-pause, then --read-size bytes every --read-delay
                time.sleep(a.initial_pause)
                got = 0
                while True:
                    d = c.recv(a.read_size)
                    if not d:
                        break
                    got += len(d)
                    time.sleep(a.read_delay)
                rec["received_bytes"] = got
                rec["reader"] = "paused %.1f s, then %d bytes every %.3f s" % (a.initial_pause, a.read_size, a.read_delay)
                c.sendall(b"OK %d\n" % got)
                c.shutdown(socket.SHUT_WR)
                c.recv(16)
                c.close()
            elif a.mode == "source":
                req = c.recv(100)
                n = int(req.split()[1])
                sent = send_paced(c, payload(n), a.chunk, a.pace)
                rec["sent_bytes"] = sent
                c.shutdown(socket.SHUT_WR)
                c.recv(16)
                c.close()
            elif a.mode == "source-close":
                # send the answer and close() at once: later data from the peer draws a RST
                req = c.recv(100)
                n = int(req.split()[1])
                rec["sent_bytes"] = send_paced(c, payload(n), a.chunk, a.pace)
                rec["close_ts"] = now()
                c.close()
                rec["closed"] = "close() right after sending (FIN); the socket is orphaned"
            elif a.mode == "abort":
                # announce N bytes, send only --abort-after, wait, then abort with RST
                req = c.recv(100)
                n = int(req.split()[1])
                data = payload(min(n, a.abort_after))
                sent = send_paced(c, data, a.chunk, a.pace)
                rec["sent_bytes"] = sent
                rec["announced_bytes"] = n
                time.sleep(a.abort_wait)
                rec["abort_ts"] = now()
                abort_close(c)
                rec["closed"] = "abort (SO_LINGER 0): server sent RST"
            elif a.mode == "source-until-error":
                req = c.recv(100)
                n = int(req.split()[1])
                sent = 0
                try:
                    sent = send_paced(c, payload(n), a.chunk, a.pace, rec)
                    rec["closed"] = "normal"
                    c.close()
                except OSError as e:
                    rec["send_error"] = "%s: %s" % (type(e).__name__, e)
                    rec["send_result"] = classify(e)
                    c.close()
                rec["sent_bytes"] = rec.get("sent_bytes", sent)
        except OSError as e:
            rec["error"] = "%s: %s" % (type(e).__name__, e)
            rec["result"] = classify(e)
        rec["duration_s"] = round(time.monotonic() - t0, 6)
        log.write(**rec)
    ls.close()


PAUSE = {"after": 0, "secs": 0.0}


def send_paced(c, data, chunk, pace, rec=None):
    sent = 0
    nchunk = 0
    while sent < len(data):
        nchunk += 1
        if PAUSE["after"] and nchunk == PAUSE["after"] + 1:
            time.sleep(PAUSE["secs"])
        part = data[sent:sent + chunk]
        c.sendall(part)
        sent += len(part)
        if rec is not None:
            rec["sent_bytes"] = sent
        if pace:
            time.sleep(pace)
    return sent


def cmd_bulk_client(a):
    rec = {"server": "%s:%d" % (a.host, a.port), "mode": a.mode, "t_start": now()}
    s, lport = bound_socket(a.host)
    rec["client_port"] = lport
    s.settimeout(a.timeout)
    t0 = time.monotonic()
    try:
        s.connect((a.host, a.port))
        rec["connect_s"] = round(time.monotonic() - t0, 6)
        if a.mode == "upload":
            send_paced(s, payload(a.bytes), a.chunk, a.pace)
            rec["sent_bytes"] = a.bytes
            s.shutdown(socket.SHUT_WR)
            reply = b""
            while True:
                d = s.recv(100)
                if not d:
                    break
                reply += d
            rec["reply"] = reply.decode(errors="replace").strip()
            rec["result"] = "ok"
            s.close()
        elif a.mode == "download-then-send":
            # read the answer up to the server's FIN, wait, then send more: the server has
            # closed, so its kernel answers with RST
            s.sendall(b"GET %d\n" % a.bytes)
            got = 0
            while True:
                d = s.recv(65536)
                if not d:
                    break
                got += len(d)
            rec["received_bytes"] = got
            rec["eof_ts"] = now()
            time.sleep(a.abort_wait)
            try:
                s.sendall(b"more please\n")
                rec["late_send_ts"] = now()
                time.sleep(0.2)
                s.sendall(b"and more\n")
                rec["result"] = "second late send did not fail"
            except OSError as e:
                rec["result"] = classify(e)
                rec["error"] = "%s: %s" % (type(e).__name__, e)
            s.close()
        elif a.mode in ("download", "download-abort"):
            s.sendall(b"GET %d\n" % a.bytes)
            got = 0
            try:
                while True:
                    d = s.recv(65536)
                    if not d:
                        break
                    got += len(d)
                    if a.mode == "download-abort" and got >= a.abort_after:
                        time.sleep(a.abort_wait)
                        rec["abort_ts"] = now()
                        rec["received_bytes"] = got
                        abort_close(s)
                        rec["result"] = "client aborted (SO_LINGER 0): client sent RST"
                        s = None
                        break
                if s is not None:
                    rec["result"] = "ok" if got == a.bytes else "short"
                    s.close()
            except OSError as e:
                rec["result"] = classify(e)
                rec["error"] = "%s: %s" % (type(e).__name__, e)
            rec.setdefault("received_bytes", got)
            rec["expected_bytes"] = a.bytes
    except OSError as e:
        rec["result"] = classify(e)
        rec["error"] = "%s: %s" % (type(e).__name__, e)
    rec["duration_s"] = round(time.monotonic() - t0, 6)
    rec["t_end"] = now()
    dump(a.out, rec)


# ---------------------------------------------------------------------------- connect probes


def probe_one(host, port, i, a, out, start_evt=None):
    r = {"i": i, "server": "%s:%d" % (host, port)}
    s, lport = bound_socket(host)
    r["client_port"] = lport
    s.settimeout(a.timeout)
    if start_evt is not None:
        start_evt.wait()
    r["t_start"] = now()
    t0 = time.monotonic()
    try:
        s.connect((host, port))
        r["connect"] = "ok"
        r["connect_s"] = round(time.monotonic() - t0, 6)
        if a.send:
            t1 = time.monotonic()
            try:
                s.sendall(a.send.encode() + b"\n")
                reply = b""
                while True:
                    d = s.recv(1000)
                    if not d:
                        break
                    reply += d
                r["reply"] = reply.decode(errors="replace").strip()
                r["exchange"] = "ok" if reply else "closed without reply"
            except OSError as e:
                r["exchange"] = classify(e)
                r["exchange_error"] = "%s: %s" % (type(e).__name__, e)
            r["exchange_s"] = round(time.monotonic() - t1, 6)
    except OSError as e:
        r["connect"] = classify(e)
        r["connect_s"] = round(time.monotonic() - t0, 6)
        r["error"] = "%s: %s" % (type(e).__name__, e)
    r["t_end"] = now()
    s.close()
    out.append(r)


def cmd_probe(a):
    out = []
    if a.concurrent:
        evt = threading.Event()
        ths = [threading.Thread(target=probe_one, args=(a.host, a.port, i, a, out, evt)) for i in range(a.count)]
        for t in ths:
            t.start()
        time.sleep(0.2)
        evt.set()
        for t in ths:
            t.join(a.timeout + 30)
    else:
        for i in range(a.count):
            probe_one(a.host, a.port, i, a, out)
            time.sleep(a.interval)
    out.sort(key=lambda r: r["i"])
    summary = {}
    for r in out:
        summary[r["connect"]] = summary.get(r["connect"], 0) + 1
    dump(a.out, {"attempts": out, "connect_results": summary})


# ---------------------------------------------------------------------------- odd servers


def cmd_backlog_server(a):
    """listen(backlog), then accept slowly (or never), answer OK and close."""
    log = JsonLog(a.log)
    ls = listen_socket(a.host, a.port, a.backlog)
    log.write(event="listening", port=a.port, backlog=a.backlog)
    end = time.monotonic() + a.lifetime
    time.sleep(a.accept_start)
    held = []
    ls.settimeout(0.5)
    while time.monotonic() < end and a.accept_delay >= 0:
        try:
            c, peer = ls.accept()
        except socket.timeout:
            continue
        c.settimeout(2)
        try:
            req = c.recv(100)
            c.sendall(b"OK " + req.strip()[:20] + b"\n")
            log.write(event="accepted", client_port=peer[1], request=req.decode(errors="replace").strip())
        except OSError as e:
            log.write(event="accepted", client_port=peer[1], error="%s: %s" % (type(e).__name__, e),
                      result=classify(e))
        c.close()
        time.sleep(a.accept_delay)
    while time.monotonic() < end:
        time.sleep(0.2)
    ls.close()
    del held


def cmd_silent_server(a):
    """Accept, never answer; close after --hold seconds (or abort after reading, --rst)."""
    log = JsonLog(a.log)
    ls = listen_socket(a.host, a.port, 8)
    ls.settimeout(a.lifetime)
    log.write(event="listening", port=a.port)
    try:
        c, peer = ls.accept()
    except socket.timeout:
        log.write(event="accept_timeout")
        return
    c.settimeout(a.hold)
    got = b""
    try:
        got = c.recv(65536)
    except socket.timeout:
        pass
    rec = {"event": "conn", "client_port": peer[1], "received_bytes": len(got),
           "first_bytes_hex": got[:6].hex()}
    if a.rst:
        time.sleep(0.05)
        rec["abort_ts"] = now()
        abort_close(c)
        rec["closed"] = "abort (SO_LINGER 0) after reading the first flight"
    else:
        end = time.monotonic() + a.hold
        while time.monotonic() < end:
            try:
                d = c.recv(65536)
                if not d:
                    rec["peer_closed_ts"] = now()
                    break
            except socket.timeout:
                break
            except OSError as e:
                rec["peer_error"] = classify(e)
                break
        c.close()
        rec["closed"] = "normal close"
    log.write(**rec)
    ls.close()


# ---------------------------------------------------------------------------- fault windows


def parse_window(text):
    """'START:END' in epoch seconds (empty: no window)."""
    if not text:
        return None
    s, _, e = text.partition(":")
    return float(s), float(e)


def in_window(win, t=None):
    if win is None:
        return False
    t = time.time() if t is None else t
    return win[0] <= t < win[1]


def cmd_window_server(a):
    """HTTP/1.1 server whose behaviour changes inside a fault window (--window START:END, epoch
    seconds): --fault slow (answer after --delay s), error (--status, e.g. 503), abort (read the
    request, then close with SO_LINGER 0: RST), down (close the listening socket for the window,
    so the kernel refuses new connections, then listen again). With --backend HOST:PORT every
    request first makes its own HTTP GET to that backend (a dependency) and answers after it."""
    log = JsonLog(a.log)
    win = parse_window(a.window)
    counter = {"n": 0}
    lock = threading.Lock()

    def backend_call(n):
        host, _, port = a.backend.rpartition(":")
        t0 = time.monotonic()
        rec = {"backend": a.backend}
        try:
            s, lport = bound_socket(host)
            rec["backend_client_port"] = lport
            s.settimeout(a.backend_timeout)
            s.connect((host, int(port)))
            conn = http.client.HTTPConnection(host, int(port), timeout=a.backend_timeout)
            conn.sock = s
            conn.request("GET", "/dep/%d" % n, headers={"Connection": "close"})
            resp = conn.getresponse()
            resp.read()
            rec["backend_status"] = resp.status
            conn.close()
        except OSError as e:
            rec["backend_result"] = classify(e)
            rec["backend_error"] = "%s: %s" % (type(e).__name__, e)
        rec["backend_s"] = round(time.monotonic() - t0, 6)
        return rec

    class Handler(QuietHandler):

        def do_GET(self):
            with lock:
                counter["n"] += 1
                n = counter["n"]
            t_req = now()
            faulty = a.fault in ("slow", "error", "abort") and in_window(win, t_req)
            rec = {"event": "request", "n": n, "client": self.client_address[0],
                   "client_port": self.client_address[1], "server": "%s:%d" % (a.host, a.port),
                   "path": self.path, "t_request": t_req, "in_fault_window": faulty}
            if a.backend:
                rec.update(backend_call(n))
            if faulty and a.fault == "abort":
                rec["answer"] = "abort (SO_LINGER 0): RST, no response"
                rec["ts"] = now()
                log.write(**rec)
                abort_close(self.connection)
                self.close_connection = True
                return
            status, delay = 200, 0.0
            if faulty and a.fault == "slow":
                delay = a.delay
            if faulty and a.fault == "error":
                status = a.status
            if a.backend and rec.get("backend_status") != 200:
                status = 502
            if delay:
                time.sleep(delay)
            body = (b"flowmedic sample body\n" * (a.body_bytes // 22 + 1))[:a.body_bytes] if status == 200 \
                else b"service unavailable\n"
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()
                rec["status"] = status
            except OSError as e:
                rec["answer_error"] = "%s: %s" % (type(e).__name__, e)
            rec["delay_s"] = delay
            log.write(**rec)

    Server = http_server_class(a.host)

    deadline = time.monotonic() + a.lifetime
    srv = Server((a.host, a.port), Handler)
    srv.timeout = 0.1
    log.write(event="listening", host=a.host, port=a.port)
    went_down = False
    while time.monotonic() < deadline:
        if a.fault == "down" and not went_down and in_window(win):
            srv.server_close()
            log.write(event="fault_start", fault="down", detail="listening socket closed")
            went_down = True
            while in_window(win) and time.monotonic() < deadline:
                time.sleep(0.005)
            srv = Server((a.host, a.port), Handler)
            srv.timeout = 0.1
            log.write(event="fault_end", fault="down", detail="listening again")
            continue
        srv.handle_request()
    srv.server_close()


# ---------------------------------------------------------------------------- steady traffic


def steady_one(i, host, port, src, a, out, lock):
    r = {"i": i, "server": "%s:%d" % (host, port), "t_start": now()}
    t0 = time.monotonic()
    try:
        s = socket.socket(family_of(host), socket.SOCK_STREAM)
        s.bind((src or any_addr(host), 0))
        r["client"] = "%s:%d" % s.getsockname()[:2]
        s.settimeout(a.timeout)
        s.connect((host, port))
        r["connect"] = "ok"
        r["connect_s"] = round(time.monotonic() - t0, 6)
        conn = http.client.HTTPConnection(host, port, timeout=a.timeout)
        conn.sock = s
        t1 = time.monotonic()
        conn.request("GET", "/%s/%d" % (a.path_prefix, i), headers={"Connection": "close"})
        resp = conn.getresponse()
        body = resp.read()
        r["status"] = resp.status
        r["body_bytes"] = len(body)
        r["response_s"] = round(time.monotonic() - t1, 6)
        conn.close()
    except Exception as e:  # noqa: BLE001 - recorded, not hidden
        r.setdefault("connect", classify(e))
        r["result"] = classify(e)
        r["error"] = "%s: %s" % (type(e).__name__, e)
    r["t_end"] = now()
    with lock:
        out.append(r)


def cmd_steady_client(a):
    """One HTTP request per new connection (Connection: close) every --min-gap..--max-gap s
    (deterministic pseudo-random gaps, --seed) for --duration s; each request runs in its own
    thread so a stuck connect does not stop the cadence. --host and --src are comma lists used
    round-robin (server address, client source address)."""
    import random
    rnd = random.Random(a.seed)
    hosts = a.host.split(",")
    srcs = a.src.split(",") if a.src else [""]
    out, lock, threads = [], threading.Lock(), []
    end = time.monotonic() + a.duration
    i = 0
    while time.monotonic() < end and i < 10000:
        threads = [t for t in threads if t.is_alive()]
        if len(threads) < a.max_inflight:
            t = threading.Thread(target=steady_one, args=(i, hosts[i % len(hosts)], a.port,
                                                          srcs[i % len(srcs)], a, out, lock))
            t.start()
            threads.append(t)
        i += 1
        time.sleep(rnd.uniform(a.min_gap, a.max_gap))
    for t in threads:
        t.join(a.timeout * 3 + 5)
    out.sort(key=lambda r: r["i"])
    summary = {}
    for r in out:
        k = "status %d" % r["status"] if "status" in r else r.get("result", r["connect"])
        summary[k] = summary.get(k, 0) + 1
    dump(a.out, {"requests": out, "results": summary})


# ---------------------------------------------------------------------------- port scan


def cmd_scan(a):
    """A connect() scan of --ports LO-HI on --host from --src, --rate probes per second: each
    probe is a non-blocking connect, closed after --wait s (a RST answers a closed port)."""
    lo, _, hi = a.ports.partition("-")
    res = {"open": [], "closed": 0, "other": 0, "src": a.src, "host": a.host, "t_start": now()}
    for port in range(int(lo), int(hi) + 1):
        s = socket.socket(family_of(a.host), socket.SOCK_STREAM)
        s.bind((a.src or any_addr(a.host), 0))
        s.settimeout(a.wait)
        try:
            s.connect((a.host, port))
            res["open"].append(port)
        except ConnectionRefusedError:
            res["closed"] += 1
        except OSError:
            res["other"] += 1
        s.close()
        time.sleep(1.0 / a.rate)
    res["t_end"] = now()
    res["probes"] = int(hi) - int(lo) + 1
    dump(a.out, res)


# ---------------------------------------------------------------------------- forged RST


def cmd_rst_injector(a):
    """In a middlebox namespace: watch --iface (AF_PACKET) for the first SYN of each connection
    to --port and answer it at once with a forged RST "from the server" (source address and
    port of the SYN's destination, TTL --ttl, no ACK flag: a client in SYN-SENT ignores a RST
    without ACK, so the real SYN-ACK that follows still completes the connection)."""
    log = JsonLog(a.log)
    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    rx.bind((a.iface, 0))
    rx.settimeout(0.2)
    tx = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    seen = set()
    end = time.monotonic() + a.lifetime
    log.write(event="listening", iface=a.iface, port=a.port)

    def csum(b):
        if len(b) % 2:
            b += b"\0"
        s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
        while s >> 16:
            s = (s & 0xFFFF) + (s >> 16)
        return (~s) & 0xFFFF

    while time.monotonic() < end and len(seen) < a.count:
        try:
            fr, meta = rx.recvfrom(2048)
        except socket.timeout:
            continue
        if meta[2] == socket.PACKET_OUTGOING or len(fr) < 14 + 40:
            continue
        ip = fr[14:]
        ihl = (ip[0] & 15) * 4
        if ip[9] != 6:
            continue
        tcp = ip[ihl:]
        sport, dport, seq = struct.unpack("!HHI", tcp[:8])
        flags = tcp[13]
        if dport != a.port or flags & 0x12 != 0x02:
            continue
        src, dst = ip[12:16], ip[16:20]
        key = (src, sport, seq)
        if key in seen:
            continue
        seen.add(key)
        th = struct.pack("!HHIIBBHHH", dport, sport, 0, 0, 5 << 4, 0x04, 0, 0, 0)
        pseudo = dst + src + struct.pack("!BBH", 0, 6, len(th))
        th = th[:16] + struct.pack("!H", csum(pseudo + th)) + th[18:]
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(th), 0, 0, a.ttl, 6, 0, dst, src)
        tx.sendto(iph + th, (socket.inet_ntoa(src), 0))
        log.write(event="forged_rst", client="%s:%d" % (socket.inet_ntoa(src), sport),
                  server="%s:%d" % (socket.inet_ntoa(dst), dport), syn_seq=seq, ttl=a.ttl,
                  flags="RST (no ACK), seq 0")
    rx.close()
    tx.close()


def cmd_nstat_json(_a):
    out = {}
    for line in sys.stdin:
        f = line.split()
        if len(f) >= 2 and not f[0].startswith("#"):
            try:
                out[f[0]] = int(f[1])
            except ValueError:
                pass
    print(json.dumps(out, sort_keys=True))


def main():
    p = argparse.ArgumentParser(description=__doc__)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("http-server")
    s.add_argument("--host", default="0.0.0.0")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--log", default="")
    s.add_argument("--lifetime", type=float, default=120)
    s.add_argument("--body-bytes", type=int, default=600)
    s.add_argument("--slow-every", type=int, default=0)
    s.add_argument("--slow-delay", type=float, default=6.0)
    s.add_argument("--error-every", type=int, default=0)
    s.add_argument("--error-status", type=int, default=503)
    s.set_defaults(fn=cmd_http_server)

    s = sub.add_parser("http-client")
    s.add_argument("--host", required=True, help="comma list, used round-robin per connection")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--plan", default="ka:3,close:2")
    s.add_argument("--gap", type=float, default=0.05)
    s.add_argument("--timeout", type=float, default=15)
    s.add_argument("--path-prefix", default="")
    s.add_argument("--out", default="-")
    s.set_defaults(fn=cmd_http_client)

    s = sub.add_parser("http-mix-server")
    s.add_argument("--host", default="0.0.0.0")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--log", default="")
    s.add_argument("--lifetime", type=float, default=60)
    s.set_defaults(fn=cmd_http_mix_server)

    s = sub.add_parser("http-mix-client")
    s.add_argument("--host", required=True)
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--gap", type=float, default=0.2)
    s.add_argument("--timeout", type=float, default=15)
    s.add_argument("--out", default="-")
    s.set_defaults(fn=cmd_http_mix_client)

    s = sub.add_parser("idle-client")
    s.add_argument("--host", required=True)
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--idle", type=float, default=4.5)
    s.add_argument("--ka-idle", type=int, default=1)
    s.add_argument("--timeout", type=float, default=15)
    s.add_argument("--out", default="-")
    s.set_defaults(fn=cmd_idle_client)

    s = sub.add_parser("bulk-server")
    s.add_argument("--host", default="0.0.0.0")
    s.add_argument("--port", type=int, default=5001)
    s.add_argument("--mode", choices=["sink", "slow-sink", "source", "source-close", "abort", "source-until-error"], required=True)
    s.add_argument("--conns", type=int, default=1)
    s.add_argument("--chunk", type=int, default=65536)
    s.add_argument("--pace", type=float, default=0)
    s.add_argument("--abort-after", type=int, default=65536)
    s.add_argument("--abort-wait", type=float, default=0.2)
    s.add_argument("--rcvbuf", type=int, default=0, help="SO_RCVBUF on the listener (0: default)")
    s.add_argument("--initial-pause", type=float, default=1.0, help="slow-sink")
    s.add_argument("--read-size", type=int, default=4096, help="slow-sink")
    s.add_argument("--read-delay", type=float, default=0.05, help="slow-sink")
    s.add_argument("--lifetime", type=float, default=60)
    s.add_argument("--log", default="")
    s.set_defaults(fn=cmd_bulk_server)

    s = sub.add_parser("bulk-client")
    s.add_argument("--host", required=True)
    s.add_argument("--port", type=int, default=5001)
    s.add_argument("--mode", choices=["upload", "download", "download-abort", "download-then-send"], required=True)
    s.add_argument("--bytes", type=int, default=300000)
    s.add_argument("--abort-after", type=int, default=40000)
    s.add_argument("--abort-wait", type=float, default=0.05)
    s.add_argument("--chunk", type=int, default=65536, help="upload: bytes per send()")
    s.add_argument("--pace", type=float, default=0, help="upload: sleep after each send()")
    s.add_argument("--timeout", type=float, default=60)
    s.add_argument("--out", default="-")
    s.set_defaults(fn=cmd_bulk_client)

    s = sub.add_parser("probe")
    s.add_argument("--host", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--count", type=int, default=3)
    s.add_argument("--interval", type=float, default=0.3)
    s.add_argument("--concurrent", action="store_true")
    s.add_argument("--timeout", type=float, default=20)
    s.add_argument("--send", default="")
    s.add_argument("--out", default="-")
    s.set_defaults(fn=cmd_probe)

    s = sub.add_parser("backlog-server")
    s.add_argument("--host", default="0.0.0.0")
    s.add_argument("--port", type=int, default=9000)
    s.add_argument("--backlog", type=int, default=1)
    s.add_argument("--accept-start", type=float, default=2.0)
    s.add_argument("--accept-delay", type=float, default=0.5, help="-1: never accept")
    s.add_argument("--lifetime", type=float, default=30)
    s.add_argument("--log", default="")
    s.set_defaults(fn=cmd_backlog_server)

    s = sub.add_parser("silent-server")
    s.add_argument("--host", default="0.0.0.0")
    s.add_argument("--port", type=int, default=443)
    s.add_argument("--hold", type=float, default=6)
    s.add_argument("--rst", action="store_true")
    s.add_argument("--lifetime", type=float, default=30)
    s.add_argument("--log", default="")
    s.set_defaults(fn=cmd_silent_server)

    s = sub.add_parser("window-server")
    s.add_argument("--host", default="0.0.0.0")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--fault", choices=["none", "slow", "error", "abort", "down"], default="none")
    s.add_argument("--window", default="", help="START:END, epoch seconds")
    s.add_argument("--delay", type=float, default=6.0, help="slow: seconds before answering")
    s.add_argument("--status", type=int, default=503, help="error: the status sent")
    s.add_argument("--body-bytes", type=int, default=300)
    s.add_argument("--backend", default="", help="HOST:PORT called once per request")
    s.add_argument("--backend-timeout", type=float, default=20)
    s.add_argument("--lifetime", type=float, default=120)
    s.add_argument("--log", default="")
    s.set_defaults(fn=cmd_window_server)

    s = sub.add_parser("steady-client")
    s.add_argument("--host", required=True, help="comma list, round-robin per request")
    s.add_argument("--src", default="", help="comma list of source addresses, round-robin")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--duration", type=float, default=40)
    s.add_argument("--min-gap", type=float, default=0.3)
    s.add_argument("--max-gap", type=float, default=0.5)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--max-inflight", type=int, default=40)
    s.add_argument("--timeout", type=float, default=10)
    s.add_argument("--path-prefix", default="steady")
    s.add_argument("--out", default="-")
    s.set_defaults(fn=cmd_steady_client)

    s = sub.add_parser("scan")
    s.add_argument("--host", required=True)
    s.add_argument("--src", default="")
    s.add_argument("--ports", default="7900-8199")
    s.add_argument("--rate", type=float, default=100)
    s.add_argument("--wait", type=float, default=0.3)
    s.add_argument("--out", default="-")
    s.set_defaults(fn=cmd_scan)

    s = sub.add_parser("rst-injector")
    s.add_argument("--iface", required=True)
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--ttl", type=int, default=64)
    s.add_argument("--count", type=int, default=100)
    s.add_argument("--lifetime", type=float, default=60)
    s.add_argument("--log", default="")
    s.set_defaults(fn=cmd_rst_injector)

    s = sub.add_parser("nstat-json")
    s.set_defaults(fn=cmd_nstat_json)

    p.add_argument("--pause-after-chunk", type=int, default=0,
                   help="bulk senders: pause after this many chunks (0: never)")
    p.add_argument("--pause", type=float, default=0.5)
    a = p.parse_args()
    PAUSE["after"], PAUSE["secs"] = a.pause_after_chunk, a.pause
    a.fn(a)


if __name__ == "__main__":
    main()
