#!/usr/bin/python3
"""tests/estab/check.py: run flowmedic --json on the establishment samples and corpus captures and
compare its connection-establishment findings with what the generator recorded (truth.json).

Run by tests/estab/samples.sh (env: top_srcdir, FLOWMEDIC). A sample that is not there yet is
skipped with a note; exit 77 (skip) when nothing at all could be checked, 1 on any failure.
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
    res = subprocess.run([FM, "-r", pcap, "--json"], capture_output=True, text=True)
    if res.returncode not in (0, 2):  # 2: findings of severity error (if the CLI says so)
        raise RuntimeError("flowmedic exit %d: %s" % (res.returncode, res.stderr.strip()[:300]))
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
        print("note: samples/%s.pcap or its truth file is not there yet; skipped" % name)
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
    per_flow = [f for f in fs if f["kind"] in ("syn_unanswered", "syn_backlog_drop")]
    if len(timeouts) >= 2 and per_flow:
        fail(name, "%d per-flow findings beside server_unreachable" % len(per_flow))


def check_syn_backlog():
    name = "syn-backlog"
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
        kinds = {f["kind"] for f in bp.get(a["client_port"], [])}
        if not kinds & {"syn_backlog_drop", "syn_unanswered", "accept_queue_overflow"}:
            fail(name, "port %d timed out, no finding (got %s)" % (a["client_port"], kinds))
    slow_ok = [a for a in att if a["connect"] == "ok" and a.get("connect_s", 0) >= 0.9]
    explained = 0
    for a in slow_ok:
        kinds = {f["kind"] for f in bp.get(a["client_port"], [])}
        if kinds & {"syn_backlog_drop", "accept_queue_overflow", "slow_handshake"}:
            explained += 1
        else:
            fail(name, "port %d took %.1f s to connect, no finding" % (a["client_port"], a["connect_s"]))
    drops = [f for f in fs if f["kind"] == "syn_backlog_drop"]
    ld = counter(truth, "TcpExtListenDrops")
    lo = counter(truth, "TcpExtListenOverflows")
    if (ld or lo) and not drops and not any(f["kind"] == "accept_queue_overflow" for f in fs):
        fail(name, "kernel counted ListenDrops=%s ListenOverflows=%s, flowmedic found nothing" % (ld, lo))
    if ld is not None and ld == 0 and drops:
        fail(name, "%d syn_backlog_drop findings, kernel counted no ListenDrops" % len(drops))
    # a connection that opened at once must not be called a backlog drop
    for a in att:
        if a["connect"] == "ok" and a.get("connect_s", 9) < 0.5:
            kinds = {f["kind"] for f in bp.get(a["client_port"], [])}
            if "syn_backlog_drop" in kinds:
                fail(name, "port %d connected in %.3f s, yet syn_backlog_drop" %
                     (a["client_port"], a["connect_s"]))
    print("%s: %d attempts, %d timeouts, %d slow connects (%d explained), %d syn_backlog_drop, "
          "ListenDrops=%s ListenOverflows=%s" % (name, len(att), len(timeouts), len(slow_ok),
                                                 explained, len(drops), ld, lo))


def check_accept_abort():
    name = "accept-overflow-abort"
    objs, truth = load_sample(name)
    if objs is None:
        return
    checked.append(name)
    fs = findings(objs)
    bp = by_port(fs)
    att = attempts_of(truth)
    aq = [f for f in fs if f["kind"] == "accept_queue_overflow"]
    resets = [a for a in att if a.get("exchange") == "reset" or a["connect"] == "reset"]
    for a in resets:
        kinds = {f["kind"] for f in bp.get(a["client_port"], [])}
        if not kinds & {"accept_queue_overflow", "syn_backlog_drop", "conn_refused"}:
            fail(name, "port %d was reset, no finding (got %s)" % (a["client_port"], kinds))
        elif "accept_queue_overflow" in kinds:
            f = [f for f in bp[a["client_port"]] if f["kind"] == "accept_queue_overflow"][0]
            if f.get("abort_on_overflow") is not True:
                fail(name, "port %d: accept_queue_overflow without abort_on_overflow" % a["client_port"])
    lo = counter(truth, "TcpExtListenOverflows")
    if lo and not aq and not any(f["kind"] == "syn_backlog_drop" for f in fs):
        fail(name, "kernel counted ListenOverflows=%s, flowmedic found nothing" % lo)
    for a in att:
        if a["connect"] == "ok" and a.get("exchange") == "ok":
            kinds = {f["kind"] for f in bp.get(a["client_port"], [])}
            if "accept_queue_overflow" in kinds and any(
                    f.get("abort_on_overflow") is True for f in bp[a["client_port"]]):
                fail(name, "port %d was served, yet accept_queue_overflow with a reset" % a["client_port"])
    print("%s: %d attempts, %d reset, %d accept_queue_overflow, ListenOverflows=%s" %
          (name, len(att), len(resets), len(aq), lo))


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
