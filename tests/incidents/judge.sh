#!/bin/sh
# tests/incidents/judge.sh - the incident checker (tests/incidents/check.py) passes a correct
# incident stream and fails each kind of wrong one (tests/incidents/selftest.py), so that
# tests/incidents/samples.sh's verdicts can be trusted.
. "$(dirname "$0")/../lib.sh"
fm_need python3
exec python3 "$top_srcdir/tests/incidents/selftest.py"
