#!/bin/sh
# crash.sh - the database survives the process: after SIGKILL mid-run it passes
# integrity_check and holds every batch whose commit was logged (-v prints "store: committed
# ... findings F flows L health H tls T"); after SIGTERM and SIGINT the open batch is flushed,
# the run row is finished, and the rows equal the JSON lines written before the stop.
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
fm_need python3
fm_tmpdir
pid=
fm_at_exit '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null'

# A large input: ~40 000 flows built from the samples (bench/mkbig.py: about 100 000 records,
# six batches of 16384), else the zeek corpus capture of 500 connections, given several times.
big="$tmp/big.pcap"
set --
if python3 "$top_srcdir/bench/mkbig.py" "$big" 40000 >/dev/null 2>&1 && [ -s "$big" ]; then
    set -- -r "$big"
elif [ -f /work/shared/corpus/zeek/echo-connections.pcap.gz ]; then
    gzip -dc /work/shared/corpus/zeek/echo-connections.pcap.gz >"$big"
    for i in 1 2 3 4 5 6 7 8; do set -- "$@" -r "$big"; done
else
    echo "SKIP: no large capture to analyse"
    exit 77
fi

# wait_commits FILE N: wait (up to 60 s) until FILE holds N commit lines or pid ended.
wait_commits() {
    i=0
    while [ "$i" -lt 600 ]; do
        n=$(grep -c "store: committed" "$1" 2>/dev/null)
        [ "${n:-0}" -ge "$2" ] && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
        i=$((i + 1))
    done
    return 1
}

# 1. SIGKILL in the middle.
db="$tmp/killed.db"
"$FLOWMEDIC" -v "$@" -w "$db" >/dev/null 2>"$tmp/kill.err" &
pid=$!
if ! wait_commits "$tmp/kill.err" 3; then
    echo "FAIL sigkill: the run ended before 3 commits; cannot kill it mid-run"
    fail=$((fail + 1))
else
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    pid=
    last=$(grep "store: committed" "$tmp/kill.err" | tail -n 1)
    if python3 - "$db" "$last" <<'PY'
import re, sqlite3, sys
db, last = sys.argv[1], sys.argv[2]
want = {k: int(v) for k, v in re.findall(r"(findings|flows|health|tls) (\d+)", last)}
c = sqlite3.connect(db)
ok = c.execute("PRAGMA integrity_check").fetchone()[0]
assert ok == "ok", ok
status, ended = c.execute("SELECT status, ended FROM runs WHERE id=1").fetchone()
assert status == "running" and ended is None, (status, ended)
for k, table in (("findings", "findings"), ("flows", "flows"), ("health", "server_health"),
                 ("tls", "tls_handshakes")):
    n = c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    assert n >= want[k], f"{table}: {n} rows, but {want[k]} were committed before the kill"
print(f"  last logged commit: {last.split('store: ')[1]}; rows: flows "
      f"{c.execute('SELECT count(*) FROM flows').fetchone()[0]}")
PY
    then
        echo "ok   sigkill: integrity_check ok, every logged batch is there"
    else
        echo "FAIL sigkill: $(tail -n 3 "$tmp/kill.err")"
        fail=$((fail + 1))
    fi
    # The killed database takes the next run, and the report lists the killed one.
    if "$FLOWMEDIC" -r "$top_srcdir/samples/refused.pcap" -w "$db" >/dev/null 2>"$tmp/next.err" &&
        "$FLOWMEDIC" report "$db" >"$tmp/report.txt" 2>&1 &&
        grep -q "run 1:.*killed" "$tmp/report.txt" && grep -q "run 2:.*complete" "$tmp/report.txt"
    then
        echo "ok   sigkill: next run appended, report shows the killed run"
    else
        echo "FAIL sigkill: next run or report: $(cat "$tmp/next.err") $(head -n 5 "$tmp/report.txt")"
        fail=$((fail + 1))
    fi
fi

# 2. SIGTERM and SIGINT: a clean stop, nothing lost that was reported.
for sig in TERM INT; do
    db="$tmp/stop-$sig.db"
    "$FLOWMEDIC" -v "$@" -w "$db" --json >"$tmp/stop.jsonl" 2>"$tmp/stop.err" &
    pid=$!
    if ! wait_commits "$tmp/stop.err" 2; then
        echo "FAIL sig$sig: the run ended before 2 commits"
        fail=$((fail + 1))
        wait "$pid" 2>/dev/null
        pid=
        continue
    fi
    kill -s "$sig" "$pid"
    wait "$pid"
    rc=$?
    pid=
    if python3 - "$db" "$tmp/stop.jsonl" <<'PY'
import json, sqlite3, sys
from collections import Counter
db, jl = sys.argv[1], sys.argv[2]
types = Counter()
for line in open(jl):
    try:
        types[json.loads(line).get("type")] += 1
    except ValueError:
        pass  # a line cut by the signal
c = sqlite3.connect(db)
assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
status, ended, dropped = c.execute("SELECT status, ended, store_dropped FROM runs").fetchone()
assert ended is not None, "run row not finished"
assert status in ("complete", "interrupted", "incomplete"), status
for t, table in (("finding", "findings"), ("flow", "flows")):
    n = c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    assert n + dropped >= types[t], f"{table}: {n} rows (+{dropped} dropped) < {types[t]} JSON lines"
PY
    then
        echo "ok   sig$sig: exit $rc, run finished, rows cover the JSON lines"
    else
        echo "FAIL sig$sig: exit $rc: $(tail -n 3 "$tmp/stop.err")"
        fail=$((fail + 1))
    fi
done
exit $((fail != 0))
