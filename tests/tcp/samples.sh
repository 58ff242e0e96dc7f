#!/bin/sh
# tests/tcp/samples.sh - TCP analysis findings on the generator's samples: each TCP finding kind
# fires where the sample injects it and stays silent on the clean samples.
set -u
. "$(dirname "$0")/../lib.sh"
export top_srcdir FLOWMEDIC
fm_need_flowmedic
fm_need python3
exec python3 "$top_srcdir/tests/tcp/check.py"
