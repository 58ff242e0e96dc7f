#!/bin/sh
# frame-numbers.sh - evidence frame numbers are the capture file's own whatever the BPF filter:
# `flowmedic -r F --json 'port P'` names the same frames as the unfiltered run and as tshark.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${FLOWMEDIC:=$top_srcdir/flowmedic}"
export FLOWMEDIC
command -v tshark >/dev/null 2>&1 || { echo "SKIP: tshark is not installed"; exit 77; }
exec python3 "$top_srcdir/tests/frame_numbers.py" \
    "$top_srcdir/samples/refused.pcap" 8080 8081 \
    "$top_srcdir/samples/ipv6-http.pcap" 8080 8081 \
    "$top_srcdir/samples/loss-upstream.pcap" 5001 5003
