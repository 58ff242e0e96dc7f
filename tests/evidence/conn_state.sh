#!/bin/sh
# tests/evidence/conn_state.sh - Zeek conn_state and history of every flow of the samples
# against a table derived by hand from tshark (tests/evidence/conn_state.py).
set -u
: "${top_srcdir:=.}"
: "${FLOWMEDIC:=./flowmedic}"
export top_srcdir FLOWMEDIC
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 missing"; exit 77; }
exec python3 "$top_srcdir/tests/evidence/conn_state.py"
