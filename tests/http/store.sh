#!/bin/sh
# tests/http/store.sh - the http_requests table on samples/http-mix.pcap: README.md's query
# "which URL returned 503, to whom, when" (read from the README itself and run by sqlite3)
# answers exactly the generator's 503 requests (its record in the sample's truth file) in
# time order, as many as tshark's http.response.code==503; the index serves it; the query
# string is stored nowhere by default and kept with --http-full-uri.
set -u
. "$(dirname "$0")/../lib.sh"
fm_need sqlite3 python3 tshark
S=$top_srcdir/samples/http-mix.pcap
fm_tmpdir
fail() { echo "FAIL: $*"; exit 1; }
TZ=UTC
export TZ
"$FLOWMEDIC" -r "$S" -w "$tmp/h.db" -q >/dev/null 2>"$tmp/err" || fail "flowmedic -w: $(cat "$tmp/err")"
"$FLOWMEDIC" -r "$S" -w "$tmp/full.db" -q --http-full-uri >/dev/null 2>"$tmp/err" || fail "flowmedic --http-full-uri: $(cat "$tmp/err")"
# the configuration key does what the option does; a bad value is refused (exit 2)
printf 'http-full-uri = yes\n' >"$tmp/fm.conf"
"$FLOWMEDIC" -r "$S" --json --no-db -q --http-full-uri 2>/dev/null | grep '"type":"http"' >"$tmp/opt.jsonl"
"$FLOWMEDIC" -r "$S" --json --no-db -q --config "$tmp/fm.conf" 2>/dev/null | grep '"type":"http"' >"$tmp/conf.jsonl"
if ! grep -q 'token=secret' "$tmp/conf.jsonl" || ! cmp -s "$tmp/opt.jsonl" "$tmp/conf.jsonl"; then
	fail "http-full-uri = yes in the configuration file differs from --http-full-uri"
fi
"$FLOWMEDIC" -r "$S" --json --no-db -q --set http-full-uri=maybe >/dev/null 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 2 ] || ! grep -q "http-full-uri: 'maybe' is not yes or no" "$tmp/err"; then
	fail "--set http-full-uri=maybe: exit $rc, $(cat "$tmp/err")"
fi
# the query as README.md prints it: from its comment line to the line ending with ';'
awk '/-- which URL returned 503, to whom, when/ {on = 1; next} on {print} on && /;[[:space:]]*$/ {exit}' \
	"$top_srcdir/README.md" | sed 's/^ *//' >"$tmp/q.sql"
grep -q 'FROM http_requests' "$tmp/q.sql" || fail "no query found in README.md: $(cat "$tmp/q.sql")"
sqlite3 -separator '|' "$tmp/h.db" <"$tmp/q.sql" >"$tmp/rows" || fail "sqlite3 failed on the README query"
sqlite3 -separator '|' "$tmp/full.db" <"$tmp/q.sql" >"$tmp/rows-full" || fail "sqlite3 failed (full URI)"
sqlite3 "$tmp/h.db" "EXPLAIN QUERY PLAN $(cat "$tmp/q.sql")" >"$tmp/plan"
grep -q 'http_status_url' "$tmp/plan" || fail "the README query does not use the index: $(cat "$tmp/plan")"
n503=$(tshark -n -r "$S" -Y 'http.response.code==503' 2>/dev/null | wc -l)
sqlite3 "$tmp/h.db" .dump >"$tmp/dump"
sqlite3 "$tmp/full.db" .dump >"$tmp/dump-full"
python3 - "$tmp" "$top_srcdir/samples/http-mix.truth.json" "$n503" <<'PY' || exit 1
import json, sys
tmp, truth, n503 = sys.argv[1], sys.argv[2], int(sys.argv[3])
gen = json.load(open(truth))["generator"]["client"]["connections"]
want = [(r["method"], r["target"]) for c in gen for r in c["requests"] if r["status"] == 503]
bad = 0
def rows(name):
    return [l.rstrip("\n").split("|") for l in open("%s/%s" % (tmp, name)) if l.strip()]
for name, full in (("rows", False), ("rows-full", True)):
    got = rows(name)
    # time, client_ip, method, host, path, response_s, server, flow_id, response_frame
    exp = [(m, t if full else t.split("?")[0]) for m, t in want]
    if [(r[2], r[4]) for r in got] != exp:
        print("FAIL %s: %r, want %r" % (name, [(r[2], r[4]) for r in got], exp)); bad += 1
    if len(got) != n503:
        print("FAIL %s: %d rows, tshark counts %d x 503" % (name, len(got), n503)); bad += 1
    for r in got:
        if r[1] != "10.99.1.1" or r[6] != "10.99.1.2:8080" or r[3] != "10.99.1.2:8080" \
                or not r[0].startswith("20") or not 0 < float(r[5]) < 1 or not int(r[8]) > 0:
            print("FAIL %s: row %r" % (name, r)); bad += 1
    if not bad:
        print("ok   %s: %d rows (tshark: %d x 503): %s" % (name, len(got), n503,
              ", ".join("%s %s" % (r[2], r[4]) for r in got)))
