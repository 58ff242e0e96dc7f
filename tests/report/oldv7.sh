#!/bin/sh
# oldv7.sh - `flowmedic report` reads a database of schema version 7 (before incident evidence
# became rows) without migrating it: the incidents' HTTP requests then come from the evidence
# JSON (sel_source's legacy_table in cli/report.c, as the v8 migration reads them), and the
# report, text and JSON, is the v8 database's own. The v7 copy is the v8 database with the
# v8 tables taken away (v8 still writes the evidence JSON).
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
fm_need sqlite3
fm_tmpdir
v8="$tmp/v8.db"
v7="$tmp/v7.db"
"$FLOWMEDIC" -q -r "$top_srcdir/samples/http-5xx-window.pcap" -w "$v8" >/dev/null 2>"$tmp/run.err"
rc=$?
[ $rc -eq 0 ] || [ $rc -eq 3 ] || { cat "$tmp/run.err"; echo "FAIL: analysis exited $rc"; exit 1; }
n=$(sqlite3 "$v8" "SELECT count(*) FROM incident_requests")
[ "$n" -gt 0 ] || { echo "FAIL: the sample gave no incident requests (n=$n)"; exit 1; }
cp "$v8" "$v7"
sqlite3 "$v7" "DROP TABLE incident_requests; DROP TABLE incident_flows; PRAGMA user_version = 7;" ||
    { echo "FAIL: cannot make the v7 copy"; exit 1; }
for fmt in text json; do
    opt=
    [ $fmt = json ] && opt=--json
    for v in v7 v8; do
        # shellcheck disable=SC2086
        "$FLOWMEDIC" report $opt "$tmp/$v.db" >"$tmp/$v.$fmt" 2>"$tmp/err" ||
            { cat "$tmp/err"; echo "FAIL: report $fmt of $v"; exit 1; }
    done
    grep -q "/steady/31" "$tmp/v7.$fmt" || { echo "FAIL: no request read from the v7 JSON ($fmt)"; exit 1; }
    # the database's path and its schema version differ, nothing else
    sed -e "s#$tmp/v[78].db#DB#g" -e 's/"schema_version": *[0-9]*/"schema_version":V/' \
        "$tmp/v7.$fmt" >"$tmp/a"
    sed -e "s#$tmp/v[78].db#DB#g" -e 's/"schema_version": *[0-9]*/"schema_version":V/' \
        "$tmp/v8.$fmt" >"$tmp/b"
    diff "$tmp/b" "$tmp/a" >"$tmp/diff" || { cat "$tmp/diff"; echo "FAIL: v7 report ($fmt) differs"; exit 1; }
done
[ "$(sqlite3 "$v7" "PRAGMA user_version")" = 7 ] || { echo "FAIL: the report migrated the v7 copy"; exit 1; }
echo "PASS: a v7 database reports the same incidents and requests as its v8 original"
