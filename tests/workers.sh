#!/bin/sh
# workers.sh - every sample and corpus capture gives the same sorted JSON lines with --workers
# 1, 2 and 4 (see workers.py).
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
export top_srcdir
exec python3 "$top_srcdir/tests/workers.py"
