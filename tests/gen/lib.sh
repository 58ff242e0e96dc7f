# shellcheck shell=bash
# tests/gen/lib.sh: shared helpers for the sample generator scenarios (sourced, not run).
#
# Every scenario script does:
#   . "$(dirname "$0")/lib.sh"
#   gen_init <sample-name>          # checks tools, makes a temp dir, installs the cleanup trap
#   gen_pair                        # client ns <-> server ns over one veth pair (or gen_routed)
#   cap_start                       # tcpdump on the client-side veth (a tap between the two)
#   ... traffic: in_c / in_s run a command in the client / server namespace, pinned to CPU 0 ...
#   cap_stop
#   gen_finish --part client="$GEN_TMP/client.json" --set loss_rule="..."
#
# Addresses: client 10.99.1.1 / fd99::1, server 10.99.1.2 / fd99::2 (routed layout: client
# 10.99.1.1, router 10.99.1.254 / 10.99.2.254, server 10.99.2.2; fd99:1::/64 and fd99:2::/64).
# All traffic stays inside the namespaces this script creates; the trap removes every namespace,
# veth, temp dir and process it made, on success and on failure alike.

set -euo pipefail

GEN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GEN_TOP=$(cd "$GEN_DIR/../.." && pwd)
GEN_SAMPLES=${GEN_SAMPLES:-$GEN_TOP/samples}
GEN_PY=/usr/bin/python3
GEN_TOOL="$GEN_DIR/fmgen.py"
GEN_ID="fmgen-$$"
NS_C="$GEN_ID-c"
NS_S="$GEN_ID-s"
NS_R="$GEN_ID-r"
# veth names are limited to 15 characters
VETH_C="fmc$$"
VETH_S="fms$$"
VETH_RC="fmrc$$"
VETH_RS="fmrs$$"
C4=10.99.1.1
S4=10.99.1.2
C6=fd99::1
S6=fd99::2
CAP_IF=""
CAP_NS=""
CAP_PID=""
GEN_NAMESPACES=()
GEN_PIDS=()
GEN_NAME=""
GEN_TMP=""
GEN_PCAP=""
GEN_START_TS=""

gen_log() { printf '[%s %s] %s\n' "$(date +%H:%M:%S)" "${GEN_NAME:-gen}" "$*" >&2; }
gen_die() { gen_log "ERROR: $*"; exit 1; }

gen_cleanup() {
	local rc=$? ns p
	set +e
	trap - EXIT INT TERM
	if [ -n "$CAP_PID" ] && kill -0 "$CAP_PID" 2>/dev/null; then
		kill -TERM "$CAP_PID" 2>/dev/null
		timeout 5 tail --pid="$CAP_PID" -f /dev/null 2>/dev/null
	fi
	for p in "${GEN_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for ns in "${GEN_NAMESPACES[@]}"; do
		# only processes living in our own namespaces
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null
		done
	done
	sleep 0.2
	for ns in "${GEN_NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for p in "$VETH_C" "$VETH_S" "$VETH_RC" "$VETH_RS"; do
		ip link del "$p" 2>/dev/null
	done
	if [ -n "$GEN_TMP" ] && [ -d "$GEN_TMP" ] && [ -z "${GEN_KEEP_TMP:-}" ]; then
		rm -rf "$GEN_TMP"
	fi
	if ip netns list 2>/dev/null | grep -q "^$GEN_ID-"; then
		gen_log "WARNING: namespaces left behind: $(ip netns list | grep "^$GEN_ID-" | tr '\n' ' ')"
	fi
	if [ "$rc" -ne 0 ]; then
		gen_log "failed (exit $rc)"
	fi
	exit "$rc"
}

# gen_init NAME: check the environment, make the temp dir, install the trap.
gen_init() {
	GEN_NAME=$1
	[ "$(id -u)" -eq 0 ] || gen_die "needs root (network namespaces, iptables, tcpdump)"
	local t
	for t in ip iptables ip6tables ethtool tcpdump tshark taskset timeout nstat; do
		command -v "$t" >/dev/null 2>&1 || gen_die "missing tool: $t"
	done
	[ -x "$GEN_PY" ] || gen_die "missing $GEN_PY"
	trap gen_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	GEN_TMP=$(mktemp -d "/tmp/$GEN_ID-$GEN_NAME.XXXXXX")
	chmod 755 "$GEN_TMP"
	GEN_PCAP="$GEN_TMP/$GEN_NAME.pcap"
	mkdir -p "$GEN_SAMPLES"
	GEN_START_TS=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	gen_log "temp dir $GEN_TMP, namespaces $GEN_ID-*"
}

# ns_new NAME: create a namespace with loopback up and remember it for cleanup.
ns_new() {
	ip netns add "$1"
	GEN_NAMESPACES+=("$1")
	ip -n "$1" link set lo up
}

