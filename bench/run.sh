#!/bin/sh
# run.sh [FLOWS[:PACKETS]...] - packets/s, peak RSS and CPU seconds, in one run, of: the bare
# libpcap read loop (tcpdump -r F -w /dev/null, the floor), flowmedic with default options
# (every detector and the SQLite writer on) with --workers 1, 2 and 4 and the same with
# --no-db, tcptrace and tshark's TCP analysis, on captures of 0.2x, 1x and 4x the reference
# size (8 000, 40 000, 160 000 flows built from the samples by bench/mkbig.py, kept in
# $BENCH_DIR, default /tmp). FLOWS:PACKETS is a capture of FLOWS flows made longer to about
# PACKETS packets with the samples' bulk transfers (mkbig.py --packets): 40000:1480000 is the
# shape issue 12 measured on. Run by hand, under nice; never in make check.
# Needs: python3, /usr/bin/time (package time), tcpdump, tcptrace, tshark (apt-get install time
# tcpdump tcptrace tshark); a tool that is missing is reported as not installed and skipped.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${FLOWMEDIC:-$top/flowmedic}
dir=${BENCH_DIR:-/tmp}
sizes=${*:-8000 40000 160000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
count() {
    python3 -c "
import struct,sys
d=open(sys.argv[1],'rb'); d.seek(24); n=0
while True:
    h=d.read(16)
    if len(h)<16: break
    d.seek(struct.unpack('<IIII',h)[2],1); n+=1
print(n)" "$1"
}
echo "$(date -u '+%H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %-9s %-38s %9s %12s %9s %7s\n' flows packets tool seconds packets/s RSS_MiB CPU_s
measure() {
    name=$1
    shift
    if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "$1" ]; then
        printf '%-8s %-9s %-38s %9s\n' "$flows" "$pkts" "$name" "(not installed)"
        return
    fi
    rm -f "$tmp/bench.db" "$tmp/bench.db-wal" "$tmp/bench.db-shm"
    cat "$cap" >/dev/null # page-cached, as for every tool
    /usr/bin/time -f '%e %M %U %S' -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || true
    read -r secs kib usr sys <"$tmp/time"
    python3 -c "
import sys
s=float(sys.argv[4]); n=int(sys.argv[3]); k=int(sys.argv[5]); c=float(sys.argv[6])+float(sys.argv[7])
print('%-8s %-9s %-38s %9.2f %12.0f %9.1f %7.2f' % (sys.argv[1], sys.argv[3], sys.argv[2], s,
      n/s if s>0 else 0, k/1024, c))" "$flows" "$name" "$pkts" "$secs" "$kib" "$usr" "$sys"
}
for size in $sizes; do
    flows=${size%%:*}
    if [ "$flows" = "$size" ]; then
        cap=$dir/flowmedic-bench-$flows.pcap
        [ -f "$cap" ] || python3 "$top/bench/mkbig.py" "$cap" "$flows" >&2
    else
        cap=$dir/flowmedic-bench-$flows-${size#*:}.pcap
        [ -f "$cap" ] || python3 "$top/bench/mkbig.py" --packets "${size#*:}" "$cap" "$flows" >&2
    fi
    pkts=$(count "$cap")
    measure "libpcap read loop (tcpdump -w)" tcpdump -r "$cap" -w /dev/null
    for n in 1 2 4; do
        measure "flowmedic --workers $n" "$bin" -r "$cap" -w "$tmp/bench.db" -q --workers "$n"
    done
    for n in 1 2 4; do
        measure "flowmedic --workers $n --no-db" "$bin" -r "$cap" --no-db -q --workers "$n"
    done
    if [ "$pkts" -le 1500000 ]; then # minutes at 4x (1.7 M packets)
        measure "tcptrace -n" tcptrace -n "$cap"
        measure "tshark -2 (TCP analysis)" tshark -2 -r "$cap" -Y tcp.analysis.flags
    fi
done
echo "$(date -u '+%H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "($(nproc) CPUs; $(uname -r); CPU_s = user + sys of all threads)"
