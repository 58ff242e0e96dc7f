#!/bin/sh
# tests/incidents/workers.sh - the incident layer cut for --workers (analyzers/incident.c,
# "Batching") gives what one engine gives where the cut could tell: a synthetic capture
# (tests/incidents/workers_gen.py) with more servers than the layer's 512 slots (recycled
# between ticks by last activity), lone SYNs decided at the end of input by the layer's clock,
# refusals, loss retransmissions, a stalled zero window and forged resets. --workers 1, 2 and
# 4 must give the same sorted JSON lines, and the incidents the capture was made for must be
# there (so the comparison is not of empty outputs).
. "$(dirname "$0")/../lib.sh"
fm_need python3
fm_need_flowmedic --fail
fm_tmpdir
python3 "$top_srcdir/tests/incidents/workers_gen.py" "$tmp/w.pcap" || { echo "FAIL: generator"; exit 1; }
fm_workers_same "$tmp/w.pcap"
flows=$(grep -c '"type":"flow"' "$tmp/out1")
[ "$flows" -eq 749 ] && ok "749 flows" || bad "$flows flows, 749 expected"
for want in "service_down 10.88.0.1:8080" "host_unreachable 10.89.0.1:9000" \
    "network_loss 10.90.0.1:80" "receiver_stall 10.90.0.1:80" "forged_resets 10.91.0.1:443"; do
    cause=${want% *}
    server=${want#* }
    if grep '"type":"incident"' "$tmp/out1" | grep '"event":"open"' |
        grep "\"server\":\"$server\"" | grep -q "\"cause\":\"$cause\""; then
        ok "$cause opens on $server"
    else
        bad "no $cause incident opens on $server"
    fi
done
exit "$fail"
