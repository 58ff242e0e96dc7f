#!/bin/sh
# tests/evidence/extract.sh - flowmedic extract and --evidence-dir on the samples, checked with
# tshark (tests/evidence/extract.py).
set -u
. "$(dirname "$0")/../lib.sh"
export top_srcdir FLOWMEDIC
fm_need python3
exec python3 "$top_srcdir/tests/evidence/extract.py"
