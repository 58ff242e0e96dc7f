#!/bin/sh
# tests/evidence/wsfilter.sh - every wireshark_filter on the samples: tshark accepts it and
# it selects exactly the frames of the flow (tests/evidence/wsfilter.py).
set -u
. "$(dirname "$0")/../lib.sh"
export top_srcdir FLOWMEDIC
fm_need python3
exec python3 "$top_srcdir/tests/evidence/wsfilter.py"
