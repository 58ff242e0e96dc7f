#!/bin/sh
# tests/tls/samples.sh - TLS handshake outcomes, alerts, versions and certificate findings on the
# generator's TLS samples and on public corpus captures, cross-checked with tshark when present.
set -u
. "$(dirname "$0")/../lib.sh"
export top_srcdir FLOWMEDIC
fm_need_flowmedic
fm_need python3
exec python3 "$top_srcdir/tests/tls/check.py"
