#!/usr/bin/python3
"""tests/evidence/conn_state.py: Zeek's conn_state and history on the samples.

For each sample below, every flow's expected conn_state and history is listed with the reason,
derived by hand from the sample's tshark output (tshark -r SAMPLE -T fields -e frame.number
-e tcp.stream -e tcp.srcport -e tcp.dstport -e tcp.flags.str -e tcp.len -e tcp.analysis.*)
and Zeek's documented meanings (README.md, "conn_state and history"). Upper-case letters are
the client's segments, lower-case the server's. The test runs flowmedic --json on each sample
and compares the "flow" lines with the table, flow by flow (by client endpoint). Then, on
every sample, every flow (but those with SPAN copies or a reused 4-tuple) is compared with the
same rules applied independently, in Python, to tshark's frames of that connection (letters t
and g aside: they depend on flowmedic's loss analysis).

Run by tests/evidence/conn_state.sh (env: top_srcdir, FLOWMEDIC). Exit 1 on any difference.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys

TOP = os.environ.get("top_srcdir", ".")
FM = os.environ.get("FLOWMEDIC", "./flowmedic")

C = "10.99.1.1:"  # the generator's client address

# sample -> {client endpoint or "*" (every other flow): (conn_state, history, reason)}
EXPECTED = {
    "refused.pcap": {
        C + "47523": ("SF", "ShADadfF",
                      "frames 1-12: SYN, SYN-ACK, client ACK, client GET (data), server ACK, server "
                      "data, then server FIN (10) before client FIN (11): FIN both ways, no RST"),
        "*": ("REJ", "Sr",
              "frames 13-20 (4 flows to port 8081): client SYN answered by RST,ACK from the server; "
              "no SYN-ACK: attempt rejected"),
    },
    "unreachable.pcap": {
        "*": ("S0", "S",
              "4 flows, each a SYN and 2 retries with the same sequence number (tshark "
              "'TCP Retransmission', seq_raw unchanged): one S, nothing from the server"),
    },
    "reset-server.pcap": {
        C + "34339": ("RSTR", "ShADadr",
                      "SYN, SYN-ACK, ACK, client request (frame 4, 11 bytes), server ACK and data, "
                      "frame 80 RST,ACK from the server (the only RST), no FIN"),
    },
    "reset-client.pcap": {
        C + "38101": ("RSTO", "ShADadtR",
                      "handshake, client request, server data; frames 65 and 100 are the server's "
                      "retransmissions of data already seen (tshark 'TCP Retransmission', 2 < 10: "
                      "one t); frame 102 RST,ACK from the client, no FIN"),
    },
    "reset-after-fin.pcap": {
        C + "40511": ("RSTR", "ShADadfr",
                      "handshake, client data (4), server ACK and data (5, 6), server FIN (12), "
                      "client ACK and more data (13, 14: D already written), server RST (15); the "
                      "RST decides even after a FIN; the client never sent FIN"),
    },
    "http-clean.pcap": {
        C + "37909": ("SF", "ShADadfF", "frames 1-27: handshake, 4 requests, server FIN (25) "
                      "then client FIN (26)"),
        C + "50515": ("SF", "ShADadfF", "frames 28-39: server FIN (37) then client FIN (38)"),
        C + "52127": ("SF", "ShADadfF", "frames 40-51: server FIN (49) then client FIN (50)"),
        C + "51609": ("SF", "ShADadfF", "frames 52-63: server FIN (61) then client FIN (62)"),
        C + "44151": ("SF", "ShADadfF", "frames 64-85: server FIN (83) then client FIN (84)"),
    },
    "syn-backlog.pcap": {
        C + "56665": ("SF", "ShADadfF", "stream 0: answered at once, server FIN (62) first"),
        C + "38783": ("SF", "ShADadfF", "stream 1: answered at once, server FIN (67) first"),
        C + "53417": ("SF", "ShADadfF", "stream 2: answered at once, server FIN (72) first"),
        C + "40755": ("SF", "ShADadfF",
                      "stream 3: SYN 16 retried at 59 and 75 with the same seq (one S), SYN-ACK 97, "
                      "server FIN (111) first"),
        C + "47047": ("SF", "ShADadfF", "stream 4: SYN retried twice (one S), SYN-ACK 99, server "
                      "FIN (116) first"),
        C + "56175": ("SF", "ShADadfF", "stream 5: SYN retried twice (one S), SYN-ACK 101, server "
                      "FIN (121) first"),
        "*": ("S0", "S", "streams 6-24: SYN and 2 retries with the same seq, never answered"),
    },
    "middlebox-reset.pcap": {
        "10.99.1.1:59071": ("RSTR", "ShADadr",
                            "frames 1-26: handshake, 5 requests and responses, frame 26 a RST "
                            "from the server's address (forged by the middlebox, but Zeek's "
                            "letters go by the sender address), no FIN"),
        "10.99.1.1:34715": ("SF", "ShADadfF", "frames 27-38: server FIN (36) then client FIN (37)"),
    },
    "loss-bulk-c2s.pcap": {
        C + "36117": ("SF", "ShADaTFdf",
                      "client bulk upload: 8 client retransmissions (tshark fast/plain "
                      "retransmission at 79, 123, 165-167, 176, 238, 311), those of data seen "
                      "before number 1..9: one T; client FIN (345) before the server's only data "
                      "(346) and its FIN (348)"),
    },
    "http-clean-caploss.pcap": {
        C + "37909": ("SF", "ShADadgfF",
                      "frames 13, 16, 22, 24: the client ACKs server bytes the capture never "
                      "saw (tshark 'ACKed unseen segment'): a gap in the server's data, 1..9 "
                      "times: one g; then server FIN (23) before client FIN (24)"),
        "*": ("SF", "ShADadfF", "the other 4 flows are complete and clean"),
    },
    "zero-window.pcap": {
        "10.99.1.1:40397": ("SF", "ShADaTwwFdf",
                            "the server advertises a zero window 11 times (tshark "
                            "zero_window, 10..99: two w); the client's 3 retransmissions of "
                            "seen data (14, 18, 32): one T; client FIN before server data/FIN"),
    },
    "http-clean-oneway.pcap": {
        "*": ("SHR", "^hadf",
              "only the server's direction was captured: the first packet is its SYN-ACK (^: "
              "flowmedic calls the sender of a SYN-ACK the server), then pure ACKs, data and a FIN; "
              "no SYN from the client was seen"),
    },
    "tls-reset-mid-handshake.pcap": {
        "*": ("RSTR", "ShADar",
              "handshake, ClientHello (D), server ACK, then a server RST before any server data"),
    },
}

failures = []


def tshark_rows(path):
    """Per frame: stream, src, sport, dst, dport, flags, seq, len, zero_window (tshark)."""
    res = subprocess.run(["tshark", "-r", path, "-T", "fields", "-E", "separator=/t",
                          "-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src", "-e",
                          "tcp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport",
                          "-e", "tcp.flags", "-e", "tcp.seq_raw", "-e", "tcp.len", "-e",
                          "tcp.analysis.zero_window", "-Y", "tcp"],
                         capture_output=True, text=True, check=False)
    rows = []
    for line in res.stdout.splitlines():
        x = line.split("\t")
        if len(x) < 11 or not x[0]:
            continue
        src = x[1] or x[2]
        dst = x[4] or x[5]
        fmt = (lambda a, p: "[%s]:%s" % (a, p)) if ":" in src else (lambda a, p: "%s:%s" % (a, p))
        rows.append({"stream": x[0], "src": fmt(src, x[3]), "dst": fmt(dst, x[6]),
                     "flags": int(x[7], 16), "seq": int(x[8] or 0), "len": int(x[9] or 0),
                     "zw": bool(x[10])})
    return rows


def zeek_rules(frames, client):
    """conn_state and history (without t and g) by README's rules, from tshark's frames of one
    connection; client is the originator. An independent reading of the same definitions."""
    FIN, SYN, RST, ACK = 1, 2, 4, 16
    hist, once, last, sent, zw = "", set(), {}, set(), {}
    first_rst = None
    if frames and frames[0]["src"] != client:
        hist += "^"
    def put(up, c):
        nonlocal hist
        if len(hist) < 31:
            hist += c.upper() if up else c
    for f in frames:
        up = f["src"] == client
        fl = f["flags"]
        if fl & SYN and fl & (FIN | RST):
            if (up, "q") not in once:
                once.add((up, "q")); put(up, "q")
        elif fl & FIN and fl & RST:
            if (up, "i") not in once:
                once.add((up, "i")); put(up, "i")
        for bit, letter, cond in ((SYN, "s", not fl & ACK), (SYN, "h", bool(fl & ACK))):
            if fl & bit and cond:
                sent.add((up, letter))
                if last.get((up, letter)) != f["seq"]:
                    last[(up, letter)] = f["seq"]; put(up, letter)
        if f["len"] and (up, "d") not in once:
            once.add((up, "d")); put(up, "d")
        for bit, letter in ((FIN, "f"), (RST, "r")):
            if fl & bit:
                sent.add((up, letter))
                if last.get((up, letter)) != f["seq"]:
                    last[(up, letter)] = f["seq"]; put(up, letter)
        if fl & RST and first_rst is None:
            first_rst = up
        if fl & (SYN | FIN | RST | ACK) == ACK and not f["len"] and (up, "a") not in once:
            once.add((up, "a")); put(up, "a")
        if f["zw"]:
            zw[up] = zw.get(up, 0) + 1
            if zw[up] in (1, 10, 100, 1000):
                put(up, "w")
    syn, synack = (True, "s") in sent, (False, "h") in sent
    ofin, rfin = (True, "f") in sent, (False, "f") in sent
    if first_rst is True:
        state = "RSTOS0" if syn and not synack else "RSTO"
    elif first_rst is False:
        state = "REJ" if syn and not synack else ("RSTRH" if synack and not syn else "RSTR")
    elif ofin and rfin:
        state = "SF"
    elif ofin:
        state = "SH" if syn and not synack else ("S2" if syn else "OTH")
    elif rfin:
        state = "SHR" if synack and not syn else ("S3" if syn else "OTH")
    elif syn and not any(f["src"] != client for f in frames):
        state = "S0"
    else:
        state = "S1" if syn and synack else "OTH"
    return state, hist


def check_rules(sample):
    """Every flow of sample: flowmedic's conn_state and history (t and g letters aside) equal
    the rules applied to tshark's frames of the same connection (matched by client endpoint,
    server endpoint and first frame's stream)."""
    path = os.path.join(TOP, "samples", sample)
    res = subprocess.run([FM, "-r", path, "--json", "--no-db", "-q"], capture_output=True,
                         text=True, check=False)
    flows = [json.loads(l) for l in res.stdout.splitlines() if l.startswith('{"type":"flow"')]
    by_pair = {}
    for r in tshark_rows(path):
        by_pair.setdefault(frozenset((r["src"], r["dst"])), []).append(r)
    n = 0
    for fl in flows:
        frames = by_pair.get(frozenset((fl["client"], fl["server"])), [])
        streams = sorted({r["stream"] for r in frames})
        if len(streams) != 1 or fl["mirror_duplicate"]["c2s"] + fl["mirror_duplicate"]["s2c"]:
            continue  # port reuse or SPAN copies: the hand table covers those samples
        state, hist = zeek_rules(frames, fl["client"])
        mine = re.sub("[tTgG]", "", fl["history"])
        if (state, hist) != (fl["conn_state"], mine):
            failures.append("%s %s: the rules on tshark's frames give %s %s, flowmedic %s %s" %
                            (sample, fl["client"], state, hist, fl["conn_state"],
                             fl["history"]))
            print("FAIL " + failures[-1])
        n += 1
    return n


