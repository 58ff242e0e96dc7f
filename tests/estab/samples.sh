#!/bin/sh
# tests/estab/samples.sh - connection-establishment findings on the generator's samples (compared
# with what the generator recorded) and on public corpus captures (when present).
set -u
: "${top_srcdir:=.}"
: "${FLOWMEDIC:=./flowmedic}"
export top_srcdir FLOWMEDIC
if [ ! -x "$FLOWMEDIC" ]; then
    echo "SKIP: $FLOWMEDIC not built"
    exit 77
fi
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 missing"; exit 77; }
exec python3 "$top_srcdir/tests/estab/check.py"
