#!/bin/bash
# tests/gen/scan.sh: samples/scan.pcap - steady HTTP traffic from 10.99.1.1 to 10.99.1.2:8080
# (one connection per request every 0.3-0.5 s for 30 s) and, 8 s in, a second client address
# 10.99.1.3 connect()-scans ports 7900-8199 of the server at 100 probes/s: every closed port
# answers the SYN with RST, the open 8080 completes a handshake and is closed at once.
# Expected: one scan incident (the scanned host, the scanner as its client) and no service_down
# or host_unreachable for the server: the probes do not count against its health.
. "$(dirname "$0")/lib.sh"
gen_init scan
gen_pair
SCANNER=10.99.1.3
ip -n "$NS_C" addr add "$SCANNER/24" dev "$VETH_C"
neigh_static "$NS_S" "$VETH_S" "$NS_C" "$VETH_C" "$SCANNER" ""
bg_s "$GEN_PY" "$GEN_TOOL" window-server --host 0.0.0.0 --port 8080 --log "$GEN_TMP/server.jsonl" --lifetime 60
wait_port "$NS_S" 8080
cap_start tcp
bg_c timeout 80 "$GEN_PY" "$GEN_TOOL" steady-client --host "$S4" --src "$C4" --port 8080 --duration 30 \
	--out "$GEN_TMP/client.json"
CLIENT_PID=$BG_PID
sleep 8
in_c timeout 60 "$GEN_PY" "$GEN_TOOL" scan --host "$S4" --src "$SCANNER" --ports 7900-8199 --rate 100 \
	--out "$GEN_TMP/scan.json"
wait "$CLIENT_PID" || true
cap_stop
SINCE=$("$GEN_PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["t_start"])' "$GEN_TMP/scan.json")
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" --part scan="$GEN_TMP/scan.json" \
	--set loss_rule=none \
	--set "expected=steady HTTP from $C4 to $S4:8080, all 200; $SCANNER probes 300 ports of $S4 (7900-8199) in 3 s: 299 refused (SYN answered by RST/ACK), 8080 open (handshake, then the scanner closes): a scan by $SCANNER, not a service problem of $S4" \
	--incident "{\"cause\":\"scan\",\"server\":\"$S4\",\"client\":\"$SCANNER\",\"since\":$SINCE,\"until\":null,\"close\":\"any\"}" \
	--forbid "{\"cause\":\"service_down\",\"server\":\"$S4\"}" --forbid "{\"cause\":\"host_unreachable\",\"server\":\"$S4\"}"
