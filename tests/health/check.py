#!/usr/bin/env python3
"""tests/health/check.py - compare flowmedic's server health output (--json lines) for an HTTP
sample with the generator's own record of it (samples/NAME.truth.json).

What is checked, from the generator's timings (client side, where the tap is):
  - one slow_response finding per request answered later than the threshold, with a
    response_time within the tolerance of the generator's, and none for the others;
  - HTTP requests and 5xx counts summed over the health rows equal the generator's;
  - each interval's error_rate equals 5xx / responses of that interval (no failed connects);
  - each interval's response-time percentiles are within the sketch's stated error (1 %)
    of the exact nearest-rank percentiles of the generator's timings, plus an absolute
    slack for where the two clocks sit (request written vs. last request byte on the wire);
  - the health_alert open/close findings are exactly those that the alert rules (threshold,
    hysteresis 0.8, hold 3 intervals) give on the generator's per-interval values.
Intervals with a response within EDGE_S of a boundary are not compared (which side the
capture put it on is not decided by the generator's clock).
Usage: check.py OUT.jsonl TRUTH.json[@SHIFT] ...  (several truths for a joined capture, each
shifted SHIFT seconds as tests/health/concat.py shifted its packets)
"""
import json
import math
import os
import sys

INTERVAL = 10.0      # flowmedic's default health interval (s)
SLOW = 5.0           # default slow_response threshold (s)
P99_THR = 5.0        # default resp_p99 alert threshold (s)
ERR_THR = 0.05       # default error_rate alert threshold
CLEAR_RATIO = 0.8    # default hysteresis
CLEAR_AFTER = 3      # default hold time (intervals)
ALPHA = 0.01         # the sketch's stated relative error
ABS_SLACK = 0.005    # s: generator clock (client socket calls) vs. the wire
EDGE_S = 0.01        # s: responses this close to an interval boundary are ambiguous

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg)


def nearest_rank(vals, q):
    v = sorted(vals)
    r = math.ceil(q * len(v) - 1e-9)
    return v[max(r, 1) - 1]


def close(est, exact):
    return est is not None and abs(est - exact) <= ALPHA * exact + ABS_SLACK


def server_label(s):
    """The generator writes "fd99::2:8080"; flowmedic writes IPv6 as "[fd99::2]:8080"."""
    host, _, port = s.rpartition(":")
    return "[%s]:%s" % (host, port) if ":" in host and not host.startswith("[") else s


def load(out_path, truth_args):
    recs = [json.loads(line) for line in open(out_path) if line.strip()]
    reqs = []
    for arg in truth_args:
        path, _, shift = arg.partition("@")
        shift = float(shift or 0)
        truth = json.load(open(path))
        src = truth["generator"].get("derived_from")
        if src and "client" not in truth["generator"]:
            # a derived sample (VLAN tags, SLL, duplicates...): the original's timings hold
            truth = json.load(open(os.path.join(os.path.dirname(path), src.replace(".pcap", ".truth.json"))))
        for c in truth["generator"]["client"]["connections"]:
            for r in c["requests"]:
                if "response_s" in r:
                    sent = r["t_sent"] + shift
                    reqs.append({"sent": sent, "resp": r["response_s"], "status": r["status"],
                                 "first": sent + r["response_s"], "server": server_label(c["server"])})
    return recs, reqs


def alert_sim(values, quiet, thr):
    """The alert rule of analyzers/alert.c on per-interval values (None = no data)."""
    opened, streak, events = False, 0, []
    for i, (v, q) in enumerate(zip(values, quiet)):
        if not opened:
            if v is not None and v > thr:
                opened, streak = True, 0
                events.append((i, "open"))
            elif v is not None or q:
                streak = 0
            continue
        clear = q if v is None else v <= thr * CLEAR_RATIO
        if clear:
            streak += 1
            if streak >= CLEAR_AFTER:
                opened, streak = False, 0
                events.append((i, "closed"))
        elif v is not None:
            streak = 0
    return events


