#!/bin/sh
# fuzz_replay.sh - run fuzz_decode's LLVMFuzzerTestOneInput once over every file in samples/,
# the fuzz corpus kept in tests/fuzz/corpus/decode/, its regression inputs (tests/fuzz/regress/decode/)
# and the shared third-party corpus (if present), through the plain driver tests/fuzz/fuzz_replay.
# A crash or sanitizer report fails.
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${FM_CORPUS:=/work/shared/corpus}"
bin="$top_builddir/tests/fuzz/fuzz_replay"
if [ ! -x "$bin" ]; then
    echo "fuzz_replay: $bin not built"
    exit 1
fi
set -- "$top_srcdir/samples"
if [ -d "$top_srcdir/tests/fuzz/corpus/decode" ]; then
    set -- "$@" "$top_srcdir/tests/fuzz/corpus/decode"
fi
if [ -d "$top_srcdir/tests/fuzz/regress/decode" ]; then
    set -- "$@" "$top_srcdir/tests/fuzz/regress/decode"
fi
if [ -d "$FM_CORPUS" ]; then
    set -- "$@" "$FM_CORPUS"
else
    echo "fuzz_replay: corpus $FM_CORPUS absent: replaying samples only"
fi
"$bin" "$@" 2>"$top_builddir/tests/fuzz_replay.err"
rc=$?
cat "$top_builddir/tests/fuzz_replay.err"
if grep -q "Sanitizer\|runtime error" "$top_builddir/tests/fuzz_replay.err"; then
    echo "fuzz_replay: sanitizer report"
    exit 1
fi
exit $rc
