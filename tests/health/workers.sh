#!/bin/sh
# tests/health/workers.sh - server health cut for --workers (analyzers/det_health.c, "What
# the server half reads, and when"): the ops no sample nor corpus capture makes give what one
# engine gives. A synthetic capture (tests/health/workers_gen.py): a request never answered,
# counted slow at its flow's end in a later interval than the flow's last segment (HOP_SLOW
# with HOPF_ACTIVE: the server's only mark of activity there), and a client reset during the
# handshake (HOPF_FAILED_RESET). --workers 1, 2 and 4 must give the same sorted JSON lines,
# and those rows must be there (so the comparison is not of empty outputs).
. "$(dirname "$0")/../lib.sh"
fm_need python3
fm_need_flowmedic --fail
fm_tmpdir
python3 "$top_srcdir/tests/health/workers_gen.py" "$tmp/h.pcap" || { echo "FAIL: generator"; exit 1; }
fm_workers_same "$tmp/h.pcap"
for n in 1 2 4; do
    rows=$(grep '"type":"health"' "$tmp/out$n")
    if echo "$rows" | grep '"server":"10.93.0.1:80","start":1700000010\.' |
        grep -q '"slow_responses":1'; then
        ok "--workers $n: the slow response counted at the flow's end has its row"
    else
        bad "--workers $n: no row of 10.93.0.1:80 from 10 s with slow_responses 1"
    fi
    if echo "$rows" | grep '"server":"10.94.0.1:80"' | grep -q '"reset":1,'; then
        ok "--workers $n: the handshake reset is counted (failed.reset 1)"
    else
        bad "--workers $n: no row of 10.94.0.1:80 with failed.reset 1"
    fi
done
exit "$fail"
