#!/bin/sh
# workers-live.sh - --workers 1, 2 and 4 on a live interface (with 2 and 4, as many capture
# handles in one PACKET_FANOUT group, each read by its worker): samples replayed with tcpreplay
# onto a veth in a test namespace give what the offline run of the same files gives (flows,
# findings, server health totals), when the kernel dropped nothing. The incidents opened
# (cause, server) are compared with the offline run of tcpdump's capture of the replay:
# incidents are judged per second, and tcpreplay keeps a capture's pace only roughly (under
# ASan on a loaded machine it spread syn-backlog's 0.6 ms burst over 80 ms); a verdict that
# the replay's pace changed is said on the ok line.
# http-clean-dup.pcap (every frame twice, 20 us apart) checks that each worker's duplicate
# filter finds every SPAN duplicate: the kernel's fanout hash gives both copies of a frame to
# one handle (were they split, a flow would be reported by two workers). Its dup-window is
# 100 ms in both runs: tcpreplay on a busy machine may send a copy more than the default 1 ms
# after its original. Each count runs with --immediate; "2b" is 2 workers without it (packets
# come in libpcap blocks up to 100 ms after their stamp: the workers' lateness bound).
# FM_WORKERS="2 2b" runs fewer; FM_KEEP=DIR keeps each run's outputs there.
# Needs root, iproute2, tcpreplay and tcpdump; skips (77) otherwise. Takes /tmp/fm-netns.lock
# (tests/lib.sh).
. "$(dirname "$0")/lib.sh"
fm_need tcpreplay tcpdump
fm_need_netns "the live workers test"
fm_tmpdir
ns=fmwk-$$
va=fmwa$$
vb=fmwb$$
fm_ns "$ns"
fm_veth "$ns" "$va" "$ns" "$vb" # no IPv6 on them: no autoconfiguration chatter to wait out
fm_pid=
dump_pid=
fm_at_exit 'for p in $fm_pid $dump_pid; do kill "$p" 2>/dev/null; done'

fail=0
for spec in ${FM_WORKERS:-1 2 4 2b}; do
n=${spec%b}
live_opts=--immediate
[ "$spec" = "$n" ] || live_opts= # 2b: without --immediate (libpcap's blocks of up to 100 ms)
for s in refused syn-backlog tls12-expired http-clean-dup; do
    pcap="$top_srcdir/samples/$s.pcap"
    set -- --set dup-window=1ms
    [ "$s" = http-clean-dup ] && set -- --set dup-window=100ms
    "$FLOWMEDIC" -r "$pcap" --json --no-db -q --workers 1 "$@" >"$tmp/$s.off" 2>"$tmp/$s.offerr"
    # what was on the wire: tcpreplay keeps the capture's pace only roughly (on a loaded
    # machine a 0.6 ms burst took 80 ms, across a second's edge), and incidents are judged
    # per second, so the incidents are compared with the offline run of this capture
    rm -f "$tmp/$s.wire"
    ip netns exec "$ns" tcpdump -i "$vb" -w "$tmp/$s.wire" --immediate-mode \
        --time-stamp-precision=nano -q tcp 2>"$tmp/$s.dumperr" &
    dump_pid=$!
    ip netns exec "$ns" "$FLOWMEDIC" -i "$vb" --workers "$n" -v --json --no-db $live_opts "$@" \
        tcp >"$tmp/$s.live" 2>"$tmp/$s.err" &
    fm_pid=$!
    sleep 1
    ip netns exec "$ns" tcpreplay -q -i "$va" "$pcap" >"$tmp/$s.replay" 2>&1
    sleep 1
    kill -INT "$fm_pid"
    wait "$fm_pid"
    rc=$?
    fm_pid=
    kill -TERM "$dump_pid"
    wait "$dump_pid"
    dump_pid=
    "$FLOWMEDIC" -r "$tmp/$s.wire" --json --no-db -q --workers 1 "$@" >"$tmp/$s.wireoff" \
        2>"$tmp/$s.wireerr" || echo "FAIL $s: flowmedic -r on tcpdump's capture exited $?: $(cat "$tmp/$s.wireerr")"
    python3 - "$s" "$tmp/$s.off" "$tmp/$s.live" "$tmp/$s.err" "$rc" "$n" "$live_opts" "$tmp/$s.wireoff" \
        "$tmp/$s.dumperr" <<'PY' || fail=1
