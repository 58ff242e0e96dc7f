#!/bin/sh
# tests/health/live.sh - metrics during a live capture: flowmedic captures the loopback
# interface of a network namespace of its own while a local HTTP server there answers curl;
# /metrics is scraped with curl during the capture and checked by the strict exposition parser
# (no kernel drops: only this test's packets reach that loopback), and the metrics file is
# checked after SIGINT. Needs root and ip netns (a live capture); skipped otherwise.
set -u
. "$(dirname "$0")/../lib.sh"
fm_need python3 curl
fm_need_netns "a live capture"
fm_tmpdir 755
ns=fmhl-$$
fm_ns "$ns"
check="$top_srcdir/tests/health/promcheck.py"
# the namespace is this test's alone: fixed ports cannot collide with another test's
wport=8080
mport=9808
mkdir "$tmp/www"
echo "invoice" >"$tmp/www/index.html"
ip netns exec "$ns" python3 -m http.server "$wport" --bind 127.0.0.1 --directory "$tmp/www" >/dev/null 2>&1 &
i=0
while ! fm_in "$ns" curl -sf -o /dev/null "http://127.0.0.1:$wport/index.html"; do # before the capture
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "FAIL: the local HTTP server did not start"
		exit 1
	fi
	sleep 0.1
done
ip netns exec "$ns" "$FLOWMEDIC" -q --no-db -i lo --immediate --server "127.0.0.1:$wport" --interval 1 \
	--metrics-listen "127.0.0.1:$mport" --metrics-file "$tmp/live.prom" \
	"tcp port $wport" >/dev/null 2>"$tmp/err" &
fm=$!
# the capture is open (and filtered) before the metrics listener starts (cli/main.c)
i=0
while ! fm_in "$ns" curl -sf -o /dev/null "http://127.0.0.1:$mport/metrics"; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$fm" 2>/dev/null; then
		echo "SKIP: no live capture on lo here"
		cat "$tmp/err"
		exit 77
	fi
	sleep 0.1
done
n=0
while [ $n -lt 20 ]; do
	fm_in "$ns" curl -sf -o /dev/null "http://127.0.0.1:$wport/index.html" || echo "request $n failed"
	n=$((n + 1))
done
# intervals of 1 s close on the capture clock, the snapshot and the file refresh every second:
# wait (at most 30 s) until the scrape counts the 20 responses and the file the packets, then
# check every value
failed=0
i=0
while :; do
	fm_in "$ns" curl -sf -o "$tmp/scrape.prom" "http://127.0.0.1:$mport/metrics" &&
		python3 "$check" "$tmp/scrape.prom" \
			"flowmedic_server_responses_total{server=\"127.0.0.1:$wport\"}>=20" >/dev/null 2>&1 &&
		python3 "$check" "$tmp/live.prom" 'flowmedic_packets_total>=100' >/dev/null 2>&1 && break
	i=$((i + 1))
	[ $i -lt 60 ] || break
	sleep 0.5
done
echo "== scrape during the live capture"
python3 "$check" "$tmp/scrape.prom" 'flowmedic_packets_total>=100' \
	"flowmedic_server_connection_attempts_total{server=\"127.0.0.1:$wport\"}>=20" \
	"flowmedic_server_established_total{server=\"127.0.0.1:$wport\"}>=20" \
	"flowmedic_server_http_requests_total{server=\"127.0.0.1:$wport\"}=20" \
	"flowmedic_server_responses_total{server=\"127.0.0.1:$wport\"}=20" \
	"flowmedic_server_http_5xx_responses_total{server=\"127.0.0.1:$wport\"}=0" \
	'flowmedic_kernel_drops_total=0' || failed=1
echo "== the metrics file during the capture"
python3 "$check" "$tmp/live.prom" 'flowmedic_packets_total>=100' || failed=1
kill -INT "$fm"
wait "$fm"
rc=$?
[ $rc -eq 0 ] || {
	echo "FAIL: flowmedic exited with $rc after SIGINT"
	cat "$tmp/err"
	failed=1
}
echo "== the metrics file at exit"
python3 "$check" "$tmp/live.prom" \
	"flowmedic_server_http_requests_total{server=\"127.0.0.1:$wport\"}=20" || failed=1
exit $failed
