#!/bin/sh
# corpus.sh - run flowmedic on every public capture of ../shared/corpus (see corpus_check.py).
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
exec python3 "$top_srcdir/tests/corpus_check.py"
