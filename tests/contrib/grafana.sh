#!/bin/sh
# grafana.sh - every metric, label and label value that contrib/grafana/flowmedic-dashboard.json
# queries exists in the exposition flowmedic writes (--metrics-file) on the samples.
. "$(dirname "$0")/../lib.sh"
fm_tmpdir
set --
for s in http-503 http-slow refused syn-backlog tls12-expired tls-unknown-ca loss-bulk-s2c; do
    f="$top_srcdir/samples/$s.pcap"
    [ -f "$f" ] || { echo "FAIL: missing sample $f"; exit 1; }
    "$FLOWMEDIC" -r "$f" --no-db -q --metrics-file "$tmp/$s.prom" >/dev/null 2>"$tmp/$s.err"
    rc=$?
    [ $rc -eq 0 ] || { echo "FAIL: flowmedic -r $s.pcap exited $rc"; cat "$tmp/$s.err"; exit 1; }
    set -- "$@" "$tmp/$s.prom"
done
exec python3 "$top_srcdir/tests/contrib/grafana_check.py" \
    "$top_srcdir/contrib/grafana/flowmedic-dashboard.json" "$@"
