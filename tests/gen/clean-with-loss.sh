#!/bin/bash
# tests/gen/clean-with-loss.sh: samples/clean-with-loss.pcap - ordinary HTTP/1.1 traffic (16
# requests of 8000-byte bodies on 9 connections, one at a time) with occasional loss of data
# segments (every 15th data segment received, in each direction, dropped on the receiver's INPUT)
# and exactly one SYN dropped once (the 4th SYN the server receives), so one connection opens
# after a single SYN retry while the server is otherwise idle: a lost SYN, NOT a backlog drop.
. "$(dirname "$0")/lib.sh"
gen_init clean-with-loss
gen_pair
RS="-p tcp --dport 8080 --syn -m statistic --mode nth --every 1000000 --packet 3 -j DROP"
RSD="-p tcp --dport 8080 -m length --length 100:65535 -m statistic --mode nth --every 15 --packet 14 -j DROP"
RCD="-p tcp --sport 8080 -m length --length 100:65535 -m statistic --mode nth --every 15 --packet 14 -j DROP"
ip netns exec "$NS_S" iptables -A INPUT $RS
ip netns exec "$NS_S" iptables -A INPUT $RSD
ip netns exec "$NS_C" iptables -A INPUT $RCD
bg_s "$GEN_PY" "$GEN_TOOL" http-server --host 0.0.0.0 --port 8080 --log "$GEN_TMP/server.jsonl" --lifetime 60
wait_port "$NS_S" 8080
cap_start
in_c timeout 90 "$GEN_PY" "$GEN_TOOL" http-client --host "$S4" --port 8080 --plan ka:4,close:6,ka:3,ka:3 \
	--gap 0.2 --path-prefix size/8000 --out "$GEN_TMP/client.json"
cap_stop
SD=$(ip netns exec "$NS_S" iptables -L INPUT -v -n -x | awk '$3=="DROP"{printf "%s%s", s, $1; s=","}')
CD=$(ip netns exec "$NS_C" iptables -L INPUT -v -n -x | awk '$3=="DROP"{printf "%s%s", s, $1; s=","}')
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" \
	--set "loss_rule=server ns INPUT: [1] $RS ; [2] $RSD ; client ns INPUT: [3] $RCD" \
	--set "iptables_drop_packets=server rules 1,2: $SD; client rule 3: $CD" \
	--set "expected=9 HTTP connections (ka:4, 6 x close, ka:3, ka:3), 16 requests, all 200 OK; the 4th connection's first SYN is lost once and retried after ~1 s with no other connection open (single lost SYN, not a SYN backlog drop: the server's listen queues are empty); a few data segments lost and retransmitted in both directions (seen at the tap, lost after it)"
