#!/bin/bash
# tests/gen/http-clean.sh: samples/http-clean.pcap - a Python HTTP/1.1 server on port 8080 and
# 10 requests (keep-alive and Connection: close), all answered 200, no loss.
. "$(dirname "$0")/lib.sh"
gen_init http-clean
gen_pair
bg_s "$GEN_PY" "$GEN_TOOL" http-server --host 0.0.0.0 --port 8080 --log "$GEN_TMP/server.jsonl" --lifetime 30
wait_port "$NS_S" 8080
cap_start
in_c timeout 60 "$GEN_PY" "$GEN_TOOL" http-client --host "$S4" --port 8080 --plan ka:4,close:3,ka:3 \
	--gap 0.05 --out "$GEN_TMP/client.json"
cap_stop
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" \
	--set loss_rule=none --no-incidents \
	--set expected="5 TCP connections to $S4:8080 (ka:4 = one keep-alive connection with 4 requests, close:3 = three one-request connections, ka:3): 10 requests, all 200 OK, every connection closed with FIN, no retransmissions, no resets"
