#!/bin/bash
# tests/gen/http-slow.sh: samples/http-slow.pcap - a Python HTTP/1.1 server on 8080 that answers
# every 4th request (server-side count) after a 6 s delay; 12 requests on 6 connections
# (ka:4, 4 x close, ka:4), 0.3 s apart. All answered 200; three responses take ~6 s.
. "$(dirname "$0")/lib.sh"
gen_init http-slow
gen_pair
bg_s "$GEN_PY" "$GEN_TOOL" http-server --host 0.0.0.0 --port 8080 --slow-every 4 --slow-delay 6 \
	--log "$GEN_TMP/server.jsonl" --lifetime 60
wait_port "$NS_S" 8080
cap_start
in_c timeout 90 "$GEN_PY" "$GEN_TOOL" http-client --host "$S4" --port 8080 --plan ka:4,close:4,ka:4 --gap 0.3 \
	--timeout 20 --out "$GEN_TMP/client.json"
cap_stop
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" --set loss_rule=none \
	--set "server_rule=every 4th request the server handles (n % 4 == 0) is answered after sleeping 6 s" \
	--set "expected=6 connections, 12 requests, all 200 OK; requests n=4, 8, 12 (see server log: n, client_port, path, delay_s) have a response time of ~6 s (slow_response at the default 5 s threshold); the others ~1 ms; no loss, no resets"
