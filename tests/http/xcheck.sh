#!/bin/sh
# tests/http/xcheck.sh - flowmedic's http records against tshark on every sample (xcheck.py).
. "$(dirname "$0")/../lib.sh"
export top_srcdir
fm_need python3
exec python3 "$top_srcdir/tests/http/xcheck.py" "$top_srcdir"/samples/*.pcap
