#!/bin/bash
# tests/gen/refused.sh: samples/refused.pcap - one good HTTP connection to port 8080, then four
# connection attempts to the closed port 8081 (the server's kernel answers each SYN with RST).
. "$(dirname "$0")/lib.sh"
gen_init refused
gen_pair
bg_s "$GEN_PY" "$GEN_TOOL" http-server --host 0.0.0.0 --port 8080 --log "$GEN_TMP/server.jsonl" --lifetime 30
wait_port "$NS_S" 8080
cap_start
in_c timeout 30 "$GEN_PY" "$GEN_TOOL" http-client --host "$S4" --port 8080 --plan ka:1 --out "$GEN_TMP/http.json"
sleep 0.2
in_c timeout 30 "$GEN_PY" "$GEN_TOOL" probe --host "$S4" --port 8081 --count 4 --interval 0.3 --timeout 5 \
	--out "$GEN_TMP/probe.json"
cap_stop
gen_finish --part http_client="$GEN_TMP/http.json" --part server="$GEN_TMP/server.jsonl" \
	--part refused_probes="$GEN_TMP/probe.json" --set loss_rule=none \
	--set "expected=1 connection to $S4:8080 with one 200 OK; 4 attempts to $S4:8081 (closed port), each refused: SYN answered by RST/ACK from the server, connect() fails with ECONNREFUSED, no SYN retries"
