#!/usr/bin/env python3
"""frame_numbers.py FILE PORT... [FILE PORT...] - for each capture and each port P:
run flowmedic on FILE with the BPF filter 'tcp port P' and without a filter, and check that
 - the filtered run's flow findings (kind, client, server, frames) equal the unfiltered run's
   findings for flows on port P, and its flows' first_frame equal the unfiltered ones;
 - every evidence frame and first_frame is, in tshark's numbering of the whole file, a frame
   of that very connection (same two endpoints), and first_frame is the connection's first;
 - the filter really removed frames (the file has frames on other ports)."""
import json
import os
import subprocess
import sys

FM = os.environ.get("FLOWMEDIC", "./flowmedic")
failures = 0


def fail(msg):
    global failures
    failures += 1
    print("FAIL:", msg)


def run_fm(path, filt):
    cmd = [FM, "-r", path, "--no-db", "--json"] + ([filt] if filt else [])
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        fail("%s exited %d: %s" % (" ".join(cmd), out.returncode, out.stderr.strip()))
    recs = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    return recs


def tshark_frames(path):
    """frame number -> frozenset of its two endpoints "ip:port" / "[ip6]:port" (TCP only)."""
    out = subprocess.run(["tshark", "-r", path, "-Y", "tcp", "-T", "fields", "-e", "frame.number",
                          "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport",
                          "-e", "ip.dst", "-e", "ipv6.dst", "-e", "tcp.dstport"],
                         capture_output=True, text=True, check=True)
    frames = {}
    for line in out.stdout.splitlines():
        n, s4, s6, sp, d4, d6, dp = line.split("\t")
        src = s4 + ":" + sp if s4 else "[" + s6 + "]:" + sp
        dst = d4 + ":" + dp if d4 else "[" + d6 + "]:" + dp
        frames[int(n)] = frozenset((src, dst))
    return frames


def port_of(ep):
    return int(ep.rsplit(":", 1)[1])


def flow_findings(recs, port=None):
    return sorted((r["kind"], r["client"], r["server"], tuple(r["frames"]))
                  for r in recs if r["type"] == "finding" and r.get("client")
                  and (port is None or port_of(r["server"]) == port))


def first_frames(recs, port=None):
    return sorted((r["client"], r["server"], r["first_frame"]) for r in recs
                  if r["type"] == "flow" and (port is None or port_of(r["server"]) == port))


def check(path, ports):
    name = os.path.basename(path)
    ts = tshark_frames(path)
    whole = run_fm(path, None)
    compared = 0
    for port in ports:
        before = failures
        filt = "tcp port %d" % port
        part = run_fm(path, filt)
        got, want = flow_findings(part), flow_findings(whole, port)
        if not any(r["type"] == "flow" for r in part):
            fail("%s '%s': no flow to compare" % (name, filt))
        compared += len(got)
        if got != want:
            fail("%s '%s': findings differ from the unfiltered run:\n  %s\n  %s"
                 % (name, filt, got, want))
        ff = first_frames(part)
        if ff != first_frames(whole, port):
            fail("%s '%s': flows' first_frame differ: %s vs %s"
                 % (name, filt, ff, first_frames(whole, port)))
        if sum(1 for eps in ts.values() if all(port_of(e) != port for e in eps)) == 0:
            fail("%s: every frame is on port %d, the filter proves nothing" % (name, port))
        for kind, client, server, frames in got:
            for n in frames:
                if ts.get(n) != frozenset((client, server)):
                    fail("%s '%s': %s evidence frame %d is not a frame of %s-%s in tshark (%s)"
                         % (name, filt, kind, n, client, server, ts.get(n)))
        for client, server, first in ff:
            mine = [n for n, eps in ts.items() if eps == frozenset((client, server))]
            if not mine or first != min(mine):
                fail("%s '%s': flow %s-%s first_frame %d, tshark's first frame %s"
                     % (name, filt, client, server, first, min(mine) if mine else None))
        if failures == before:
            print("ok %s '%s': %d findings, %d flows, frames as tshark numbers them"
                  % (name, filt, len(got), len(ff)))
    if compared == 0:
        fail("%s: no flow finding under any filter, nothing compared" % name)


def main(argv):
    path, ports, jobs = None, [], []
    for a in argv:
        if a.isdigit():
            ports.append(int(a))
        else:
            if path:
                jobs.append((path, ports))
            path, ports = a, []
    if path:
        jobs.append((path, ports))
    for path, ps in jobs:
        if not os.path.exists(path):
            fail("missing sample " + path)
            continue
        check(path, ps)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
