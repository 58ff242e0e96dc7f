#!/usr/bin/python3
"""tests/evidence/wsfilter.py: every finding's wireshark_filter, on every sample, is a display
filter tshark accepts and that selects exactly the frames of the finding's flow (or, for a
server-level finding, of every flow to and from that server endpoint).

For each sample: flowmedic --json gives the findings and the flow records; tshark reads the
sample once with one io,stat column pair per distinct filter (COUNT and MIN of frame.number
under that filter). The count must equal the packets flowmedic saw in the flows the filter
describes (both directions, SPAN duplicates included: they are frames too), and the first
selected frame must be the first frame of the first such flow. A filter tshark rejects fails
the whole sample. Then `flowmedic report` (text and --json) must show the same filter as the
JSON line for each error finding.

Run by tests/evidence/wsfilter.sh (env: top_srcdir, FLOWMEDIC). Exit 1 on any failure, 77
without tshark.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.environ.get("top_srcdir", ".")
FM = os.environ.get("FLOWMEDIC", "./flowmedic")
failures = []

# an endpoint without a port (a scan's hosts) has no tcp.port clause; "&& tcp" then ends it
FILTER_RE = re.compile(r"^(ipv6|ip)\.addr==([0-9a-fA-F:.]+)(?: && tcp\.port==(\d+))?"
                       r"(?: && (ipv6|ip)\.addr==([0-9a-fA-F:.]+)(?: && tcp\.port==(\d+))?)?"
                       r"(?: && tcp)?$")


def split_ep(ep):
    host, port = ep.rsplit(":", 1)
    return host.strip("[]"), int(port)


def flow_matches(flow, parsed):
    """Would tshark select this flow's packets (all of them share its addresses and ports)?
    ip.addr==X matches either address, tcp.port==N either port, as Wireshark defines them."""
    c, s = split_ep(flow["client"]), split_ep(flow["server"])
    addrs, ports = {c[0], s[0]}, {c[1], s[1]}
    fam = "ipv6" if ":" in c[0] else "ip"
    _, a1, p1, _, a2, p2 = parsed
    if parsed[0] != fam or a1 not in addrs or (p1 is not None and int(p1) not in ports):
        return False
    return a2 is None or (a2 in addrs and (p2 is None or int(p2) in ports))


def packets(flow):
    dup = flow.get("mirror_duplicate", {"c2s": 0, "s2c": 0})
    return flow["packets"]["c2s"] + flow["packets"]["s2c"] + dup["c2s"] + dup["s2c"]


def iostat(sample, filters):
    """{filter: (count, min frame)} from one tshark pass, or None when tshark refused."""
    cols = []
    for f in filters:
        cols.append("COUNT(frame.number)frame.number && " + f)
        cols.append("MIN(frame.number)frame.number && " + f)
    res = subprocess.run(["tshark", "-r", sample, "-q", "-z", "io,stat,0," + ",".join(cols)],
                         capture_output=True, text=True, check=False)
    if res.returncode != 0:
        failures.append("%s: tshark refused a filter: %s" %
                        (os.path.basename(sample), res.stderr.strip()[:400]))
        return None
    rows = [l for l in res.stdout.splitlines() if "<>" in l]
    if len(rows) != 1:
        failures.append("%s: cannot read tshark's io,stat table" % os.path.basename(sample))
        return None
    cells = [c.strip() for c in rows[0].strip().strip("|").split("|")][1:]
    while cells and cells[-1] == "" and len(cells) > len(cols):
        cells.pop()  # the table's right border
    if len(cells) != len(cols):
        failures.append("%s: io,stat gave %d columns for %d" %
                        (os.path.basename(sample), len(cells), len(cols)))
        return None
    out = {}
    for i, f in enumerate(filters):
        out[f] = (int(cells[2 * i]), int(cells[2 * i + 1]) if cells[2 * i + 1] else 0)
    return out


def check(sample):
    name = os.path.basename(sample)
    res = subprocess.run([FM, "-r", sample, "--json", "--no-db", "-q"], capture_output=True,
                         text=True, check=False)
    objs = [json.loads(l) for l in res.stdout.splitlines() if l.startswith("{")]
    flows = [o for o in objs if o.get("type") == "flow"]
    # findings and incidents carry the same filter of their client and server
    finds = [o if o.get("type") == "finding" else dict(o, kind="incident " + o["cause"],
                                                         client=o.get("client"))
             for o in objs if o.get("type") in ("finding", "incident")]
    if not finds:
        return 0
    filters = {}
    for f in finds:
        wf = f.get("wireshark_filter")
        if not wf:
            failures.append("%s: a %s finding without wireshark_filter" % (name, f["kind"]))
            continue
        parsed = FILTER_RE.match(wf)
        if not parsed:
            failures.append("%s: wireshark_filter %r is not in the documented form" % (name, wf))
            continue
        if f["client"] is not None and parsed.group(4) is None:
            failures.append("%s: flow finding %s got a server-only filter %r" %
                            (name, f["kind"], wf))
        filters[wf] = parsed.groups()
    if not filters:
        return 0
    got = iostat(sample, sorted(filters))
    if got is None:
        return 0
    for wf, parsed in sorted(filters.items()):
        sel = [fl for fl in flows if flow_matches(fl, parsed)]
        want = (sum(packets(fl) for fl in sel), min((fl["first_frame"] for fl in sel), default=0))
        if got[wf] == want and want[0] > 0:
            print("ok   %s: %s selects %d frames from %d (%d flow%s)" %
                  (name, wf, want[0], want[1], len(sel), "" if len(sel) == 1 else "s"))
        else:
            failures.append("%s: %s: tshark selects %d frames from frame %d, the flows have %d "
                            "from %d" % (name, wf, got[wf][0], got[wf][1], want[0], want[1]))
            print("FAIL " + failures[-1])
    return len(filters)


def report_filters(tmp):
    """flowmedic report shows the same filter as the JSON line, for every recent error."""
    for name in ("refused.pcap", "ipv6-http.pcap"):
        sample = os.path.join(TOP, "samples", name)
        db = os.path.join(tmp, name + ".db")
        res = subprocess.run([FM, "-r", sample, "--json", "-q", "-w", db], capture_output=True,
                             text=True, check=False)
        want = {(o["kind"], o["client"]): o["wireshark_filter"] for o in
                (json.loads(l) for l in res.stdout.splitlines() if l.startswith("{"))
                if o.get("type") == "finding" and o["severity"] == "error"}
        rep = subprocess.run([FM, "report", db, "--json"], capture_output=True, text=True,
                             check=False)
        got = {(e["kind"], e["client"]): e.get("wireshark_filter")
               for e in json.loads(rep.stdout)["recent_errors"]}
        text = subprocess.run([FM, "report", db], capture_output=True, text=True,
                              check=False).stdout
        # the text report groups findings by kind and server: a group of one client shows
        # that flow's filter, a group of several the server's (every frame to and from it)
        groups = {}
        for o in (json.loads(l) for l in res.stdout.splitlines() if l.startswith("{")):
            if o.get("type") == "finding" and o["severity"] == "error":
                groups.setdefault((o["kind"], o["server"]), []).append(o)
        text_want = []
        for (_, server), fs in groups.items():
            if len({f["client"] for f in fs}) == 1:
                text_want.append(fs[0]["wireshark_filter"])
            else:
                ip, port = server.rsplit(":", 1)
                fam = "ipv6" if ip.startswith("[") else "ip"
                text_want.append("%s.addr==%s && tcp.port==%s" % (fam, ip.strip("[]"), port))
        ok = want and got == want and all("Wireshark: " + f in text for f in text_want)
        print("%s %s: report --json shows the %d error findings' filters, the text report its "
              "%d groups' filters" % ("ok  " if ok else "FAIL", name, len(want), len(text_want)))
        if not ok:
            failures.append("%s: report filters %s, JSON lines %s, text wants %s" %
                            (name, got, want, text_want))


def main():
    if not os.access(FM, os.X_OK):
        print("SKIP: %s not built" % FM)
        return 77
    if not shutil.which("tshark"):
        print("SKIP: tshark missing")
        return 77
    n = 0
    for sample in sorted(glob.glob(os.path.join(TOP, "samples", "*.pcap"))):
        n += check(sample)
    if n < 40:
        failures.append("only %d filters checked over the samples" % n)
    tmp = tempfile.mkdtemp(prefix="fm-wsfilter-")
    try:
        report_filters(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
