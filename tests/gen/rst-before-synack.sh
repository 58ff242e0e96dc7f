#!/bin/bash
# tests/gen/rst-before-synack.sh: samples/rst-before-synack.pcap - client ns - router ns - server
# ns, the tap on the CLIENT's veth. The router (a middlebox) answers the first SYN of every
# connection to :8080 with a forged RST "from the server" (fmgen.py rst-injector: source
# 10.99.2.2:8080, TTL 64, RST without ACK), and its FORWARD chain drops that first SYN (every
# 2nd SYN to 8080, the connections are sequential). The client's kernel ignores a RST without
# ACK in SYN-SENT, retries the SYN 1 s later, the real server answers (SYN-ACK, TTL 63) and the
# connection completes: 8 HTTP requests, all 200. A reset before the real SYN-ACK of a
# connection that then goes on is not a refusal: no service_down.
. "$(dirname "$0")/lib.sh"
gen_init rst-before-synack
gen_routed
CAP_NS=$NS_C
CAP_IF=$VETH_C
in_c sysctl -qw net.ipv4.tcp_syn_retries=2
in_c sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0 2>/dev/null || true
RULE="-p tcp -d $S4 --dport 8080 --syn -m statistic --mode nth --every 2 --packet 0 -j DROP"
ip netns exec "$NS_R" iptables -A FORWARD $RULE
ip netns exec "$NS_R" taskset -c 0 "$GEN_PY" "$GEN_TOOL" rst-injector --iface "$VETH_RC" --port 8080 --ttl 64 \
	--count 8 --lifetime 60 --log "$GEN_TMP/injector.jsonl" &
GEN_PIDS+=("$!")
bg_s "$GEN_PY" "$GEN_TOOL" http-server --host 0.0.0.0 --port 8080 --log "$GEN_TMP/server.jsonl" --lifetime 60
wait_port "$NS_S" 8080
sleep 0.5
cap_start tcp
in_c timeout 60 "$GEN_PY" "$GEN_TOOL" http-client --host "$S4" --port 8080 --plan close:8 --gap 0.5 \
	--out "$GEN_TMP/client.json"
cap_stop
SINCE=$("$GEN_PY" -c 'import json, sys; print(min(json.loads(l)["ts"] for l in open(sys.argv[1]) if "forged_rst" in l))' \
	"$GEN_TMP/injector.jsonl") || gen_die "the injector forged no RST"
N=$(ip netns exec "$NS_R" iptables -L FORWARD -v -n -x | awk '$3=="DROP"{print $1}')
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" --part injector="$GEN_TMP/injector.jsonl" \
	--set "topology=client 10.99.1.1 - router (10.99.1.254 | 10.99.2.254) - server $S4; tap: the client's veth" \
	--set "loss_rule=router iptables FORWARD: $RULE ($N SYNs dropped); router fmgen.py rst-injector on $VETH_RC: a forged RST (no ACK, TTL 64) for the first SYN of each connection" \
	--set "client_sysctls=tcp_syn_retries=2 tcp_syn_linear_timeouts=$(in_c sysctl -n net.ipv4.tcp_syn_linear_timeouts 2>/dev/null || echo n/a)" \
	--set "expected=8 connections to $S4:8080, each: SYN, forged RST from the router (source $S4:8080, TTL 64, no ACK; the client ignores it), SYN retry ~1 s later, SYN-ACK from the real server (TTL 63), one HTTP request answered 200: every connection succeeds; not refused, not service_down" \
	--forbid "{\"cause\":\"service_down\",\"server\":\"$S4:8080\"}" --forbid "{\"cause\":\"host_unreachable\",\"server\":\"$S4:8080\"}" \
	--incident "{\"cause\":\"forged_resets\",\"server\":\"$S4:8080\",\"since\":$SINCE,\"until\":null,\"required\":false}"
