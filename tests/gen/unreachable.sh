#!/bin/bash
# tests/gen/unreachable.sh: samples/unreachable.pcap - the server namespace drops every SYN it
# receives (iptables INPUT), although an HTTP server listens on 8080: three clients connect
# concurrently and one more 2 s later; each SYN is retried with exponential back-off
# (tcp_syn_retries=2, tcp_syn_linear_timeouts=0: SYNs at 0, +1 s, +3 s) and connect() fails with
# ETIMEDOUT after ~7 s. No SYN-ACK is ever sent.
. "$(dirname "$0")/lib.sh"
gen_init unreachable
gen_pair
in_c sysctl -qw net.ipv4.tcp_syn_retries=2
in_c sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0 2>/dev/null || true
RULE="-p tcp --syn -j DROP"
ip netns exec "$NS_S" iptables -A INPUT $RULE
bg_s "$GEN_PY" "$GEN_TOOL" http-server --host 0.0.0.0 --port 8080 --log "$GEN_TMP/server.jsonl" --lifetime 40
wait_port "$NS_S" 8080
cap_start
bg_c timeout 30 "$GEN_PY" "$GEN_TOOL" probe --host "$S4" --port 8080 --count 3 --concurrent --timeout 20 \
	--out "$GEN_TMP/clients.json"
P1=$BG_PID
sleep 2
in_c timeout 30 "$GEN_PY" "$GEN_TOOL" probe --host "$S4" --port 8080 --count 1 --timeout 20 --out "$GEN_TMP/late.json"
wait "$P1"
cap_stop
ip netns exec "$NS_S" iptables -L INPUT -v -n -x >&2
DROPS=$(ip netns exec "$NS_S" iptables -L INPUT -v -n -x | awk '$3=="DROP"{print $1}')
gen_finish --part clients="$GEN_TMP/clients.json" --part late_client="$GEN_TMP/late.json" \
	--set "loss_rule=server ns iptables INPUT: $RULE ($DROPS SYNs dropped)" \
	--set "client_sysctls=tcp_syn_retries=2 tcp_syn_linear_timeouts=$(in_c sysctl -n net.ipv4.tcp_syn_linear_timeouts 2>/dev/null || echo n/a)" \
	--set "kernel=$(uname -r)" \
	--set "expected=4 connection attempts to $S4:8080 (3 at once, 1 two seconds later), each 3 SYNs (0, +1 s, +3 s), no answer at all, connect() ETIMEDOUT after ~7 s: server unreachable / SYN unanswered; no RST, no SYN-ACK"