def check(sample, table):
    path = os.path.join(TOP, "samples", sample)
    if not os.path.exists(path):
        failures.append("%s: the sample is committed but missing" % sample)
        return
    res = subprocess.run([FM, "-r", path, "--json", "--no-db", "-q"], capture_output=True,
                         text=True, check=False)
    if res.returncode != 0:
        failures.append("%s: exit %d: %s" % (sample, res.returncode, res.stderr.strip()[:300]))
        return
    flows = [json.loads(l) for l in res.stdout.splitlines() if l.startswith('{"type":"flow"')]
    if not flows:
        failures.append("%s: no flow records" % sample)
        return
    seen = set()
    for fl in flows:
        key = fl["client"] if fl["client"] in table else "*"
        if key not in table:
            failures.append("%s: flow %s -> %s is not in the table" %
                            (sample, fl["client"], fl["server"]))
            continue
        seen.add(key)
        state, hist, reason = table[key]
        got = (fl.get("conn_state"), fl.get("history"))
        if got == (state, hist):
            print("ok   %s %s: %s %s (%s)" % (sample, fl["client"], state, hist, reason[:60]))
        else:
            failures.append("%s %s: expected %s %s, got %s %s (%s)" %
                            (sample, fl["client"], state, hist, got[0], got[1], reason))
            print("FAIL " + failures[-1])
    for key in table:
        if key not in seen:
            failures.append("%s: no flow for %s" % (sample, key))


def main():
    if not os.access(FM, os.X_OK):
        print("SKIP: %s not built" % FM)
        return 77
    for sample, table in EXPECTED.items():
        check(sample, table)
    if shutil.which("tshark"):
        n = 0
        for path in sorted(glob.glob(os.path.join(TOP, "samples", "*.pcap"))):
            n += check_rules(os.path.basename(path))
        print("%s the rules applied to tshark's frames agree on %d flows of every sample" %
              ("ok  " if n > 100 and not failures else "FAIL", n))
        if n <= 100:
            failures.append("only %d flows compared with the rules on tshark's frames" % n)
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
