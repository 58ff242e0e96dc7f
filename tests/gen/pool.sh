#!/bin/bash
# tests/gen/pool.sh: samples/pool.pcap - a pool of 4 backends on the same port (10.99.1.11-14,
# :8080, four server processes in the server namespace, each bound to its own address) used by
# the same 3 clients (10.99.1.1, .3, .4) round-robin, one request per connection every 0.22-0.32 s
# for 48 s, captured on the clients' veth (the balancer's mirror port). From 10 s to 20 s after
# the capture starts the 4th backend (10.99.1.14) answers after 6 s; its 3 peers stay fast.
# Expected: slow_responses on 10.99.1.14:8080 only, naming it as the outlier of the pool
# ("1 of 4"); no incident for 10.99.1.11-13.
. "$(dirname "$0")/lib.sh"
gen_init pool
gen_pair
POOL="10.99.1.11 10.99.1.12 10.99.1.13 10.99.1.14"
CLIENTS="$C4 10.99.1.3 10.99.1.4"
for a in $POOL; do
	ip -n "$NS_S" addr add "$a/24" dev "$VETH_S"
	neigh_static "$NS_C" "$VETH_C" "$NS_S" "$VETH_S" "$a" ""
done
for a in 10.99.1.3 10.99.1.4; do
	ip -n "$NS_C" addr add "$a/24" dev "$VETH_C"
	neigh_static "$NS_S" "$VETH_S" "$NS_C" "$VETH_C" "$a" ""
done
epoch() { "$GEN_PY" -c 'import time; print("%.6f" % time.time())'; }
add() { "$GEN_PY" -c 'import sys; print("%.6f" % (float(sys.argv[1]) + float(sys.argv[2])))' "$1" "$2"; }
cap_start "tcp"
T0=$(epoch)
FS=$(add "$T0" 10)
FE=$(add "$FS" 10)
for a in $POOL; do
	f=none
	[ "$a" = 10.99.1.14 ] && f=slow
	bg_s "$GEN_PY" "$GEN_TOOL" window-server --host "$a" --port 8080 --fault $f --window "$FS:$FE" --delay 6 \
		--log "$GEN_TMP/server-$a.jsonl" --lifetime 70
done
for a in $POOL; do
	ip netns exec "$NS_S" ss -Hltn "sport = :8080" | grep -q "$a:8080" || sleep 0.5
done
wait_port "$NS_S" 8080
in_c timeout 90 "$GEN_PY" "$GEN_TOOL" steady-client --host "${POOL// /,}" --src "${CLIENTS// /,}" --port 8080 \
	--duration 48 --min-gap 0.22 --max-gap 0.32 --timeout 15 --out "$GEN_TMP/client.json"
cap_stop
FE=$("$GEN_PY" -c '
import json, sys
log = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print("%.6f" % max([float(sys.argv[2])] + [r["ts"] for r in log if r.get("in_fault_window")]))' \
	"$GEN_TMP/server-10.99.1.14.jsonl" "$FE")
PARTS=()
for a in $POOL; do PARTS+=(--part "server_$a=$GEN_TMP/server-$a.jsonl"); done
gen_finish --part client="$GEN_TMP/client.json" "${PARTS[@]}" --set loss_rule=none \
	--set "topology=clients $CLIENTS and backends $POOL (:8080) on one veth; tap: the clients' side" \
	--set "fault=10.99.1.14:8080 answers after 6 s from 10 s to 20 s after the capture started; until = its last slow answer" \
	--set "expected=12 client/backend pairs, one request per connection, all 200; 10.99.1.14:8080 is slow (~6 s) for its requests in the window while 10.99.1.11-13 answer in ~1 ms: the slow backend is the pool's outlier (1 of 4)" \
	--incident "{\"cause\":\"slow_responses\",\"server\":\"10.99.1.14:8080\",\"since\":$FS,\"until\":$FE,\"mentions\":[\"1 of 4\"],\"evidence_after\":5,\"tolerance\":{\"open\":15,\"close\":20}}"
