#!/bin/sh
# tests/evidence/conn_state.sh - Zeek conn_state and history of every flow of the samples
# against a table derived by hand from tshark (tests/evidence/conn_state.py).
set -u
. "$(dirname "$0")/../lib.sh"
export top_srcdir FLOWMEDIC
fm_need python3
exec python3 "$top_srcdir/tests/evidence/conn_state.py"
