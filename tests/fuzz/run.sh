#!/bin/sh
# run.sh - `make fuzz`: run libFuzzer targets one after the other for FUZZ_SECONDS each.
# Usage: run.sh TARGET... (decode tls engine http x509). Each target starts from its committed
# seeds (read-only) and keeps what it learns in tests/fuzz/work/TARGET (build tree); a crash
# is written to tests/fuzz/work/TARGET/crash-* and fails the run: copy it into
# tests/fuzz/regress/TARGET/ once fixed. The log of each run is tests/fuzz/work/TARGET.log; its
# final statistics (executions/s, coverage) are printed at the end.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${FUZZ_SECONDS:=60}"
: "${FUZZ_JOBS:=1}"
rc=0
for t in "$@"; do
    bin="$top_builddir/tests/fuzz/fuzz_$t"
    work="$top_builddir/tests/fuzz/work/$t"
    log="$top_builddir/tests/fuzz/work/$t.log"
    mkdir -p "$work/corpus"
    set -- "$work/corpus" "$top_srcdir/tests/fuzz/corpus/$t"
    [ -d "$top_srcdir/tests/fuzz/regress/$t" ] && set -- "$@" "$top_srcdir/tests/fuzz/regress/$t"
    [ "$t" = decode ] && set -- "$@" "$top_srcdir/samples"
    echo "fuzz $t: $FUZZ_SECONDS s (log $log)"
    "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$work/" "$@" >"$log" 2>&1
    st=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 | sed -n 's/.*\(cov: [0-9]* ft: [0-9]*\).*/\1/p')
    echo "fuzz $t: status $st, $execs executions, $eps exec/s, $last"
    if [ $st -ne 0 ]; then
        grep -E 'ERROR|SUMMARY|crash-|timeout-|oom-' "$log" | head -20
        rc=1
    fi
done
exit $rc
