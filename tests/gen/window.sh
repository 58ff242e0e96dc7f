#!/bin/bash
# tests/gen/window.sh CASE: samples/CASE.pcap - a fault that starts and ends in the middle of
# steady background traffic. A client (10.99.1.1) opens one HTTP/1.1 connection per request
# (Connection: close) every 0.3-0.5 s for 44 s (slow-window: 50 s) to a server on 10.99.1.2:8080;
# 12 s after the capture starts the fault begins and 10 s later it ends, then 22 s of normal
# traffic follow (time enough for an interval-based verdict to see the recovery).
# The fault's real start and end (as the server or the shell measured them) go into the truth
# file's "incidents" list for tests/incidents/check.py. The client's SYN retries are the
# classic back-off (tcp_syn_retries=2, tcp_syn_linear_timeouts=0: SYNs at 0, +1 s, +3 s).
# CASE:
#   service-down-window  the server closes its listening socket for 10 s (refused), then listens again
#   firewall-window      the server's INPUT drops SYNs to 8080 for 10 s, then the rule is removed
#   network-loss         both receivers' INPUT drop every 12th data segment (~8 %) for 10 s
#   server-resets        for 10 s the server reads each request and aborts (SO_LINGER 0: RST)
#   slow-window          for 10 s every request is answered after 6 s
#   http-5xx-window      for 10 s every request is answered 503
#   receiver-stall       steady HTTP on 8080, and at the fault start a 60 KB upload to :5001
#                        whose reader (SO_RCVBUF 8192) reads nothing for 10 s: zero window
CASE=${1:?usage: $0 CASE}
LEAD=12
FAULT=10
DURATION=44
SFAULT=none
case "$CASE" in
service-down-window) SFAULT=down ;;
firewall-window | network-loss | receiver-stall) ;;
server-resets) SFAULT=abort ;;
slow-window) SFAULT=slow; DURATION=50 ;; # answers end 6 s after the window: 22 s of recovery follow
http-5xx-window) SFAULT=error ;;
*) echo "unknown case $CASE" >&2; exit 2 ;;
esac
. "$(dirname "$0")/lib.sh"
gen_init "$CASE"
gen_pair
in_c sysctl -qw net.ipv4.tcp_syn_retries=2
in_c sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0 2>/dev/null || true
epoch() { "$GEN_PY" -c 'import time; print("%.6f" % time.time())'; }
sleep_until() { "$GEN_PY" -c 'import sys, time; time.sleep(max(0.0, min(120.0, float(sys.argv[1]) - time.time())))' "$1"; }
add() { "$GEN_PY" -c 'import sys; print("%.6f" % (float(sys.argv[1]) + float(sys.argv[2])))' "$1" "$2"; }
cap_start "tcp"
T0=$(epoch)
FS=$(add "$T0" $LEAD)
FE=$(add "$FS" $FAULT)
bg_s "$GEN_PY" "$GEN_TOOL" window-server --host 0.0.0.0 --port 8080 --fault "$SFAULT" --window "$FS:$FE" \
	--delay 6 --status 503 --log "$GEN_TMP/server.jsonl" --lifetime $((DURATION + 20))
wait_port "$NS_S" 8080
bg_c timeout $((DURATION + 40)) "$GEN_PY" "$GEN_TOOL" steady-client --host "$S4" --port 8080 --duration $DURATION \
	--timeout 10 --out "$GEN_TMP/client.json"
CLIENT_PID=$BG_PID
RULES=none
STALL=""
case "$CASE" in
firewall-window)
	RULE="-p tcp --dport 8080 --syn -j DROP"
	sleep_until "$FS"
	ip netns exec "$NS_S" iptables -A INPUT $RULE
	FS=$(epoch)
	sleep_until "$FE"
	ip netns exec "$NS_S" iptables -L INPUT -v -n -x >"$GEN_TMP/ipt.txt"
	ip netns exec "$NS_S" iptables -D INPUT $RULE
	FE=$(epoch)
	RULES="server ns iptables INPUT: $RULE, from since to until ($(awk '$3=="DROP"{print $1}' "$GEN_TMP/ipt.txt") SYNs dropped)"
	;;
network-loss)
	R1="-p tcp --dport 8080 -m length --length 100:65535 -m statistic --mode nth --every 12 --packet 11 -j DROP"
	R2="-p tcp --sport 8080 -m length --length 100:65535 -m statistic --mode nth --every 12 --packet 11 -j DROP"
	sleep_until "$FS"
	ip netns exec "$NS_S" iptables -A INPUT $R1
	ip netns exec "$NS_C" iptables -A INPUT $R2
	FS=$(epoch)
	sleep_until "$FE"
	D1=$(ip netns exec "$NS_S" iptables -L INPUT -v -n -x | awk '$3=="DROP"{print $1}')
	D2=$(ip netns exec "$NS_C" iptables -L INPUT -v -n -x | awk '$3=="DROP"{print $1}')
	ip netns exec "$NS_S" iptables -D INPUT $R1
	ip netns exec "$NS_C" iptables -D INPUT $R2
	FE=$(epoch)
	RULES="from since to until: server ns iptables INPUT $R1 ($D1 dropped); client ns iptables INPUT $R2 ($D2 dropped)"
	;;
