#!/bin/bash
# tests/gen/tiny-retrans.sh: samples/tiny-retrans.pcap - a tiny capture: one TCP connection that
# uploads 200 bytes to a sink on :5001 and reads its "OK 200" reply; the server's INPUT drops the
# first data segment once; the client waits 0.5 s before its FIN, so the segment is repaired by
# a timer retransmission (one retransmission, tshark: tcp.analysis.retransmission; seen twice at the
# tap). Far below any minimum volume: flowmedic must open no incident.
. "$(dirname "$0")/lib.sh"
gen_init tiny-retrans
gen_pair
RULE="-p tcp --dport 5001 -m length --length 100:65535 -m statistic --mode nth --every 1000000 --packet 0 -j DROP"
ip netns exec "$NS_S" iptables -A INPUT $RULE
bg_s "$GEN_PY" "$GEN_TOOL" bulk-server --host 0.0.0.0 --port 5001 --mode sink --log "$GEN_TMP/server.jsonl" --lifetime 30
wait_port "$NS_S" 5001
cap_start tcp
in_c timeout 30 "$GEN_PY" "$GEN_TOOL" bulk-client --host "$S4" --port 5001 --mode upload --bytes 200 --pace 0.5 \
	--out "$GEN_TMP/client.json"
cap_stop
N=$(ip netns exec "$NS_S" iptables -L INPUT -v -n -x | awk '$3=="DROP"{print $1}')
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" \
	--set "loss_rule=server ns iptables INPUT: $RULE ($N dropped)" \
	--set "expected=one connection, 200 bytes up, 'OK 200' back, clean close; the first data segment is dropped once by the server's INPUT and retransmitted (tshark: one retransmission): too little traffic for any incident" \
	--no-incidents
