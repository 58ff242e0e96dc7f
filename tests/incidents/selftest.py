#!/usr/bin/python3
"""tests/incidents/selftest.py: the judge judged. Feeds tests/incidents/check.py hand-built
incident streams (good ones and ones with one defect each) against a truth in the format of
tests/gen/truth.py, and checks that it passes exactly the good ones. Synthetic JSON here is the
test input of the checker, not a sample of flowmedic's output."""

import copy
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1796229153.0
SINCE, UNTIL = T0 + 12.0, T0 + 22.0
TRUTH = {"sample": "selftest.pcap", "incidents": [
    {"cause": "service_down", "server": "10.99.1.2:8080", "since": SINCE, "until": UNTIL, "since_rel": 12.0,
     "until_rel": 22.0, "required": True, "tolerance": {"open": 15, "close": 10, "early": 1.0}}]}
SCAN = {"sample": "selftest-scan.pcap", "incidents": [
    {"cause": "scan", "server": "10.99.1.2", "client": "10.99.1.3", "since": SINCE, "until": None, "since_rel": 12.0,
     "until_rel": None, "required": True, "tolerance": {"open": 15, "close": 10, "early": 1.0}}],
    "forbidden": [{"cause": "service_down", "server": "10.99.1.2"}]}
CLEAN = {"sample": "selftest-clean.pcap", "no_incidents": True}
ALT = {"sample": "selftest-alt.pcap", "incidents": [
    {"cause": "tls_certificate|tls_handshake", "server": "10.99.1.2:8443", "since": SINCE, "until": None,
     "since_rel": 12.0, "until_rel": None, "required": True, "tolerance": {"open": 15, "close": 10, "early": 1.0}},
    {"cause": "server_resets", "server": "10.99.1.2:8443", "since": SINCE, "until": None, "since_rel": 12.0,
     "until_rel": None, "required": False, "tolerance": {"open": 15, "close": 10, "early": 1.0}}]}


def ev(iid, event, ts, cause="service_down", server="10.99.1.2:8080", severity="error", **kw):
    o = {"type": "incident", "id": iid, "event": event, "ts": ts, "server": server, "cause": cause,
         "layer": "network" if cause == "scan" else "transport", "severity": severity, "since": kw.pop("since", ts),
         "until": None, "connections_affected": 5, "connections_total": 9, "clients_affected": 1,
         "summary": "test summary", "advice": "test advice", "evidence": {"kinds": {"conn_refused": 5},
                                                                            "flows": [1], "frames": [3]},
         "confidence": 0.9}
    if event == "close":
        o["close_reason"] = kw.pop("close_reason", "recovered")
        o["until"] = ts
    o.update(kw)
    return o


