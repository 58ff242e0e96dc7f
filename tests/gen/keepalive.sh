#!/bin/bash
# tests/gen/keepalive.sh: samples/keepalive.pcap - one HTTP keep-alive connection to :8080 whose
# client enables SO_KEEPALIVE (TCP_KEEPIDLE=1, TCP_KEEPINTVL=1): one request, 4.5 s idle (the
# client kernel sends a keep-alive probe every second, the server ACKs each), a second request,
# close. No loss.
. "$(dirname "$0")/lib.sh"
gen_init keepalive
gen_pair
bg_s "$GEN_PY" "$GEN_TOOL" http-server --host 0.0.0.0 --port 8080 --log "$GEN_TMP/server.jsonl" --lifetime 30
wait_port "$NS_S" 8080
cap_start
in_c timeout 30 "$GEN_PY" "$GEN_TOOL" idle-client --host "$S4" --port 8080 --idle 4.5 --ka-idle 1 \
	--out "$GEN_TMP/client.json"
cap_stop
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" --set loss_rule=none --no-incidents \
	--set "expected=one connection, 2 requests both 200; during the 4.5 s idle gap ~4 TCP keep-alive probes from the client (seq = snd.nxt - 1, no data) each answered by a server ACK (tshark keep_alive c2s, keep-alive ACKs s2c); no retransmission findings, no resets"
