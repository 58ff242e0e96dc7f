#!/bin/sh
# workers-live.sh - --workers 1, 2 and 4 on a live interface (with 2 and 4, as many capture
# handles in one PACKET_FANOUT group, each read by its worker): samples replayed with tcpreplay
# onto a veth in a test namespace give what the offline run of tcpdump's capture of the replay
# gives: flows, findings, SPAN duplicates, server health totals and rows of each interval
# (--interval 1: many close during a replay), the incidents opened (cause, server), when the
# kernel dropped nothing. That capture must hold the sample's flows packet for packet. It is
# the reference, not the sample, because tcpreplay keeps a capture's pace only roughly (under
# ASan on a loaded machine it spread syn-backlog's 0.6 ms burst over 80 ms, across a second's
# edge) and health rows, alerts and incidents are per second; a verdict or finding the
# replay's pace changed is said on the ok line.
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
    set -- --interval 1 --set dup-window=1ms
    [ "$s" = http-clean-dup ] && set -- --interval 1 --set dup-window=100ms
    "$FLOWMEDIC" -r "$pcap" --json --no-db -q --workers 1 "$@" >"$tmp/$s.off" 2>"$tmp/$s.offerr"
    # what was on the wire: tcpreplay keeps the capture's pace only roughly (on a loaded
    # machine a 0.6 ms burst took 80 ms, across a second's edge), and incidents are judged
    # per second, so the incidents are compared with the offline run of this capture
    rm -f "$tmp/$s.wire" "$tmp/$s.err" "$tmp/$s.dumperr" # the last run's: fm_wait_listening
    ip netns exec "$ns" tcpdump -i "$vb" -w "$tmp/$s.wire" --immediate-mode \
        --time-stamp-precision=nano -q tcp 2>"$tmp/$s.dumperr" &
    dump_pid=$!
    ip netns exec "$ns" "$FLOWMEDIC" -i "$vb" --workers "$n" -v --json --no-db $live_opts "$@" \
        tcp >"$tmp/$s.live" 2>"$tmp/$s.err" &
    fm_pid=$!
    fm_wait_listening "$tmp/$s.err" || { echo "FAIL $s: flowmedic did not start: $(cat "$tmp/$s.err")"; exit 1; }
    fm_wait_listening "$tmp/$s.dumperr" || { echo "FAIL $s: tcpdump did not start: $(cat "$tmp/$s.dumperr")"; exit 1; }
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
    # health alerts are not compared: live decides after the last packet at real time (a
    # refusal stands 1.5 s after its RST) into a later 1 s interval, where offline the end of
    # the input decides it into the last one, so an alert of the last second can differ
    # (--workers 1 too); the rows they come from are compared, folded (below)
    finds = collections.Counter((o["kind"], o.get("client"), o.get("server"))
                                for o in objs if o["type"] == "finding" and o["kind"] != "health_alert")
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
    # server health per interval (1 s: many close during a replay). Live, the clock runs on
    # after the last packet until SIGINT: what is decided then (a refusal stands 1.5 s after
    # its RST, an attempt fails when its retry goes unanswered) lands in a later interval,
    # where offline the end of the input decides it in the last one: rows after the last
    # packet's second are added into that second's.
    last = [int(o["last_ts"]) for o in objs if o["type"] == "summary"][0]
    rows = {}
    for o in objs:
        if o["type"] != "health":
            continue
        v = [o["attempts"], o["established"], o["syn_retries"], o["resets"],
             o["data_segments"]["c2s"], o["data_segments"]["s2c"], o["http_requests"],
             o["response_time"]["n"]] + [o["failed"][k] for k in sorted(o["failed"])]
        k = (o["server"], min(int(o["start"]), last))
        rows[k] = [a + b for a, b in zip(rows.get(k, [0] * len(v)), v)]
    return flows, finds, dups, health, incs, rows

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
fo, ko, do, ho, io, _ = load(off)
fl, kl, dl, hl, il, rl = load(live)
fw, kw, dw, hw, iw, rw = load(sys.argv[8])
bad, notes = [], []
# the reference is the offline run of tcpdump's capture of the replay: the same packets at
# the same times (per-second things, health rows of 1 s, health alerts, incidents, depend on
# the times); it must hold the sample's flows, packet for packet
dumped = re.search(r"(\d+) packets? dropped by kernel", open(sys.argv[9]).read())
if fw != fo or not dumped or int(dumped.group(1)):
    print("FAIL %s: tcpdump's capture of the replay is not the sample's packets (%s; flows only "
          "in the sample %s, only in the capture %s)" % (name, dumped.group(0) if dumped else
          "no drop count", dict(fo - fw), dict(fw - fo)))
    sys.exit(1)
if fw != fl:
    bad.append("flows differ: offline only %s, live only %s" % (dict(fw - fl), dict(fl - fw)))
if kw != kl:
    bad.append("findings differ: offline only %s, live only %s" % (dict(kw - kl), dict(kl - kw)))
if dw != dl:
    bad.append("mirror duplicates differ: offline %s, live %s" % (dw, dl))
if hw != hl:
    bad.append("server health totals differ: offline %s, live %s" % (dict(hw), dict(hl)))
if rw != rl:
    bad.append("server health rows differ: %s" %
               "; ".join("%s %s: %s live, %s offline" % (k[0], k[1], rl.get(k), rw.get(k))
                         for k in sorted(set(rw) | set(rl)) if rw.get(k) != rl.get(k)))
if iw != il:
    bad.append("incidents differ: offline %s, live %s" % (dict(iw), dict(il)))
if io != iw:
    notes.append("the replay's pace changed the verdict: the file's %s" % dict(io))
if ko != kw:
    notes.append("the replay's pace changed the findings: the file's only %s, the replay's only %s"
                 % (dict(ko - kw), dict(kw - ko)))
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
