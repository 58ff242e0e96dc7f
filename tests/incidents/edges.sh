#!/bin/sh
# edges.sh - a verdict does not depend on where the second's edge falls in a burst.
#
# syn-backlog.pcap: 25 attempts in 0.6 ms, the first 3 answered, the rest dropped by a full
# SYN queue (3 answered at their third SYN). Shifted in time (editcap -t) so that a second's
# edge falls after each of several of its SYNs, it must open syn_queue_overflow and never
# host_unreachable. Before the rule of IC_BURST_NS (incident.c), an edge after frame 16 gave
# host_unreachable (the attempts in the next second came "after the last second with an
# answer"), after frame 15 host_unreachable too. tcpreplay on a loaded machine spread this
# burst over 80 ms across an edge that way (tests/workers-live.sh).
#
# The other side: a host that stops answering is still seen. http-clean.pcap (5 attempts to
# 10.99.1.2:8080, answered; moved so that the last begins 20 ms before a second's edge) merged
# with unreachable.pcap (4 attempts to it, never answered) shifted to begin 0.35 s (the gap in
# firewall-window.pcap) or 1.2 s after it opens host_unreachable. 0.05 s after it (one burst,
# across the edge) opens nothing, as 0.01 s after it (one burst in one second): not the host
# (it answered this burst), and 9 attempts are too few for syn_queue_overflow (10).
. "$(dirname "$0")/../lib.sh"
fm_need tshark editcap mergecap python3
fm_tmpdir
exec python3 - "$FLOWMEDIC" "$top_srcdir/samples" "$tmp" <<'PY'
import json, math, subprocess, sys

fm, samples, tmp = sys.argv[1:4]

def stamps(pcap):
    """Capture times of the frames (tshark)."""
    out = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-e", "frame.time_epoch"],
                         capture_output=True, text=True, check=True).stdout
    return [float(x) for x in out.split()]

def shift(src, secs, dst):
    subprocess.run(["editcap", "-t", "%.6f" % secs, src, dst], check=True)

def opened(pcap, workers):
    out = subprocess.run([fm, "-r", pcap, "--json", "--no-db", "-q", "--workers", str(workers)],
                         capture_output=True, text=True)
    if out.returncode not in (0, 3):
        sys.exit("FAIL: flowmedic exited %d on %s: %s" % (out.returncode, pcap, out.stderr))
    return sorted({o["cause"] for o in map(json.loads, out.stdout.splitlines())
                   if o["type"] == "incident" and o["event"] == "open"})

fail = 0
def check(what, got, want):
    global fail
    if got != want:
        print("FAIL %s: opened %s, expected %s" % (what, got or "nothing", want or "nothing"))
        fail += 1
    else:
        print("ok   %s: %s" % (what, ", ".join(got) or "nothing"))

sb = samples + "/syn-backlog.pcap"
t = stamps(sb)
# frames 1-37: the burst (3 handshakes, then 22 lone SYNs)
for cut in (5, 15, 16, 20, 25, 30, 36):
    mid = (t[cut - 1] + t[cut]) / 2
    d = math.ceil(mid) - mid  # the edge between frames cut and cut + 1
    f = "%s/sb-%d.pcap" % (tmp, cut)
    shift(sb, d, f)
    for w in (1, 2):
        check("syn-backlog, a second's edge after frame %d (+%.6f s), %d worker(s)" % (cut, d, w),
              opened(f, w), ["syn_queue_overflow"])

hc, un = samples + "/http-clean.pcap", samples + "/unreachable.pcap"
out = subprocess.run([fm, "-r", hc, "--json", "--no-db", "-q"], capture_output=True, text=True)
answered = max(o["first_ts"] for o in map(json.loads, out.stdout.splitlines()) if o["type"] == "flow")
first = stamps(un)[0]
# http-clean moved so that its last attempt begins 20 ms before a second's edge
hc_d = math.ceil(answered) - 0.02 - answered
hc2 = tmp + "/http-clean-moved.pcap"
shift(hc, hc_d, hc2)
answered += hc_d
for gap, want in ((0.01, []), (0.05, []), (0.35, ["host_unreachable"]),
                  (1.2, ["host_unreachable"])):
    u, m = "%s/un-%s.pcap" % (tmp, gap), "%s/merged-%s.pcap" % (tmp, gap)
    shift(un, answered + gap - first, u)
    subprocess.run(["mergecap", "-w", m, hc2, u], check=True)
    check("answered, then nothing from %.2f s after the last answered attempt began" % gap,
          opened(m, 1), want)
sys.exit(1 if fail else 0)
PY
