#!/bin/sh
# tests/live-stop.sh - a stop (SIGINT) reads and analyses the frames the kernel had already
# queued: none is left unread, none goes unreported. flowmedic is stopped (SIGSTOP) while
# syn-backlog.pcap is replayed at top speed onto the interface it captures, then gets SIGINT
# and SIGCONT: the signal is handled before any frame is read, so everything it reports it
# read after the stop. With --workers 1 (one handle) and 2 (a PACKET_FANOUT group, each
# worker drains its own). Before cap_next_queued, --workers 1 left every queued frame unread
# (0 frames, 0 flows reported); with 2 the workers have mostly read them before the stop
# reaches them, so their drain (wk_live_drain) is run but seldom finds frames. Checks: the kernel dropped nothing and every frame it received was read,
# in all and per handle; the flows (with their packet counts) are the offline run's (at top
# speed the times are not the capture's: findings and incidents are not compared). Needs root,
# ip netns and tcpreplay; skips (77) otherwise. Takes /tmp/fm-netns.lock (tests/lib.sh).
. "$(dirname "$0")/lib.sh"
fm_need tcpreplay python3
fm_need_netns "the live stop test"
fm_tmpdir
ns=fmst-$$
va=fmsa$$
vb=fmsb$$
fm_ns "$ns"
fm_veth "$ns" "$va" "$ns" "$vb"
fm_pid=
fm_at_exit '[ -n "$fm_pid" ] && { kill -CONT "$fm_pid"; kill "$fm_pid"; } 2>/dev/null'
pcap="$top_srcdir/samples/syn-backlog.pcap"
"$FLOWMEDIC" -r "$pcap" --json --no-db -q >"$tmp/off.json" 2>"$tmp/off.err" ||
    { echo "FAIL: flowmedic -r $pcap: $(cat "$tmp/off.err")"; exit 1; }
fail=0
for n in 1 2; do
    rm -f "$tmp/live.err" # the last run's "listening on" (fm_wait_listening)
    ip netns exec "$ns" "$FLOWMEDIC" -i "$vb" --workers "$n" -v --json --no-db tcp \
        >"$tmp/live.json" 2>"$tmp/live.err" &
    fm_pid=$!
    fm_wait_listening "$tmp/live.err" || { echo "FAIL: flowmedic did not start: $(cat "$tmp/live.err")"; exit 1; }
    kill -STOP "$fm_pid"
    ip netns exec "$ns" tcpreplay -q -t -i "$va" "$pcap" >"$tmp/replay" 2>&1 ||
        { echo "FAIL: tcpreplay: $(cat "$tmp/replay")"; exit 1; }
    sleep 0.2
    kill -INT "$fm_pid"
    kill -CONT "$fm_pid"
    fm_wait_exit "$fm_pid" 10
    wait "$fm_pid"
    rc=$?
    fm_pid=
    python3 - "$tmp/off.json" "$tmp/live.json" "$tmp/live.err" "$rc" "$n" <<'PY' || fail=1
import collections, json, re, sys
off, live, err, rc, n = sys.argv[1], sys.argv[2], open(sys.argv[3]).read(), int(sys.argv[4]), int(sys.argv[5])
what = "--workers %d" % n
def load(path):
    objs = [json.loads(l) for l in open(path)]
    return collections.Counter((o["client"], o["server"], o["close"], o["packets"]["c2s"],
                                o["packets"]["s2c"]) for o in objs if o["type"] == "flow")
bad = []
tot = re.search(r"(\d+) packets received by the kernel, (\d+) dropped by the kernel", err)
handles = re.findall(r"handle (\d+) \(worker \d+\): (\d+) frames read, (\d+) received by the kernel, (\d+) dropped", err)
if rc != 0 or not tot or len(handles) != (n if n > 1 else 0):
    print("FAIL %s: exit %d, kernel counts at exit missing: %s" % (what, rc, err.strip()))
    sys.exit(1)
if int(tot.group(2)):
    print("SKIP %s: the kernel dropped %s frames while flowmedic was stopped" % (what, tot.group(2)))
    sys.exit(0)
read = [o["packets"] for o in map(json.loads, open(live)) if o["type"] == "summary"]
if read != [int(tot.group(1))]:
    bad.append("read %s of the %s frames the kernel received" % (read, tot.group(1)))
for h, read, recv, drop in handles:
    if int(read) != int(recv) - int(drop):
        bad.append("handle %s read %s of the %s frames the kernel received" % (h, read, recv))
fo, fl = load(off), load(live)
if fo != fl:
    bad.append("flows differ: offline only %s, live only %s" % (dict(fo - fl), dict(fl - fo)))
if bad:
    print("FAIL %s: %s" % (what, "; ".join(bad)))
    sys.exit(1)
print("ok   %s: all %s frames read after the stop (handles %s): %d flows = offline" %
      (what, tot.group(1), "+".join(h[1] for h in handles) or "one", sum(fl.values())))
PY
done
exit $fail
