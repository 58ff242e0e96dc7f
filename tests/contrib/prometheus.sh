#!/bin/sh
# prometheus.sh - contrib/prometheus/flowmedic-rules.yml is valid (promtool check rules) and
# its alerts fire at the runbook's thresholds (promtool test rules on prometheus_test.yml).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
command -v promtool >/dev/null 2>&1 || { echo "SKIP: promtool is not installed (Debian: prometheus)"; exit 77; }
set -e
promtool check rules "$top_srcdir/contrib/prometheus/flowmedic-rules.yml"
# promtool resolves rule_files relative to the test file.
promtool test rules "$top_srcdir/tests/contrib/prometheus_test.yml"
