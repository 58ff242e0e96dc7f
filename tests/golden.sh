#!/bin/sh
# golden.sh - replays every sample of tests/TESTLIST and diffs flowmedic's JSON lines with the
# committed expected output (tcpdump's tests/TESTLIST idea). Regenerate one with
# tests/update-golden.sh NAME and review the diff.
set -u
. "$(dirname "$0")/lib.sh"
TZ=UTC
export TZ
fm_tmpdir
n=0
while read -r name pcap expected opts; do
    case "$name" in '' | '#'*) continue ;; esac
    n=$((n + 1))
    opts=$(printf '%s' "$opts" | sed "s|samples/|$top_srcdir/samples/|g") # --ca-file samples/...
    # shellcheck disable=SC2086
    "$FLOWMEDIC" -r "$top_srcdir/samples/$pcap" --json --no-db -q $opts >"$tmp/$name.out" 2>"$tmp/$name.err"
    rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
        echo "FAIL $name: flowmedic exited $rc"
        cat "$tmp/$name.err"
        fail=$((fail + 1))
        continue
    fi
    if ! diff -u "$top_srcdir/tests/golden/$expected" "$tmp/$name.out" >"$tmp/$name.diff"; then
        echo "FAIL $name: output differs from tests/golden/$expected"
        head -n 40 "$tmp/$name.diff"
        fail=$((fail + 1))
    else
        echo "ok   $name"
    fi
done <"$top_srcdir/tests/TESTLIST"
echo "golden: $n tests, $fail failed"
[ "$n" -gt 0 ] && [ "$fail" -eq 0 ]
