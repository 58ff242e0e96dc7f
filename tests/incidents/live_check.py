#!/usr/bin/python3
"""tests/incidents/live_check.py: the live half of tests/incidents/live.sh (which makes the
namespace and the veth pair and cleans up). Usage:
  live_check.py NS TX_IF RX_IF SAMPLE.pcap TRUTH.json FLOWMEDIC TMUX_SOCKET TMPDIR
Cuts the sample to the stretch around its first expected incident, runs `flowmedic -i RX_IF
--json --no-db` (every output line stamped with the wall time it arrived) and `flowmedic -i
RX_IF --tui --no-db` in a tmux pane, replays the cut capture at its recorded pace with tcpreplay
on TX_IF, and checks:
  - the incident's open event (cause and server from the truth) arrives within 15 s of wall time
    after the fault's first packet was replayed;
  - the live view (a flowmedic of its own) lists the incident in its incident panel within 15 s
    of the fault too, and until the fault's end was replayed its row for that server is never
    "ok" while it lists the incident, nor while the --json run has it open once the view has
    listed it (sampled twice a second with tmux capture-pane).
"""

import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time

NS, TX, RX, PCAP, TRUTH, FM, SOCK, TMP = sys.argv[1:9]
LEAD, TAIL, LIMIT = 6.0, 8.0, 15.0
bad, notes = [], []


