#!/bin/sh
# tests/http/xcheck.sh - flowmedic's http records against tshark on every sample (xcheck.py).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
export top_srcdir
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }
exec python3 "$top_srcdir/tests/http/xcheck.py" "$top_srcdir"/samples/*.pcap
