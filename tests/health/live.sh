#!/bin/sh
# tests/health/live.sh - metrics during a live capture: flowmedic captures the loopback
# interface (no namespace needed) while a local HTTP server answers curl; /metrics is scraped
# with curl during the capture and checked by the strict exposition parser, and the metrics
# file is checked after SIGINT. Needs root (a live capture); skipped otherwise.
set -u
: "${top_srcdir:=.}" "${FLOWMEDIC:=./flowmedic}"
for tool in python3 curl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool not found"
		exit 77
	fi
done
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: a live capture needs root"
	exit 77
fi
tmp=$(mktemp -d)
fm="" web=""
cleanup() {
	[ -n "$fm" ] && kill "$fm" 2>/dev/null
	[ -n "$web" ] && kill "$web" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
check="$top_srcdir/tests/health/promcheck.py"
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wport=$(free_port)
mport=$(free_port)
mkdir "$tmp/www"
echo "invoice" >"$tmp/www/index.html"
python3 -m http.server "$wport" --bind 127.0.0.1 --directory "$tmp/www" >/dev/null 2>&1 &
web=$!
i=0
while ! curl -sf -o /dev/null "http://127.0.0.1:$wport/index.html"; do # before the capture
	i=$((i + 1))
	if [ $i -gt 100 ]; then
		echo "SKIP: the local HTTP server did not start"
		exit 77
	fi
	sleep 0.1
done
"$FLOWMEDIC" -q --no-db -i lo --immediate --server "127.0.0.1:$wport" --interval 1 \
	--metrics-listen "127.0.0.1:$mport" --metrics-file "$tmp/live.prom" \
	"tcp port $wport" >/dev/null 2>"$tmp/err" &
fm=$!
i=0
while ! curl -sf -o /dev/null "http://127.0.0.1:$mport/metrics"; do
	i=$((i + 1))
	if [ $i -gt 50 ] || ! kill -0 "$fm" 2>/dev/null; then
		echo "SKIP: no live capture on lo here"
		cat "$tmp/err"
		exit 77
	fi
	sleep 0.1
done
sleep 0.5 # the capture is open
n=0
while [ $n -lt 20 ]; do
	curl -sf -o /dev/null "http://127.0.0.1:$wport/index.html" || echo "request $n failed"
	n=$((n + 1))
done
sleep 3 # intervals of 1 s close on the capture clock, the snapshot refreshes every second
failed=0
curl -sf -o "$tmp/scrape.prom" "http://127.0.0.1:$mport/metrics" || {
	echo "FAIL: scrape during the capture"
	failed=1
}
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
fm=""
[ $rc -eq 0 ] || {
	echo "FAIL: flowmedic exited with $rc after SIGINT"
	cat "$tmp/err"
	failed=1
}
echo "== the metrics file at exit"
python3 "$check" "$tmp/live.prom" \
	"flowmedic_server_http_requests_total{server=\"127.0.0.1:$wport\"}=20" || failed=1
exit $failed