# the query strings: stored nowhere by default, kept with --http-full-uri
for secret in ("token=secret", "card=4111"):
    if secret in open(tmp + "/dump").read():
        print("FAIL: %r stored without --http-full-uri" % secret); bad += 1
    if secret not in open(tmp + "/dump-full").read():
        print("FAIL: %r not stored with --http-full-uri" % secret); bad += 1
sys.exit(1 if bad else 0)
PY
# the grouped query of README.md (the URLs with the most 5xx): /api/pay twice
top=$(sqlite3 -separator '|' "$tmp/h.db" "SELECT path, count(*), count(DISTINCT client_ip) FROM http_requests WHERE status BETWEEN 500 AND 599 GROUP BY server, host, path ORDER BY count(*) DESC, path LIMIT 1")
[ "$top" = "/api/pay|2|1" ] || fail "top 5xx URL: '$top', want '/api/pay|2|1'"
# every request of the sample has its row: 20 requests, the 6th pipelined one not followed
n=$(sqlite3 "$tmp/h.db" "SELECT count(*) FROM http_requests")
[ "$n" -eq 19 ] || fail "$n rows in http_requests, want 19"
o=$(sqlite3 "$tmp/h.db" "SELECT count(*) FROM http_requests WHERE state = 'pipeline_overflow'")
[ "$o" -eq 5 ] || fail "$o pipeline_overflow rows, want 5"
f=$(sqlite3 "$tmp/h.db" "SELECT count(*) FROM findings WHERE kind = 'http_5xx' AND http_status = 503 AND http_path LIKE '/api/pay%'")
[ "$f" -eq "$n503" ] || fail "$f http_5xx findings with their columns, want $n503"
i=$(sqlite3 "$tmp/h.db" "SELECT clients_affected || ' ' || json_array_length(evidence, '\$.requests') FROM incidents WHERE cause = 'http_errors'")
[ "$i" = "1 4" ] || fail "http_errors incident: clients_affected and evidence requests '$i', want '1 4'"
# flowmedic report: the "HTTP errors" section (text) and the records (--json)
"$FLOWMEDIC" report "$tmp/h.db" --utc >"$tmp/report.txt" 2>"$tmp/err" || fail "report: $(cat "$tmp/err")"
grep -A2 '^HTTP errors' "$tmp/report.txt" | grep -Eq '10\.99\.1\.2:8080 +10\.99\.1\.2:8080 +/api/pay +2 +503 +1 ' ||
	fail "report text: no HTTP errors line for /api/pay: $(grep -A5 '^HTTP errors' "$tmp/report.txt")"
grep -q '^        requests: GET /api/pay -> 503 (frame [0-9]*), POST /api/pay -> 503' "$tmp/report.txt" ||
	fail "report text: the http_errors incident does not list its requests"
"$FLOWMEDIC" report "$tmp/h.db" --json >"$tmp/report.json" 2>"$tmp/err" || fail "report --json: $(cat "$tmp/err")"
python3 - "$tmp/report.json" "$top_srcdir/samples/http-mix.truth.json" <<'PY' || exit 1
import json, sys
d = json.load(open(sys.argv[1]))
gen = json.load(open(sys.argv[2]))["generator"]["client"]["connections"]
targets = [r["target"].split("?")[0] for c in gen for r in c["requests"]]
http = d["http"]
paths = [h["path"] for h in http]
# every recorded path is a generator request's (cut ones: a prefix), in time order
if len(http) != 19 or any(not any(t == p or (h["truncated"] and t.startswith(p)) for t in targets)
                          for p, h in zip(paths, http)):
    sys.exit("FAIL report --json http: %d records %r" % (len(http), paths))
if '/odd/"quote\\back\x1b[31mred' not in paths:
    sys.exit("FAIL report --json: the hostile path did not come back intact: %r" % paths)
top = d["http_errors"][0]
if (top["path"], top["errors"], top["clients"]) != ("/api/pay", 2, 1):
    sys.exit("FAIL report --json http_errors: %r" % top)
print("ok   report: HTTP errors section, %d http records in --json" % len(http))
PY
echo "ok: README query, index, query-string privacy, top URL, rows, findings, incident evidence"
