#!/bin/sh
# tests/health/metrics.sh - Prometheus metrics end to end: a replay fed slowly through a pipe
# (`-r -`) with --metrics-listen and --metrics-file; /metrics is scraped with curl while the
# run is in progress and every line is checked by a strict exposition-format parser
# (tests/health/promcheck.py); the final file must agree with the run's JSON output.
set -u
. "$(dirname "$0")/../lib.sh"
fm_need python3 curl
pcap="$top_srcdir/samples/http-clean.pcap"
if [ ! -f "$pcap" ]; then
	echo "SKIP: $pcap missing"
	exit 77
fi
fm_tmpdir
pid=""
fm_at_exit 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; fi'
check="$top_srcdir/tests/health/promcheck.py"
failed=0
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# 12 rounds of the sample, 10 s of capture time apart, 0.3 s of wall time apart, then 7 s idle
python3 "$top_srcdir/tests/health/replay.py" "$pcap" 12 10 0.3 7 |
	"$FLOWMEDIC" -q --no-db --json -r - --metrics-listen "127.0.0.1:$port" \
		--metrics-file "$tmp/flowmedic.prom" >"$tmp/out.jsonl" 2>"$tmp/err" &
pid=$!

# wait until the listener answers, then scrape while the run is still going
ok=0
i=0
while [ $i -lt 50 ]; do
	if curl -sf -o /dev/null "http://127.0.0.1:$port/metrics"; then
		ok=1
		break
	fi
	sleep 0.1
	i=$((i + 1))
done
if [ $ok -ne 1 ]; then
	echo "FAIL: /metrics did not answer on 127.0.0.1:$port"
	cat "$tmp/err"
	exit 1
fi
sleep 4 # every round fed; the replay holds the pipe open: flowmedic is still running
if ! kill -0 "$pid" 2>/dev/null; then
	echo "FAIL: flowmedic ended before the live scrape"
	failed=1
fi
curl -sf -D "$tmp/live.hdr" -o "$tmp/live.prom" "http://127.0.0.1:$port/metrics" || {
	echo "FAIL: live scrape"
	failed=1
}
grep -qi '^content-type: text/plain; version=0.0.4' "$tmp/live.hdr" || {
	echo "FAIL: content type"
	cat "$tmp/live.hdr"
	failed=1
}
echo "== live scrape"
python3 "$check" "$tmp/live.prom" 'flowmedic_packets_total>=1' 'flowmedic_health_rows_total>=1' \
	'flowmedic_server_connection_attempts_total{server="10.99.1.2:8080"}>=5' \
	'flowmedic_server_response_time_seconds{server="10.99.1.2:8080",quantile="0.99"}~' \
	'flowmedic_server_alert_open{server="10.99.1.2:8080",rule="resp_p99"}=0' || failed=1
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nothing")
[ "$code" = 404 ] || {
	echo "FAIL: /nothing answered $code, want 404"
	failed=1
}
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")
[ "$code" = 405 ] || {
	echo "FAIL: POST answered $code, want 405"
	failed=1
}
# the file is there during the run too, whole (written by rename)
python3 "$check" "$tmp/flowmedic.prom" 'flowmedic_packets_total>=1' >/dev/null || {
	echo "FAIL: metrics file during the run"
	failed=1
}

wait "$pid"
rc=$?
pid=""
if [ $rc -ne 0 ]; then
	echo "FAIL: flowmedic exited with $rc"
	cat "$tmp/err"
	failed=1
fi
[ ! -e "$tmp/flowmedic.prom.tmp" ] || {
	echo "FAIL: temporary file left behind"
	failed=1
}
# the final file agrees with the run's JSON: packets, findings per kind, per-server totals
echo "== final file"
args=$(python3 - "$tmp/out.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
summ = [r for r in recs if r["type"] == "summary"][-1]
out = ["flowmedic_packets_total=%d" % summ["packets"]]
for k, v in summ["counts"].items():
    out.append('flowmedic_findings_total{kind="%s"}=%d' % (k, v))
tot = {}
for h in (r for r in recs if r["type"] == "health"):
    t = tot.setdefault(h["server"], [0, 0, 0, 0])
    t[0] += h["attempts"]; t[1] += h["established"]; t[2] += h["http_requests"]
    t[3] += h["data_segments"]["c2s"]
for s, t in tot.items():
    out.append('flowmedic_server_connection_attempts_total{server="%s"}=%d' % (s, t[0]))
    out.append('flowmedic_server_established_total{server="%s"}=%d' % (s, t[1]))
    out.append('flowmedic_server_http_requests_total{server="%s"}=%d' % (s, t[2]))
    out.append('flowmedic_server_data_segments_total{server="%s",direction="c2s"}=%d' % (s, t[3]))
opened = {}
for i in (r for r in recs if r["type"] == "incident"):
    if i["event"] == "open":
        opened[i["cause"]] = opened.get(i["cause"], 0) + 1
    # every incident has closed by the end of the input: its series says 0
    out.append('flowmedic_incident_open{server="%s",cause="%s"}=0' % (i["server"], i["cause"]))
for c, n in opened.items():
    out.append('flowmedic_incidents_opened_total{cause="%s"}=%d' % (c, n))
print("\n".join(out))
PY
)
# shellcheck disable=SC2086 # one argument per line, none with blanks
(IFS='
'; python3 "$check" "$tmp/flowmedic.prom" $args) || failed=1
exit $failed
