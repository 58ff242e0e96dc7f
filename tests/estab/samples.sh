#!/bin/sh
# tests/estab/samples.sh - connection-establishment findings on the generator's samples (compared
# with what the generator recorded) and on public corpus captures (when present).
set -u
. "$(dirname "$0")/../lib.sh"
export top_srcdir FLOWMEDIC
fm_need_flowmedic
fm_need python3
exec python3 "$top_srcdir/tests/estab/check.py"