# veth_quiet NS IF: offloads off (wire-sized frames), no IPv6 router solicitations / DAD noise.
veth_quiet() {
	local ns=$1 ifc=$2
	ip netns exec "$ns" ethtool -K "$ifc" tso off gso off gro off tx off rx off >/dev/null 2>&1 ||
		ip netns exec "$ns" ethtool -K "$ifc" tso off gso off gro off >/dev/null 2>&1 || true
	ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifc.accept_ra=0" "net.ipv6.conf.$ifc.router_solicitations=0" \
		"net.ipv6.conf.$ifc.dad_transmits=0" >/dev/null 2>&1 || true
}

# neigh_static NS IF PEER_NS PEER_IF ADDR4 [ADDR6]: permanent neighbour entry in NS for the peer.
neigh_static() {
	local mac
	mac=$(ip -n "$3" -o link show "$4" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
	[ -n "$mac" ] || gen_die "no MAC for $4"
	ip -n "$1" neigh replace "$5" lladdr "$mac" dev "$2" nud permanent
	[ -z "$6" ] || ip -n "$1" -6 neigh replace "$6" lladdr "$mac" dev "$2" nud permanent
}

# gen_pair: two namespaces, one veth pair between them.
gen_pair() {
	ns_new "$NS_C"
	ns_new "$NS_S"
	ip link add "$VETH_C" netns "$NS_C" type veth peer name "$VETH_S" netns "$NS_S"
	veth_quiet "$NS_C" "$VETH_C"
	veth_quiet "$NS_S" "$VETH_S"
	ip -n "$NS_C" addr add "$C4/24" dev "$VETH_C"
	ip -n "$NS_S" addr add "$S4/24" dev "$VETH_S"
	ip -n "$NS_C" addr add "$C6/64" dev "$VETH_C" nodad
	ip -n "$NS_S" addr add "$S6/64" dev "$VETH_S" nodad
	ip -n "$NS_C" link set "$VETH_C" up
	ip -n "$NS_S" link set "$VETH_S" up
	CAP_NS=$NS_C
	CAP_IF=$VETH_C
	# static neighbours: the capture holds no ARP/ND and no first-packet delay (no ping here)
	neigh_static "$NS_C" "$VETH_C" "$NS_S" "$VETH_S" "$S4" "$S6"
	neigh_static "$NS_S" "$VETH_S" "$NS_C" "$VETH_C" "$C4" "$C6"
}

# gen_routed: client ns - router ns - server ns (two veth pairs). The capture runs on the
# router's server-facing veth, so a drop in the router's FORWARD chain is upstream of the tap for
# client->server packets and downstream of it for server->client packets.
gen_routed() {
	ns_new "$NS_C"
	ns_new "$NS_R"
	ns_new "$NS_S"
	ip link add "$VETH_C" netns "$NS_C" type veth peer name "$VETH_RC" netns "$NS_R"
	ip link add "$VETH_S" netns "$NS_S" type veth peer name "$VETH_RS" netns "$NS_R"
	veth_quiet "$NS_C" "$VETH_C"
	veth_quiet "$NS_R" "$VETH_RC"
	veth_quiet "$NS_R" "$VETH_RS"
	veth_quiet "$NS_S" "$VETH_S"
	S4=10.99.2.2
	C6=none
	S6=none
	ip -n "$NS_C" addr add "$C4/24" dev "$VETH_C"
	ip -n "$NS_R" addr add 10.99.1.254/24 dev "$VETH_RC"
	ip -n "$NS_R" addr add 10.99.2.254/24 dev "$VETH_RS"
	ip -n "$NS_S" addr add "$S4/24" dev "$VETH_S"
	local l
	for l in "$NS_C:$VETH_C" "$NS_R:$VETH_RC" "$NS_R:$VETH_RS" "$NS_S:$VETH_S"; do
		ip -n "${l%%:*}" link set "${l#*:}" up
	done
	ip -n "$NS_C" route add default via 10.99.1.254
	ip -n "$NS_S" route add default via 10.99.2.254
	ip netns exec "$NS_R" sysctl -qw net.ipv4.ip_forward=1
	CAP_NS=$NS_R
	CAP_IF=$VETH_RS
	neigh_static "$NS_C" "$VETH_C" "$NS_R" "$VETH_RC" 10.99.1.254 ""
	neigh_static "$NS_R" "$VETH_RC" "$NS_C" "$VETH_C" "$C4" ""
	neigh_static "$NS_R" "$VETH_RS" "$NS_S" "$VETH_S" "$S4" ""
	neigh_static "$NS_S" "$VETH_S" "$NS_R" "$VETH_RS" 10.99.2.254 ""
}

# in_c / in_s / in_r CMD...: run in a namespace, pinned to CPU 0.
in_c() { ip netns exec "$NS_C" taskset -c 0 "$@"; }
in_s() { ip netns exec "$NS_S" taskset -c 0 "$@"; }
in_r() { ip netns exec "$NS_R" taskset -c 0 "$@"; }

# bg_s / bg_c CMD...: start in the background in a namespace; the pid goes into $BG_PID.
bg_s() {
	ip netns exec "$NS_S" taskset -c 0 "$@" &
	BG_PID=$!
	GEN_PIDS+=("$BG_PID")
}
bg_c() {
	ip netns exec "$NS_C" taskset -c 0 "$@" &
	BG_PID=$!
	GEN_PIDS+=("$BG_PID")
}

# py ARGS...: the generator's Python helper (stdlib only).
py() { "$GEN_PY" "$GEN_TOOL" "$@"; }

# wait_port NS PORT: until something listens on PORT in NS (bounded: 5 s).
wait_port() {
	local ns=$1 port=$2 _
	for _ in $(seq 1 50); do
		if ip netns exec "$ns" ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
			return 0
		fi
		sleep 0.1
	done
	gen_die "nothing listens on port $port in $ns"
}

# cap_start [FILTER]: tcpdump on the tap interface; waits until it listens, then 0.5 s more.
# $CAP_OPTS, when set, adds tcpdump options (dependency.sh: a larger buffer for -i any).
# The default filter keeps out IPv6 multicast (the kernel's MLD reports when a veth comes up).
cap_start() {
	local filter=${1:-not ip6 multicast}
	# shellcheck disable=SC2086 # CAP_OPTS: extra tcpdump options (e.g. -B 8192 for -i any)
	ip netns exec "$CAP_NS" taskset -c 0 tcpdump -i "$CAP_IF" -w "$GEN_PCAP" --immediate-mode -U -s 0 \
		${CAP_OPTS:-} -Z root -n "$filter" 2>"$GEN_TMP/tcpdump.err" &
	CAP_PID=$!
	local _
	for _ in $(seq 1 50); do
		grep -q "listening on" "$GEN_TMP/tcpdump.err" 2>/dev/null && break
		sleep 0.1
	done
	grep -q "listening on" "$GEN_TMP/tcpdump.err" || gen_die "tcpdump did not start: $(cat "$GEN_TMP/tcpdump.err")"
	sleep 0.5
}

# cap_stop: SIGTERM tcpdump (after a short settle) and wait for it to write its last packets.
cap_stop() {
	sleep 0.5
	kill -TERM "$CAP_PID"
	timeout 10 tail --pid="$CAP_PID" -f /dev/null || true
	wait "$CAP_PID" 2>/dev/null || true
	CAP_PID=""
	grep -E "captured|dropped" "$GEN_TMP/tcpdump.err" >&2 || true
	if grep -qE "^[1-9][0-9]* packets dropped by kernel" "$GEN_TMP/tcpdump.err"; then
		gen_die "tcpdump reported kernel drops"
	fi
}

# nstat_snap NS FILE: absolute listen-queue counters of a namespace, as JSON.
nstat_snap() {
	ip netns exec "$1" nstat -azs TcpExtListenOverflows TcpExtListenDrops TcpExtTCPReqQFullDrop \
		TcpExtTCPReqQFullDoCookies TcpExtSyncookiesSent TcpExtTCPTimeouts TcpRetransSegs TcpAttemptFails \
		TcpExtTCPAbortOnData 2>/dev/null | "$GEN_PY" "$GEN_TOOL" nstat-json >"$2"
}

# gen_finish [--part KEY=FILE.json] [--set KEY=VALUE] [--json KEY=JSON]: copy the capture into
# samples/, check it with tshark and write samples/<name>.truth.json.
gen_finish() {
	[ -s "$GEN_PCAP" ] || gen_die "empty capture"
	cp "$GEN_PCAP" "$GEN_SAMPLES/$GEN_NAME.pcap"
	chmod 644 "$GEN_SAMPLES/$GEN_NAME.pcap"
	"$GEN_PY" "$GEN_DIR/truth.py" --pcap "$GEN_SAMPLES/$GEN_NAME.pcap" \
		--out "$GEN_SAMPLES/$GEN_NAME.truth.json" --name "$GEN_NAME" \
		--set "script=tests/gen/$(basename "$0")" --set "generated=$GEN_START_TS" \
		--set "client_ns_addr=$C4,$C6" --set "server_ns_addr=$S4,$S6" \
		--set "tap=$CAP_IF in the $([ "$CAP_NS" = "$NS_R" ] && echo router || echo client) namespace" "$@"
	gen_log "wrote $GEN_SAMPLES/$GEN_NAME.pcap ($(stat -c %s "$GEN_SAMPLES/$GEN_NAME.pcap") bytes) and .truth.json"
}
