#!/bin/sh
# retain.sh - --retain DAYS deletes the database's runs older than DAYS with all their rows
# (issue 14): a large run 40 days old (thousands of rows: many small batches) and a killed
# run that never ended are deleted; a run 10 days old, a never-ended run that still writes
# (another flowmedic's live run) and the new run stay; certificates seen last in a deleted run
# go with it; the database is intact. --retain without a database is a usage error.
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
fm_need python3 sqlite3
fm_tmpdir
db="$tmp/r.db"
big="$tmp/big.pcap"
tls="$top_srcdir/samples/tls-self-signed.pcap"
small="$top_srcdir/samples/refused.pcap"
# mkbig.py copies the samples' flows in name order: 2500 flows give > 3000 rows whatever the mix
# (the incident samples' many short flows made 1500 fall to 2930)
python3 "$top_srcdir/bench/mkbig.py" "$big" 2500 >/dev/null 2>&1 || { echo "FAIL: mkbig.py"; exit 1; }
# Runs 1 (large, with a certificate), 2, 3 and 4.
for f in "$big" "$small" "$small" "$small"; do
    "$FLOWMEDIC" -q -r "$f" -r "$tls" -w "$db" >/dev/null 2>&1 || { echo "FAIL: making run from $f"; exit 1; }
done
day=86400
sqlite3 "$db" "
UPDATE runs SET started = started - 40 * $day, ended = ended - 40 * $day WHERE id = 1;
UPDATE runs SET started = started - 10 * $day, ended = ended - 10 * $day WHERE id = 2;
UPDATE runs SET started = started - 40 * $day, ended = NULL, status = 'running' WHERE id = 3;
UPDATE findings SET ts = ts - 40 * $day WHERE run_id = 3;
UPDATE server_health SET start = start - 40 * $day WHERE run_id = 3;
UPDATE runs SET started = started - 40 * $day, ended = NULL, status = 'running' WHERE id = 4;
UPDATE findings SET ts = strftime('%s', 'now') WHERE run_id = 4;
UPDATE certificates SET last_run_id = 1, first_run_id = 1;"
tables=$(sqlite3 "$db" "SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p
    WHERE m.type = 'table' AND m.name <> 'runs' AND p.name = 'run_id'")
rows() { # rows of run $1 in every table with a run_id
    n=0
    for t in $tables; do
        n=$((n + $(sqlite3 "$db" "SELECT count(*) FROM $t WHERE run_id = $1")))
    done
    echo "$n"
}
r1=$(rows 1) r2=$(rows 2) r4=$(rows 4)
c1=$(sqlite3 "$db" "SELECT count(*) FROM certificates")
if [ "$r1" -lt 3000 ]; then
    echo "FAIL: the large run has only $r1 rows: not enough to need several batches"
    fail=1
fi
"$FLOWMEDIC" -v -q -r "$small" -w "$db" --retain 30 >/dev/null 2>"$tmp/err"
rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: --retain 30 exited $rc: $(tail -n 3 "$tmp/err")"; fail=1; }
runs=$(sqlite3 "$db" "SELECT group_concat(id) FROM (SELECT id FROM runs ORDER BY id)")
if [ "$runs" != "2,4,5" ]; then
    echo "FAIL: runs left: $runs, wanted 2,4,5 (1 and 3 older than 30 days)"
    fail=1
else
    echo "ok   runs 1 (40 days, $r1 rows) and 3 (killed 40 days ago) deleted; 2, 4 (still writing), 5 kept"
fi
for id in 1 3; do
    n=$(rows $id)
    [ "$n" -eq 0 ] || { echo "FAIL: run $id still has $n rows"; fail=1; }
done
[ "$(rows 2)" -eq "$r2" ] || { echo "FAIL: run 2 lost rows: $(rows 2) of $r2"; fail=1; }
[ "$(rows 4)" -eq "$r4" ] || { echo "FAIL: run 4 lost rows: $(rows 4) of $r4"; fail=1; }
[ "$(rows 5)" -gt 0 ] || { echo "FAIL: the new run wrote nothing"; fail=1; }
certs=$(sqlite3 "$db" "SELECT count(*) FROM certificates")
[ "$certs" -eq 0 ] || { echo "FAIL: $certs certificates seen last in run 1 are left"; fail=1; }
line=$(grep "deleted run 1 (older than 30 days, $((r1 + c1)) rows in [0-9]* transactions)" "$tmp/err")
txns=$(echo "$line" | sed -n 's/.* rows in \([0-9]*\) transactions.*/\1/p')
if [ -z "$line" ]; then
    echo "FAIL: no 'deleted run 1' line with its $r1 rows and $c1 certificates: $(grep deleted "$tmp/err")"
    fail=1
fi
# Small batches: at most 1000 rows in one transaction, so another writer never waits long.
if [ -n "$txns" ] && [ "$txns" -lt $(((r1 + c1) / 1000)) ]; then
    echo "FAIL: $((r1 + c1)) rows deleted in only $txns transactions (batches of 1000 at most)"
    fail=1
fi
[ "$(sqlite3 "$db" "PRAGMA integrity_check")" = ok ] || { echo "FAIL: integrity_check"; fail=1; }
[ "$fail" -eq 0 ] && echo "ok   all rows of the deleted runs gone, the others intact: $(grep deleted "$tmp/err" | tr '\n' ' ')"
# A usage error without a database.
"$FLOWMEDIC" -q -r "$small" --no-db --retain 30 >/dev/null 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 2 ] || ! grep -q "retain needs a database" "$tmp/err"; then
    echo "FAIL: --retain --no-db: exit $rc: $(cat "$tmp/err")"
    fail=1
else
    echo "ok   --retain with --no-db: exit 2"
fi
exit "$fail"