receiver-stall)
	bg_s "$GEN_PY" "$GEN_TOOL" bulk-server --host 0.0.0.0 --port 5001 --mode slow-sink --rcvbuf 8192 \
		--initial-pause $FAULT --read-size 65536 --read-delay 0 --log "$GEN_TMP/stall-server.jsonl" --lifetime 60
	wait_port "$NS_S" 5001
	sleep_until "$FS"
	FS=$(epoch)
	in_c timeout 60 "$GEN_PY" "$GEN_TOOL" bulk-client --host "$S4" --port 5001 --mode upload --bytes 60000 \
		--out "$GEN_TMP/stall-client.json"
	STALL="--part stall_server=$GEN_TMP/stall-server.jsonl --part stall_client=$GEN_TMP/stall-client.json"
	;;
esac
wait "$CLIENT_PID" || true
cap_stop
# where the server measured the window itself (down: socket closed / listening again; slow: the
# last slow answer was sent up to 6 s after the window's end)
read -r FS FE <<<"$("$GEN_PY" - "$GEN_TMP/server.jsonl" "$FS" "$FE" "$CASE" "${GEN_TMP}" <<'PY'
import json, sys
log = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
fs, fe, case = float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
for r in log:
    if r.get("event") == "fault_start": fs = r["ts"]
    if r.get("event") == "fault_end": fe = r["ts"]
if case == "slow-window":
    fe = max([fe] + [r["ts"] for r in log if r.get("in_fault_window")])
if case == "receiver-stall":
    srv = [json.loads(l) for l in open(sys.argv[5] + "/stall-server.jsonl") if l.strip()]
    # the reader resumes initial_pause seconds after accept; the record is written at the end
    fe = fs + 10.0
print("%.6f %.6f" % (fs, fe))
PY
)"
case "$CASE" in
service-down-window) CAUSE=service_down; SRV=$S4:8080; EXP="the server stops listening at since (connection attempts refused: RST to SYN) and listens again at until; requests before and after succeed" ;;
firewall-window) CAUSE=host_unreachable; SRV=$S4:8080; EXP="SYNs to 8080 are dropped by the server's firewall from since to until: no SYN-ACK, no RST; attempts made in the window time out (3 SYNs, ETIMEDOUT) unless a retry falls after until" ;;
network-loss) CAUSE=network_loss; SRV=$S4:8080; EXP="from since to until every 12th data segment in each direction is dropped by the receiver (seen at the tap, lost downstream of it): retransmissions on ~8 % of data segments; before and after no loss" ;;
server-resets) CAUSE=server_resets; SRV=$S4:8080; EXP="from since to until the server reads each request and aborts the connection (SO_LINGER 0): RST from the server on an established connection, no response; the client gets ECONNRESET" ;;
slow-window) CAUSE=slow_responses; SRV=$S4:8080; EXP="requests that arrive between the window start (since) and end are answered after 6 s (server think time, the network RTT stays at microseconds); until is when the last slow answer was sent" ;;
http-5xx-window) CAUSE=http_errors; SRV=$S4:8080; EXP="requests between since and until are answered 503 Service Unavailable, all others 200" ;;
receiver-stall) CAUSE=receiver_stall; SRV=$S4:5001; EXP="a 60000-byte upload to :5001 starts at since; the server application reads nothing for 10 s (SO_RCVBUF 8192): it advertises a zero window, the client sends zero-window probes, until the reader drains everything at until; the steady HTTP traffic on 8080 is clean" ;;
esac
CLOSE=10
case "$CAUSE" in network_loss | http_errors | slow_responses) CLOSE=20 ;; esac
EVID=0
[ "$CAUSE" = slow_responses ] && EVID=5 # a response is known to be slow only once it is 5 s late
INC=$(printf '{"cause":"%s","server":"%s","since":%s,"until":%s,"evidence_after":%s,"tolerance":{"open":15,"close":%s}}' \
	"$CAUSE" "$SRV" "$FS" "$FE" "$EVID" "$CLOSE")
# shellcheck disable=SC2086 # STALL is a list of options
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" $STALL \
	--set "loss_rule=$RULES" --set "fault=$CASE: starts $LEAD s after the capture, lasts $FAULT s" \
	--set "client_sysctls=tcp_syn_retries=2 tcp_syn_linear_timeouts=$(in_c sysctl -n net.ipv4.tcp_syn_linear_timeouts 2>/dev/null || echo n/a)" \
	--set "kernel=$(uname -r)" --set "expected=$EXP" --incident "$INC"
