#!/usr/bin/python3
"""tests/incidents/check.py OUT.jsonl TRUTH.json: judge flowmedic's incident lines against a
sample's incident truth (written by tests/gen/truth.py --incident / --no-incidents / --forbid).

Checks, each printed as "ok" or "FAIL":
- every incident line follows the output contract (keys, types, event / cause / layer /
  severity / close_reason values; a scan names its client);
- "no_incidents": true -> not one incident line;
- each expected incident ("required": true) opened with its cause (or one of "a|b") and server (and client for a
  scan); its open event's ts within [since - early, since + evidence_after + min(open, 15)]
  (capture time; evidence_after, default 0, is how long after the fault's start its first
  evidence can exist at all, e.g. 5 s for responses slower than the 5 s threshold); the
  incident's own "since" not before the fault (minus early); it names every text of "mentions";
- when the truth gives "until": it closed with close_reason "recovered" within
  [until - early, until + close] (not judged when the capture ends before until + close and the
  incident is still open or closed as end_of_input); it did not close earlier, and no second incident of the same
  cause and server opened during the fault (flapping); when "until" is null it did not close as
  recovered (unless the truth says "close": "any", e.g. a scan that just stops);
- optional entries ("required": false) may open or not; when they open the same rules apply;
- no other warn or error incident opened; nothing in "forbidden" opened, whatever its severity.
Exit status 0 when every check passes, 1 otherwise.
"""

import json
import re
import sys

CAUSES = {"service_down", "host_unreachable", "syn_queue_overflow", "accept_queue_overflow", "network_loss",
          "server_resets", "forged_resets", "tls_certificate", "tls_handshake", "slow_responses",
          "http_errors", "receiver_stall", "capture_loss", "scan"}
LAYERS = {"network", "transport", "tls", "application", "capture"}
SEVERITIES = {"info", "warn", "error"}
CLOSE_REASONS = {"recovered", "no_traffic", "end_of_input"}
MAX_OPEN_DELAY = 15.0
NUM = (int, float)


def host_of(ep):
    if ep is None:
        return None
    if ep.startswith("["):
        return ep[1:ep.index("]")]
    if ep.count(":") > 1:
        return ep
    return ep.rsplit(":", 1)[0]


def ep_match(want, got):
    """want "ip:port" or "[ip6]:port" matches exactly; a bare host matches any port of it."""
    if want is None:
        return True
    if got is None:
        return False
    if want == got:
        return True
    bare = not want.startswith("[") and want.count(":") != 1
    return bare and host_of(got) == want


def contract_errors(o):
    errs = []
    need = {"id": int, "event": str, "ts": NUM, "server": str, "cause": str, "layer": str, "severity": str,
            "since": NUM, "connections_affected": int, "connections_total": int, "clients_affected": int,
            "summary": str, "advice": str, "evidence": dict, "confidence": NUM}
    for k, t in need.items():
        if k not in o:
            errs.append("no %r" % k)
        elif not isinstance(o[k], t) or isinstance(o[k], bool):
            errs.append("%r is %r" % (k, o[k]))
    if "until" not in o:
        errs.append("no 'until'")
    elif o["until"] is not None and not isinstance(o["until"], NUM):
        errs.append("'until' is %r" % o["until"])
    if o.get("event") not in ("open", "update", "close"):
        errs.append("event %r" % o.get("event"))
    if o.get("cause") not in CAUSES:
        errs.append("unknown cause %r" % o.get("cause"))
    if o.get("layer") not in LAYERS:
        errs.append("unknown layer %r" % o.get("layer"))
    if o.get("severity") not in SEVERITIES:
        errs.append("severity %r" % o.get("severity"))
    if o.get("event") == "close" and o.get("close_reason") not in CLOSE_REASONS:
        errs.append("close without a valid close_reason (%r)" % o.get("close_reason"))
    if o.get("cause") == "scan" and not isinstance(o.get("client"), str):
        errs.append("a scan without 'client'")
    ev = o.get("evidence")
    if isinstance(ev, dict):
        if not isinstance(ev.get("kinds"), dict) or not isinstance(ev.get("flows"), list) or \
                not isinstance(ev.get("frames"), list):
            errs.append("evidence lacks kinds{} / flows[] / frames[]")
    c = o.get("confidence")
    if isinstance(c, NUM) and not 0 <= c <= 1:
        errs.append("confidence %r outside 0..1" % c)
    if not (o.get("summary") or "").strip() or not (o.get("advice") or "").strip():
        errs.append("empty summary or advice")
    # a rate-based incident never describes itself by a window without its failures (a close
    # after recovery once said "HTTP 5xx for 0 of 24 responses (0 %)")
    s = o.get("summary") or ""
    if o.get("cause") == "http_errors" and re.search(r"HTTP 5xx for 0 of", s):
        errs.append("http_errors summary without a 5xx: %s" % s)
    if o.get("cause") == "network_loss" and re.search(r"\(0\.0 % of", s):
        errs.append("network_loss summary without a retransmission: %s" % s)
    return errs


