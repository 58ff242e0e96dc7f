#!/bin/bash
# tests/gen/loss-upstream.sh: samples/loss-upstream.pcap - client ns, router ns, server ns; the
# tap is the router's server-facing veth. The router's FORWARD chain drops every 30th data
# segment of a 200 KB upload (client->server: dropped BEFORE the tap, so the capture never
# sees the original, only a gap and the retransmission that fills it: lost upstream) and of a
# 200 KB download (server->client: the tap sees the original, then the retransmission: lost
# downstream). The two transfers run one after the other on different ports.
. "$(dirname "$0")/lib.sh"
gen_init loss-upstream
gen_routed
RU="-p tcp -d $S4 --dport 5001 -m length --length 100:65535 -m statistic --mode nth --every 30 --packet 29 -j DROP"
RD="-p tcp -s $S4 --sport 5003 -m length --length 100:65535 -m statistic --mode nth --every 30 --packet 29 -j DROP"
ip netns exec "$NS_R" iptables -A FORWARD $RU
ip netns exec "$NS_R" iptables -A FORWARD $RD
bg_s "$GEN_PY" "$GEN_TOOL" bulk-server --host 0.0.0.0 --port 5001 --mode sink --log "$GEN_TMP/server-up.jsonl" --lifetime 60
bg_s "$GEN_PY" "$GEN_TOOL" bulk-server --host 0.0.0.0 --port 5003 --mode source --chunk 16384 --pace 0.01 \
	--log "$GEN_TMP/server-down.jsonl" --lifetime 60
wait_port "$NS_S" 5001
wait_port "$NS_S" 5003
cap_start
in_c timeout 60 "$GEN_PY" "$GEN_TOOL" bulk-client --host "$S4" --port 5001 --mode upload --bytes 200000 \
	--chunk 16384 --pace 0.01 --out "$GEN_TMP/upload.json"
sleep 0.3
in_c timeout 60 "$GEN_PY" "$GEN_TOOL" bulk-client --host "$S4" --port 5003 --mode download --bytes 200000 \
	--out "$GEN_TMP/download.json"
cap_stop
DR=$(ip netns exec "$NS_R" iptables -L FORWARD -v -n -x | awk '$3=="DROP"{printf "%s%s", s, $1; s=","}')
gen_finish --part upload="$GEN_TMP/upload.json" --part download="$GEN_TMP/download.json" \
	--part server_upload="$GEN_TMP/server-up.jsonl" --part server_download="$GEN_TMP/server-down.jsonl" \
	--set "topology=client 10.99.1.1 - router (10.99.1.254 | 10.99.2.254) - server $S4; tap: router's server-facing veth" \
	--set "loss_rule=router iptables FORWARD: [1] $RU ; [2] $RD" --set "iptables_drop_packets=$DR (rule 1 upload, rule 2 download)" \
	--set "expected=upload (port 5001): the dropped c2s segments never appear at the tap: tshark shows 'previous segment not captured' (lost_segment) and later the retransmission; loss is upstream of the tap. download (port 5003): the dropped s2c segments appear at the tap, then are retransmitted: loss downstream of the tap. Both transfers complete, no RST"
