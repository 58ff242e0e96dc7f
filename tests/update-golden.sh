#!/bin/sh
# update-golden.sh NAME... - regenerate the expected output of the named TESTLIST entries
# (all of them with no argument). Review `git diff tests/golden` before committing.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
bin=${FLOWMEDIC:-$top/flowmedic}
TZ=UTC
export TZ
while read -r name pcap expected opts; do
    case "$name" in '' | '#'*) continue ;; esac
    if [ $# -gt 0 ]; then
        want=no
        for a in "$@"; do [ "$a" = "$name" ] && want=yes; done
        [ $want = yes ] || continue
    fi
    opts=$(printf '%s' "$opts" | sed "s|samples/|$top/samples/|g")
    # shellcheck disable=SC2086
    "$bin" -r "$top/samples/$pcap" --json --no-db -q $opts >"$top/tests/golden/$expected" 2>/dev/null || [ $? -eq 3 ]
    echo "updated tests/golden/$expected"
done <"$top/tests/TESTLIST"
