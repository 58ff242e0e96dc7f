#!/bin/sh
# tests/evidence/wsfilter.sh - every wireshark_filter on the samples: tshark accepts it and
# it selects exactly the frames of the flow (tests/evidence/wsfilter.py).
set -u
: "${top_srcdir:=.}"
: "${FLOWMEDIC:=./flowmedic}"
export top_srcdir FLOWMEDIC
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 missing"; exit 77; }
exec python3 "$top_srcdir/tests/evidence/wsfilter.py"
