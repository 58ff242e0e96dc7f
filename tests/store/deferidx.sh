#!/bin/sh
# deferidx.sh - a new database written offline gets the secondary indexes of its large tables
# at the end of the run (pending_indexes records them until then): after a completed run every
# index exists, pending_indexes is gone, and README's queries use the indexes (EXPLAIN QUERY
# PLAN); after SIGKILL mid-run the indexes are still pending, `flowmedic report` reads the
# database without them, and the next run that writes it builds them at open.
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
fm_need python3 sqlite3
fm_tmpdir
pid=
fm_at_exit '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null'

# Every index the schema defines (the list of a database that never deferred: a live-like
# existing database is not at hand, so the names are the schema's own, from store/schema.c).
want=$(fm_schema_indexes)
[ -n "$want" ] || { echo "FAIL: no CREATE INDEX found in store/schema.c"; exit 1; }

# 1. A completed run: every index, nothing pending, the README's queries use them.
db="$tmp/done.db"
if "$FLOWMEDIC" -v -r "$top_srcdir/samples/refused.pcap" -r "$top_srcdir/samples/http-503.pcap" \
    -w "$db" >/dev/null 2>"$tmp/done.err"; then
    if [ "$(fm_db_indexes "$db")" = "$want" ] && [ "$(fm_db_pending "$db")" = 0 ] &&
        grep -q "built [0-9]* deferred indexes" "$tmp/done.err"; then
        ok "completed run: every index built at the end, pending_indexes dropped"
    else
        bad "completed run: indexes $(fm_db_indexes "$db" | tr '\n' ' ') pending $(fm_db_pending "$db")"
    fi
else
    bad "completed run failed: $(cat "$tmp/done.err")"
fi
while IFS='|' read -r idx q; do
    plan=$(sqlite3 "$db" "EXPLAIN QUERY PLAN $q" 2>&1)
    if printf '%s\n' "$plan" | grep -q "USING .*INDEX $idx "; then
        ok "query plan uses $idx"
    else
        bad "query plan of '$q' does not use $idx: $plan"
    fi
done <<'EOF'
findings_kind_server_ts|SELECT ts, server, detail FROM findings WHERE kind = 'reset' ORDER BY ts DESC LIMIT 20
findings_kind_server_ts|SELECT kind, count(*) FROM findings WHERE kind IN ('conn_refused', 'syn_unanswered') AND server_ip = '10.0.0.5' AND server_port = 443 AND ts BETWEEN 1 AND 2 GROUP BY kind
http_status_url|SELECT ts, client_ip, path FROM http_requests WHERE status = 503 ORDER BY ts
flows_worst|SELECT client FROM v_worst_flows WHERE run_id = (SELECT max(id) FROM runs) LIMIT 10
health_server_start|SELECT start, attempts FROM server_health WHERE server_ip = '10.0.0.5' AND server_port = 443 ORDER BY start
tls_server_ts|SELECT ts, outcome FROM tls_handshakes WHERE server_ip = '10.0.0.5' AND server_port = 443 AND ts > 0
EOF

# 2. SIGKILL mid-run (a large input, as in crash.sh): indexes pending, the report still works.
big="$tmp/big.pcap"
if ! python3 "$top_srcdir/bench/mkbig.py" "$big" 40000 >/dev/null 2>&1 || [ ! -s "$big" ]; then
    echo "SKIP: cannot build the large capture (bench/mkbig.py)"
    exit 77
fi
db="$tmp/killed.db"
"$FLOWMEDIC" -v --workers 1 -r "$big" -w "$db" >/dev/null 2>"$tmp/kill.err" &
pid=$!
i=0
while [ "$i" -lt 600 ] && kill -0 "$pid" 2>/dev/null; do
    c=$(grep -c "store: committed" "$tmp/kill.err" 2>/dev/null)
    [ "${c:-0}" -ge 2 ] && break
    sleep 0.1
    i=$((i + 1))
done
if ! kill -9 "$pid" 2>/dev/null || grep -q "deferred indexes" "$tmp/kill.err"; then
    echo "FAIL sigkill: the run ended before it could be killed mid-write"
    exit 1
fi
wait "$pid" 2>/dev/null
pid=
n=$(sqlite3 "$db" "SELECT count(*) FROM pending_indexes" 2>&1)
left=$(fm_db_indexes "$db")
missing=$(printf '%s\n' "$want" | while read -r x; do
    printf '%s\n' "$left" | grep -qx "$x" || echo "$x"; done | wc -l)
if [ "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok ] && [ "$n" -gt 0 ] && [ "$missing" = "$n" ]
then
    ok "sigkill: integrity ok, $n indexes pending and absent"
else
    bad "sigkill: pending '$n', missing $missing, indexes: $(printf '%s ' $left)"
fi
if "$FLOWMEDIC" report "$db" >"$tmp/report1.txt" 2>&1 && grep -q "run 1:.*killed" "$tmp/report1.txt" &&
    [ "$(fm_db_pending "$db")" = 1 ]; then
    ok "sigkill: report reads the database without its indexes (and leaves them pending)"
else
    bad "sigkill: report: $(head -n 5 "$tmp/report1.txt")"
fi
flows=$(sqlite3 "$db" "SELECT count(*) FROM flows")

# 3. The next run that writes the database builds them at open, and appends.
if "$FLOWMEDIC" -v -r "$top_srcdir/samples/refused.pcap" -w "$db" >/dev/null 2>"$tmp/next.err" &&
    [ "$(fm_db_indexes "$db")" = "$want" ] && [ "$(fm_db_pending "$db")" = 0 ] &&
    grep -q "built $n deferred indexes" "$tmp/next.err" &&
    [ "$(sqlite3 "$db" "SELECT count(*) FROM flows WHERE run_id = 1")" = "$flows" ] &&
    [ "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok ]; then
    ok "next run: the $n pending indexes built at open, run 1's $flows flows kept"
else
    bad "next run: $(tail -n 3 "$tmp/next.err"); indexes $(fm_db_indexes "$db" | tr '\n' ' ')"
fi
if "$FLOWMEDIC" report "$db" >"$tmp/report2.txt" 2>&1 && grep -q "run 1:.*killed" "$tmp/report2.txt" &&
    grep -q "run 2:.*complete" "$tmp/report2.txt"; then
    ok "next run: report lists the killed run and the complete one"
else
    bad "next run: report: $(head -n 5 "$tmp/report2.txt")"
fi
exit "$fail"
