#!/bin/sh
# e2e.sh - every sample analysed with -w DB --json into one database (one run each): the rows
# of each run equal the JSON lines of the same run (per type and per finding kind, per-flow
# counters and every http record's fields too), the run row is complete, and `flowmedic report` reads it as text and JSON.
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
fm_need python3
set -- "$top_srcdir"/samples/*.pcap
if [ ! -f "$1" ]; then
    echo "SKIP: no samples in $top_srcdir/samples"
    exit 77
fi
fm_tmpdir
db="$tmp/all.db"
fail=0
run=0
for pcap in "$@"; do
    name=$(basename "$pcap" .pcap)
    run=$((run + 1))
    "$FLOWMEDIC" -r "$pcap" -w "$db" --json >"$tmp/$name.jsonl" 2>"$tmp/$name.err"
    rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
        echo "FAIL $name: flowmedic exited $rc: $(cat "$tmp/$name.err")"
        fail=$((fail + 1))
        run=$((run - 1))
        continue
    fi
    if grep -q "Sanitizer\|runtime error" "$tmp/$name.err"; then
        echo "FAIL $name: sanitizer report"
        fail=$((fail + 1))
    fi
    if python3 - "$db" "$run" "$tmp/$name.jsonl" <<'PY'
import json, sqlite3, sys
from collections import Counter
db, run, jl = sys.argv[1], int(sys.argv[2]), sys.argv[3]
objs = [json.loads(l) for l in open(jl) if l.strip()]
types = Counter(o.get("type") for o in objs)
c = sqlite3.connect(db)
q = lambda sql, *a: c.execute(sql, a).fetchall()
bad = []
def eq(what, got, want):
    if got != want:
        bad.append(f"{what}: database {got}, JSON {want}")
eq("integrity_check", q("PRAGMA integrity_check")[0][0], "ok")
rid = q("SELECT max(id) FROM runs")[0][0]
eq("run id", rid, run)
status, dropped = q("SELECT status, store_dropped FROM runs WHERE id=?", rid)[0]
eq("run status", status, "complete")
eq("store_dropped", dropped, 0)
for t, table in (("finding", "findings"), ("flow", "flows"), ("health", "server_health"),
                 ("tls", "tls_handshakes")):
    eq(f"{table} rows", q(f"SELECT count(*) FROM {table} WHERE run_id=?", rid)[0][0], types[t])
kinds = Counter((o["kind"], o["severity"]) for o in objs if o.get("type") == "finding")
rows = Counter({(k, s): n for k, s, n in
                q("SELECT kind, severity, count(*) FROM findings WHERE run_id=? GROUP BY 1, 2", rid)})
eq("findings per kind and severity", dict(rows), dict(kinds))
# Every JSON flow is a row with the same endpoints, packets and TCP event counts.
cols = [r[1] for r in q("PRAGMA table_info(flows)")]
for o in (o for o in objs if o.get("type") == "flow"):
    r = q("SELECT * FROM flows WHERE run_id=? AND flow_id=? AND client=? AND server=?"
          " AND abs(first_ts-?)<1e-5", rid, o["flow_id"], o["client"], o["server"],
          float(o["first_ts"]))
    if len(r) != 1:
        bad.append(f"flow {o['client']} -> {o['server']}: {len(r)} rows")
        continue
    row = dict(zip(cols, r[0]))
    for d in ("c2s", "s2c"):
        eq(f"flow {o['client']} packets {d}", row["packets_" + d], o["packets"][d])
        eq(f"flow {o['client']} bytes {d}", row["bytes_" + d], o["bytes"][d])
        for k, v in o.items():
            if isinstance(v, dict) and set(v) == {"c2s", "s2c"} and k + "_c2s" in row:
                eq(f"flow {o['client']} {k} {d}", row[k + "_" + d], v[d])
    eq(f"flow {o['client']} close", row["close"], o["close"])
# Every JSON http line is a row of http_requests with the same fields.
hcols = ("flow_id", "trans_depth", "client", "server", "method", "host", "path", "status",
         "request_body_bytes", "response_body_bytes", "state", "gap_bytes", "request_frame",
         "response_frame")
hjson = sorted(tuple(o[k] for k in hcols) + (",".join(o["truncated"]) or None,
               None if o["response_time"] is None else round(float(o["response_time"]), 6),
               float(o["ts"])) for o in objs if o.get("type") == "http")
hrows = sorted(tuple(r[:-2]) + (None if r[-2] is None else round(r[-2], 6), r[-1])
               for r in q("SELECT " + ", ".join(hcols) + ", truncated, response_time, ts"
                          " FROM http_requests WHERE run_id=?", rid))
eq("http_requests rows", len(hrows), types["http"])
diff = [(a, b) for a, b in zip(hrows, hjson) if a[:-1] != b[:-1] or abs(a[-1] - b[-1]) > 1e-5]
if diff:
    bad.append("http_requests rows differ from the http lines: %r" % diff[:2])
certs = {o["sha256"] for o in objs if o.get("type") == "cert" and o["sha256"]}
for h in certs:
    eq(f"certificate {h[:12]}", q("SELECT count(*) FROM certificates WHERE sha256=?", h)[0][0], 1)
summ = [o for o in objs if o.get("type") == "summary"]
if summ:
    eq("run packets", q("SELECT packets FROM runs WHERE id=?", rid)[0][0], summ[0]["packets"])
for b in bad[:10]:
    print("  " + b)
sys.exit(1 if bad else 0)
PY
    then
        echo "ok   $name: rows equal the JSON lines (run $run)"
    else
        echo "FAIL $name: rows differ from the JSON lines"
        fail=$((fail + 1))
    fi
done

# The report reads every run, as text and as one JSON object.
if "$FLOWMEDIC" report "$db" >"$tmp/report.txt" 2>"$tmp/report.err" &&
    grep -q "^Runs" "$tmp/report.txt" && grep -q "^Servers" "$tmp/report.txt" &&
    grep -q "^Worst flows" "$tmp/report.txt"; then
    echo "ok   report: $(wc -l <"$tmp/report.txt") lines"
else
    echo "FAIL report: $(cat "$tmp/report.err")"
    fail=$((fail + 1))
fi
if "$FLOWMEDIC" report "$db" --json >"$tmp/report.json" 2>"$tmp/report.err" &&
    python3 - "$tmp/report.json" "$run" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert len(r["runs"]) == int(sys.argv[2]), len(r["runs"])
for k in ("servers", "findings_by_kind", "worst_flows", "recent_errors"):
    assert isinstance(r[k], list), k
PY
then
    echo "ok   report --json: one object, $run runs"
else
    echo "FAIL report --json: $(cat "$tmp/report.err")"
    fail=$((fail + 1))
fi
# Filters: one server, and time windows that hold nothing.
srv=$(python3 -c 'import sqlite3,sys; r=sqlite3.connect(sys.argv[1]).execute("SELECT server FROM flows ORDER BY flow_id LIMIT 1").fetchone(); print(r[0] if r else "")' "$db")
if [ -n "$srv" ]; then
    if "$FLOWMEDIC" report "$db" --json --server "$srv" >"$tmp/f.json" 2>"$tmp/f.err" &&
        python3 - "$tmp/f.json" "$srv" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["servers"], "no server rows"
assert all(s["server"] == sys.argv[2] for s in r["servers"]), r["servers"]
assert all(f["server"] == sys.argv[2] for f in r["worst_flows"]), r["worst_flows"]
PY
    then
        echo "ok   report --server $srv"
    else
        echo "FAIL report --server $srv: $(cat "$tmp/f.err")"
        fail=$((fail + 1))
    fi
fi
for win in "--since 2100-01-01T00:00:00Z" "--since 4102444800.5" "--until 1971-01-01 --utc" \
    "--until 1971-01-01T01:00+01:00"; do
    # shellcheck disable=SC2086
    if "$FLOWMEDIC" report "$db" --json $win >"$tmp/w.json" 2>"$tmp/w.err" &&
        python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["servers"] == [] and r["findings_by_kind"] == [] and r["worst_flows"] == [], r
' "$tmp/w.json"; then
        echo "ok   report $win: nothing selected"
    else
        echo "FAIL report $win: $(cat "$tmp/w.err")"
        fail=$((fail + 1))
    fi
done
# A window that starts (or ends) at the first finding: all findings in, or none.
if python3 - "$db" "$FLOWMEDIC" <<'PY'
import json, math, sqlite3, subprocess, sys, time
db, fm = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db)
t, total = c.execute("SELECT min(ts), count(*) FROM findings").fetchone()
if t is None:
    sys.exit(0)
us = math.floor(t * 1e6)
iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(us // 1000000)) + ".%06dZ" % (us % 1000000)
def kinds(*args):
    out = subprocess.run([fm, "report", db, "--json", *args], check=True, capture_output=True)
    return sum(k["total"] for k in json.loads(out.stdout)["findings_by_kind"])
assert kinds("--since", iso) == total, (iso, kinds("--since", iso), total)
assert kinds("--until", iso) == 0, (iso, kinds("--until", iso))
PY
then
    echo "ok   report --since/--until at the first finding"
else
    echo "FAIL report --since/--until at the first finding"
    fail=$((fail + 1))
fi
# Health over time and the TLS versions per server agree with the tables they summarise.
if python3 - "$FLOWMEDIC" "$db" "$tmp" <<'PY'
import glob, json, sqlite3, subprocess, sys
fm, db = sys.argv[1], sys.argv[2]
o = json.loads(subprocess.run([fm, "report", db, "--json"], check=True, capture_output=True).stdout)
con = sqlite3.connect(db)
rows = con.execute("SELECT count(*) FROM server_health").fetchone()[0]
assert len(o["server_health_over_time"]) == min(rows, 200), (len(o["server_health_over_time"]), rows)
# cipher suites by the name the JSON lines gave (tests/tls/ciphers.sh checks those with tshark)
names = {}
for f in glob.glob(sys.argv[3] + "/*.jsonl"):
    for l in open(f):
        r = json.loads(l)
        if r["type"] == "tls" and r["version"]:
            names[r["cipher"]] = r["cipher_name"]
got = {(t["server"], t["version"], t["cipher"]): (t["handshakes"], t["completed"]) for t in o["tls_versions"]}
want = {}
for srv, ver, cs, n, ok in con.execute(
        "SELECT server, coalesce(version, 'none'), cipher, count(*), sum(outcome = 'completed')"
        " FROM tls_handshakes GROUP BY 1, 2, 3"):
    want[(srv, ver, "-" if cs is None else names[cs])] = (n, ok)
assert got == want, (got, want)
assert any(k[1] == "TLS 1.3" and v[1] >= 1 for k, v in got.items()), got
assert all(k[2] == "-" or k[2].startswith("TLS_") for k in got), got
# open alerts by rule name (the bit order of health_row.open_alerts), not a number
rules = ["resp_p99", "error_rate", "retrans_rate", "cert_expiring"]
bits = {(s, round(t, 3)): b for s, t, b in con.execute("SELECT server, start, open_alerts FROM server_health")}
seen = 0
for h in o["server_health_over_time"]:
    b = bits[(h["server"], round(h["start"], 3))]
    want_names = ",".join(r for i, r in enumerate(rules) if b >> i & 1) or None
    assert h["alerts"] == want_names, (h, b)
    seen += bool(b)
assert seen, "no health row with an open alert among the samples"
PY
then
    echo "ok   report: health over time and TLS versions per server match the tables"
else
    echo "FAIL report: health over time / TLS versions"
    fail=$((fail + 1))
fi
# Each run alone, in UTC.
for i in $(seq 1 "$run"); do
    if ! "$FLOWMEDIC" report "$db" --run "$i" --utc >"$tmp/r$i.txt" 2>"$tmp/r$i.err" ||
        ! grep -q "run $i:" "$tmp/r$i.txt"; then
        echo "FAIL report --run $i: $(cat "$tmp/r$i.err")"
        fail=$((fail + 1))
    fi
done
[ "$fail" -eq 0 ] && echo "ok   report --run 1..$run"
exit $((fail != 0))
