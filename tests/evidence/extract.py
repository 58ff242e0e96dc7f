#!/usr/bin/python3
"""tests/evidence/extract.py: flowmedic extract and --evidence-dir, end to end.

1. --flow RUN:ID and --finding ID on samples: the extracted pcap, analysed again, gives the same
   findings for that flow as the original run (kind, severity, time, endpoints, detail, the
   kind's own fields, and the evidence frames compared by their capture times, since frame
   numbers differ in the smaller file); tshark reads the file and counts the same packets as
   the flow's stream in the sample.
2. --evidence-dir: a flow with an error finding is written as DIR/RUN-FLOW.pcap holding exactly
   the flow's first FIRST and last LAST packets (checked against tshark's frames of the flow);
   when the capture files are gone (as for a live run), extract takes the evidence file.
3. The clear errors: a finding about a server, a missing flow, no incidents table, a run read
   from stdin without evidence.

Run by tests/evidence/extract.sh (env: top_srcdir, FLOWMEDIC). Exit 1 on any failure, 77 when
tshark is missing.
"""

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile

TOP = os.environ.get("top_srcdir", ".")
FM = os.environ.get("FLOWMEDIC", "./flowmedic")
failures = []


def expect(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)
    return cond


WORKERS = os.environ.get("FM_WORKERS")  # analysis runs with --workers N (extract.sh: 1, then 2)


def fm(args, **kw):
    if WORKERS and ("-r" in args or "-i" in args):
        args = args + ["--workers", WORKERS]
    return subprocess.run([FM] + args, capture_output=True, text=True, check=False, **kw)


def frame_times(pcap):
    """frame number -> capture time (string with 9 decimals) per tshark."""
    res = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-e", "frame.number", "-e",
                          "frame.time_epoch"], capture_output=True, text=True, check=False)
    out = {}
    for line in res.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[0]:
            out[int(parts[0])] = "%.9f" % float(parts[1])
    return out


def tshark_count(pcap, display_filter=None):
    cmd = ["tshark", "-r", pcap, "-T", "fields", "-e", "frame.number"]
    if display_filter:
        cmd += ["-Y", display_filter]
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return [int(x) for x in res.stdout.split()]


def analyse(pcap, extra=()):
    res = fm(["-r", pcap, "--json", "-q"] + list(extra))
    if res.returncode not in (0, 3):
        failures.append("flowmedic -r %s failed: %s" % (pcap, res.stderr.strip()[:300]))
        return []
    return [json.loads(l) for l in res.stdout.splitlines() if l.startswith("{")]


def normal(finding, times):
    """A finding without what depends on the file: flow id and frame numbers (as times)."""
    f = dict(finding)
    f.pop("flow_id", None)
    f["frames"] = [times.get(n, "?%d" % n) for n in f.get("frames", [])]
    f["detail"] = re.sub(r"frame (\d+)", lambda m: "frame@" + times.get(int(m.group(1)), "?"),
                         f["detail"])
    return json.dumps(f, sort_keys=True)


def flow_findings(objs, flow_id, times):
    return sorted(normal(o, times) for o in objs
                  if o.get("type") == "finding" and o["flow_id"] == flow_id)


def stream_filter(flow):
    """A tshark display filter for one flow's 4-tuple."""
    c_ip, c_port = flow["client"].rsplit(":", 1)
    s_ip, s_port = flow["server"].rsplit(":", 1)
    fam = "ipv6" if c_ip.startswith("[") else "ip"
    c_ip, s_ip = c_ip.strip("[]"), s_ip.strip("[]")
    return ("%s.addr==%s && tcp.port==%s && %s.addr==%s && tcp.port==%s" %
            (fam, c_ip, c_port, fam, s_ip, s_port))