def main():
    recs, reqs = load(sys.argv[1], sys.argv[2:])
    health = [r for r in recs if r["type"] == "health"]
    findings = [r for r in recs if r["type"] == "finding"]
    if not reqs:
        fail("the truth file has no answered requests")
        return
    server = reqs[0]["server"]
    health = [h for h in health if h["server"] == server]
    if not health:
        fail("no health rows for %s" % server)
        return

    # slow responses
    slow_truth = sorted(r["resp"] for r in reqs if r["resp"] > SLOW)
    slow_found = sorted(f["response_time"] for f in findings
                        if f["kind"] == "slow_response" and f.get("response_time") is not None)
    if len(slow_found) != len(slow_truth):
        fail("slow_response findings: %d, generator: %d slow answers" % (len(slow_found), len(slow_truth)))
    else:
        for a, b in zip(slow_found, slow_truth):
            if not close(a, b):
                fail("slow response time %.4f s vs generator %.4f s" % (a, b))
    print("slow_response: %d findings, generator %d" % (len(slow_found), len(slow_truth)))

    # totals
    n_req = sum(h["http_requests"] for h in health)
    n_5xx = sum(h["http_5xx"] for h in health)
    t_5xx = sum(1 for r in reqs if r["status"] >= 500)
    if n_req != len(reqs):
        fail("http_requests %d, generator %d" % (n_req, len(reqs)))
    if n_5xx != t_5xx:
        fail("http_5xx %d, generator %d" % (n_5xx, t_5xx))
    print("requests %d (generator %d), 5xx %d (generator %d)" % (n_req, len(reqs), n_5xx, t_5xx))

    # per interval: the generator's responses by the interval of their first byte
    start0 = min(h["start"] for h in health)
    last = max(h["start"] for h in health)
    nint = int(round((last - start0) / INTERVAL)) + 1
    by = [[] for _ in range(nint + 8)]
    ambiguous = set()
    for r in reqs:
        k = int(math.floor((r["first"] - start0) / INTERVAL))
        if 0 <= k < len(by):
            by[k].append(r)
            off = r["first"] - (start0 + k * INTERVAL)
            if off < EDGE_S or INTERVAL - off < EDGE_S:
                ambiguous.add(k)
    rows = {int(round((h["start"] - start0) / INTERVAL)): h for h in health}
    compared = 0
    for k, h in sorted(rows.items()):
        if k in ambiguous:
            continue
        got = by[k]
        rt = h["response_time"]
        if rt["n"] != len(got):
            fail("interval %d: %d response samples, generator %d" % (k, rt["n"], len(got)))
            continue
        if got:
            vals = [r["resp"] for r in got]
            for q, key in ((0.5, "p50"), (0.95, "p95"), (0.99, "p99")):
                exact = nearest_rank(vals, q)
                if not close(rt[key], exact):
                    fail("interval %d %s: %s vs exact %.6f (1%% + %.0f ms)"
                         % (k, key, rt[key], exact, ABS_SLACK * 1000))
            n5 = sum(1 for r in got if r["status"] >= 500)
            want = n5 / len(got)
            if abs(h["error_rate"] - want) > 1e-6:
                fail("interval %d: error_rate %s, generator %.4f" % (k, h["error_rate"], want))
            compared += 1
    print("intervals compared: %d of %d (%d near a boundary)" % (compared, len(rows), len(ambiguous)))

    # alerts: simulate the rules on the generator's intervals, up to the last one flowmedic closed
    n_all = max(rows) + 1
    p99s, errs, quiet = [], [], []
    for k in range(n_all):
        got = by[k] if k < len(by) else []
        end = start0 + (k + 1) * INTERVAL
        p99s.append(nearest_rank([r["resp"] for r in got], 0.99) if got else None)
        # the error-rate alert needs 3 responses in the interval (det_health.c HL_ERR_MIN_SAMPLES)
        errs.append(sum(1 for r in got if r["status"] >= 500) / len(got) if len(got) >= 3 else None)
        quiet.append(not any(r["sent"] < end < r["first"] for r in reqs))
    want = [("resp_p99", k, s) for k, s in alert_sim(p99s, quiet, P99_THR)]
    want += [("error_rate", k, s) for k, s in alert_sim(errs, [True] * n_all, ERR_THR)]
    got = []
    for f in findings:
        if f["kind"] != "health_alert" or f["server"] != server:
            continue
        k = int(round((f["ts"] - start0) / INTERVAL)) - 1
        got.append((f["rule"], k, f["state"]))
    if ambiguous:
        print("alerts (not compared exactly: ambiguous intervals): flowmedic %s, expected %s" % (got, want))
        if sorted(set((r, s) for r, _, s in got)) != sorted(set((r, s) for r, _, s in want)):
            fail("alert kinds differ: %s vs %s" % (got, want))
    elif sorted(got) != sorted(want):
        fail("health_alert findings %s, expected from the generator %s" % (sorted(got), sorted(want)))
    else:
        print("alerts as expected: %s" % sorted(got))


main()
sys.exit(1 if failures else 0)
