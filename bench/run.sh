#!/bin/sh
# run.sh [CAPTURE] - packets/s and peak RSS of flowmedic (every detector and the SQLite writer
# on) beside the bare libpcap read loop (tcpdump -w /dev/null), tcptrace and tshark with TCP
# analysis, on the same file, in one run. Run by hand; not part of make check.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${FLOWMEDIC:-$top/flowmedic}
cap=${1:-/tmp/flowmedic-bench.pcap}
[ -f "$cap" ] || python3 "$top/bench/mkbig.py" "$cap"
pkts=$(python3 -c "
import struct,sys
d=open(sys.argv[1],'rb'); d.seek(24); n=0
while True:
    h=d.read(16)
    if len(h)<16: break
    d.seek(struct.unpack('<IIII',h)[2],1); n+=1
print(n)" "$cap")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
printf '%-34s %12s %14s %12s\n' tool seconds packets/s peak_RSS_MiB
measure() {
    name=$1
    shift
    if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "$1" ]; then
        printf '%-34s %12s\n' "$name" "(not installed)"
        return
    fi
    /usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || true
    read -r secs kib <"$tmp/time"
    python3 -c "
import sys
s=float(sys.argv[2]); n=int(sys.argv[3]); k=int(sys.argv[4])
print('%-34s %12.2f %14.0f %12.1f' % (sys.argv[1], s, n/s if s>0 else 0, k/1024))" "$name" "$secs" "$pkts" "$kib"
}
measure "flowmedic (all detectors + sqlite)" "$bin" -r "$cap" -w "$tmp/bench.db" -q
measure "flowmedic (--no-db)" "$bin" -r "$cap" --no-db -q
measure "libpcap read loop (tcpdump -w)" tcpdump -r "$cap" -w /dev/null
measure "tcptrace" tcptrace -n "$cap"
measure "tshark -2 (TCP analysis)" tshark -2 -r "$cap" -Y tcp.analysis.flags
echo "($pkts packets in $cap)"
