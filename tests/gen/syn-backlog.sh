#!/bin/bash
# tests/gen/syn-backlog.sh [abort]: samples/syn-backlog.pcap - a listener with backlog 2 that
# starts accept()ing only after 2 s and then one connection every 0.3 s, in a server namespace
# with tcp_syncookies=0, tcp_max_syn_backlog=8, tcp_synack_retries=2, hit by 25 concurrent
# clients (tcp_syn_retries=2, so connect() gives up after ~7 s) that each send one line and wait
# for the answer. SYNs are dropped while the SYN queue / accept queue is full (the client
# retries the SYN after 1 s and 3 s); handshakes whose final ACK finds the accept queue full
# leave the client's first data unacknowledged (retransmitted) until the queue has room.
# With "abort": samples/accept-overflow-abort.pcap, the same with tcp_abort_on_overflow=1 (the
# server answers such an ACK with RST).
MODE=${1:-drop}
case "$MODE" in drop) NAME=syn-backlog; ABORT=0 ;; abort) NAME=accept-overflow-abort; ABORT=1 ;;
*) echo "usage: $0 [abort]" >&2; exit 2 ;; esac
. "$(dirname "$0")/lib.sh"
gen_init "$NAME"
gen_pair
PORT=9000
NCLIENTS=${NCLIENTS:-25}
in_s sysctl -qw net.ipv4.tcp_syncookies=0 net.ipv4.tcp_max_syn_backlog=8 net.ipv4.tcp_synack_retries=2 \
	net.ipv4.tcp_abort_on_overflow=$ABORT
# classic exponential SYN back-off (this kernel's default, tcp_syn_linear_timeouts=4, retries
# a SYN every second for the first 4 retries)
in_c sysctl -qw net.ipv4.tcp_syn_retries=2
in_c sysctl -qw net.ipv4.tcp_syn_linear_timeouts=0 2>/dev/null || true
SYSCTL_S=$(in_s sysctl -n net.ipv4.tcp_syncookies net.ipv4.tcp_max_syn_backlog net.ipv4.tcp_synack_retries \
	net.ipv4.tcp_abort_on_overflow net.core.somaxconn | tr '\n' ' ')
bg_s "$GEN_PY" "$GEN_TOOL" backlog-server --host 0.0.0.0 --port $PORT --backlog 2 --accept-start 2 \
	--accept-delay 0.3 --lifetime 40 --log "$GEN_TMP/server.jsonl"
wait_port "$NS_S" $PORT
nstat_snap "$NS_S" "$GEN_TMP/nstat0.json"
cap_start
in_c timeout 60 "$GEN_PY" "$GEN_TOOL" probe --host "$S4" --port $PORT --count "$NCLIENTS" --concurrent \
	--timeout 25 --send hello --out "$GEN_TMP/client.json"
sleep 1
cap_stop
nstat_snap "$NS_S" "$GEN_TMP/nstat1.json"
DELTA=$("$GEN_PY" -c 'import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
print(json.dumps({k: b.get(k, 0) - a.get(k, 0) for k in sorted(set(a) | set(b))}))' "$GEN_TMP/nstat0.json" "$GEN_TMP/nstat1.json")
gen_log "server nstat deltas: $DELTA"
gen_finish --part clients="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" \
	--json "server_nstat_delta=$DELTA" \
	--set "server_sysctls=tcp_syncookies tcp_max_syn_backlog tcp_synack_retries tcp_abort_on_overflow somaxconn = $SYSCTL_S" \
	--set "client_sysctls=tcp_syn_retries=2 tcp_syn_linear_timeouts=$(in_c sysctl -n net.ipv4.tcp_syn_linear_timeouts 2>/dev/null || echo n/a)" \
	--set "kernel=$(uname -r)" \
	--set "listener=port $PORT, listen(2) (accept queue holds 3), first accept() at +2 s, then one accept every 0.3 s; each accepted connection gets 'OK hello' and is closed" \
	--set "loss_rule=none (no iptables rule: every drop is the server kernel's listen-queue logic)" \
	--set "expected=$NCLIENTS concurrent connects to $S4:$PORT. Per client see clients.attempts: connect ok/timeout (ETIMEDOUT after SYN retries at ~1 s and ~3 s), exchange ok or failed. Server-side SYN drops: TcpExtTCPReqQFullDrop (SYN queue full, no cookies) and TcpExtListenOverflows/ListenDrops (accept queue full); $([ $ABORT = 1 ] && echo 'tcp_abort_on_overflow=1: an ACK completing a handshake while the accept queue is full is answered with RST by the server' || echo 'an ACK completing a handshake while the accept queue is full is dropped (the request is marked acked): the client connect() succeeds, its first data stays unacknowledged and is retransmitted until the accept queue has room (this kernel does not retransmit the SYN-ACK for an acked request)')"
