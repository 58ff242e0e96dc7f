#!/bin/bash
# tests/gen/dependency.sh: samples/dependency.pcap - three namespaces: client 10.99.1.1 - server
# 10.99.1.2 (also 10.99.3.1) - backend 10.99.3.2. The server's HTTP handler on :8080 makes its
# own HTTP request to the backend (10.99.3.2:9090, a new connection each time) for every request
# it serves, and answers when the backend has answered. The client sends one request every
# 0.45-0.65 s for 46 s (100-byte bodies); from 8 s to 18 s after the capture starts the backend
# answers after 6 s, so the server's answers are 6 s late too; 22 s of recovery follow. The capture runs on the server host (tcpdump -i any
# in its namespace: link type LINUX_SLL2) and sees both legs.
# Expected: slow_responses on 10.99.1.2:8080 naming the dependency 10.99.3.2:9090 as the likely
# cause, and slow_responses on the backend 10.99.3.2:9090 itself.
. "$(dirname "$0")/lib.sh"
gen_init dependency
gen_pair
NS_B=$NS_R
B4=10.99.3.2
ns_new "$NS_B"
ip link add "$VETH_RS" netns "$NS_S" type veth peer name "$VETH_RC" netns "$NS_B"
veth_quiet "$NS_S" "$VETH_RS"
veth_quiet "$NS_B" "$VETH_RC"
ip -n "$NS_S" addr add 10.99.3.1/24 dev "$VETH_RS"
ip -n "$NS_B" addr add "$B4/24" dev "$VETH_RC"
ip -n "$NS_S" link set "$VETH_RS" up
ip -n "$NS_B" link set "$VETH_RC" up
neigh_static "$NS_S" "$VETH_RS" "$NS_B" "$VETH_RC" "$B4" ""
neigh_static "$NS_B" "$VETH_RC" "$NS_S" "$VETH_RS" 10.99.3.1 ""
CAP_NS=$NS_S
CAP_IF=any
CAP_OPTS="-B 8192"
epoch() { "$GEN_PY" -c 'import time; print("%.6f" % time.time())'; }
add() { "$GEN_PY" -c 'import sys; print("%.6f" % (float(sys.argv[1]) + float(sys.argv[2])))' "$1" "$2"; }
cap_start "tcp"
T0=$(epoch)
FS=$(add "$T0" 8)
FE=$(add "$FS" 10)
ip netns exec "$NS_B" taskset -c 0 "$GEN_PY" "$GEN_TOOL" window-server --host "$B4" --port 9090 --fault slow \
	--window "$FS:$FE" --delay 6 --body-bytes 100 --log "$GEN_TMP/backend.jsonl" --lifetime 70 &
GEN_PIDS+=("$!")
wait_port "$NS_B" 9090
bg_s "$GEN_PY" "$GEN_TOOL" window-server --host "$S4" --port 8080 --backend "$B4:9090" --body-bytes 100 --log "$GEN_TMP/server.jsonl" \
	--lifetime 70
wait_port "$NS_S" 8080
in_c timeout 90 "$GEN_PY" "$GEN_TOOL" steady-client --host "$S4" --port 8080 --duration 46 --min-gap 0.45 --max-gap 0.65 --timeout 15 \
	--out "$GEN_TMP/client.json"
cap_stop
# the faults as measured: the backend's slow answers (window start .. last slow answer sent) and
# the server's answers that waited for them
read -r BS BE SS SE <<<"$("$GEN_PY" - "$GEN_TMP/backend.jsonl" "$GEN_TMP/server.jsonl" "$FS" <<'PY'
import json, sys
b = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
s = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
fs = float(sys.argv[3])
slow_b = [r for r in b if r.get("in_fault_window")]
slow_s = [r for r in s if r.get("event") == "request" and r.get("backend_s", 0) > 5]
print("%.6f %.6f %.6f %.6f" % (fs, max(r["ts"] for r in slow_b), min(r["t_request"] for r in slow_s),
                               max(r["ts"] for r in slow_s)))
PY
)"
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" --part backend="$GEN_TMP/backend.jsonl" \
	--set "topology=client $C4 - server $S4 / 10.99.3.1 - backend $B4; tap: tcpdump -i any in the server's namespace" \
	--set loss_rule=none --set "fault=backend $B4:9090 answers after 6 s from 8 s to 18 s after the capture started" \
	--set "expected=every request to $S4:8080 makes one request to $B4:9090 (the server's own outbound connection); while the backend is slow (since..until) both the backend's and the server's responses take ~6 s; the network is fast (RTT microseconds): the server's slowness is its dependency's" \
	--incident "{\"cause\":\"slow_responses\",\"server\":\"$S4:8080\",\"since\":$SS,\"until\":$SE,\"mentions\":[\"$B4:9090\"],\"evidence_after\":5,\"tolerance\":{\"open\":15,\"close\":20}}" \
	--incident "{\"cause\":\"slow_responses\",\"server\":\"$B4:9090\",\"since\":$BS,\"until\":$BE,\"evidence_after\":5,\"tolerance\":{\"open\":15,\"close\":20}}"
