#!/bin/bash
# tests/gen/ipv6-http.sh: samples/ipv6-http.pcap - IPv6 HTTP/1.1 to [fd99::2]:8080 (clean:
# keep-alive and Connection: close, all 200) plus one refused IPv6 connection to port 8081.
. "$(dirname "$0")/lib.sh"
gen_init ipv6-http
gen_pair
bg_s "$GEN_PY" "$GEN_TOOL" http-server --host :: --port 8080 --log "$GEN_TMP/server.jsonl" --lifetime 30
wait_port "$NS_S" 8080
cap_start
in_c timeout 60 "$GEN_PY" "$GEN_TOOL" http-client --host "$S6" --port 8080 --plan ka:3,close:2,ka:2 \
	--out "$GEN_TMP/client.json"
sleep 0.2
in_c timeout 30 "$GEN_PY" "$GEN_TOOL" probe --host "$S6" --port 8081 --count 1 --timeout 5 --out "$GEN_TMP/probe.json"
cap_stop
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" \
	--part refused_probes="$GEN_TMP/probe.json" --set loss_rule=none --no-incidents \
	--set "expected=4 IPv6 connections from [$C6] to [$S6]:8080 with 7 requests, all 200 OK, FIN close, no retransmissions; then 1 attempt to [$S6]:8081 refused (SYN answered by RST)"
