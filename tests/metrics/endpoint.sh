#!/bin/sh
# tests/metrics/endpoint.sh - the /metrics endpoint under slowloris, 1000 idle connections and
# a 1 MB request line while scrapes answer in under 1 s; dual stack; TLS and basic auth from
# a web configuration file; broken web configurations (tests/metrics/endpoint.py does it).
set -u
. "$(dirname "$0")/../lib.sh"
fm_need python3 curl openssl ss
pcap="$top_srcdir/samples/http-clean.pcap"
if [ ! -f "$pcap" ]; then
	echo "FAIL: $pcap missing"
	exit 1
fi
exec python3 "$top_srcdir/tests/metrics/endpoint.py" "$FLOWMEDIC" "$pcap"
