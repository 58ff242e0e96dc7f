#!/usr/bin/env python3
"""tshark_xcheck.py - per-flow retransmission and reset counts of flowmedic against tshark.

For every capture given, both tools analyse it; flows are matched on their unordered
address/port pair. flowmedic's retransmission + fast_retransmission + spurious_retransmission
must equal tshark's tcp.analysis.retransmission (which tshark also sets on fast and spurious
retransmissions), and resets must equal tcp.flags.reset==1. The one deliberate difference:
flowmedic drops mirror-port duplicates (identical frames within 1 ms) before analysis where
tshark counts them as retransmissions; such a difference is allowed up to the number of
duplicates flowmedic dropped in that flow, and the line says so.
Exit 0 when every flow agrees, 1 otherwise, 77 (skip) when tshark is missing.
"""
import collections
import json
import os
import shutil
import subprocess
import sys


def key(a, ap, b, bp):
    x, y = (a, int(ap)), (b, int(bp))
    return (x, y) if x <= y else (y, x)


def split_ep(s):
    host, port = s.rsplit(":", 1)
    return host.strip("[]"), int(port)


def tshark_counts(path):
    fields = ["ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport",
              "tcp.analysis.retransmission", "tcp.analysis.flags", "tcp.flags.reset"]
    cmd = ["tshark", "-2", "-n", "-r", path, "-Y", "tcp", "-T", "fields",
           "-E", "separator=\t", "-E", "occurrence=f"]
    for f in fields:
        cmd += ["-e", f]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode != 0 or not res.stdout.strip():
        # an empty answer would make every flow "agree": that must fail, not pass
        raise RuntimeError(f"tshark read no TCP packets from {path}: {res.stderr.strip()}")
    out = res.stdout
    counts = collections.defaultdict(lambda: [0, 0])
    for line in out.splitlines():
        c = line.split("\t")
        if len(c) < 9:
            continue
        src = c[0] or c[1]
        dst = c[3] or c[4]
        if not src or not c[2] or not c[5]:
            continue
        k = key(src, c[2], dst, c[5])
        counts[k]
        if c[6]:
            counts[k][0] += 1
        if c[8] in ("1", "True", "true"):
            counts[k][1] += 1
    return counts


def flowmedic_counts(binary, path):
    res = subprocess.run([binary, "-r", path, "--json", "--no-db", "-q"], capture_output=True,
                         text=True, check=False)
    if res.returncode != 0 or '"type":"flow"' not in res.stdout:
        raise RuntimeError(f"flowmedic reported no flows for {path} (exit {res.returncode}): "
                           f"{res.stderr.strip()}")
    out = res.stdout
    counts = collections.defaultdict(lambda: [0, 0, 0])
    for line in out.splitlines():
        o = json.loads(line)
        if o.get("type") != "flow":
            continue
        c, s = split_ep(o["client"]), split_ep(o["server"])
        k = key(c[0], c[1], s[0], s[1])
        r = 0
        for kind in ("retransmission", "fast_retransmission", "spurious_retransmission"):
            r += o[kind]["c2s"] + o[kind]["s2c"]
        counts[k][0] += r
        counts[k][1] += o["reset"]["c2s"] + o["reset"]["s2c"]
        counts[k][2] += o["mirror_duplicate"]["c2s"] + o["mirror_duplicate"]["s2c"]
    return counts


def check(binary, path):
    ts = tshark_counts(path)
    fm = flowmedic_counts(binary, path)
    bad = 0
    for k in sorted(set(ts) | set(fm)):
        t = ts.get(k, [0, 0])
        f = fm.get(k, [0, 0, 0])
        name = f"{os.path.basename(path)} {k[0][0]}:{k[0][1]} <-> {k[1][0]}:{k[1][1]}"
        if t[1] != f[1]:
            print(f"FAIL {name}: resets tshark {t[1]} flowmedic {f[1]}")
            bad += 1
        if t[0] != f[0]:
            if f[0] < t[0] <= f[0] + f[2]:
                print(f"ok   {name}: retransmissions tshark {t[0]} flowmedic {f[0]}: "
                      f"tshark counts {t[0] - f[0]} mirror duplicates that flowmedic dropped")
            else:
                print(f"FAIL {name}: retransmissions tshark {t[0]} flowmedic {f[0]} "
                      f"(duplicates dropped {f[2]})")
                bad += 1
    if not bad:
        print(f"ok   {os.path.basename(path)}: {len(ts)} flows agree with tshark")
    return bad


def main():
    if not shutil.which("tshark"):
        print("SKIP: tshark is not installed (apt-get install tshark); cross-check not run")
        return 77
    binary = os.environ.get("FLOWMEDIC", "./flowmedic")
    bad = 0
    for p in sys.argv[1:]:
        try:
            bad += check(binary, p)
        except RuntimeError as e:
            print(f"FAIL {e}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
