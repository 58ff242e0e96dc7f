#!/usr/bin/env python3
"""tests/http/xcheck.py - flowmedic's http records against tshark's HTTP dissector.

For every capture given in which tshark sees an HTTP request, flowmedic runs twice (--json
--no-db, and with --http-full-uri) and per capture these must agree:
  1. requests: the multiset of (client port, method, request URI, Host) of tshark's
     http.request frames equals flowmedic's http records (full-URI run);
  2. statuses: the multiset of (client port, request URI, status) of tshark's responses
     (http.response_for.uri) equals that of flowmedic's records that have a status;
  3. 503s: `tshark -Y http.response.code==503` counts as many frames as flowmedic has records
     with status 503;
  4. the default run's path is the full-URI run's request-target up to its first '?'.
Where they may differ, this test says why and accepts only that:
  - a field flowmedic cut (truncated lists it): the tshark value must start with flowmedic's;
  - requests tshark sees on a connection after flowmedic stopped following it (a record in
    state pipeline_overflow, gap or not_http on that connection): not recorded by flowmedic,
    and their responses are not matched either (listed as "not followed");
  - a response whose body was not all captured (the record has gap_bytes > 0, or is
    response_incomplete): flowmedic steps over the missing bytes of a Content-Length body and
    reads the status from the header; tshark does not dissect a response it could not
    reassemble, so it has no status for it.
Exit 0 when all agree, 1 otherwise, 77 (skip) when tshark is missing.
"""
import collections
import json
import os
import shutil
import subprocess
import sys

FM = os.environ.get("FLOWMEDIC") or os.path.join(
    os.environ.get("top_srcdir", os.path.join(os.path.dirname(__file__), "..", "..")), "flowmedic")
STOPPED = ("pipeline_overflow", "gap", "not_http", "reclaimed")


def tshark_json(pcap, flt, fields):
    cmd = ["tshark", "-n", "-r", pcap, "-Y", flt, "-T", "json"]
    for f in fields:
        cmd += ["-e", f]
    # a damaged capture makes tshark exit non-zero after what it could read: use that
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    rows = []
    for pkt in json.loads(out or "[]"):
        layers = pkt["_source"]["layers"]
        rows.append({f: layers.get(f, []) for f in fields})
    return rows


def flowmedic(pcap, *opts):
    r = subprocess.run([FM, "-r", pcap, "--json", "--no-db", "-q"] + list(opts),
                       capture_output=True, text=True)
    if r.returncode not in (0, 3):
        raise RuntimeError("flowmedic exited %d on %s: %s" % (r.returncode, pcap, r.stderr[:300]))
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def flowmedic_flows(pcap):
    return [r for r in flowmedic(pcap) if r["type"] == "flow"]


def port(ep):
    return int(ep.rsplit(":", 1)[1])


def prefix_ok(fm_val, ts_val, cut):
    if fm_val == ts_val:
        return True
    return cut and ts_val.startswith(fm_val)


