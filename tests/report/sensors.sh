#!/bin/sh
# sensors.sh - `flowmedic report A.db B.db`: two sensors' databases (refused.pcap written with
# --sensor alpha, http-503.pcap with --sensor beta) read into one report, text and --json, every
# server and incident labelled with its sensor; --sensor filters; databases of older schema
# versions (made here by taking the new columns and tables away) are read without being
# changed; a file that is not a database gives one clear message (issue 13).
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
fm_need python3
fm_tmpdir
TZ=UTC
export TZ
FLOWMEDIC_CONFIG=
export FLOWMEDIC_CONFIG

"$FLOWMEDIC" -q -r "$top_srcdir/samples/refused.pcap" -w "$tmp/a.db" --sensor alpha >/dev/null &&
    "$FLOWMEDIC" -q -r "$top_srcdir/samples/http-503.pcap" -w "$tmp/b.db" --sensor beta >/dev/null ||
    { echo "FAIL: cannot write the two databases"; exit 1; }
sum_before=$(cat "$tmp/a.db" "$tmp/b.db" | sha256sum)

# Text: both sensors named, each incident and server row with its sensor.
if ! "$FLOWMEDIC" report "$tmp/a.db" "$tmp/b.db" >"$tmp/out" 2>"$tmp/err"; then
    bad "report a.db b.db: exit $?: $(cat "$tmp/err")"
else
    for p in "^Sensors: alpha \($tmp/a.db, 1 run\), beta \($tmp/b.db, 1 run\)$" \
        "^  ERROR service_down 10\.99\.1\.2:8081 on sensor alpha since " \
        "^  ERROR http_errors 10\.99\.1\.2:8080 on sensor beta since " \
        "^  run 1 of sensor alpha \($tmp/a.db\): " "^  run 1 of sensor beta \($tmp/b.db\): " \
        "^  sensor +server +flows " "^  alpha +10\.99\.1\.2:8081 +4 " "^  alpha +10\.99\.1\.2:8080 +1 " \
        "^  beta +10\.99\.1\.2:8080 +8 " "^  error conn_refused 10\.99\.1\.2:8081 on sensor alpha: 4 times"; do
        grep -Eq -- "$p" "$tmp/out" || bad "text report: no line matches /$p/"
    done
    [ "$fail" -eq 0 ] && echo "ok   text report of two sensors: $(wc -l <"$tmp/out") lines"
fi

# JSON: the same, checked member by member.
"$FLOWMEDIC" report "$tmp/a.db" "$tmp/b.db" --json >"$tmp/r.json" 2>"$tmp/err" ||
    bad "report --json: exit $?: $(cat "$tmp/err")"
"$FLOWMEDIC" report "$tmp/a.db" "$tmp/b.db" --json --sensor beta >"$tmp/beta.json" 2>"$tmp/err" ||
    bad "report --json --sensor beta: exit $?: $(cat "$tmp/err")"
if python3 - "$tmp" <<'PY'; then
import json, sys
tmp = sys.argv[1]
r = json.load(open(tmp + "/r.json"))
assert r["schema"] == 1, r["schema"]
assert r["database"] is None, r["database"]
assert [d["path"] for d in r["databases"]] == [tmp + "/a.db", tmp + "/b.db"], r["databases"]
assert all(d["schema_version"] >= 6 for d in r["databases"]), r["databases"]
assert [(s["sensor"], s["runs"]) for s in r["sensors"]] == [("alpha", 1), ("beta", 1)], r["sensors"]
inc = sorted((i["sensor"], i["cause"], i["server"]) for i in r["incidents"])
assert inc == [("alpha", "service_down", "10.99.1.2:8081"), ("beta", "http_errors", "10.99.1.2:8080")], inc
srv = sorted((s["sensor"], s["server"], s["flows"]) for s in r["servers"])
assert srv == [("alpha", "10.99.1.2:8080", 1), ("alpha", "10.99.1.2:8081", 4),
               ("beta", "10.99.1.2:8080", 8)], srv
assert sorted((x["sensor"], x["id"]) for x in r["runs"]) == [("alpha", 1), ("beta", 1)], r["runs"]
assert {x["sensor"] for x in r["findings_grouped"]} == {"alpha", "beta"}, r["findings_grouped"]
b = json.load(open(tmp + "/beta.json"))
assert b["filters"]["sensor"] == "beta", b["filters"]
assert [(i["sensor"], i["cause"]) for i in b["incidents"]] == [("beta", "http_errors")], b["incidents"]
assert {s["sensor"] for s in b["servers"]} == {"beta"}, b["servers"]
assert [x["sensor"] for x in b["runs"]] == ["beta"], b["runs"]
PY
    echo "ok   report --json of two sensors: incidents, servers, runs labelled; --sensor beta"
else
    bad "report --json of two sensors"
fi
[ "$(cat "$tmp/a.db" "$tmp/b.db" | sha256sum)" = "$sum_before" ] ||
    bad "the report changed a database it read"

