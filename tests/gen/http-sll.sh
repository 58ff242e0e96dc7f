#!/bin/bash
# tests/gen/http-sll.sh: samples/http-sll.pcap - clean HTTP/1.1 (2 connections, 4 requests)
# captured with "tcpdump -i any" in the client namespace: link type LINUX_SLL2 (Linux cooked
# capture v2) instead of Ethernet. Loopback is idle, so only the veth traffic appears. No loss.
. "$(dirname "$0")/lib.sh"
gen_init http-sll
gen_pair
CAP_IF=any
bg_s "$GEN_PY" "$GEN_TOOL" http-server --host 0.0.0.0 --port 8080 --log "$GEN_TMP/server.jsonl" --lifetime 30
wait_port "$NS_S" 8080
cap_start
in_c timeout 60 "$GEN_PY" "$GEN_TOOL" http-client --host "$S4" --port 8080 --plan ka:3,close:1 \
	--out "$GEN_TMP/client.json"
cap_stop
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" --set loss_rule=none --no-incidents \
	--set "link_type=$(tcpdump -r "$GEN_PCAP" -c 1 2>&1 >/dev/null | sed -n 's/.*link-type \([^ ]*\).*/\1/p')" \
	--set "expected=LINUX_SLL2 frames; 2 connections to $S4:8080, 4 requests all 200, FIN close, no retransmissions, no resets"
