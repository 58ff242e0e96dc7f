#!/bin/sh
# tests/incidents/judge.sh - the incident checker (tests/incidents/check.py) passes a correct
# incident stream and fails each kind of wrong one (tests/incidents/selftest.py), so that
# tests/incidents/samples.sh's verdicts can be trusted.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
if ! command -v python3 >/dev/null 2>&1; then
	echo "SKIP: python3 not found"
	exit 77
fi
exec python3 "$top_srcdir/tests/incidents/selftest.py"
