#!/bin/sh
# tshark-xcheck.sh - per-flow retransmission/reset agreement with tshark on every sample.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
set --
for f in "$top_srcdir"/samples/*.pcap; do
    case "$f" in *truncated* | *snaplen*) continue ;; esac
    set -- "$@" "$f"
done
[ $# -gt 0 ] || { echo "no samples found"; exit 1; }
exec python3 "$top_srcdir/tests/tshark_xcheck.py" "$@"
