#!/bin/sh
# replay.sh - run the engine, HTTP, X.509 and TLS fuzz entry points once over every input of
# their committed seed corpus (tests/fuzz/corpus/TARGET) and regression inputs
# (tests/fuzz/regress/TARGET), through the plain driver (tests/fuzz/replay_TARGET, no
# libFuzzer). The engine also gets every capture in samples/. A crash, abort or sanitizer
# report fails; so does a target with no inputs (a corpus lost from the tree).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
err="$top_builddir/tests/fuzz/replay.err"
rc=0
for t in engine http x509 tls; do
    bin="$top_builddir/tests/fuzz/replay_$t"
    if [ ! -x "$bin" ]; then
        echo "replay $t: $bin not built"
        rc=1
        continue
    fi
    set -- "$top_srcdir/tests/fuzz/corpus/$t"
    [ -d "$top_srcdir/tests/fuzz/regress/$t" ] && set -- "$@" "$top_srcdir/tests/fuzz/regress/$t"
    [ "$t" = engine ] && set -- "$@" "$top_srcdir/samples"
    "$bin" "$@" 2>"$err"
    st=$?
    sed "s/^/replay $t: /" "$err"
    if [ $st -ne 0 ] || grep -q "Sanitizer\|runtime error" "$err"; then
        echo "replay $t: FAILED (status $st)"
        rc=1
    elif ! grep -q "fuzz_replay: [1-9][0-9]* inputs run" "$err"; then
        echo "replay $t: FAILED (no inputs)"
        rc=1
    fi
done
exit $rc