# Older schemas: version 5 (no runs.sensor) and version 3 (no incidents, no conn_state...),
# made from a copy of a.db; read as they are (not migrated), named after their files.
cp "$tmp/a.db" "$tmp/old5.db"
cp "$tmp/a.db" "$tmp/old3.db"
cp "$tmp/a.db" "$tmp/old2.db"
python3 - "$tmp" <<'PY' || bad "cannot make the old-schema copies"
import sqlite3, sys
tmp = sys.argv[1]
c = sqlite3.connect(tmp + "/old5.db")
c.executescript("ALTER TABLE runs DROP COLUMN sensor; PRAGMA user_version = 5;")
c.close()
c = sqlite3.connect(tmp + "/old3.db")
c.executescript("""DROP VIEW v_incidents; DROP TABLE incidents;
ALTER TABLE runs DROP COLUMN sensor; ALTER TABLE runs DROP COLUMN inputs;
ALTER TABLE runs DROP COLUMN evidence_dir; ALTER TABLE flows DROP COLUMN conn_state;
ALTER TABLE flows DROP COLUMN history; PRAGMA user_version = 3;""")
c.close()
# version 2: no typed finding columns (side, phase, ttl_mismatch: read from extra) and no
# data segment counts either
c = sqlite3.connect(tmp + "/old2.db")
for (v,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'view'").fetchall():
    c.execute("DROP VIEW " + v)
for (i,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall():
    c.execute("DROP INDEX " + i)
c.executescript("""DROP TABLE incidents; ALTER TABLE runs DROP COLUMN sensor;
ALTER TABLE findings DROP COLUMN side; ALTER TABLE findings DROP COLUMN phase;
ALTER TABLE findings DROP COLUMN ttl_mismatch; ALTER TABLE flows DROP COLUMN data_segs_c2s;
ALTER TABLE flows DROP COLUMN data_segs_s2c; PRAGMA user_version = 2;""")
c.close()
PY
"$FLOWMEDIC" report "$tmp/old2.db" --json >"$tmp/old2.json" 2>"$tmp/err" ||
    bad "report of schema 2: exit $?: $(cat "$tmp/err")"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert [(x["sensor"], x["sent_by"], x["phase"], x["resets"]) for x in r["resets"]] == \
    [("old2", "server", "answer_to_syn", 4)], r["resets"]
assert r["incidents"] == [], r["incidents"]
' "$tmp/old2.json" && echo "ok   report of schema 2: reset sender and phase read from the findings extra" ||
    bad "report of schema 2: resets"
sum_old=$(cat "$tmp/old5.db" "$tmp/old3.db" | sha256sum)
"$FLOWMEDIC" report "$tmp/old3.db" "$tmp/old5.db" "$tmp/b.db" >"$tmp/old.txt" 2>"$tmp/err" ||
    bad "report of old schemas: exit $?: $(cat "$tmp/err")"
"$FLOWMEDIC" report "$tmp/old3.db" "$tmp/old5.db" "$tmp/b.db" --json >"$tmp/old.json" 2>>"$tmp/err" ||
    bad "report --json of old schemas: exit $?: $(cat "$tmp/err")"
grep -q "^  ($tmp/old3.db: schema version 3, before 4: no incidents recorded" "$tmp/old.txt" ||
    bad "no note that old3.db has no incidents: $(head -n 12 "$tmp/old.txt")"
if python3 - "$tmp/old.json" <<'PY'; then
import json, sys
r = json.load(open(sys.argv[1]))
assert [d["schema_version"] for d in r["databases"]][:2] == [3, 5], r["databases"]
assert [s["sensor"] for s in r["sensors"]] == ["old3", "old5", "beta"], r["sensors"]
inc = sorted((i["sensor"], i["cause"]) for i in r["incidents"])
assert inc == [("beta", "http_errors"), ("old5", "service_down")], inc
srv = sorted((s["sensor"], s["server"]) for s in r["servers"])
assert ("old3", "10.99.1.2:8081") in srv and ("old5", "10.99.1.2:8081") in srv, srv
worst = [f for f in r["worst_flows"] if f["sensor"] == "old3"]
assert worst and all(f["conn_state"] is None for f in worst), worst
assert any(f["conn_state"] == "REJ" for f in r["worst_flows"] if f["sensor"] == "old5"), r["worst_flows"]
PY
    echo "ok   report of schema 3, 5 and 6 databases together: read as they are, labelled by file"
else
    bad "report --json of old schemas"
fi
[ "$(cat "$tmp/old5.db" "$tmp/old3.db" | sha256sum)" = "$sum_old" ] ||
    bad "the report migrated or changed an old database"

# A wrong file among them: one clear message, exit 1.
printf 'this is not a database\n%.0s' $(seq 1 100) >"$tmp/text.db"
"$FLOWMEDIC" report "$tmp/a.db" "$tmp/text.db" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 1 ] || [ "$(grep -c . "$tmp/err")" -ne 1 ] ||
    ! grep -q "text\.db is not a flowmedic database (it is not a SQLite database)" "$tmp/err"; then
    bad "a wrong file: exit $rc: $(cat "$tmp/err")"
else
    echo "ok   a wrong file among the databases: $(cat "$tmp/err")"
fi
"$FLOWMEDIC" report "$tmp/a.db" "$tmp/nosuch.db" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "cannot open database .*nosuch\.db" "$tmp/err" ||
    bad "a missing file: exit $rc: $(cat "$tmp/err")"
# One file given twice would count its rows twice: refused.
"$FLOWMEDIC" report "$tmp/a.db" "$tmp/../$(basename "$tmp")/a.db" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "are the same database (given twice)" "$tmp/err" ||
    bad "one database twice: exit $rc: $(cat "$tmp/err")"
[ "$fail" -eq 0 ] && echo "sensors: ok"
exit "$fail"