def compare_extract(tmp, db, sample_path, orig, orig_times, flow, how, arg):
    out = os.path.join(tmp, "x-%s-%s.pcap" % (how.strip("-"), arg.replace(":", "_")))
    res = fm(["extract", db, how, arg, "-o", out])
    if not expect(res.returncode == 0 and os.path.exists(out),
                  "%s: extract %s %s (exit %d %s)" % (os.path.basename(sample_path), how, arg,
                                                      res.returncode, res.stderr.strip()[:200])):
        return
    want = len(tshark_count(sample_path, stream_filter(flow)))
    got = len(tshark_count(out))
    expect(got == want, "%s %s %s: tshark reads %d packets, the flow has %d in the sample" %
           (os.path.basename(sample_path), how, arg, got, want))
    again = analyse(out, ["--no-db"])
    times = frame_times(out)
    new_flows = [o for o in again if o.get("type") == "flow"]
    if not expect(len(new_flows) == 1, "%s %s %s: one flow in the extract (got %d)" %
                  (os.path.basename(sample_path), how, arg, len(new_flows))):
        return
    a = flow_findings(orig, flow["flow_id"], orig_times)
    b = flow_findings(again, new_flows[0]["flow_id"], times)
    ok = expect(a == b and len(a) > 0,
                "%s %s %s: the %d findings of flow %d come again from the extract" %
                (os.path.basename(sample_path), how, arg, len(a), flow["flow_id"]))
    if not ok:
        for x in sorted(set(a) ^ set(b)):
            print("     %s %s" % ("orig" if x in a else "new ", x[:300]))
    for key in ("conn_state", "history", "packets", "bytes", "close"):
        expect(new_flows[0].get(key) == flow.get(key), "%s %s %s: flow %s %s == %s" %
               (os.path.basename(sample_path), how, arg, key, new_flows[0].get(key),
                flow.get(key)))


def run_sample(tmp, name, finding_kinds):
    """--flow for every flow with a finding; --finding for the first finding of each kind."""
    sample = os.path.join(TOP, "samples", name)
    if not expect(os.path.exists(sample), "%s is there" % name):
        return
    db = os.path.join(tmp, name + ".db")
    orig = analyse(sample, ["-w", db])
    times = frame_times(sample)
    flows = {o["flow_id"]: o for o in orig if o.get("type") == "flow"}
    with_findings = sorted({o["flow_id"] for o in orig
                            if o.get("type") == "finding" and o["flow_id"]})
    expect(with_findings, "%s: has flows with findings" % name)
    for fid in with_findings:
        compare_extract(tmp, db, sample, orig, times, flows[fid], "--flow", "1:%d" % fid)
    con = sqlite3.connect(db)
    for kind in finding_kinds:
        row = con.execute("SELECT id, flow_id FROM findings WHERE kind = ? AND flow_id IS NOT NULL"
                          " ORDER BY id LIMIT 1", (kind,)).fetchone()
        if expect(row is not None, "%s: a %s finding in the database" % (name, kind)):
            compare_extract(tmp, db, sample, orig, times, flows[row[1]], "--finding", str(row[0]))
    con.close()


def evidence_ring(tmp):
    """--evidence-dir on reset-server (80 packets, cut to 4 + 4) and refused (whole flows)."""
    name = "reset-server.pcap"
    sample = os.path.join(TOP, "samples", name)
    copy = os.path.join(tmp, "live-" + name)  # stands for a live capture: deleted afterwards
    shutil.copy(sample, copy)
    evdir = os.path.join(tmp, "ev")
    os.mkdir(evdir)
    db = os.path.join(tmp, "ev.db")
    orig = analyse(copy, ["-w", db, "--evidence-dir", evdir, "--evidence-packets", "4,4"])
    warned = {o["flow_id"] for o in orig if o.get("type") == "finding" and o["flow_id"]}
    errors = {o["flow_id"] for o in orig if o.get("type") == "finding" and
              o["severity"] == "error" and o["flow_id"]}
    expect(warned and not errors and os.listdir(evdir) == [],
           "%s: no evidence file for flows %s, whose findings are warnings only" %
           (name, sorted(warned)))

    name = "refused.pcap"
    sample = os.path.join(TOP, "samples", name)
    copy = os.path.join(tmp, "live-" + name)
    shutil.copy(sample, copy)
    evdir2 = os.path.join(tmp, "ev2")
    os.mkdir(evdir2)
    db2 = os.path.join(tmp, "ev2.db")
    orig = analyse(copy, ["-w", db2, "--evidence-dir", evdir2])
    errors = sorted({o["flow_id"] for o in orig if o.get("type") == "finding" and
                     o["severity"] == "error" and o["flow_id"]})
    files = sorted(os.listdir(evdir2))
    expect(errors and files == ["1-%d.pcap" % f for f in errors],
           "%s: one evidence file per flow with an error finding %s: %s" %
           (name, errors, files))
    times = frame_times(copy)
    flows = {o["flow_id"]: o for o in orig if o.get("type") == "flow"}
    os.unlink(copy)  # the capture is gone: extract must use the evidence
    for fid in errors:
        compare_extract(tmp, db2, sample, orig, times, flows[fid], "--flow", "1:%d" % fid)


