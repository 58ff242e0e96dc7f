#!/bin/sh
# floods.sh [SYN_SOURCES [LONG_FLOWS]] - memory caps and a real server's analysis under floods,
# with 1, 2 and 4 workers: a SYN flood from SYN_SOURCES addresses (default 2 000 000) and
# LONG_FLOWS concurrent long-lived connections (default 1 000 000), each with the 110
# connections of samples/network-loss.pcap merged in (bench/mkflood.py; the captures are kept in
# $BENCH_DIR, default /tmp). For each run: seconds, CPU (user+sys), peak RSS, flows, evictions,
# the engine's flow-state peak (-v) against the flow cap, and whether every record about the
# sample's server (10.99.1.2:8080: flows, findings, HTTP, health, incidents) equals the
# sample's own, analysed alone (and the HTTP connections whose request slots were reclaimed,
# summary http_reclaimed). FLOODS_OPTS adds options (e.g. "--max-flows 65536"). Run by
# hand, under nice (minutes); never in make check.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${FLOWMEDIC:-$top/flowmedic}
dir=${BENCH_DIR:-/tmp}
syn=${1:-2000000}
long=${2:-1000000}
sample=$top/samples/network-loss.pcap
maxf=$(echo "${FLOODS_OPTS:-}" | sed -n 's/.*--max-flows[ =]*\([0-9][0-9]*\).*/\1/p')
maxf=${maxf:-262144}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

"$bin" -r "$sample" --json --no-db -q >"$tmp/alone.json"
printf '%-22s %-7s %9s %7s %7s %8s %9s %9s %-30s %s\n' capture workers packets seconds cpu_s \
    RSS_MiB flows evicted "flow state peak (cap)" "sample server records"
for kind in syn long; do
    n=$syn
    [ "$kind" = long ] && n=$long
    cap=$dir/flowmedic-flood-$kind-$n.pcap
    [ -f "$cap" ] || python3 "$top/bench/mkflood.py" "$kind" "$cap" "$n" "$sample" >&2
    cat "$cap" >/dev/null # page-cached
    for w in 1 2 4; do
        /usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$bin" -r "$cap" --json --no-db -q -v ${FLOODS_OPTS:-} \
            --workers "$w" >"$tmp/out.json" 2>"$tmp/err" || true
        python3 - "$tmp/alone.json" "$tmp/out.json" "$tmp/err" "$tmp/time" "$kind $n" "$w" "$maxf" <<'PY'
import json, re, sys
alone, out, err, timef, name, w, maxf = sys.argv[1:8]
SERVER = "10.99.1.2:8080"
DROP = {"flow_id", "id", "frames", "first_frame", "request_frame", "response_frame", "evidence"}

def norm(x):
    # Frame numbers and flow ids are renumbered by the flood's frames and flows; incident and
    # health records are emitted at a tick, i.e. at the first frame after a second boundary,
    # which the flood moves (and the capture ends later): their ts, and an end-of-input close's
    # "until", are not the analysis's.
    x = {k: v for k, v in x.items() if k not in DROP}
    if x["type"] in ("incident", "health"):
        x.pop("ts", None)
        if x.get("close_reason") == "end_of_input":
            x.pop("until", None)
    if "detail" in x:
        x["detail"] = re.sub(r"frames? [0-9][0-9, -]*", "frame N", x["detail"])
    return json.dumps(x, sort_keys=True)

def mine(path):
    recs, summary = [], None
    for line in open(path):
        x = json.loads(line)
        if x["type"] == "summary":
            summary = x
        elif x.get("server") == SERVER:
            recs.append(norm(x))
    return sorted(recs), summary

a, _ = mine(alone)
b, s = mine(out)
secs, user, sys_, kib = open(timef).read().split("\n")[-2].split()  # after "exited with"
peak = re.search(r"flow state: (\d+) bytes per flow at the peak \((\d+) flows, (\d+) bytes\)",
                 open(err).read())
state = "%d flows, %.1f MiB" % (int(peak.group(2)), int(peak.group(3)) / 2**20) if peak else "?"
missing = sorted(set(a) - set(b))
extra = sorted(set(b) - set(a))
same = "all %d equal" % len(a) if a == b else "%d of %d equal, %d extra" % (
    len(a) - len(missing), len(a), len(extra))
if s and s.get("http_reclaimed"):
    same += " (%d HTTP connections reclaimed)" % s["http_reclaimed"]
print("%-22s %-7s %9d %7.2f %7.2f %8.1f %9d %9d %-30s %s" % (
    name, w, s["packets"] if s else 0, float(secs), float(user) + float(sys_), int(kib) / 1024,
    s["flows"] if s else 0, s["evicted"] if s else 0, state + " (%s)" % maxf, same))
for m in missing[:3]:
    print("    only alone: " + m[:300])
for m in extra[:3]:
    print("    only here:  " + m[:300])
PY
    done
done
echo "($(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg); options: ${FLOODS_OPTS:-defaults: --max-flows 262144, --stream-budget 64 MiB})"
