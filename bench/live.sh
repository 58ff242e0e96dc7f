#!/bin/sh
# live.sh [CAPTURE] [REPLAYERS] - live capture rate: CAPTURE (default the 1x benchmark capture,
# bench/run.sh) replayed at top speed by REPLAYERS tcpreplay processes (default 2), then a
# 64-byte SYN flood from trafgen, onto a veth in a test namespace, captured by flowmedic -i with
# --workers 1 and 2 (live, each worker reads its own PACKET_FANOUT handle); prints packets/s
# offered, received by the kernel and dropped, and flowmedic's CPU seconds (user + sys, from
# /proc before it is stopped: steadier than rates on a shared machine). FM_BENCH_ARGS adds
# options (e.g. "--evidence-dir DIR"), FM_BENCH_WORKERS the worker counts (default "1 2"),
# FM_BENCH_FLOOD=0 skips the SYN flood. Run by hand as root,
# under flock /tmp/fm-netns.lock and nice; never in make check.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${FLOWMEDIC:-$top/flowmedic}
cap=${1:-/tmp/flowmedic-bench-40000.pcap}
nrep=${2:-2}
[ -f "$cap" ] || python3 "$top/bench/mkbig.py" "$cap" 40000 >&2
id=$$
ns=fmbl-$id
va=fmba$id
vb=fmbb$id
tmp=$(mktemp -d)
cleanup() {
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
ip netns add "$ns"
ip -n "$ns" link add "$va" type veth peer name "$vb"
ip -n "$ns" link set "$va" up
ip -n "$ns" link set "$vb" up
cat >"$tmp/syn.cfg" <<'CFG'
{ 0x02,0x00,0x00,0x00,0x00,0x02, 0x02,0x00,0x00,0x00,0x00,0x01, 0x08,0x00,
  0x45,0x00,0x00,0x28, drnd(2), 0x40,0x00, 0x40,0x06, csumip(14,33),
  10,drnd(3), 10,99,1,2,
  drnd(2), 0x01,0xbb, drnd(4), 0x00,0x00,0x00,0x00, 0x50,0x02,0x72,0x10, csumtcp(14,34), 0x00,0x00,
  0x00,0x00,0x00,0x00,0x00,0x00 }
CFG
printf '%-34s %8s %12s %12s %12s %10s %8s\n' load workers offered/s received/s dropped drop% cpu-s
run() {
    what=$1
    n=$2
    shift 2
    # shellcheck disable=SC2086 # FM_BENCH_ARGS: extra options, split on spaces
    ip netns exec "$ns" "$bin" -i "$vb" --workers "$n" --no-db -v -B 64 ${FM_BENCH_ARGS:-} \
        >/dev/null 2>"$tmp/err" &
    fm=$!
    sleep 1.5
    t0=$(date +%s.%N)
    "$@"
    t1=$(date +%s.%N)
    sleep 1
    awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$fm/stat" >"$tmp/cpu"
    for t in /proc/"$fm"/task/*; do # per thread: CPU seconds by name
        printf '%s=%s ' "$(cat "$t/comm")" \
            "$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "$t/stat")"
    done >"$tmp/threads"
    kill -INT "$fm"
    wait "$fm" || true
    python3 - "$what" "$n" "$t0" "$t1" "$tmp/err" "$tmp/sent" "$tmp/cpu" <<'PY'
import re, sys
what, n, t0, t1, err, sent, cpu = sys.argv[1:8]
d = float(t1) - float(t0)
e = open(err).read()
m = re.search(r"(\d+) packets received by the kernel, (\d+) dropped by the kernel", e)
s = int(open(sent).read().strip() or 0)
rec, drop = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
print("%-34s %8s %12.0f %12.0f %12d %9.2f%% %8.2f" % (what, n, s / d, rec / d, drop,
      100.0 * drop / rec if rec else 0, float(open(cpu).read() or 0)))
PY
    echo "    threads (cpu s): $(cat "$tmp/threads")"
    sed -n 's/^flowmedic: \([0-9]*\) packets reached their worker after.*/    late packets: \1/p' "$tmp/err"
}
replay() {
    i=0
    pids=
    while [ $i -lt "$nrep" ]; do
        ip netns exec "$ns" tcpreplay -t -i "$va" "$cap" >"$tmp/rep$i" 2>&1 &
        pids="$pids $!"
        i=$((i + 1))
    done
    for p in $pids; do wait "$p" || true; done
    cat "$tmp"/rep* | sed -n 's/.*Actual: \([0-9]*\) packets.*/\1/p' |
        awk '{s+=$1} END {print s+0}' >"$tmp/sent"
}
flood() {
    ip netns exec "$ns" timeout 5 trafgen -q -o "$va" -c "$tmp/syn.cfg" -n 2000000 >"$tmp/tg" 2>&1 || true
    sed -n 's/.*\b\([0-9][0-9]*\) packets outgoing.*/\1/p' "$tmp/tg" | tail -1 >"$tmp/sent"
    [ -s "$tmp/sent" ] || echo 2000000 >"$tmp/sent"
}
for n in ${FM_BENCH_WORKERS:-1 2}; do
    run "tcpreplay x$nrep --topspeed" "$n" replay
    [ "${FM_BENCH_FLOOD:-1}" = 0 ] || ! command -v trafgen >/dev/null ||
        run "trafgen 64-byte SYN flood (2 M)" "$n" flood
done
echo "($(nproc) CPUs; capture $(basename "$cap"))"