import collections, json, re, sys
name, off, live, err, rc = sys.argv[1], sys.argv[2], sys.argv[3], open(sys.argv[4]).read(), int(sys.argv[5])
n = int(sys.argv[6])
how = "%d workers%s" % (n, "" if sys.argv[7] else " (no --immediate)")

def load(path):
    objs = [json.loads(l) for l in open(path)]
    flows = collections.Counter(
        (o["client"], o["server"], o["close"], o["packets"]["c2s"], o["packets"]["s2c"])
        for o in objs if o["type"] == "flow")
    finds = collections.Counter((o["kind"], o.get("client"), o.get("server"))
                                for o in objs if o["type"] == "finding")
    dups = [o["mirror_duplicates"] for o in objs if o["type"] == "summary"]
    # server health over the run: what the workers' per-flow halves send the aggregator (HTTP
    # requests, response-time samples) and what it counts itself (attempts)
    health = collections.Counter()
    for o in objs:
        if o["type"] == "health":
            health[(o["server"], "attempts")] += o["attempts"]
            health[(o["server"], "http_requests")] += o["http_requests"]
            health[(o["server"], "response_times")] += o["response_time"]["n"]
    # incidents: which causes opened on which servers (the per-server layer's verdicts; live
    # its clock between ticks comes from ops and ticks, so times may differ, verdicts not)
    incs = collections.Counter((o["cause"], o["server"]) for o in objs
                               if o["type"] == "incident" and o["event"] == "open")
    return flows, finds, dups, health, incs

drops = re.search(r"(\d+) dropped by the kernel", err)
if rc != 0 or not drops:
    print("FAIL %s: exit %d, no kernel drop counts at exit: %s" % (name, rc, err.strip()))
    sys.exit(1)
handles = re.findall(r"handle (\d+) \(worker \d+\): (\d+) frames read", err)
late = re.search(r"(\d+) packets reached their worker after its clock", err)
if n > 1 and len(handles) != n:
    print("FAIL %s: %d workers but %d per-handle counts at exit: %s" % (name, n, len(handles), err.strip()))
    sys.exit(1)
if int(drops.group(1)):
    print("SKIP %s: the kernel dropped %s packets: not compared" % (name, drops.group(1)))
    sys.exit(0)
fo, ko, do, ho, io = load(off)
fl, kl, dl, hl, il = load(live)
fw, kw, dw, hw, iw = load(sys.argv[8])
bad, notes = [], []
if fo != fl:
    bad.append("flows differ: offline only %s, live only %s" % (dict(fo - fl), dict(fl - fo)))
if ko != kl:
    bad.append("findings differ: offline only %s, live only %s" % (dict(ko - kl), dict(kl - ko)))
if do != dl:
    bad.append("mirror duplicates differ: offline %s, live %s" % (do, dl))
if ho != hl:
    bad.append("server health totals differ: offline %s, live %s" % (dict(ho), dict(hl)))
# incidents against tcpdump's capture of the replay (the same packets at the same times)
dumped = re.search(r"(\d+) packets? dropped by kernel", open(sys.argv[9]).read())
if fw != fo or not dumped or int(dumped.group(1)):
    bad.append("tcpdump's capture of the replay is not the sample's packets (%s): incidents not "
               "compared" % (dumped.group(0) if dumped else "no drop count"))
elif iw != il:
    bad.append("incidents differ: offline run of the replay's capture %s, live %s" % (dict(iw), dict(il)))
elif io != iw:
    notes.append("the replay's pace changed the verdict: the file's %s" % dict(io))
if not io and name != "http-clean-dup":
    bad.append("no incident offline: the sample should open one")
if bad:
    print("FAIL %s (%s live vs offline%s): %s" % (name, how, ", %s late" % late.group(1) if late else "", "; ".join(bad)))
    sys.exit(1)
print("ok   %s: %d flows, %d findings, %d incidents, %d HTTP requests, %s duplicates live with %s (handles read %s%s) = offline%s" %
      (name, sum(fl.values()), sum(kl.values()), sum(il.values()),
       sum(v for (srv, what), v in hl.items() if what == "http_requests"), dl[0] if dl else 0, how,
       "+".join(h[1] for h in handles) or "-", ", %s late" % late.group(1) if late else "",
       "".join("; " + x for x in notes)))
PY
    if [ -n "${FM_KEEP:-}" ]; then
        for x in off live err wire wireoff; do cp "$tmp/$s.$x" "$FM_KEEP/$s-$spec.$x"; done
    fi
done
done
exit $fail