class Incident:
    def __init__(self, iid):
        self.id = iid
        self.events = []

    def add(self, o):
        self.events.append(o)

    def first(self, ev):
        return next((e for e in self.events if e["event"] == ev), None)

    @property
    def opened(self):
        return self.first("open")

    @property
    def closed(self):
        return self.first("close")

    def attr(self, k):
        for e in reversed(self.events):
            if e.get(k) is not None:
                return e[k]
        return None

    @property
    def open_ts(self):
        o = self.opened
        return o["ts"] if o else min(e["ts"] for e in self.events)

    def text(self):
        return " ".join(json.dumps({k: v for k, v in e.items() if k not in ("server", "type")}) for e in self.events)

    def describe(self, t0):
        c = self.closed
        return "#%s %s %s %s opened at +%.1f s%s" % (
            self.id, self.attr("severity"), self.attr("cause"), self.attr("server"), self.open_ts - t0,
            (", closed (%s) at +%.1f s" % (c.get("close_reason"), c["ts"] - t0)) if c else ", never closed")


def main():
    out_path, truth_path = sys.argv[1], sys.argv[2]
    truth = json.load(open(truth_path))
    name = truth.get("sample", truth_path)
    objs = []
    bad = []
    for n, line in enumerate(open(out_path), 1):
        line = line.strip()
        if not line:
            continue
        try:
            objs.append(json.loads(line))
        except json.JSONDecodeError as e:
            bad.append("line %d of flowmedic's output is not JSON: %s" % (n, e))
    lines = [o for o in objs if o.get("type") == "incident"]
    incs = {}
    for o in lines:
        errs = contract_errors(o)
        if errs:
            bad.append("incident line breaks the contract (%s): %s" % ("; ".join(errs), json.dumps(o)[:300]))
            continue
        incs.setdefault(o["id"], Incident(o["id"])).add(o)
    for inc in incs.values():
        if inc.opened is None:
            bad.append("incident #%s has events but no open event" % inc.id)
        evs = [e["event"] for e in inc.events]
        if evs.count("close") > 1 or ("close" in evs and evs[-1] != "close"):
            bad.append("incident #%s: events after its close: %s" % (inc.id, evs))
        for e in inc.events:
            if e["cause"] != inc.events[0]["cause"] or e["server"] != inc.events[0]["server"]:
                bad.append("incident #%s changes cause or server between events" % inc.id)
                break
    flows = [o for o in objs if o.get("type") in ("flow", "finding")]
    tss = [o.get("first_ts", o.get("ts")) for o in flows if isinstance(o.get("first_ts", o.get("ts")), NUM)]
    t0 = (truth.get("incidents") or [{}])[0].get("since", 0) - (truth.get("incidents") or [{}])[0].get("since_rel", 0) \
        if truth.get("incidents") else (min(tss) if tss else 0)
    # the capture's end: the last time flowmedic reports (flows at exit, the summary, events)
    ends = [o.get("last_ts") for o in objs if o.get("type") == "flow"] + [o.get("ts") for o in objs]
    cap_end = max([e for e in ends if isinstance(e, NUM)] or [0])
    ok = []
    used = set()

    if truth.get("no_incidents"):
        if incs:
            bad.append("a clean capture, yet %d incident(s) opened: %s" % (
                len(incs), "; ".join(i.describe(t0) for i in incs.values())))
        else:
            ok.append("clean capture: no incident")

    for exp in truth.get("incidents", []):
        cause, srv, cli = exp["cause"], exp["server"], exp.get("client")
        tol = exp["tolerance"]
        since, until = exp["since"], exp.get("until")
        early = tol.get("early", 1.0)
        # no evidence can exist before since + evidence_after (a response is only known to be
        # slow once it is --slow-response late): the 15 s count from there
        lim = min(tol.get("open", MAX_OPEN_DELAY), MAX_OPEN_DELAY) + exp.get("evidence_after", 0)
        what = "%s on %s%s (fault +%.1f..%s s)" % (cause, srv, " from %s" % cli if cli else "", exp["since_rel"],
                                                  "%.1f" % exp["until_rel"] if until is not None else "end")
        same = sorted((i for i in incs.values() if i.attr("cause") in cause.split("|") and ep_match(srv, i.attr("server"))
                       and ep_match(cli, i.attr("client"))), key=lambda i: i.open_ts)
        hit = [i for i in same if since - early <= i.open_ts <= since + lim]
        if not hit:
            for i in same:
                used.add(i.id)  # reported here, not again as unexpected
            if not exp.get("required", True):
                ok.append("optional %s: not opened (allowed)" % what)
                continue
            if not lines:
                bad.append("expected %s: flowmedic emitted no incident lines at all" % what)
            elif same:
                bad.append("expected %s to open within %.0f s of the fault's start; it opened at other times: %s" % (
                    what, lim, "; ".join(i.describe(t0) for i in same)))
            else:
                bad.append("expected %s: no such incident; flowmedic opened: %s" % (
                    what, "; ".join(i.describe(t0) for i in incs.values()) or "nothing"))
            continue
        inc = hit[0]
        used.add(inc.id)
        delay = inc.open_ts - since
        notes = ["opened %.1f s after the fault started" % delay]
        isince = inc.opened["since"] if inc.opened else inc.attr("since")
        if isince < since - early:
            bad.append("%s: the incident's since (+%.1f s) is before the fault started (+%.1f s)" % (
                what, isince - t0, exp["since_rel"]))
        if isince > inc.open_ts + 1e-6:
            bad.append("%s: the incident's since (+%.1f s) is after its open event (+%.1f s)" % (
                what, isince - t0, inc.open_ts - t0))
        text = inc.text()
        for m in exp.get("mentions", []):
            if m not in text:
                bad.append("%s: the incident does not name %r (summary: %s)" % (what, m, inc.attr("summary")))
        c = inc.closed
        end = until if until is not None else float("inf")
        ctol = tol.get("close", 12.0)
        if until is not None and (c is None or c.get("close_reason") == "end_of_input") and cap_end < until + ctol:
            notes.append("not closed before the capture ends %.1f s after the fault did (less than the %.0f s allowed): "
                         "recovery not judged" % (cap_end - until, ctol))
        elif until is not None:
            if c is None:
                bad.append("%s: the fault ended at +%.1f s but the incident never closed" % (what, exp["until_rel"]))
            elif c.get("close_reason") != "recovered":
                bad.append("%s: closed as %r, expected 'recovered' after +%.1f s" % (
                    what, c.get("close_reason"), exp["until_rel"]))
            elif c["ts"] < until - early:
                bad.append("%s: closed at +%.1f s while the fault lasted (until +%.1f s)" % (
                    what, c["ts"] - t0, exp["until_rel"]))
            elif c["ts"] > until + ctol:
                bad.append("%s: closed %.1f s after the fault ended (allowed %.0f s)" % (what, c["ts"] - until, ctol))
            else:
                notes.append("closed (recovered) %.1f s after it ended" % (c["ts"] - until))
        elif exp.get("close") != "any":
            if c is not None and c.get("close_reason") == "recovered":
                bad.append("%s: the fault lasts to the end of the capture, yet the incident closed as recovered at +%.1f s" % (
                    what, c["ts"] - t0))
        again = [i for i in same if i is not inc and inc.open_ts < i.open_ts < end]
        for i in again:
            used.add(i.id)
        if again:
            bad.append("%s: opened again during the fault (flapping): %s" % (what, "; ".join(i.describe(t0) for i in again)))
        else:
            ok.append("%s: %s" % (what, ", ".join(notes)))

    for f in truth.get("forbidden", []):
        hits = [i for i in incs.values() if i.attr("cause") == f["cause"] and ep_match(f.get("server"), i.attr("server"))]
        if hits:
            bad.append("forbidden %s on %s opened: %s" % (f["cause"], f.get("server"), "; ".join(i.describe(t0) for i in hits)))
        else:
            ok.append("no %s on %s (forbidden)" % (f["cause"], f.get("server")))

    if not truth.get("no_incidents"):
        extra = [i for i in incs.values() if i.id not in used and i.attr("severity") in ("warn", "error")]
        if extra:
            bad.append("unexpected warn/error incidents: %s" % "; ".join(i.describe(t0) for i in extra))
        else:
            ok.append("no unexpected warn/error incident")

    for o in ok:
        print("ok   %s: %s" % (name, o))
    for b in bad:
        print("FAIL %s: %s" % (name, b))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