good = [ev(1, "open", SINCE + 3), ev(1, "update", SINCE + 8), ev(1, "close", UNTIL + 2)]
flow = {"type": "flow", "first_ts": T0, "last_ts": T0 + 40}
CASES = [
    ("good stream", TRUTH, [flow] + good, True),
    ("good stream, only open and close", TRUTH, [good[0], good[2]], True),
    ("no incident lines at all", TRUTH, [flow], "no incident lines at all"),
    ("opened 16 s after the fault", TRUTH, [ev(1, "open", SINCE + 16), ev(1, "close", UNTIL + 2)], False),
    ("opened before the fault", TRUTH, [ev(1, "open", SINCE - 5), ev(1, "close", UNTIL + 2)], False),
    ("wrong server", TRUTH, [ev(1, "open", SINCE + 3, server="10.99.1.2:8081"), ev(1, "close", UNTIL + 2,
                                                                                  server="10.99.1.2:8081")], False),
    ("wrong cause", TRUTH, [ev(1, "open", SINCE + 3, cause="host_unreachable"),
                            ev(1, "close", UNTIL + 2, cause="host_unreachable")], False),
    ("never closed", TRUTH, [flow] + good[:2], "never closed"),
    ("closed while the fault lasted", TRUTH, [ev(1, "open", SINCE + 3), ev(1, "close", UNTIL - 4)], "while the fault"),
    ("closed too late", TRUTH, [ev(1, "open", SINCE + 3), ev(1, "close", UNTIL + 11)], "after the fault ended"),
    ("capture ends too soon after the fault to judge the close", TRUTH,
     [{"type": "flow", "first_ts": T0, "last_ts": UNTIL + 5}, ev(1, "open", SINCE + 3)], True),
    ("capture ends too soon, yet closed as recovered during the fault", TRUTH,
     [{"type": "flow", "first_ts": T0, "last_ts": UNTIL + 5}, ev(1, "open", SINCE + 3), ev(1, "close", UNTIL - 3)],
     "while the fault"),
    ("closed as no_traffic", TRUTH, [ev(1, "open", SINCE + 3), ev(1, "close", UNTIL + 2, close_reason="no_traffic")],
     False),
    ("flapping", TRUTH, [ev(1, "open", SINCE + 3), ev(1, "close", SINCE + 5, close_reason="no_traffic"),
                         ev(2, "open", SINCE + 7), ev(2, "close", UNTIL + 1)], "flapping"),
    ("never closed, reopened", TRUTH, [ev(1, "open", SINCE + 3), ev(2, "open", SINCE + 7), ev(2, "close", UNTIL + 1)],
     "flapping"),
    ("a false alarm of the same cause before the fault", TRUTH, [ev(3, "open", T0 + 2), ev(3, "close", T0 + 4)] + good,
     "unexpected"),
    ("an extra error incident", TRUTH, good + [ev(2, "open", SINCE + 4, cause="syn_queue_overflow")], False),
    ("an extra info incident is allowed", TRUTH, good + [ev(2, "open", SINCE + 4, cause="capture_loss",
                                                          severity="info")], True),
    ("contract: no advice", TRUTH, [dict(good[0], advice="")] + good[1:], False),
    ("contract: unknown cause", TRUTH, good + [ev(3, "open", SINCE, cause="gremlins", severity="info")], False),
    ("contract: close without close_reason", TRUTH, good[:2] + [{k: v for k, v in good[2].items()
                                                                 if k != "close_reason"}], False),
    ("incident since before the fault", TRUTH, [ev(1, "open", SINCE + 3, since=SINCE - 8), good[2]], False),
    ("scan found", SCAN, [ev(1, "open", SINCE + 2, cause="scan", server="10.99.1.2", severity="info",
                             client="10.99.1.3")], True),
    ("scan without its client", SCAN, [ev(1, "open", SINCE + 2, cause="scan", server="10.99.1.2",
                                          severity="info")], False),
    ("scan plus a forbidden service_down", SCAN, [ev(1, "open", SINCE + 2, cause="scan", server="10.99.1.2",
                                                     severity="info", client="10.99.1.3"),
                                                  ev(2, "open", SINCE + 2, server="10.99.1.2:7901")], False),
    ("either of two causes", ALT, [ev(1, "open", SINCE + 1, cause="tls_handshake", server="10.99.1.2:8443")], True),
    ("neither of two causes", ALT, [ev(1, "open", SINCE + 1, cause="service_down", server="10.99.1.2:8443")],
     "no such incident"),
    ("an optional incident that opens is judged too", ALT, [
        ev(1, "open", SINCE + 1, cause="tls_handshake", server="10.99.1.2:8443"),
        ev(2, "open", SINCE + 1, cause="server_resets", server="10.99.1.2:8443"),
        ev(2, "close", SINCE + 2, cause="server_resets", server="10.99.1.2:8443")], "closed as recovered"),
    ("clean capture, nothing opened", CLEAN, [flow], True),
    ("clean capture, an info incident", CLEAN, [flow, ev(1, "open", SINCE, cause="capture_loss", severity="info")],
     False),
]


def main():
    bad = 0
    with tempfile.TemporaryDirectory() as d:
        for name, truth, lines, want in CASES:
            tp, op = os.path.join(d, "t.json"), os.path.join(d, "o.jsonl")
            json.dump(copy.deepcopy(truth), open(tp, "w"))
            with open(op, "w") as f:
                for o in lines:
                    f.write(json.dumps(o) + "\n")
            r = subprocess.run([sys.executable, os.path.join(HERE, "check.py"), op, tp], capture_output=True, text=True)
            passed = r.returncode == 0
            why = want if isinstance(want, str) else None
            want = want is True
            if passed != want or (want and "FAIL" in r.stdout) or (not want and "FAIL" not in r.stdout) or \
                    (why and why not in r.stdout):
                bad += 1
                print("FAIL judge: %s: check.py %s, expected it to %s\n%s" % (
                    name, "passed" if passed else "failed", "pass" if want else "fail", r.stdout + r.stderr))
            else:
                print("ok   judge: %s -> %s%s" % (name, "pass" if passed else "fail",
                                                 "" if passed else " (" + r.stdout.split("FAIL", 1)[1].split("\n")[0].strip()[:110] + ")"))
    print("%d judge cases, %d wrong" % (len(CASES), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
