#!/bin/sh
# fields.sh - every member of every JSON line type and of `report --json` that flowmedic emits
# on the samples is documented in README.md's "JSON output" tables, with its type
# (tests/json/fields.py says how).
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
fm_need python3
fm_tmpdir
FLOWMEDIC_CONFIG= TZ=UTC python3 "$top_srcdir/tests/json/fields.py" "$top_srcdir/README.md" \
    "$FLOWMEDIC" "$top_srcdir/samples" "$tmp"
