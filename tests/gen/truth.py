#!/usr/bin/python3
"""tests/gen/truth.py: write samples/<name>.truth.json from the generator's records and tshark.

Usage: truth.py --pcap F --out F.truth.json --name NAME [--part KEY=FILE] [--set KEY=VALUE]
                [--json KEY=JSONTEXT] [--incident JSON ...] [--no-incidents] [--forbid JSON ...]
--part FILE is JSON, or JSON lines (then the value is a list of objects).
tshark counts: "tshark -2 -r F -Y FILTER" for each filter in FILTERS, in total ("tshark") and
per TCP stream and direction ("streams"; c2s = from the stream's SYN sender, or else from the
first packet's sender).

Incident truth (top level, read by tests/incidents/check.py):
  "incidents": [{"cause" (or "a|b": either), "server" ("ip:port", or "ip" for a whole host),
      "since" (or "since_filter": the first frame matching a tshark display filter), "until" (epoch
      seconds of the fault's start / end on the capture's clock; until null: the fault lasts to the
      end of the capture), "since_rel"/"until_rel" (the same, seconds after the capture's first
      packet), "tolerance": {"open": s, "close": s, "early": s}, "required" (false: may open, need
      not), optional "client" (a scan's scanner), "mentions" (texts the incident must name) and
      "close": "any" (whether and how it closes is not judged), "evidence_after" (s after since
      before any evidence can exist: 5 for responses slower than the 5 s threshold; the 15 s to
      open count from there)}]
  "no_incidents": true     -- a clean capture: flowmedic must open no incident at all
  "forbidden": [{"cause", "server"}]  -- incidents that must not open, whatever their severity
Samples whose fault is the whole capture take their incident truth from incident-truth.json (by
--name) in addition to the options.
"""

import argparse
import json
import os
import subprocess
import sys

FILTERS = {
    "retransmission": "tcp.analysis.retransmission",
    "fast_retransmission": "tcp.analysis.fast_retransmission",
    "spurious_retransmission": "tcp.analysis.spurious_retransmission",
    "out_of_order": "tcp.analysis.out_of_order",
    "lost_segment": "tcp.analysis.lost_segment",
    "ack_lost_segment": "tcp.analysis.ack_lost_segment",
    "duplicate_ack": "tcp.analysis.duplicate_ack",
    "zero_window": "tcp.analysis.zero_window",
    "window_full": "tcp.analysis.window_full",
    "keep_alive": "tcp.analysis.keep_alive",
    "rst": "tcp.flags.reset == 1",
    "syn": "tcp.flags.syn == 1 && tcp.flags.ack == 0",
    "syn_ack": "tcp.flags.syn == 1 && tcp.flags.ack == 1",
    "fin": "tcp.flags.fin == 1",
}

ERRORS = set()

FIELDS = ["frame.number", "tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst",
          "tcp.dstport", "tcp.flags.syn", "tcp.flags.ack", "tcp.len"]


