#!/bin/sh
# workers-live.sh - --workers 2 on a live interface (two capture handles in one PACKET_FANOUT
# group): samples replayed with tcpreplay onto a veth in a test namespace give the same flows
# and findings as the offline run of the same files, when the kernel dropped nothing.
# Needs root, iproute2 and tcpreplay; skips (77) otherwise. Takes /tmp/fm-netns.lock (tests/lib.sh).
. "$(dirname "$0")/lib.sh"
fm_need tcpreplay
fm_need_netns "the live workers test"
fm_tmpdir
ns=fmwk-$$
va=fmwa$$
vb=fmwb$$
fm_ns "$ns"
fm_veth "$ns" "$va" "$ns" "$vb" # no IPv6 on them: no autoconfiguration chatter to wait out
fm_pid=

fail=0
for s in refused syn-backlog tls12-expired; do
    pcap="$top_srcdir/samples/$s.pcap"
    "$FLOWMEDIC" -r "$pcap" --json --no-db -q --workers 1 >"$tmp/$s.off" 2>"$tmp/$s.offerr"
    ip netns exec "$ns" "$FLOWMEDIC" -i "$vb" --workers 2 --json --no-db --immediate \
        tcp >"$tmp/$s.live" 2>"$tmp/$s.err" &
    fm_pid=$!
    sleep 1
    ip netns exec "$ns" tcpreplay -q -i "$va" "$pcap" >"$tmp/$s.replay" 2>&1
    sleep 1
    kill -INT "$fm_pid"
    wait "$fm_pid"
    rc=$?
    fm_pid=
    python3 - "$s" "$tmp/$s.off" "$tmp/$s.live" "$tmp/$s.err" "$rc" <<'PY' || fail=1
import collections, json, re, sys
name, off, live, err, rc = sys.argv[1], sys.argv[2], sys.argv[3], open(sys.argv[4]).read(), int(sys.argv[5])

def load(path):
    objs = [json.loads(l) for l in open(path)]
    flows = collections.Counter(
        (o["client"], o["server"], o["close"], o["packets"]["c2s"], o["packets"]["s2c"])
        for o in objs if o["type"] == "flow")
    finds = collections.Counter((o["kind"], o.get("client"), o.get("server"))
                                for o in objs if o["type"] == "finding")
    return flows, finds

drops = re.search(r"(\d+) dropped by the kernel", err)
if rc != 0 or not drops:
    print("FAIL %s: exit %d, no kernel drop counts at exit: %s" % (name, rc, err.strip()))
    sys.exit(1)
if int(drops.group(1)):
    print("SKIP %s: the kernel dropped %s packets: not compared" % (name, drops.group(1)))
    sys.exit(0)
fo, ko = load(off)
fl, kl = load(live)
bad = []
if fo != fl:
    bad.append("flows differ: offline only %s, live only %s" % (dict(fo - fl), dict(fl - fo)))
if ko != kl:
    bad.append("findings differ: offline only %s, live only %s" % (dict(ko - kl), dict(kl - ko)))
if bad:
    print("FAIL %s (--workers 2 live vs offline): %s" % (name, "; ".join(bad)))
    sys.exit(1)
print("ok   %s: %d flows and %d findings live with 2 workers = offline" %
      (name, sum(fl.values()), sum(kl.values())))
PY
done
exit $fail
