#!/bin/sh
# tests/evidence/extract.sh - flowmedic extract and --evidence-dir on the samples, checked with
# tshark (tests/evidence/extract.py); the analysis runs with --workers 1, then again with 2
# (the workers feed the evidence ring, the aggregator names the files).
set -u
. "$(dirname "$0")/../lib.sh"
export top_srcdir FLOWMEDIC
fm_need python3
echo "== --workers 1"
FM_WORKERS=1 python3 "$top_srcdir/tests/evidence/extract.py" || exit $?
echo "== --workers 2"
FM_WORKERS=2 exec python3 "$top_srcdir/tests/evidence/extract.py"
