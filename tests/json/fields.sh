#!/bin/sh
# fields.sh - every member of every JSON line type and of `report --json` that flowmedic emits
# on the samples is documented in README.md's "JSON output" tables, with its type
# (tests/json/fields.py says how).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${FLOWMEDIC:=$top_srcdir/flowmedic}"
if [ ! -x "$FLOWMEDIC" ]; then
    echo "SKIP: $FLOWMEDIC is not built"
    exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "SKIP: python3 is needed"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
FLOWMEDIC_CONFIG= TZ=UTC python3 "$top_srcdir/tests/json/fields.py" "$top_srcdir/README.md" \
    "$FLOWMEDIC" "$top_srcdir/samples" "$tmp"