def evidence_cut(tmp):
    """A long flow marked by an error: its file holds the first 4 and the last 4 packets."""
    name = "tls12-expired.pcap"
    sample = os.path.join(TOP, "samples", name)
    evdir = os.path.join(tmp, "ev3")
    os.mkdir(evdir)
    orig = analyse(sample, ["--no-db", "--evidence-dir", evdir, "--evidence-packets", "4,4"])
    flows = [o for o in orig if o.get("type") == "flow"]
    frames = tshark_count(sample, stream_filter(flows[0]))
    path = os.path.join(evdir, "0-%d.pcap" % flows[0]["flow_id"])
    if not expect(os.path.exists(path), "%s: evidence file %s (run 0 without a database)" %
                  (name, os.path.basename(path))):
        return
    all_times = frame_times(sample)
    want = [all_times[n] for n in frames[:4] + frames[-4:]]
    got = [t for _, t in sorted(frame_times(path).items())]
    expect(len(frames) > 8 and got == want,
           "%s: evidence holds frames %s and %s of the flow's %d (by capture time)" %
           (name, frames[:4], frames[-4:], len(frames)))


def incidents(tmp):
    """--incident on the incidents the incident layer wrote (run_id, id, evidence JSON with a
    "flows" list): every evidence flow, the same findings."""
    name = "refused.pcap"
    sample = os.path.join(TOP, "samples", name)
    db = os.path.join(tmp, "inc.db")
    orig = analyse(sample, ["-w", db])
    times = frame_times(sample)
    flows = {o["flow_id"]: o for o in orig if o.get("type") == "flow"}
    con = sqlite3.connect(db)
    row = con.execute("SELECT cause, evidence FROM incidents WHERE run_id = 1 AND id = 1").fetchone()
    ev = sorted(json.loads(row[1])["flows"]) if row else []
    if not expect(row and row[0] == "service_down" and len(ev) >= 2,
                  "%s: incident 1 is service_down with its evidence flows (%s)" % (name, row)):
        con.close()
        return
    out = os.path.join(tmp, "incident.pcap")
    res = fm(["extract", db, "--incident", "1", "-o", out])
    if not expect(res.returncode == 0, "extract --incident 1 (%s)" % res.stderr.strip()[:200]):
        return
    want = sum(len(tshark_count(sample, stream_filter(flows[f]))) for f in ev)
    expect(len(tshark_count(out)) == want, "--incident 1: %d packets, those of flows %s"
           % (want, ev))
    again = analyse(out, ["--no-db"])
    new_times = frame_times(out)
    by_client = {o["client"]: o["flow_id"] for o in again if o.get("type") == "flow"}
    expect(sorted(by_client) == sorted(flows[f]["client"] for f in ev),
           "--incident 1: the extract holds exactly flows %s (%s)" % (ev, sorted(by_client)))
    for f in ev:
        a = flow_findings(orig, f, times)
        b = flow_findings(again, by_client.get(flows[f]["client"], -1), new_times)
        expect(a and a == b, "--incident 1: the %d findings of flow %d come again" % (len(a), f))
    # a second run with an incident 1: the number alone is ambiguous
    con.execute("INSERT INTO runs (started, sources, version, status) "
                "VALUES (1, 'x', 'x', 'complete')")
    con.execute("INSERT INTO incidents (run_id, id, server, server_ip, server_port, cause, "
                "layer, severity, since, state, updated, events, summary, advice, evidence) "
                "VALUES (2, 1, '10.0.0.9:0', '10.0.0.9', 0, 'scan', 'network', 'warn', 1, "
                "'closed', 1, 1, 's', 'a', '{\"flows\":[]}')")
    con.commit()
    con.close()
    res = fm(["extract", db, "--incident", "1", "-o", out + "2"])
    expect(res.returncode == 1 and "--incident RUN:1" in res.stderr,
           "--incident 1 with two runs asks for RUN:1 (%s)" % res.stderr.strip()[:160])
    res = fm(["extract", db, "--incident", "1:1", "-o", out + "3"])
    expect(res.returncode == 0 and len(tshark_count(out + "3")) == want,
           "--incident 1:1 picks run 1 (%s)" % res.stderr.strip()[:160])
    res = fm(["extract", db, "--incident", "2:1", "-o", out + "4"])
    expect(res.returncode == 1 and "lists no evidence flow" in res.stderr,
           "--incident 2:1 without flows says so (%s)" % res.stderr.strip()[:160])


