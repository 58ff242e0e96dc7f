#!/usr/bin/python3
"""tests/tcp/check.py: flowmedic --json on the samples, checking the TCP findings and flow
records against what each sample was made to contain (see samples/*.truth.json).

Run by tests/tcp/samples.sh (env: top_srcdir, FLOWMEDIC). A missing sample is a failure, with a
note; exit 77 when nothing could be checked, 1 on any failure.
"""

import json
import os
import subprocess
import sys

TOP = os.environ.get("top_srcdir", ".")
FM = os.environ.get("FLOWMEDIC", "./flowmedic")
LOSS = {"retransmission", "fast_retransmission", "lost_segment"}

failures = []
checked = []


def run(sample):
    path = os.path.join(TOP, "samples", sample)
    if not os.path.exists(path):
        failures.append("%s: the sample is committed but missing" % sample)
        return None
    res = subprocess.run([FM, "-r", path, "--json", "--no-db", "-q"], capture_output=True,
                         text=True, check=False)
    if res.returncode != 0 or "runtime error:" in res.stderr or "Sanitizer" in res.stderr:
        failures.append("%s: exit %d: %s" % (sample, res.returncode, res.stderr.strip()[:300]))
        return None
    objs = []
    for line in res.stdout.splitlines():
        if line.startswith("{"):
            objs.append(json.loads(line))
    checked.append(sample)
    return objs


def kinds(objs, kind):
    return [o for o in objs if o.get("type") == "finding" and o["kind"] == kind]


def flows(objs):
    return [o for o in objs if o.get("type") == "flow"]


def total(objs, counter):
    return sum(f[counter]["c2s"] + f[counter]["s2c"] for f in flows(objs))


def expect(sample, cond, what):
    if cond:
        print("ok   %s: %s" % (sample, what))
    else:
        failures.append("%s: %s" % (sample, what))
        print("FAIL %s: %s" % (sample, what))


def clean(sample):
    """No loss, reset, capture-loss or one-direction finding at all."""
    o = run(sample)
    if o is None:
        return
    bad = [f["kind"] for f in o if f.get("type") == "finding" and
           f["kind"] in LOSS | {"reset", "capture_loss", "one_direction", "zero_window"}]
    expect(sample, not bad, "clean: no TCP trouble findings (got %s)" % sorted(set(bad)))
    expect(sample, total(o, "mirror_duplicate") == 0, "clean: no mirror duplicates")


