#!/usr/bin/python3
"""tests/estab/check.py: run flowmedic --json on the establishment samples and corpus captures and
compare its connection-establishment findings with what the generator recorded (truth.json).

Run by tests/estab/samples.sh (env: top_srcdir, FLOWMEDIC). A missing sample is a failure (they
are committed); a missing corpus capture is skipped with a note; 1 on any failure.
"""

import json
import os
import subprocess
import sys

TOP = os.environ.get("top_srcdir", ".")
FM = os.environ.get("FLOWMEDIC", "./flowmedic")
CORPUS = os.environ.get("FM_CORPUS", "/work/shared/corpus")

ESTAB = {"conn_refused", "syn_unanswered", "syn_backlog_drop", "accept_queue_overflow",
         "server_unreachable", "slow_handshake"}

failures = []
checked = []


def fail(sample, msg):
    failures.append("%s: %s" % (sample, msg))
    print("FAIL %s: %s" % (sample, msg))


def run(pcap):
    """flowmedic -r pcap --json -> list of objects."""
    res = subprocess.run([FM, "-r", pcap, "--json", "--no-db"], capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError("flowmedic exit %d: %s" % (res.returncode, res.stderr.strip()[:300]))
    if "runtime error:" in res.stderr or "Sanitizer" in res.stderr:
        raise RuntimeError("sanitizer report on %s: %s" % (pcap, res.stderr.strip()[:500]))
    out = []
    for line in res.stdout.splitlines():
        line = line.strip()
        if line:
            out.append(json.loads(line))
    return out


def findings(objs, kinds=ESTAB):
    return [o for o in objs if o.get("type") == "finding" and o.get("kind") in kinds]


def port_of(ep):
    if not ep:
        return None
    return int(ep.rsplit(":", 1)[1])


def walk(node, pred, acc):
    """Collect every dict under node for which pred(dict) is true."""
    if isinstance(node, dict):
        if pred(node):
            acc.append(node)
        for v in node.values():
            walk(v, pred, acc)
    elif isinstance(node, list):
        for v in node:
            walk(v, pred, acc)
    return acc


def attempts_of(truth):
    """Every recorded connect() with its client port and outcome."""
    return walk(truth, lambda d: "client_port" in d and "connect" in d, [])


def counter(truth, name):
    """A kernel counter (nstat) anywhere in the truth file, summed; None if absent."""
    vals = []

    def visit(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k == name and isinstance(v, (int, float)):
                    vals.append(v)
                elif k == name and isinstance(v, dict):
                    for kk in ("delta", "value", "after"):
                        if isinstance(v.get(kk), (int, float)):
                            vals.append(v[kk])
                            break
                else:
                    visit(v)
        elif isinstance(node, list):
            for v in node:
                visit(v)
    visit(truth)
    return max(vals) if vals else None


def by_port(fs):
    m = {}
    for f in fs:
        p = port_of(f.get("client"))
        if p is not None:
            m.setdefault(p, []).append(f)
    return m


def load_sample(name):
    pcap = os.path.join(TOP, "samples", name + ".pcap")
    tj = os.path.join(TOP, "samples", name + ".truth.json")
    if not (os.path.exists(pcap) and os.path.exists(tj)):
        fail(name, "samples/%s.pcap or its truth file is missing" % name)
        return None, None
    with open(tj) as fh:
        truth = json.load(fh)
    return run(pcap), truth


def check_refused():
    name = "refused"
    objs, truth = load_sample(name)
    if objs is None:
        return
    checked.append(name)
    fs = findings(objs)
    bp = by_port(fs)
    att = attempts_of(truth)
    refused = [a for a in att if a["connect"] == "refused"]
    if not refused:
        fail(name, "truth records no refused connect()")
    for a in refused:
        kinds = {f["kind"] for f in bp.get(a["client_port"], [])}
        if "conn_refused" not in kinds:
            fail(name, "port %d refused, no conn_refused finding (got %s)" % (a["client_port"], kinds))
    for a in att:
        if a["connect"] == "ok":
            bad = [f["kind"] for f in bp.get(a["client_port"], []) if f["severity"] == "error"]
            if bad:
                fail(name, "port %d connected, yet %s" % (a["client_port"], bad))
    n = len([f for f in fs if f["kind"] == "conn_refused"])
    if n != len(refused):
        fail(name, "%d conn_refused findings for %d refused connect() calls" % (n, len(refused)))
    for f in fs:
        if f["kind"] == "conn_refused" and (not f.get("frames") or f.get("reason") != "refused"):
            fail(name, "conn_refused without frames or reason: %s" % f)


def check_unreachable():
    name = "unreachable"
    objs, truth = load_sample(name)
    if objs is None:
        return
    checked.append(name)
    fs = findings(objs)
    att = attempts_of(truth)
    timeouts = [a for a in att if a["connect"] == "timeout"]
    if not timeouts:
        fail(name, "truth records no timed-out connect()")
    un = [f for f in fs if f["kind"] == "server_unreachable"]
    servers = {a["server"] for a in timeouts}
    if len(timeouts) >= 2 and not (1 <= len(un) <= len(servers)):
        fail(name, "%d server_unreachable findings for %d server(s)" % (len(un), len(servers)))
    for f in un:
        if f.get("client") is not None or f.get("flow_id", 0) != 0:
            fail(name, "server_unreachable should be server-level: %s" % f)
        if f.get("server") not in servers:
            fail(name, "server_unreachable for %s, truth timed out on %s" % (f.get("server"), servers))
    total = sum(f.get("attempts", 0) for f in un)
    if len(timeouts) >= 2 and total < len(timeouts):
        fail(name, "server_unreachable counts %d attempts, truth %d timeouts" % (total, len(timeouts)))
    tshark_syns = (truth.get("tshark") or {}).get("counts", {}).get("syn")
    if tshark_syns is not None and sum(f.get("syns", 0) for f in un) != tshark_syns:
        fail(name, "server_unreachable counts %d SYNs, tshark %d" % (sum(f.get("syns", 0) for f in un), tshark_syns))
    per_flow = [f for f in fs if f["kind"] in ("syn_unanswered", "syn_backlog_drop")]
    if len(timeouts) >= 2 and per_flow:
        fail(name, "%d per-flow findings beside server_unreachable" % len(per_flow))


def listen_drop_balance(name, fs, truth):
    """The kernel's TcpExtListenDrops counts every SYN a full queue dropped plus every completing
    ACK dropped or reset for a full accept queue. Compare with what flowmedic inferred: the SYNs
    of never-answered backlog drops, the SYNs before the answer of delayed ones, and one per
    accept-queue reset. (abort_on_overflow=0 ACK drops are not countable from the wire: then
    only an upper bound is checked.)"""
    ld = counter(truth, "TcpExtListenDrops")
    if ld is None:
        return
    syn_drops = 0
    for f in fs:
        if f["kind"] == "syn_backlog_drop":
            syn_drops += f["syns"] - (1 if f.get("outcome") == "delayed" else 0)
    resets = sum(1 for f in fs if f["kind"] == "accept_queue_overflow" and f.get("abort_on_overflow") is True)
    silent = sum(1 for f in fs if f["kind"] == "accept_queue_overflow" and f.get("abort_on_overflow") is False)
    inferred = syn_drops + resets
    print("%s: TcpExtListenDrops=%d, flowmedic: %d dropped SYNs + %d accept-queue resets"
          % (name, ld, syn_drops, resets))
    if silent == 0 and inferred != ld:
        fail(name, "inferred %d listen drops, the kernel counted %d" % (inferred, ld))
    if silent and inferred > ld:
        fail(name, "inferred %d listen drops, more than the kernel's %d" % (inferred, ld))


def check_listen_queue_sample(name, want_resets):
    """A server with a tiny listen backlog under concurrent connects: every connect() must be
    labelled as the kernel treated it."""
    objs, truth = load_sample(name)
    if objs is None:
        return
    checked.append(name)
    fs = findings(objs)
    bp = by_port(fs)
    att = attempts_of(truth)
    if any(f["kind"] == "server_unreachable" for f in fs):
        fail(name, "server_unreachable on a server that answered others")
    timeouts = [a for a in att if a["connect"] == "timeout"]
    for a in timeouts:
        mine = bp.get(a["client_port"], [])
        if not any(f["kind"] == "syn_backlog_drop" and f.get("outcome") == "timeout" for f in mine):
            fail(name, "port %d timed out, no syn_backlog_drop with outcome timeout (got %s)"
                 % (a["client_port"], [f["kind"] for f in mine]))
    slow = [a for a in att if a["connect"] in ("ok", "reset") and a.get("connect_s", 0) >= 0.9]
    for a in slow:
        mine = bp.get(a["client_port"], [])
        if not any(f["kind"] == "syn_backlog_drop" and f.get("outcome") == "delayed" for f in mine):
            fail(name, "port %d needed %.1f s to connect, no delayed syn_backlog_drop (got %s)"
                 % (a["client_port"], a["connect_s"], [f["kind"] for f in mine]))
    for a in att:
        if a["connect"] == "ok" and a.get("connect_s", 9) < 0.5:
            if any(f["kind"] == "syn_backlog_drop" for f in bp.get(a["client_port"], [])):
                fail(name, "port %d connected in %.3f s, yet syn_backlog_drop" %
                     (a["client_port"], a["connect_s"]))
    resets = [a for a in att if a["connect"] == "reset" or a.get("exchange") == "reset"]
    for a in resets:
        mine = [f for f in bp.get(a["client_port"], []) if f["kind"] == "accept_queue_overflow"]
        if not mine:
            fail(name, "port %d was reset, no accept_queue_overflow" % a["client_port"])
        elif want_resets and mine[0].get("abort_on_overflow") is not True:
            fail(name, "port %d: accept_queue_overflow without abort_on_overflow" % a["client_port"])
    aq = [f for f in fs if f["kind"] == "accept_queue_overflow"]
    if want_resets and not resets:
        fail(name, "truth records no reset connection")
    if not want_resets and any(f.get("abort_on_overflow") is True for f in aq):
        fail(name, "accept-queue resets with tcp_abort_on_overflow=0")
    for a in att:
        if a["connect"] == "ok" and a.get("exchange") == "ok":
            if any(f["kind"] == "accept_queue_overflow" and f.get("abort_on_overflow") is True
                   for f in bp.get(a["client_port"], [])):
                fail(name, "port %d was served, yet an accept-queue reset" % a["client_port"])
    listen_drop_balance(name, fs, truth)
    print("%s: %d attempts: %d timeouts, %d slow connects, %d resets; %d syn_backlog_drop, %d "
          "accept_queue_overflow" % (name, len(att), len(timeouts), len(slow), len(resets),
                                     len([f for f in fs if f["kind"] == "syn_backlog_drop"]), len(aq)))


def check_syn_backlog():
    check_listen_queue_sample("syn-backlog", want_resets=False)


def check_accept_abort():
    check_listen_queue_sample("accept-overflow-abort", want_resets=True)


def check_clean_with_loss():
    name = "clean-with-loss"
    objs, truth = load_sample(name)
    if objs is None:
        return
    checked.append(name)
    fs = findings(objs)
    for f in fs:
        if f["kind"] in ("syn_backlog_drop", "server_unreachable"):
            fail(name, "%s on clean traffic with random loss: %s" % (f["kind"], f.get("detail")))
        elif f["severity"] == "error":
            fail(name, "error finding %s on clean traffic: %s" % (f["kind"], f.get("detail")))
        elif f["kind"] == "slow_handshake" and f.get("reason") == "syn_retry" and f["confidence"] >= 0.5:
            fail(name, "a single SYN retry reported with confidence %.2f" % f["confidence"])


def corpus(rel):
    p = os.path.join(CORPUS, rel)
    if not os.path.exists(p):
        print("note: corpus file %s not there; skipped" % p)
        return None
    checked.append(rel)
    return run(p)


def check_corpus():
    objs = corpus("chrissanders-packets/http_espn_fail.pcapng")
    if objs is not None:
        name = "http_espn_fail"
        fs = findings(objs)
        un = [f for f in fs if f["kind"] == "server_unreachable"]
        # 9 client ports (6 with 11 SYNs, 3 with 9), 93 SYNs, never a packet back from it
        if len(un) != 1 or un[0].get("server") != "203.0.113.94:80" or un[0].get("attempts") != 9 \
                or un[0].get("syns") != 93:
            fail(name, "want one server_unreachable for 203.0.113.94:80, 9 attempts, 93 SYNs; got %s" % un)
        other = [f for f in fs if f["kind"] != "server_unreachable" and f.get("server") == "203.0.113.94:80"]
        if other:
            fail(name, "per-flow findings for the unreachable server: %s" % [f["kind"] for f in other])
        if [f for f in fs if f["kind"] in ("conn_refused", "syn_backlog_drop", "accept_queue_overflow")]:
            fail(name, "unexpected establishment findings")
    objs = corpus("chrissanders-packets/tcp_refuseconnection.pcapng")
    if objs is not None:
        name = "tcp_refuseconnection"
        fs = findings(objs)
        if len(fs) != 1 or fs[0]["kind"] != "conn_refused" or fs[0].get("client") != "192.168.100.138:3372" \
                or fs[0].get("frames") != [1, 2]:
            fail(name, "want one conn_refused for 192.168.100.138:3372, frames [1,2]; got %s" % fs)
    objs = corpus("suricata-verify/firewall/tcp-session-syn-flood-drop-precedence/input.pcap")
    if objs is not None:
        name = "syn-flood"
        fs = findings(objs)
        un = [f for f in fs if f["kind"] == "server_unreachable"]
        if len(un) != 1 or un[0].get("attempts") != 200 or un[0].get("server") != "198.51.100.5:443":
            fail(name, "want one server_unreachable (200 attempts) for 198.51.100.5:443; got %s" % un)
        elif un[0]["confidence"] >= 0.5 or un[0]["severity"] != "warn":
            fail(name, "a 0.2 s capture should give weak evidence (warn, confidence < 0.5): %s" % un[0])
        if len(fs) != len(un):
            fail(name, "per-flow findings beside server_unreachable: %d" % (len(fs) - len(un)))
    objs = corpus("zeek/tcp/syn.pcap")
    if objs is not None:
        fs = findings(objs)
        if fs:
            fail("zeek-syn", "a lone SYN at the end of a capture proves nothing; got %s" % fs)


def main():
    if not os.access(FM, os.X_OK):
        print("SKIP: %s not built" % FM)
        return 77
    for fn in (check_refused, check_unreachable, check_syn_backlog, check_accept_abort,
               check_clean_with_loss, check_corpus):
        try:
            fn()
        except (RuntimeError, json.JSONDecodeError, KeyError) as e:
            fail(fn.__name__, "error: %s" % e)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    if not checked:
        print("SKIP: no establishment sample or corpus capture present")
        return 77
    print("ok: %s" % ", ".join(checked))
    return 0


if __name__ == "__main__":
    sys.exit(main())
