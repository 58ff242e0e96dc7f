#!/bin/sh
# frame-numbers.sh - evidence frame numbers are the capture file's own whatever the BPF filter:
# `flowmedic -r F --json 'port P'` names the same frames as the unfiltered run and as tshark.
. "$(dirname "$0")/lib.sh"
export FLOWMEDIC
fm_need tshark
exec python3 "$top_srcdir/tests/frame_numbers.py" \
    "$top_srcdir/samples/refused.pcap" 8080 8081 \
    "$top_srcdir/samples/ipv6-http.pcap" 8080 8081 \
    "$top_srcdir/samples/loss-upstream.pcap" 5001 5003