def main():
    for s in ("http-clean.pcap", "tls12-ok.pcap", "tls13-ok.pcap"):
        clean(s)
    o = run("ipv6-http.pcap")
    if o is not None:
        r = kinds(o, "reset")
        expect("ipv6-http.pcap", len(r) == 1 and r[0].get("phase") == "answer_to_syn",
               "IPv6: the one reset is the refused attempt")
        bad = [f["kind"] for f in o if f.get("type") == "finding" and f["kind"] in LOSS]
        expect("ipv6-http.pcap", not bad, "IPv6: no loss findings (%s)" % bad)

    o = run("loss-upstream.pcap")
    if o is not None:
        up = [f for f in kinds(o, "retransmission") + kinds(o, "fast_retransmission")
              if "upstream of the tap" in f["detail"]]
        down = [f for f in kinds(o, "retransmission") + kinds(o, "fast_retransmission")
                if "downstream of the tap" in f["detail"]]
        expect("loss-upstream.pcap", bool(up), "upstream loss located")
        expect("loss-upstream.pcap", any(f["server"].endswith(":5001") for f in up),
               "the upload (port 5001) lost upstream of the tap")
        expect("loss-upstream.pcap", any(f["server"].endswith(":5003") for f in down),
               "the download (port 5003) lost downstream of the tap")
        expect("loss-upstream.pcap", kinds(o, "lost_segment") != [],
               "gaps reported as lost_segment (previous segment not captured)")
        expect("loss-upstream.pcap", not kinds(o, "reset"), "no reset")

    for s, d in (("loss-bulk-c2s.pcap", "c2s"), ("loss-bulk-s2c.pcap", "s2c")):
        o = run(s)
        if o is None:
            continue
        r = sum(f["retransmission"][d] + f["fast_retransmission"][d] for f in flows(o))
        expect(s, r > 0, "retransmissions %s (%d)" % (d, r))
        expect(s, all("downstream of the tap" in f["detail"] for f in
                      kinds(o, "retransmission") + kinds(o, "fast_retransmission")),
               "originals seen at the tap: lost downstream")
        expect(s, not kinds(o, "reset"), "no reset")

    o = run("http-clean-caploss.pcap")
    if o is not None:
        c = kinds(o, "capture_loss")
        expect("http-clean-caploss.pcap", len(c) >= 1 and all(f["severity"] == "info" for f in c),
               "capture loss reported (info)")
        expect("http-clean-caploss.pcap", sum(f.get("bytes", 0) for f in c) > 0,
               "capture loss counts the bytes never captured")
        expect("http-clean-caploss.pcap", not (kinds(o, "retransmission") or
                                               kinds(o, "fast_retransmission")),
               "capture loss is not network loss (no retransmission finding)")

    o = run("http-clean-dup.pcap")
    if o is not None:
        expect("http-clean-dup.pcap", total(o, "mirror_duplicate") == 85,
               "85 mirror duplicates dropped (got %d)" % total(o, "mirror_duplicate"))
        summ = [x for x in o if x.get("type") == "summary"]
        expect("http-clean-dup.pcap", summ and summ[0]["mirror_duplicates"] == 85,
               "summary counts the duplicates")
        bad = [f["kind"] for f in o if f.get("type") == "finding" and
               f["kind"] in LOSS | {"spurious_retransmission", "dup_ack", "out_of_order"}]
        expect("http-clean-dup.pcap", not bad, "duplicates are not retransmissions (%s)" % bad)

    o = run("http-clean-oneway.pcap")
    if o is not None:
        od = kinds(o, "one_direction")
        expect("http-clean-oneway.pcap", len(od) == len(flows(o)) and od,
               "every flow reported as one-direction (%d of %d)" % (len(od), len(flows(o))))
        expect("http-clean-oneway.pcap", all(f["one_direction"] for f in flows(o)),
               "flow records say one_direction")
        bad = [f["kind"] for f in o if f.get("type") == "finding" and
               f["kind"] in LOSS | {"capture_loss", "syn_unanswered"}]
        expect("http-clean-oneway.pcap", not bad, "not misdiagnosed (%s)" % bad)

    o = run("middlebox-reset.pcap")
    if o is not None:
        r = kinds(o, "reset")
        expect("middlebox-reset.pcap", len(r) == 1 and r[0].get("ttl_mismatch") is True and
               r[0].get("phase") == "mid" and r[0].get("from") == "server",
               "one mid-transfer 'server' reset with a TTL mismatch")
        expect("middlebox-reset.pcap", r and "middlebox" in r[0]["detail"], "says middlebox")

    for s, frm, phase, sev in (("reset-server.pcap", "server", "mid", "warn"),
                               ("reset-client.pcap", "client", "mid", "warn"),
                               ("reset-after-fin.pcap", "server", "after_fin", "info")):
        o = run(s)
        if o is None:
            continue
        r = kinds(o, "reset")
        expect(s, r and r[0].get("from") == frm and r[0].get("phase") == phase and
               r[0]["severity"] == sev and r[0].get("ttl_mismatch") is False,
               "reset from the %s, phase %s, %s, no TTL mismatch" % (frm, phase, sev))

    o = run("refused.pcap")
    if o is not None:
        r = kinds(o, "reset")
        expect("refused.pcap", len(r) == 4 and all(x.get("phase") == "answer_to_syn" for x in r),
               "4 resets in answer to the SYN")
        expect("refused.pcap", sum(1 for f in flows(o) if f["close"] == "refused") == 4,
               "4 flows closed as refused")

    o = run("zero-window.pcap")
    if o is not None:
        z = kinds(o, "zero_window")
        expect("zero-window.pcap", len(z) == 1 and z[0]["s2c"] > 0 and z[0]["c2s"] == 0,
               "zero window advertised by the server")
        expect("zero-window.pcap", kinds(o, "window_full") and kinds(o, "window_full")[0]["c2s"] > 0,
               "window full c2s")
        expect("zero-window.pcap", not kinds(o, "reset"), "no reset")

    o = run("keepalive.pcap")
    if o is not None:
        k = kinds(o, "keep_alive")
        expect("keepalive.pcap", len(k) == 1 and k[0]["c2s"] >= 3, "keep-alives from the client")
        expect("keepalive.pcap", not (kinds(o, "retransmission") or kinds(o, "dup_ack")),
               "keep-alives and their ACKs are not retransmissions or dup ACKs")

    if failures:
        print("tcp samples: %d failed" % len(failures))
        return 1
    if not checked:
        print("SKIP: no sample found")
        return 77
    print("tcp samples: %d samples checked" % len(checked))
    return 0


if __name__ == "__main__":
    sys.exit(main())
