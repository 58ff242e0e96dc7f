#!/bin/sh
# tests/tcp/samples.sh - TCP analysis findings on the generator's samples: each TCP finding kind
# fires where the sample injects it and stays silent on the clean samples.
set -u
: "${top_srcdir:=.}"
: "${FLOWMEDIC:=./flowmedic}"
export top_srcdir FLOWMEDIC
if [ ! -x "$FLOWMEDIC" ]; then
    echo "SKIP: $FLOWMEDIC not built"
    exit 77
fi
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 missing"; exit 77; }
exec python3 "$top_srcdir/tests/tcp/check.py"
