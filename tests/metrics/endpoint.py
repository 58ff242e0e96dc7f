#!/usr/bin/env python3
"""tests/metrics/endpoint.py - the /metrics endpoint under abuse, on both address families,
over TLS and with basic auth (issue 14, item 2).

Part 1 listens on ":PORT" (every address) and, at the same time:
  - a slowloris client (one byte every 1.5 s) must be cut by the request deadline;
  - 1000 idle connections must be closed (most at once by the per-address limit, the rest by
    the idle timeout);
  - a 1 MB request line must be refused (a 4xx answer or a closed connection, never 200);
while scrapes from other addresses (127.0.0.1 and ::1) keep answering in under 1 s.
Part 2 listens on one address with a web configuration (a throwaway certificate made with
openssl, a bcrypt hash made with libcrypt): curl --cacert with the right password gets the
metrics, a wrong or missing password gets 401 with WWW-Authenticate, plain HTTP and the other
address family get nothing. Part 3: broken web configurations are refused at start with a
one-line message naming the file and line, and exit status 2 (bad configuration).

Usage: endpoint.py FLOWMEDIC PCAP (run by endpoint.sh). Exit 0 pass, 1 fail, 77 skip.
"""
import ctypes
import ctypes.util
import http.client
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time

FAILS = []
SCRAPE_LIMIT_S = 1.0
ATTACK_S = 13.0  # the request deadline is 10 s; the idle timeout 5 s


def fail(msg):
    FAILS.append(msg)
    print("FAIL: " + msg, flush=True)


def ok(msg):
    print("ok   " + msg, flush=True)