def tshark_rows(pcap, flt, fields):
    cmd = ["tshark", "-2", "-n", "-r", pcap, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"]
    if flt:
        cmd += ["-Y", flt]
    for f in fields:
        cmd += ["-e", f]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    err = " ".join(l for l in res.stderr.splitlines() if "could be dangerous" not in l and l.strip())
    if res.returncode != 0 or err:
        ERRORS.add("tshark exit %d: %s" % (res.returncode, " ".join(err.split())[:300]))
    return [line.split("\t") for line in res.stdout.splitlines() if line]


def ep(ip4, ip6, port):
    ip = ip4 or ip6
    return ("[%s]:%s" % (ip, port)) if ":" in ip else ("%s:%s" % (ip, port))


def tshark_truth(pcap):
    rows = tshark_rows(pcap, "", FIELDS)
    streams = {}
    other = 0
    for r in rows:
        r += [""] * (len(FIELDS) - len(r))
        (_fn, st, s4, s6, sp, d4, d6, dp, syn, ack, tlen) = r[:11]
        if st == "":
            other += 1
            continue
        src, dst = ep(s4, s6, sp), ep(d4, d6, dp)
        s = streams.get(st)
        if s is None:
            s = streams[st] = {"client": src, "server": dst, "packets": {"c2s": 0, "s2c": 0},
                               "payload_bytes": {"c2s": 0, "s2c": 0}, "first_frame": int(_fn)}
        if syn == "1" and ack == "0" and s["packets"]["c2s"] + s["packets"]["s2c"] == 0:
            s["client"], s["server"] = src, dst
        if syn == "1" and ack == "1" and s["packets"]["c2s"] + s["packets"]["s2c"] == 0:
            s["client"], s["server"] = dst, src
        d = "c2s" if src == s["client"] else "s2c"
        s["packets"][d] += 1
        s["payload_bytes"][d] += int(tlen or 0)
    totals = {}
    for key, flt in FILTERS.items():
        hits = tshark_rows(pcap, flt, ["frame.number", "tcp.stream", "ip.src", "ipv6.src", "tcp.srcport"])
        totals[key] = len(hits)
        frames = []
        for h in hits:
            h += [""] * (5 - len(h))
            s = streams.get(h[1])
            frames.append(int(h[0]))
            if s is None:
                continue
            d = "c2s" if ep(h[2], h[3], h[4]) == s["client"] else "s2c"
            s.setdefault(key, {"c2s": 0, "s2c": 0})[d] += 1
        if frames and key not in ("syn", "syn_ack", "fin"):
            totals.setdefault("frames", {})[key] = frames[:200]
    return {"packets": len(rows), "non_tcp_packets": other, "counts": totals,
            "streams": [dict(stream=int(k), **v) for k, v in sorted(streams.items(), key=lambda kv: int(kv[0]))]}


def load_part(path):
    with open(path) as f:
        text = f.read()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def first_packet_time(pcap):
    rows = tshark_rows(pcap, "", ["frame.time_epoch"])
    return float(rows[0][0]) if rows else None


def add_incident_truth(truth, a):
    table = os.path.join(os.path.dirname(os.path.abspath(__file__)), "incident-truth.json")
    entry = json.load(open(table)).get(a.name, {}) if os.path.exists(table) else {}
    a.incident = a.incident + [json.dumps(i) for i in entry.get("incidents", [])]
    a.forbid = a.forbid + [json.dumps(f) for f in entry.get("forbidden", [])]
    if a.no_incidents:
        truth["no_incidents"] = True
    if a.forbid:
        truth["forbidden"] = [json.loads(f) for f in a.forbid]
    if not a.incident:
        return
    t0 = first_packet_time(a.pcap)
    out = []
    for text in a.incident:
        inc = json.loads(text)
        if "since_filter" in inc:
            # the fault starts with the first frame that matches this tshark display filter
            rows = tshark_rows(a.pcap, inc["since_filter"], ["frame.time_epoch"])
            if not rows:
                ERRORS.add("since_filter %r matches no frame" % inc["since_filter"])
                continue
            inc["since"] = float(rows[0][0])
        tol = {"open": 15.0, "close": 12.0, "early": 1.0}
        tol.update(inc.get("tolerance", {}))
        inc["tolerance"] = tol
        inc.setdefault("required", True)
        inc.setdefault("until", None)
        for k in ("since", "until"):
            if inc[k] is not None:
                inc[k] = round(float(inc[k]), 6)
                inc[k + "_rel"] = round(inc[k] - t0, 6)
            else:
                inc[k + "_rel"] = None
        out.append(inc)
    truth["incidents"] = out
    truth["incident_time_base"] = ("since/until: epoch seconds on the capture's clock (the generator's "
                                   "wall clock, which also stamps the packets); since_rel/until_rel: "
                                   "seconds after the capture's first packet (%.6f)" % t0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pcap", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--part", action="append", default=[])
    p.add_argument("--set", action="append", default=[])
    p.add_argument("--json", action="append", default=[])
    p.add_argument("--incident", action="append", default=[], help="JSON object, see the module doc")
    p.add_argument("--forbid", action="append", default=[], help="JSON object {cause, server}")
    p.add_argument("--no-incidents", action="store_true")
    a = p.parse_args()
    truth = {"sample": a.name + ".pcap", "generator": {}}
    for kv in a.set:
        k, _, v = kv.partition("=")
        truth["generator"][k] = v
    for kv in a.json:
        k, _, v = kv.partition("=")
        truth["generator"][k] = json.loads(v)
    for kv in a.part:
        k, _, v = kv.partition("=")
        truth["generator"][k] = load_part(v)
    truth["tshark"] = tshark_truth(a.pcap)
    add_incident_truth(truth, a)
    if ERRORS:
        truth["tshark"]["errors"] = sorted(e.replace(a.pcap, a.name + ".pcap") for e in ERRORS)
    truth["tshark"]["command"] = "tshark -2 -r %s -Y FILTER (FILTER per key: %s)" % (
        a.name + ".pcap", json.dumps(FILTERS, sort_keys=True))
    with open(a.out, "w") as f:
        json.dump(truth, f, indent=1, sort_keys=True)
        f.write("\n")
    c = truth["tshark"]["counts"]
    print("%s: %d packets, %d streams; %s" % (a.name, truth["tshark"]["packets"], len(truth["tshark"]["streams"]),
          " ".join("%s=%d" % (k, v) for k, v in c.items() if isinstance(v, int) and v)), file=sys.stderr)


if __name__ == "__main__":
    main()