def errors(tmp):
    db = os.path.join(tmp, "refused.pcap.db")
    out = os.path.join(tmp, "never.pcap")
    con = sqlite3.connect(db)
    server_finding = con.execute("SELECT id FROM findings WHERE flow_id IS NULL").fetchone()
    con.close()
    cases = [
        (["--finding", str(server_finding[0])] if server_finding else ["--finding", "0"],
         "is about server"),
        (["--flow", "1:999"], "has no flow 1:999"),
        (["--incident", "99"], "has no incident 99"),
        (["--flow", "x"], "RUN:ID"),
    ]
    # a database from a flowmedic without incidents (schema before 4): no incidents table
    old_db = os.path.join(tmp, "no-incidents.db")
    shutil.copyfile(db, old_db)
    con = sqlite3.connect(old_db)
    con.executescript("DROP VIEW v_incidents; DROP TABLE incidents;")
    con.close()
    for dbase, args, msg in [(db,) + c for c in cases] + \
            [(old_db, ["--incident", "1"], "has no incidents table")]:
        res = fm(["extract", dbase] + args + ["-o", out])
        expect(res.returncode != 0 and msg in res.stderr and not os.path.exists(out),
               "extract %s: fails with '%s' (exit %d: %s)" % (" ".join(args), msg,
                                                            res.returncode,
                                                            res.stderr.strip()[:160]))
    sample = os.path.join(TOP, "samples", "refused.pcap")
    sdb = os.path.join(tmp, "stdin.db")
    with open(sample, "rb") as fh:
        subprocess.run([FM, "-r", "-", "-w", sdb, "-q"], stdin=fh, capture_output=True,
                       check=False)
    res = fm(["extract", sdb, "--flow", "1:2", "-o", out])
    expect(res.returncode == 1 and "stdin" in res.stderr,
           "extract of a run read from stdin without evidence says so (%s)" %
           res.stderr.strip()[:160])
    # the same from stdin with --evidence-dir: the evidence file is used
    evdir = os.path.join(tmp, "ev-stdin")
    os.mkdir(evdir)
    sdb2 = os.path.join(tmp, "stdin2.db")
    with open(sample, "rb") as fh:
        subprocess.run([FM, "-r", "-", "-w", sdb2, "-q", "--evidence-dir", evdir], stdin=fh,
                       capture_output=True, check=False)
    res = fm(["extract", sdb2, "--flow", "1:2", "-o", out])
    expect(res.returncode == 0 and len(tshark_count(out)) == 2,
           "extract of a run read from stdin with --evidence-dir takes the evidence file (%s)" %
           res.stderr.strip()[:160])


def incident_evidence(tmp):
    """--evidence-dir keeps an incident's evidence flows, not only those of error findings:
    loss-bulk-c2s.pcap's one flow has warnings only (retransmissions), its network_loss
    incident names it while it is followed, so its file is written, with the flow's frames."""
    name = "loss-bulk-c2s.pcap"
    sample = os.path.join(TOP, "samples", name)
    evdir = os.path.join(tmp, "ev-incident")
    os.mkdir(evdir)
    orig = analyse(sample, ["--no-db", "--evidence-dir", evdir, "--evidence-packets", "4,4"])
    errs = {o["flow_id"] for o in orig if o.get("type") == "finding"
            and o["severity"] == "error"}
    inc = [o for o in orig if o.get("type") == "incident"]
    ev = sorted({f for o in inc for f in o["evidence"]["flows"]} - errs)
    if not expect(ev, "%s: an incident names a flow without an error finding (%s)" %
                  (name, [(o["cause"], o["evidence"]["flows"]) for o in inc])):
        return
    flows = {o["flow_id"]: o for o in orig if o.get("type") == "flow"}
    for f in ev:
        path = os.path.join(evdir, "0-%d.pcap" % f)
        if not expect(os.path.exists(path), "%s: incident evidence flow %d written to %s" %
                      (name, f, os.path.basename(path))):
            continue
        frames = tshark_count(sample, stream_filter(flows[f]))
        expect(len(tshark_count(path)) == min(8, len(frames)),
               "%s: flow %d's evidence holds its first 4 and last 4 frames (%d of %d)" %
               (name, f, len(tshark_count(path)), len(frames)))


def main():
    if not os.access(FM, os.X_OK):
        print("SKIP: %s not built" % FM)
        return 77
    if not shutil.which("tshark"):
        print("SKIP: tshark missing")
        return 77
    tmp = tempfile.mkdtemp(prefix="fm-extract-")
    try:
        run_sample(tmp, "refused.pcap", ["conn_refused"])
        run_sample(tmp, "tls12-expired.pcap", ["cert_expired", "tls_handshake_failed"])
        run_sample(tmp, "middlebox-reset.pcap", ["reset"])
        evidence_ring(tmp)
        evidence_cut(tmp)
        incidents(tmp)
        incident_evidence(tmp)
        errors(tmp)
    finally:
        if failures:
            print("files kept in", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
