#!/bin/bash
# tests/gen/middlebox-reset.sh: samples/middlebox-reset.pcap - client ns - router ns - server ns,
# the tap on the CLIENT's veth. A keep-alive HTTP connection sends requests 0.3 s apart; the
# router's firewall rejects the client's 5th request with REJECT --reject-with tcp-reset: the
# router forges a RST "from the server" (source 10.99.2.2:8080) towards the client. The server's
# real packets reach the tap forwarded (TTL 63), the forged RST is made by the router (TTL 64).
# The server never sees the reset. A second, clean connection follows.
. "$(dirname "$0")/lib.sh"
gen_init middlebox-reset
gen_routed
CAP_NS=$NS_C
CAP_IF=$VETH_C
RULE="-p tcp -d $S4 --dport 8080 -m length --length 100:65535 -m statistic --mode nth --every 1000000 --packet 4 -j REJECT --reject-with tcp-reset"
ip netns exec "$NS_R" iptables -A FORWARD $RULE
bg_s "$GEN_PY" "$GEN_TOOL" http-server --host 0.0.0.0 --port 8080 --log "$GEN_TMP/server.jsonl" --lifetime 30
wait_port "$NS_S" 8080
cap_start
in_c timeout 30 "$GEN_PY" "$GEN_TOOL" http-client --host "$S4" --port 8080 --plan ka:6,close:1 --gap 0.3 \
	--out "$GEN_TMP/client.json" || true
cap_stop
N=$(ip netns exec "$NS_R" iptables -L FORWARD -v -n -x | awk '$3=="REJECT"{print $1}')
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" \
	--set "topology=client 10.99.1.1 - router (10.99.1.254 | 10.99.2.254) - server $S4; tap: the client's veth" \
	--set "loss_rule=router iptables FORWARD: $RULE ($N packets rejected)" \
	--set "expected=connection 1: the client's 5th request (5th c2s packet with payload) is rejected by the router, which sends a RST with the server's address to the client: a reset 'from the server' mid-connection whose TTL (64) differs from the server's other packets in the flow (63, one hop) - forged by a middlebox; the client's request fails with ECONNRESET; connection 2 (one request) is clean"