def cut(src, dst, t_from, t_to):
    """Copy the records of a classic pcap whose time lies in [t_from, t_to] (epoch seconds)."""
    d = open(src, "rb").read()
    magic = d[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        sys.exit("FAIL: %s is not a classic pcap file" % src)
    div = 1e9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e6
    out, off, n, first = [d[:24]], 24, 0, None
    while off + 16 <= len(d):
        sec, frac, incl, _ = struct.unpack(e + "IIII", d[off:off + 16])
        t = sec + frac / div
        if t_from <= t <= t_to:
            out.append(d[off:off + 16 + incl])
            n += 1
            first = t if first is None else first
        off += 16 + incl
    open(dst, "wb").write(b"".join(out))
    return n, first


def tm(*args):
    return subprocess.run(["tmux", "-L", SOCK, "-f", "/dev/null"] + list(args), capture_output=True, text=True)


def screen():
    return tm("capture-pane", "-p", "-t", "fminc").stdout


def row_level(text, server):
    pat = re.compile(r"^\s*(ok|warn|BAD|--)\s+" + re.escape(server) + r"\s")
    for line in text.splitlines():
        m = pat.match(line)
        if m:
            return m.group(1)
    return None


def tui_shows_open(text, cause, server):
    """The live view's own incident panel lists an open incident of cause on server."""
    pat = re.compile(r"^\s*(WARN|ERROR|warn|error|INFO|info)\s+" + re.escape(cause) + r"\s+" + re.escape(server) + r"\s")
    return any(pat.match(line) for line in text.splitlines())


truth = json.load(open(TRUTH))
exp = truth["incidents"][0]
cause, server = exp["cause"], exp["server"]
since, until = exp["since"], exp["until"]
t_from = since - LEAD
t_to = (until if until is not None else since + 10) + TAIL
cpath = os.path.join(TMP, "replay.pcap")
n, first = cut(PCAP, cpath, t_from, t_to)
if not n:
    sys.exit("FAIL: nothing of %s between the cut times" % PCAP)
fault_off = since - first  # seconds into the replay at which the fault begins
print("replaying %d packets (%.1f s of %s, fault %.1f s in: %s on %s)" % (
    n, t_to - first, os.path.basename(PCAP), fault_off, cause, server))

# flowmedic -i --json, every line stamped on arrival
lines, lock = [], threading.Lock()
fm = subprocess.Popen(["ip", "netns", "exec", NS, FM, "-i", RX, "--json", "--no-db", "--interval", "1"],
                      stdout=subprocess.PIPE, stderr=open(os.path.join(TMP, "json.err"), "w"), text=True)


def reader():
    for line in fm.stdout:
        with lock:
            lines.append((time.time(), line))


threading.Thread(target=reader, daemon=True).start()
# the live view in tmux
tui = True
if subprocess.run(["sh", "-c", "command -v tmux"], capture_output=True).returncode != 0:
    tui = False
    notes.append("tmux missing: the live-view check did not run (Debian: apt-get install tmux)")
else:
    cmd = "env -u NO_COLOR TERM=xterm-256color ip netns exec %s %s -i %s --tui --no-db --interval 1 2>%s/tui.err; " \
          "echo EXITED rc=$?; sleep 600" % (NS, FM, RX, TMP)
    r = tm("new-session", "-d", "-s", "fminc", "-x", "200", "-y", "50", cmd)
    if r.returncode:
        bad.append("could not start tmux: %s" % r.stderr.strip())
        tui = False


def packet_sockets():
    """Packet sockets open in the namespace (/proc/net/packet is per namespace)."""
    r = subprocess.run(["ip", "netns", "exec", NS, "cat", "/proc/net/packet"], capture_output=True, text=True)
    return max(0, len(r.stdout.splitlines()) - 1)


# wait (at most 20 s) until both captures are open, instead of a fixed 2 s that a loaded
# machine outlasts (the replay's first seconds were then missed)
want_socks, t_wait = (2 if tui else 1), time.time()
while packet_sockets() < want_socks and time.time() - t_wait < 20 and fm.poll() is None:
    time.sleep(0.1)
if packet_sockets() < want_socks and fm.poll() is None:
    bad.append("only %d of %d captures were open after 20 s" % (packet_sockets(), want_socks))
time.sleep(0.3)
if fm.poll() is not None:
    sys.exit("FAIL: flowmedic -i %s --json exited at once (%s)" % (RX, open(os.path.join(TMP, "json.err")).read()))
if tui and "EXITED" in screen():
    bad.append("flowmedic --tui exited at once: %s" % screen().strip()[-300:])
    tui = False

t_start = time.time()
rp = subprocess.Popen(["ip", "netns", "exec", NS, "tcpreplay", "-q", "-i", TX, cpath],
                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
w_fault = t_start + fault_off
opened = closed = None
samples = []  # (wall, level, state) state: before / open / after
deadline = t_start + (t_to - first) + 20
while time.time() < deadline:
    now = time.time()
    with lock:
        got = list(lines)
    for w, line in got:
        try:
            o = json.loads(line)
        except ValueError:
            continue
        if o.get("type") != "incident" or o.get("cause") != cause or o.get("server") != server:
            continue
        if o["event"] == "open" and opened is None and o["ts"] >= since - 1:
            opened = (w, o)
        if o["event"] == "close" and opened is not None and closed is None and o["id"] == opened[1]["id"]:
            closed = (w, o)
    if tui:
        text = screen()
        lv = row_level(text, server)
        state = "before" if opened is None else ("open" if closed is None else "after")
        samples.append((now, lv, state, tui_shows_open(text, cause, server)))
    if rp.poll() is not None and (opened is None or closed is not None or now > t_start + (t_to - first) + 3):
        if opened is not None or now > w_fault + LIMIT + 2:
            break
    time.sleep(0.5)
rp_out = rp.communicate(timeout=30)[0] if rp.poll() is not None else ""
if rp.returncode not in (0, None):
    bad.append("tcpreplay failed (%s): %s" % (rp.returncode, rp_out.strip()[-300:]))

# judge
if opened is None:
    with lock:
        incs = [l for _, l in lines if '"type":"incident"' in l.replace(" ", "")]
    bad.append("no open event for %s on %s within %.0f s of the fault being replayed (%s)" % (
        cause, server, LIMIT, ("incident lines seen: " + " | ".join(l.strip()[:160] for l in incs[:4])) if incs
        else "flowmedic -i emitted no incident lines at all"))
else:
    lag = opened[0] - w_fault
    if lag > LIMIT:
        bad.append("%s on %s opened %.1f s of wall time after the fault's first packet was replayed (limit %.0f s)" % (
            cause, server, lag, LIMIT))
    else:
        print("ok   live: %s on %s opened %.1f s of wall time after the fault's first packet was replayed" % (
            cause, server, lag))
    if closed is not None:
        notes.append("closed (%s) %.1f s after it opened" % (closed[1].get("close_reason"), closed[0] - opened[0]))
if tui:
    before = [s for s in samples if s[2] == "before" and s[1] is not None]
    notes.append("live view row of %s before the incident opened: %s" % (
        server, ",".join(sorted({s[1] for s in before})) if before else "not shown"))
if tui and opened is not None:
    # The live view is a flowmedic of its own reading the same packets: it lists the incident
    # (its own incident panel) a moment before or after the --json run opens it, more so on a
    # loaded machine. So: the view must list the incident within LIMIT of the fault too, and
    # up to the fault's end the row is never ok while the view lists it, nor while the --json
    # run has it open once the view has listed it.
    end_w = t_start + (until - first if until else 1e9)
    listed = [s for s in samples if s[3]]
    t_tui = listed[0][0] if listed else None
    if t_tui is None:
        bad.append("the live view never listed the %s incident on %s:\n%s" % (cause, server, screen()))
    elif t_tui - w_fault > LIMIT:
        bad.append("the live view listed the %s incident on %s %.1f s of wall time after the fault's first "
                   "packet was replayed (limit %.0f s)" % (cause, server, t_tui - w_fault, LIMIT))
    else:
        notes.append("the live view listed the incident %+.1f s from the --json open event" % (t_tui - opened[0]))
    during = [s for s in samples
              if s[0] <= end_w and (s[3] or (s[2] == "open" and t_tui is not None and s[0] >= t_tui))]
    if len(during) < 2:
        bad.append("the live view was sampled only %d times while the incident was open" % len(during))
    missing = [s for s in during if s[1] is None]
    okays = [s for s in during if s[1] == "ok"]
    if missing:
        bad.append("the live view showed no row for %s in %d of %d samples while the incident was open:\n%s" % (
            server, len(missing), len(during), screen()))
    if okays:
        bad.append("the live view showed %s as ok in %d of %d samples while the %s incident was open (first at +%.1f s after it opened)" % (
            server, len(okays), len(during), cause, okays[0][0] - opened[0]))
    if during and not missing and not okays:
        print("ok   live view: %s never ok in %d samples while the incident was open (%s)" % (
            server, len(during), ",".join(sorted({s[1] for s in during}))))
fm.send_signal(signal.SIGINT)
try:
    fm.wait(timeout=10)
except subprocess.TimeoutExpired:
    fm.kill()
    bad.append("flowmedic -i did not end within 10 s of SIGINT")
err = open(os.path.join(TMP, "json.err")).read()
if "Sanitizer" in err:
    bad.append("sanitizer report: %s" % err[-500:])
for s in notes:
    print("note %s" % s)
for b in bad:
    print("FAIL %s" % b)
sys.exit(1 if bad else 0)