def free_port():
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def have_ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def http_get(host, port, path="/metrics", src=None, timeout=SCRAPE_LIMIT_S):
    """A plain HTTP/1.1 GET; returns (status, headers text, body, seconds)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    t0 = time.monotonic()
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if src:
            s.bind((src, 0))
        s.connect((host, port))
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else 0
    return status, "\n".join(lines[1:]), body, time.monotonic() - t0


def try_get(host, port, path="/metrics"):
    """http_get, with a connection failure as status 0."""
    try:
        return http_get(host, port, path)
    except OSError as e:
        print("     (%s port %d: %s)" % (host, port, e))
        return 0, "", b"", 0.0


def start(fm, pcap, args):
    """flowmedic reading the pcap from a pipe held open: it runs until stdin is closed."""
    p = subprocess.Popen([fm, "-q", "--no-db", "-r", "-"] + args, stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    with open(pcap, "rb") as f:
        p.stdin.write(f.read())
    p.stdin.flush()
    return p


def stop(p, what):
    p.stdin.close()
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        fail("%s: flowmedic did not end after its input closed" % what)
        return
    err = p.stderr.read().decode(errors="replace")
    if rc != 0:
        fail("%s: flowmedic exited with %d: %s" % (what, rc, err.strip()))


def start_on_free_port(fm, pcap, args_for, host, what):
    """Start flowmedic with args_for(port) on a port free_port() found; returns (p, port), or
    (None, None) after a failure was recorded. free_port() closes its socket before flowmedic
    binds the port, so another program (another test, any connect() picking an ephemeral
    port) can take it in between: a start that fails with 'Address already in use' is tried
    again on a new port (at most 5 times); any other failure counts."""
    for _ in range(5):
        port = free_port()
        p = start(fm, pcap, args_for(port))
        if wait_up(host, port, p):
            return p, port
        if p.poll() is None:
            p.kill()
        p.wait()
        err = p.stderr.read().decode(errors="replace")
        if "Address already in use" not in err:
            fail("%s: the endpoint did not come up: %s" % (what, err))
            return None, None
        print("     (%s: port %d was taken before flowmedic bound it; another port)" % (what, port))
    fail("%s: 5 free ports were taken before flowmedic could bind them" % what)
    return None, None


def wait_up(host, port, p, tls_ctx=None):
    """Until p listens on port (ss names the process: a connection alone might reach another
    program that holds the port)."""
    for _ in range(200):
        if p.poll() is not None:
            return False
        r = subprocess.run(["ss", "-Hltnp", "sport = :%d" % port], capture_output=True, text=True)
        if "pid=%d," % p.pid in r.stdout:
            return True
        time.sleep(0.05)
    return False


# ---- part 1: abuse on ":PORT" ----

def slowloris(port, result):
    """One byte every 1.5 s; records after how long the server closed the connection."""
    s = socket.socket()
    s.bind(("127.0.0.3", 0))
    s.connect(("127.0.0.1", port))
    t0 = time.monotonic()
    req = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
    s.settimeout(1.5)
    for b in req:
        try:
            s.send(bytes([b]))
            if s.recv(1024) == b"":
                break
        except socket.timeout:
            continue
        except OSError:
            break
        if time.monotonic() - t0 > 20:
            break
    result["closed_after"] = time.monotonic() - t0
    s.close()


def server_side_conns(port, peer):
    """Established connections the server side holds from peer (accepted or queued)."""
    r = subprocess.run(["ss", "-Htn", "state", "established", "( sport = :%d )" % port,
                        "dst", peer], capture_output=True, text=True)
    return len(r.stdout.splitlines()) if r.returncode == 0 else -1


def idle_flood(port, count, result):
    """count idle connections; records how many the server still holds at the end. (A client
    whose handshake completed while the accept queue was full may still believe it is
    connected; the server holds nothing for it, which is what counts.)"""
    socks = []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.4", 0))
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        socks.append(s)
    result["held_at_start"] = server_side_conns(port, "127.0.0.4")
    time.sleep(ATTACK_S - 1)
    result["held_at_end"] = server_side_conns(port, "127.0.0.4")
    closed = 0
    for s in socks:
        try:
            closed += s.recv(1) == b""
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    result["closed"] = closed
    for s in socks:
        s.close()


def long_line(port, result):
    """A 1 MB request line; records the status answered (0 = closed without an answer)."""
    s = socket.socket()
    s.bind(("127.0.0.5", 0))
    s.connect(("127.0.0.1", port))
    s.settimeout(5)
    line = b"GET /" + b"a" * (1 << 20) + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    try:
        s.sendall(line)
    except OSError:
        pass
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    s.close()
    first = data.split(b"\r\n", 1)[0].split()
    result["status"] = int(first[1]) if len(first) > 1 and first[0].startswith(b"HTTP/") else 0


def part1(fm, pcap, v6):
    p, port = start_on_free_port(fm, pcap, lambda port: ["--metrics-listen", ":%d" % port],
                                 "127.0.0.1", "part 1")
    if not p:
        return
    # dual stack: ":PORT" answers on IPv4 and IPv6
    st, _, body, _ = try_get("127.0.0.1", port)
    (ok if st == 200 and b"flowmedic_packets_total" in body else fail)(
        "':%d' answers on 127.0.0.1 (%d)" % (port, st))
    if v6:
        st, _, body, _ = try_get("::1", port)
        (ok if st == 200 and b"flowmedic_packets_total" in body else fail)(
            "':%d' answers on ::1 (%d)" % (port, st))
        r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                            "http://[::1]:%d/metrics" % port], capture_output=True, text=True)
        (ok if r.stdout == "200" else fail)("curl http://[::1]:%d/metrics: %s" % (port, r.stdout))
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                        "http://127.0.0.1:%d/metrics" % port], capture_output=True, text=True)
    (ok if r.stdout == "200" else fail)("curl http://127.0.0.1:%d/metrics: %s" % (port, r.stdout))
    st, _, _, _ = try_get("127.0.0.1", port, "/nothing")
    (ok if st == 404 else fail)("unknown path answers 404 (%d)" % st)
    # two requests on one connection (keep-alive), and a POST with a 100 KB body
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        codes = []
        for _ in range(2):
            conn.request("GET", "/metrics")
            r = conn.getresponse()
            r.read()
            codes.append(r.status)
        conn.request("POST", "/metrics", body=b"x" * 100000)
        codes.append(conn.getresponse().status)
    except (OSError, http.client.HTTPException) as e:
        codes.append(str(e))
    conn.close()
    (ok if codes == [200, 200, 405] else fail)(
        "GET, GET on one connection, then POST with a body: %s" % codes)

    slow, idle, big = {}, {}, {}
    threads = [threading.Thread(target=slowloris, args=(port, slow)),
               threading.Thread(target=idle_flood, args=(port, 1000, idle)),
               threading.Thread(target=long_line, args=(port, big))]
    for t in threads:
        t.start()
    time.sleep(0.5)  # the attack is in place
    worst, n, t0 = 0.0, 0, time.monotonic()
    while time.monotonic() - t0 < ATTACK_S - 1:
        for host in (["127.0.0.1", "::1"] if v6 else ["127.0.0.1"]):
            try:
                st, _, body, secs = http_get(host, port)
            except OSError as e:
                fail("scrape from %s during the attack: %s" % (host, e))
                st, body, secs = 0, b"", SCRAPE_LIMIT_S
            n += 1
            worst = max(worst, secs)
            if st != 200 or b"flowmedic_packets_total" not in body:
                fail("scrape from %s during the attack answered %d" % (host, st))
        time.sleep(0.4)
    for t in threads:
        t.join(30)
    (ok if worst < SCRAPE_LIMIT_S else fail)(
        "%d scrapes during the attack, slowest %.3f s (limit %.1f s)" % (n, worst, SCRAPE_LIMIT_S))
    ca = slow.get("closed_after", 99)
    (ok if 9 <= ca <= 14 else fail)("slowloris cut after %.1f s (deadline 10 s)" % ca)
    (ok if idle.get("held_at_end", 1) == 0 else fail)(
        "1000 idle connections: the server held %s at first, %s after %.0f s; %s of 1000 "
        "clients saw the close" % (idle.get("held_at_start"), idle.get("held_at_end"),
                                   ATTACK_S - 1, idle.get("closed")))
    (ok if big.get("status", 200) in (0, 400, 413, 414, 431) else fail)(
        "1 MB request line refused (status %s)" % big.get("status"))
    stop(p, "part 1")


# ---- part 2: TLS and basic auth on one address ----

def bcrypt_hash(password):
    lib = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
    lib.crypt_gensalt.restype = ctypes.c_char_p
    lib.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    lib.crypt.restype = ctypes.c_char_p
    lib.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    setting = lib.crypt_gensalt(b"$2b$", 10, None, 0)
    out = lib.crypt(password.encode(), setting)
    if not out or not out.startswith(b"$2b$"):
        return None
    return "$2y$" + out.decode()[4:]  # the spelling htpasswd writes; libxcrypt reads both


def curl(args):
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5"]
                       + args, capture_output=True, text=True)
    return r.stdout


def part2(fm, pcap, tmp, v6):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1"], capture_output=True)
    if r.returncode != 0:
        fail("openssl could not make a certificate: " + r.stderr.decode(errors="replace"))
        return
    h = bcrypt_hash("right horse")
    if not h:
        fail("libcrypt made no bcrypt hash")
        return
    web = os.path.join(tmp, "web.yml")
    with open(web, "w") as f:
        f.write("# exporter-toolkit web configuration\n---\ntls_server_config:\n"
                "  cert_file: cert.pem   # relative to this file\n  key_file: \"key.pem\"\n\n"
                "basic_auth_users:\n  prometheus: '%s'\n  other: %s\n" % (h, bcrypt_hash("x")))
    p, port = start_on_free_port(
        fm, pcap, lambda port: ["--metrics-listen", "127.0.0.1:%d" % port, "--web-config", web],
        "127.0.0.1", "part 2")
    if not p:
        return
    url = "https://127.0.0.1:%d/metrics" % port
    out = subprocess.run(["curl", "-sf", "--cacert", cert, "-u", "prometheus:right horse", url],
                         capture_output=True, text=True).stdout
    (ok if "flowmedic_packets_total" in out else fail)("TLS scrape with the right password")
    code = curl(["--cacert", cert, "-u", "prometheus:right horse", url])
    (ok if code == "200" else fail)("right password again (cached): %s" % code)
    code = curl(["--cacert", cert, "-u", "prometheus:wrong horse", url])
    (ok if code == "401" else fail)("wrong password refused: %s" % code)
    code = curl(["--cacert", cert, "-u", "nobody:right horse", url])
    (ok if code == "401" else fail)("unknown user refused: %s" % code)
    r = subprocess.run(["curl", "-s", "-D", "-", "-o", "/dev/null", "--cacert", cert, url],
                       capture_output=True, text=True)
    hdr = r.stdout.lower()
    (ok if " 401" in hdr.split("\n")[0] and 'www-authenticate: basic realm="flowmedic"' in hdr
     else fail)("no password: 401 with WWW-Authenticate")
    code = curl(["-u", "prometheus:right horse", url])
    (ok if code == "000" else fail)("an unknown CA is not trusted (%s)" % code)
    code = curl(["-u", "prometheus:right horse", "http://127.0.0.1:%d/metrics" % port])
    (ok if code != "200" else fail)("plain HTTP on the TLS port gets no metrics (%s)" % code)
    if v6:
        code = curl(["-k", "-u", "prometheus:right horse", "https://[::1]:%d/metrics" % port])
        (ok if code == "000" else fail)("'127.0.0.1:PORT' does not listen on ::1 (%s)" % code)
    stop(p, "part 2")


# ---- part 3: broken web configurations ----

def part3(fm, pcap, tmp):
    good = bcrypt_hash("pw")
    cases = [
        ("tab", "basic_auth_users:\n\tu: %s\n" % good, ":2: tab in indentation"),
        ("unknown", "tls_server_config:\n  cert_file: c\n  key_file: k\n  min_versio: TLS12\n",
         ":4: unknown key tls_server_config.min_versio"),
        ("unsupported", "tls_server_config:\n  client_ca_file: ca.pem\n",
         ":2: tls_server_config.client_ca_file is not supported"),
        ("half", "tls_server_config:\n  cert_file: c.pem\n", "needs both cert_file and key_file"),
        ("plain", "basic_auth_users:\n  u: secret\n", ":2: user 'u': the password must be"),
        ("list", "basic_auth_users:\n  - u\n", ":2: unsupported YAML: lists"),
        ("flow", "basic_auth_users: {u: x}\n", ":1: unsupported YAML ('{')"),
        ("nofile", "tls_server_config:\n  cert_file: none.pem\n  key_file: none.key\n",
         "cert_file " + tmp + "/none.pem: No such file"),
        ("dup", "basic_auth_users:\n  u: %s\n  u: %s\n" % (good, good), ":3: user 'u' given twice"),
    ]
    for args, want in ((["--web-config", "x.yml"], "--web-config configures --metrics-listen"),
                       (["--metrics-file-follow"], "--metrics-file-follow goes with")):
        r = subprocess.run([fm, "-q", "--no-db", "-r", pcap] + args, capture_output=True,
                           text=True, timeout=20)
        (ok if r.returncode == 2 and want in r.stderr else fail)(
            "%s alone: exit %d, %r" % (args[0], r.returncode, r.stderr.strip()))
    port = free_port()
    for name, text, want in cases:
        path = os.path.join(tmp, name + ".yml")
        with open(path, "w") as f:
            f.write(text)
        r = subprocess.run([fm, "-q", "--no-db", "-r", pcap, "--metrics-listen",
                            "127.0.0.1:%d" % port, "--web-config", path],
                           capture_output=True, text=True, timeout=20)
        err = r.stderr.strip()
        good_msg = want in err and path in err and len(err.splitlines()) == 1
        (ok if r.returncode == 2 and good_msg else fail)(
            "web config '%s' refused: exit %d, %r" % (name, r.returncode, err))


def main():
    fm, pcap = sys.argv[1], sys.argv[2]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        print("SKIP: 1000 connections need more file descriptors (hard limit %d)" % hard)
        return 77
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200) if hard == resource.RLIM_INFINITY
                                                else max(soft, min(hard, 4096)), hard))
    v6 = have_ipv6_loopback()
    if not v6:
        print("note: no IPv6 loopback here; the IPv6 checks are skipped")
    with tempfile.TemporaryDirectory() as tmp:
        part1(fm, pcap, v6)
        part2(fm, pcap, tmp, v6)
        part3(fm, pcap, tmp)
    if FAILS:
        print("%d check(s) failed" % len(FAILS))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