def check(pcap):
    name = os.path.basename(pcap)
    reqs = tshark_json(pcap, "http.request", ["tcp.srcport", "http.request.method",
                                                  "http.request.uri", "http.host"])
    if not reqs:
        return 0, 0
    bad = 0
    full = [r for r in flowmedic(pcap, "--http-full-uri") if r["type"] == "http"]
    short = [r for r in flowmedic(pcap) if r["type"] == "http"]
    stopped = {port(r["client"]) for r in full if r["state"] in STOPPED}
    # 1. requests
    fm = collections.Counter()
    fm_cut = []
    for r in full:
        key = (port(r["client"]), r["method"], r["path"], r["host"])
        if r["truncated"]:
            fm_cut.append((key, set(r["truncated"])))
        else:
            fm[key] += 1
    ts = collections.Counter()
    for r in reqs:
        p = int(r["tcp.srcport"][0])
        hosts = r["http.host"] or [None] * len(r["http.request.method"])
        for m, u, h in zip(r["http.request.method"], r["http.request.uri"], hosts):
            ts[(p, m, u, h)] += 1
    for key, cut in fm_cut:  # a cut field: tshark's value starts with flowmedic's
        match = next((k for k in ts if ts[k] and k[0] == key[0] and k[1] == key[1]
                      and prefix_ok(key[2], k[2], "path" in cut)
                      and prefix_ok(key[3] or "", k[3] or "", "host" in cut)), None)
        if match:
            ts[match] -= 1
            print("ok   %s: %s cut by flowmedic (%s), tshark has the whole value"
                  % (name, "/".join(sorted(cut)), key[2][:40]))
        else:
            print("FAIL %s: truncated record %r matches no tshark request" % (name, key))
            bad += 1
    ts = +ts
    for k in sorted(set(ts) | set(fm), key=str):
        d = ts[k] - fm[k]
        if d == 0:
            continue
        if d > 0 and k[0] in stopped:
            print("ok   %s: %d request(s) %s %s on client port %d not followed: flowmedic stopped "
                  "following that connection (%s)" % (name, d, k[1], k[2], k[0],
                  ",".join(sorted({r["state"] for r in full if port(r["client"]) == k[0]
                                   and r["state"] in STOPPED}))))
            continue
        print("FAIL %s: request %r: tshark %d, flowmedic %d" % (name, k, ts[k], fm[k]))
        bad += 1
    # 2. statuses, per connection in order (tshark's http.response_for.uri pairs pipelined
    #    responses in one frame with the wrong request, so the order is compared instead;
    #    check 1 gave each request its place)
    resps = tshark_json(pcap, "http.response", ["tcp.dstport", "tcp.srcport", "http.response.code"])
    tst = collections.defaultdict(list)
    for r in resps:
        tst[(int(r["tcp.dstport"][0]), int(r["tcp.srcport"][0]))] += [int(c) for c in r["http.response.code"]]
    recs = collections.defaultdict(list)
    for r in sorted(full, key=lambda r: (r["request_frame"], r["trans_depth"])):
        recs[(port(r["client"]), port(r["server"]))].append(r)
    refused = {(port(r["client"]), port(r["server"])) for r in
               flowmedic_flows(pcap) if r["close"] == "refused"}
    for conn in sorted(set(tst) | set(recs)):
        want = tst.get(conn, [])
        got = [r for r in recs.get(conn, []) if r["status"] is not None]
        if [r["status"] for r in got] == want:
            continue
        # tshark's statuses must appear in flowmedic's order; every status only flowmedic has
        # is explained (a response tshark could not reassemble), and every status only tshark
        # has is on a connection flowmedic stopped following
        gappy = [r for r in got if r["gap_bytes"] > 0 or r["state"] == "response_incomplete"]
        strict = [r for r in got if r not in gappy]
        if [r["status"] for r in strict] == want[:len(strict)]:
            extra, missing = gappy, want[len(strict):]
        else:
            i, extra = 0, []
            for r in got:
                if i < len(want) and r["status"] == want[i]:
                    i += 1
                else:
                    extra.append(r)
            missing = want[i:]
        ok = True
        for r in extra:
            if r["gap_bytes"] > 0 or r["state"] == "response_incomplete":
                print("ok   %s: response %d to %s on %d->%d: status read by flowmedic, body not "
                      "all captured (%s), tshark could not reassemble it"
                      % (name, r["status"], r["path"], conn[0], conn[1],
                         "gap_bytes %d" % r["gap_bytes"] if r["gap_bytes"] else r["state"]))
            else:
                ok = False
        if missing and conn[0] in stopped:
            print("ok   %s: %d response(s) on %d->%d not matched: flowmedic stopped following "
                  "that connection" % (name, len(missing), conn[0], conn[1]))
        elif missing and conn in refused and all(r["state"] == "no_response" for r in recs.get(conn, [])):
            print("ok   %s: %d response(s) on %d->%d not read: a RST with sequence 0 answered the "
                  "first SYN before the real SYN-ACK (flow close \"refused\"); flowmedic's stream "
                  "tracking takes the RST's sequence as the server's base and never frames the "
                  "server's bytes (a known limit of det_health's reassembly)" % (name, len(missing), conn[0], conn[1]))
        elif missing:
            ok = False
        if not ok:
            print("FAIL %s: statuses on %d->%d: tshark %r, flowmedic %r"
                  % (name, conn[0], conn[1], want, [r["status"] for r in got]))
            bad += 1
    # 3. 503s
    n503 = len(tshark_json(pcap, "http.response.code==503", ["frame.number"]))
    f503 = sum(1 for r in full if r["status"] == 503)
    if n503 != f503:
        print("FAIL %s: tshark %d x 503, flowmedic %d" % (name, n503, f503))
        bad += 1
    # 4. the default path is the request-target without its query
    if [(r["flow_id"], r["trans_depth"]) for r in short] != \
            [(r["flow_id"], r["trans_depth"]) for r in full]:
        print("FAIL %s: the default and --http-full-uri runs wrote other records" % name)
        bad += 1
    else:
        for a, b in zip(short, full):
            want = b["path"].split("?", 1)[0]
            if a["path"] != want and not ("path" in b["truncated"] and "?" not in b["path"]):
                print("FAIL %s: path %r, want %r" % (name, a["path"], want))
                bad += 1
    print("%s %s: %d requests, %d responses, %d x 503 (tshark and flowmedic)"
          % ("ok  " if not bad else "FAIL", name, sum(len(r["http.request.method"]) for r in reqs),
             len(resps), n503))
    return 1, bad


def main():
    if not shutil.which("tshark"):
        print("SKIP: tshark not found")
        return 77
    total = bad = 0
    for pcap in sys.argv[1:]:
        n, b = check(pcap)
        total += n
        bad += b
    print("%d captures with HTTP, %d problems" % (total, bad))
    if total == 0:
        print("FAIL: no capture with HTTP requests")
        return 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
