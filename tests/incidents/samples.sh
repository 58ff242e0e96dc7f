#!/bin/sh
# tests/incidents/samples.sh - the diagnosis verdicts on the generated samples: runs
# `flowmedic -r SAMPLE --json --no-db` on every sample whose truth file has incident truth
# ("incidents", "no_incidents" or "forbidden", see tests/gen/truth.py) and judges its incident
# lines with tests/incidents/check.py: each expected incident opens with the right cause and
# server within 15 s of capture time of the fault's start, closes (recovered) soon after the
# fault ends, nothing else warn/error opens, clean captures open nothing.
# A sample that expects an incident while flowmedic emits no incident lines FAILS (no skip).
set -u
. "$(dirname "$0")/../lib.sh"
fm_need python3
fm_need_flowmedic --fail
S=$top_srcdir/samples
# committed samples that must be here (a missing one is a failure, not a skip): the incident
# scenarios of tests/gen/ and the clean captures that must open nothing
MUST="service-down-window firewall-window tiny-retrans network-loss server-resets slow-window http-5xx-window
receiver-stall scan rst-before-synack dependency pool tls13-client-cert-rejected
http-clean keepalive ipv6-http tls12-ok tls13-ok http-clean-dup http-clean-vlan http-clean-qinq http-sll"
OTHERS=$(python3 - "$S" "$MUST" <<'PY'
import glob, json, os, sys
must = set(sys.argv[2].split())
for t in sorted(glob.glob(os.path.join(sys.argv[1], "*.truth.json"))):
    name = os.path.basename(t)[:-len(".truth.json")]
    d = json.load(open(t))
    if name not in must and ("incidents" in d or "no_incidents" in d or "forbidden" in d):
        print(name)
PY
)
# every entry of the incident truth table says why its verdict is right (its "reason")
noreason=$(python3 - "$top_srcdir/tests/gen/incident-truth.json" <<'PY'
import json, sys
for name, e in sorted(json.load(open(sys.argv[1])).items()):
    if not name.startswith("_") and not (isinstance(e.get("reason"), str) and e["reason"].strip()):
        print(name)
PY
)
if [ -n "$noreason" ]; then
	echo "FAIL tests/gen/incident-truth.json: entries without a \"reason\": $noreason"
	exit 1
fi
fm_tmpdir
ran=0 failed=0
for name in $MUST $OTHERS; do
	pcap="$S/$name.pcap"
	truth="$S/$name.truth.json"
	if [ ! -f "$pcap" ] || [ ! -f "$truth" ]; then
		echo "FAIL $name: the committed sample (pcap or truth file) is missing"
		failed=$((failed + 1))
		continue
	fi
	if ! grep -q -e '"incidents"' -e '"no_incidents"' -e '"forbidden"' "$truth"; then
		echo "FAIL $name: its truth file has no incident truth (incidents / no_incidents / forbidden)"
		failed=$((failed + 1))
		continue
	fi
	ran=$((ran + 1))
	"$FLOWMEDIC" -r "$pcap" --json --no-db -q >"$tmp/$name.jsonl" 2>"$tmp/$name.err"
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
		echo "FAIL $name: flowmedic exited $rc: $(head -c 300 "$tmp/$name.err")"
		failed=$((failed + 1))
		continue
	fi
	if grep -q Sanitizer "$tmp/$name.err"; then
		echo "FAIL $name: sanitizer report"
		cat "$tmp/$name.err"
		failed=$((failed + 1))
	fi
	python3 "$top_srcdir/tests/incidents/check.py" "$tmp/$name.jsonl" "$truth" || failed=$((failed + 1))
done
echo "incidents: $ran samples judged, $failed failed"
[ "$ran" -gt 0 ] && [ "$failed" -eq 0 ]
