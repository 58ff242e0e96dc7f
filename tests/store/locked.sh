#!/bin/sh
# locked.sh - another program holding the database's write lock for 12 s during a run loses
# nothing (issue 14, item 4). flowmedic reads a capture fed slowly on stdin (~15 s); meanwhile
# the sqlite3 shell takes BEGIN IMMEDIATE and keeps it 12 s. The writer must wait, keep the
# records queued, and write them all once the lock is released: the database then holds as many
# flows, findings and health rows as the JSON lines of the same run, and the run is complete.
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
fm_need python3 sqlite3
fm_tmpdir
fm=
fm_at_exit '[ -n "$fm" ] && kill "$fm" 2>/dev/null'
pcap="$top_srcdir/samples/syn-backlog.pcap"
[ -f "$pcap" ] || { echo "FAIL: $pcap is missing"; exit 1; }
db="$tmp/locked.db"
# 30 rounds of the sample, 10 s of capture time apart, half a second of wall time apart.
python3 "$top_srcdir/tests/health/replay.py" "$pcap" 30 10 0.5 0 |
    "$FLOWMEDIC" -r - -w "$db" --json >"$tmp/out.json" 2>"$tmp/err" &
fm=$!
# Wait for the run's first commit, then hold the write lock for 12 s.
i=0
while [ $i -lt 100 ]; do
    n=$(sqlite3 "$db" "SELECT count(*) FROM flows" 2>/dev/null)
    [ -n "$n" ] && [ "$n" -gt 0 ] && break
    sleep 0.1
    i=$((i + 1))
done
printf '.timeout 10000\nBEGIN IMMEDIATE;\n.shell sleep 12\nCOMMIT;\n' | sqlite3 "$db" >"$tmp/lock.out" 2>&1
lock_rc=$?
wait "$fm"
rc=$?
fm=
fail=0
if [ "$lock_rc" -ne 0 ]; then
    echo "FAIL: the sqlite3 shell could not take the lock: $(cat "$tmp/lock.out")"
    fail=1
fi
if [ "$rc" -ne 0 ]; then
    echo "FAIL: flowmedic exited $rc: $(tail -n 1 "$tmp/err")"
    fail=1
fi
if ! grep -q "locked by another program" "$tmp/err"; then
    echo "FAIL: flowmedic did not say that it waited for the lock: $(tail -n 1 "$tmp/err")"
    fail=1
fi
run=$(sqlite3 "$db" "SELECT max(id) FROM runs")
for pair in flow:flows finding:findings health:server_health; do
    type=${pair%%:*} table=${pair#*:}
    want=$(grep -c "^{\"type\":\"$type\"" "$tmp/out.json")
    got=$(sqlite3 "$db" "SELECT count(*) FROM $table WHERE run_id = $run")
    if [ "$want" -eq 0 ] || [ "$got" != "$want" ]; then
        echo "FAIL: $got rows in $table, $want \"$type\" JSON lines"
        fail=1
    else
        echo "ok   $table: $got rows = $want JSON lines"
    fi
done
st=$(sqlite3 "$db" "SELECT status || ' ' || store_dropped FROM runs WHERE id = $run")
if [ "$st" != "complete 0" ]; then
    echo "FAIL: run status and records not written: '$st', wanted 'complete 0'"
    fail=1
else
    echo "ok   run complete, 0 records not written; flowmedic said: $(grep locked "$tmp/err" | head -n 2 | tr '\n' ' ')"
fi
exit "$fail"
