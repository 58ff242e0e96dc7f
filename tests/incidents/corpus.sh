#!/bin/sh
# corpus.sh - the incidents of every capture of ../shared/corpus against corpus.golden.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
export top_srcdir
exec python3 "$top_srcdir/tests/incidents/corpus_incidents.py"
