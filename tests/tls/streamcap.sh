#!/bin/sh
# streamcap.sh - large --stream-cap values work (issue 14, item 5): 8 MiB and 16 MiB give the
# same results as the default on the TLS samples (buffers are allocated as handshakes need
# them, within --stream-budget); a cap that not even one handshake fits in the budget is a
# usage error with a message naming both, never "out of memory for N flows?".
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
fm_tmpdir
for s in tls-self-signed tls12-expired tls13-ok; do
    pcap="$top_srcdir/samples/$s.pcap"
    [ -f "$pcap" ] || { echo "FAIL: $pcap is missing"; fail=1; continue; }
    "$FLOWMEDIC" -r "$pcap" --no-db --json >"$tmp/default.json" 2>"$tmp/default.err" || {
        echo "FAIL $s: default run failed: $(cat "$tmp/default.err")"
        fail=1
        continue
    }
    for cap in 8388608 16777216; do
        "$FLOWMEDIC" -r "$pcap" --no-db --json --stream-cap "$cap" >"$tmp/big.json" 2>"$tmp/big.err"
        rc=$?
        if [ "$rc" -ne 0 ]; then
            echo "FAIL $s --stream-cap $cap: exit $rc: $(cat "$tmp/big.err")"
            fail=1
        elif ! cmp -s "$tmp/default.json" "$tmp/big.json"; then
            echo "FAIL $s --stream-cap $cap: JSON differs from the default cap's"
            diff "$tmp/default.json" "$tmp/big.json" | head -n 5
            fail=1
        elif ! grep -q "at most [0-9]* TLS handshakes are followed at once" "$tmp/big.err"; then
            echo "FAIL $s --stream-cap $cap: no word on how many handshakes fit: $(cat "$tmp/big.err")"
            fail=1
        else
            echo "ok   $s --stream-cap $cap: same JSON as the default ($(grep -c . "$tmp/big.json") lines)"
        fi
    done
done
# 16 MiB per direction with a budget of 16 MiB: not even one handshake (two buffers) fits.
"$FLOWMEDIC" -r "$top_srcdir/samples/tls13-ok.pcap" --no-db -q --stream-cap 16777216 \
    --stream-budget 16777216 >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 2 ] || ! grep -q "stream-cap 16777216: a TLS handshake needs 2 buffers" "$tmp/err" ||
    grep -q "out of memory" "$tmp/err"; then
    echo "FAIL: cap over the budget: exit $rc, wanted 2 with a clear message: $(cat "$tmp/err")"
    fail=1
else
    echo "ok   cap over the budget: exit 2: $(cat "$tmp/err")"
fi
exit "$fail"
