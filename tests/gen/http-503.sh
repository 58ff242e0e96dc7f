#!/bin/bash
# tests/gen/http-503.sh: samples/http-503.pcap - a Python HTTP/1.1 server on 8080 that answers
# every 5th request (server-side count) with 503 Service Unavailable; 20 requests on 8
# connections (ka:5, 5 x close, ka:5, ka:5), 0.6 s apart, so the traffic spans two 10 s
# health intervals. No loss.
. "$(dirname "$0")/lib.sh"
gen_init http-503
gen_pair
bg_s "$GEN_PY" "$GEN_TOOL" http-server --host 0.0.0.0 --port 8080 --error-every 5 --error-status 503 \
	--log "$GEN_TMP/server.jsonl" --lifetime 60
wait_port "$NS_S" 8080
cap_start
in_c timeout 90 "$GEN_PY" "$GEN_TOOL" http-client --host "$S4" --port 8080 --plan ka:5,close:5,ka:5,ka:5 --gap 0.6 \
	--out "$GEN_TMP/client.json"
cap_stop
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" --set loss_rule=none \
	--set "server_rule=every 5th request the server handles (n % 5 == 0) gets 503 Service Unavailable (Retry-After: 1), the rest 200" \
	--set "expected=8 connections, 20 requests: 16 x 200 and 4 x 503 (error rate 20 %, above the 5 % alert threshold); response times ~1 ms; no loss, no resets"
