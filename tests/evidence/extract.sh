#!/bin/sh
# tests/evidence/extract.sh - flowmedic extract and --evidence-dir on the samples, checked with
# tshark (tests/evidence/extract.py).
set -u
: "${top_srcdir:=.}"
: "${FLOWMEDIC:=./flowmedic}"
export top_srcdir FLOWMEDIC
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 missing"; exit 77; }
exec python3 "$top_srcdir/tests/evidence/extract.py"
