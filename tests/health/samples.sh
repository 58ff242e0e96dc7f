#!/bin/sh
# tests/health/samples.sh - replay the generator's HTTP samples and compare server health
# (slow_response findings, per-interval error rate and percentiles, alert open/close) with
# the generator's own timings (samples/*.truth.json), through tests/health/check.py.
set -u
. "$(dirname "$0")/../lib.sh"
fm_need python3
fm_tmpdir
ran=0 failed=0
for name in http-clean http-slow http-503 http-clean-dup http-clean-vlan http-clean-qinq http-sll ipv6-http \
	clean-with-loss; do
	pcap="$top_srcdir/samples/$name.pcap"
	truth="$top_srcdir/samples/$name.truth.json"
	if [ ! -f "$pcap" ] || [ ! -f "$truth" ]; then
		echo "FAIL: the committed sample $name (pcap or truth file) is missing"
		failed=$((failed + 1))
		continue
	fi
	ran=$((ran + 1))
	echo "== $name"
	if ! "$FLOWMEDIC" -q --no-db --json -r "$pcap" >"$tmp/$name.jsonl" 2>"$tmp/$name.err"; then
		echo "FAIL: flowmedic exited with status $? on $name"
		cat "$tmp/$name.err"
		failed=$((failed + 1))
		continue
	fi
	python3 "$top_srcdir/tests/health/check.py" "$tmp/$name.jsonl" "$truth" || failed=$((failed + 1))
done
# joined captures: a bad sample, then the clean one 35 s later (idle intervals, then clean
# traffic): the alert opened by the first part must close, at the interval the rules say
for bad in http-slow http-503; do
	first="$top_srcdir/samples/$bad.pcap"
	second="$top_srcdir/samples/http-clean.pcap"
	if [ ! -f "$first" ] || [ ! -f "$second" ]; then
		continue
	fi
	ran=$((ran + 1))
	echo "== $bad then http-clean"
	shift=$(python3 "$top_srcdir/tests/health/concat.py" "$tmp/joined.pcap" "$first" 35 "$second") || {
		failed=$((failed + 1))
		continue
	}
	"$FLOWMEDIC" -q --no-db --json -r "$tmp/joined.pcap" >"$tmp/$bad-joined.jsonl" 2>/dev/null || {
		echo "FAIL: flowmedic on the joined capture"
		failed=$((failed + 1))
		continue
	}
	python3 "$top_srcdir/tests/health/check.py" "$tmp/$bad-joined.jsonl" \
		"$top_srcdir/samples/$bad.truth.json" "$top_srcdir/samples/http-clean.truth.json@$shift" ||
		failed=$((failed + 1))
	rule=resp_p99
	[ "$bad" = http-503 ] && rule=error_rate
	for state in open closed; do
		if ! grep '"kind":"health_alert"' "$tmp/$bad-joined.jsonl" |
			grep -q "\"rule\":\"$rule\",\"state\":\"$state\""; then
			echo "FAIL: $bad then http-clean: no $rule alert $state"
			failed=$((failed + 1))
		fi
	done
done
# the clean sample must raise no alert and no slow response
if [ -f "$tmp/http-clean.jsonl" ]; then
	if grep -q '"kind":"\(slow_response\|health_alert\)"' "$tmp/http-clean.jsonl"; then
		echo "FAIL: http-clean raised slow_response or health_alert"
		failed=$((failed + 1))
	fi
fi
# the slow sample must open a resp_p99 alert, the 503 sample an error_rate alert
check_rule() {
	if [ -f "$tmp/$1.jsonl" ] &&
		! grep '"kind":"health_alert"' "$tmp/$1.jsonl" | grep -q "\"rule\":\"$2\",\"state\":\"open\""; then
		echo "FAIL: $1: no $2 alert opened"
		failed=$((failed + 1))
	fi
}
check_rule http-slow resp_p99
check_rule http-503 error_rate
# connection failures by reason, as the generator made them (samples/*.truth.json "expected"):
# refused: 4 attempts to the closed port 8081; unreachable: 4 attempts never answered
fail_check() { # sample server reason count
	pcap="$top_srcdir/samples/$1.pcap"
	[ -f "$pcap" ] || return 0
	ran=$((ran + 1))
	"$FLOWMEDIC" -q --no-db --json -r "$pcap" 2>/dev/null | python3 -c '
import json, sys
server, reason, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [r for r in map(json.loads, sys.stdin) if r["type"] == "health" and r["server"] == server]
got = sum(r["failed"][reason] for r in rows)
att = sum(r["attempts"] for r in rows)
if got != want or att != want or not any(r["open_alerts"] & 2 for r in rows):
    print("FAIL: %s failed.%s %d, attempts %d, want %d and the error_rate alert" % (server, reason, got, att, want))
    sys.exit(1)
print("%s: %d attempts, %d failed (%s), error_rate alert open" % (server, att, got, reason))
' "$2" "$3" "$4" || failed=$((failed + 1))
}
fail_check refused 10.99.1.2:8081 refused 4
fail_check unreachable 10.99.1.2:8080 timeout 4
# an expired certificate (TLS 1.2, in the clear) opens the cert_expiring alert, value < 0 days
pcap="$top_srcdir/samples/tls12-expired.pcap"
if [ -f "$pcap" ]; then
	ran=$((ran + 1))
	"$FLOWMEDIC" -q --no-db --json -r "$pcap" >"$tmp/cert.jsonl" 2>/dev/null
	if ! grep '"kind":"health_alert"' "$tmp/cert.jsonl" |
		grep -q '"rule":"cert_expiring","state":"open","value":-[0-9]'; then
		echo "FAIL: tls12-expired: no cert_expiring alert with negative days left"
		failed=$((failed + 1))
	fi
fi
if [ "$ran" -eq 0 ]; then
	echo "SKIP: no HTTP samples"
	exit 77
fi
[ "$failed" -eq 0 ]
