#!/bin/bash
# tests/gen/zero-window.sh: samples/zero-window.pcap - a 150 KB upload to a server whose
# receiver is slow: SO_RCVBUF 8192 on the listener, nothing read for 1 s, then 4096 bytes every
# 50 ms. The server's advertised window falls to zero, the client sends zero-window probes, and
# the window reopens as the reader drains. No loss.
. "$(dirname "$0")/lib.sh"
gen_init zero-window
gen_pair
bg_s "$GEN_PY" "$GEN_TOOL" bulk-server --host 0.0.0.0 --port 5004 --mode slow-sink --rcvbuf 8192 \
	--initial-pause 1 --read-size 4096 --read-delay 0.05 --log "$GEN_TMP/server.jsonl" --lifetime 60
wait_port "$NS_S" 5004
cap_start
in_c timeout 60 "$GEN_PY" "$GEN_TOOL" bulk-client --host "$S4" --port 5004 --mode upload --bytes 150000 \
	--out "$GEN_TMP/client.json"
cap_stop
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" --set loss_rule=none \
	--set "expected=one upload of 150000 bytes to $S4:5004 completes; the server (SO_RCVBUF 8192, reads 4096 bytes every 50 ms after a 1 s pause) advertises a zero window repeatedly (zero_window s2c), the client probes it (zero-window probes / keep-alive-like 1-byte or 0-byte segments) and sends when it reopens (window_full c2s); no retransmission caused by loss, no RST"
