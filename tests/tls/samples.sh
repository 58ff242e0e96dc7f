#!/bin/sh
# tests/tls/samples.sh - TLS handshake outcomes, alerts, versions and certificate findings on the
# generator's TLS samples and on public corpus captures, cross-checked with tshark when present.
set -u
: "${top_srcdir:=.}"
: "${FLOWMEDIC:=./flowmedic}"
export top_srcdir FLOWMEDIC
if [ ! -x "$FLOWMEDIC" ]; then
    echo "SKIP: $FLOWMEDIC not built"
    exit 77
fi
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 missing"; exit 77; }
exec python3 "$top_srcdir/tests/tls/check.py"
