#!/bin/sh
# tests/evidence/same.sh - --evidence-dir writes the same files, byte for byte, with --workers
# 1, 2 and 4: every sample and every corpus capture (../shared/corpus, skipped when absent)
# is analysed with each, and the evidence directories are compared file by file (not where
# the capture has more flows than the pool has slots: who gets a slot then depends on N). The workers
# stage their frames and hand them to the one ring in batches (analyzers/worker.c); a flow
# whose frames reached the ring after the aggregator named it, or in another order, gives a
# missing or different file. With two workers, -v must also say that the frames went over in
# fewer batches than frames (one lock per batch, not per packet).
. "$(dirname "$0")/../lib.sh"
fm_tmpdir
corpus=
for c in "${FLOWMEDIC_CORPUS:-}" "$top_srcdir/../shared/corpus" /work/shared/corpus; do
    [ -n "$c" ] && [ -f "$c/MANIFEST.tsv" ] && { corpus=$c; break; }
done
fails=0
nfull=0
ncap=0
nfiles=0
for cap in "$top_srcdir"/samples/*.pcap ${corpus:+$(find "$corpus" -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' | sort)}; do
    for n in 1 2 4; do
        rm -rf "$tmp/ev$n"
        mkdir "$tmp/ev$n"
        "$FLOWMEDIC" -r "$cap" --no-db -q --json --workers "$n" --evidence-dir "$tmp/ev$n" \
            >"$tmp/out$n" 2>"$tmp/err$n"
        rc=$?
        if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
            # a capture flowmedic refuses is refused alike for every N
            [ $n -eq 1 ] || [ "$(cat "$tmp/err1")" = "$(cat "$tmp/err$n")" ] ||
                { echo "FAIL $cap --workers $n: exit $rc: $(cat "$tmp/err$n")"; fails=$((fails + 1)); }
        fi
    done
    # more flows than the pool's 256 slots: which flow takes which slot depends on the order
    # the workers' flows reach the ring (README "Workers": N may change an output at a cap)
    if [ "$(grep -c '"type":"flow"' "$tmp/out1")" -gt 256 ]; then
        nfull=$((nfull + 1))
        continue
    fi
    ncap=$((ncap + 1))
    for n in 2 4; do
        if ! diff -r "$tmp/ev1" "$tmp/ev$n" >"$tmp/diff" 2>&1; then
            echo "FAIL $cap: evidence files differ between --workers 1 and $n:"
            head -5 "$tmp/diff"
            fails=$((fails + 1))
        fi
    done
    nfiles=$((nfiles + $(ls "$tmp/ev1" | wc -l)))
done
[ "$nfiles" -gt 0 ] || { echo "FAIL no evidence file was written at all"; fails=$((fails + 1)); }
echo "ok   $ncap captures, $nfiles evidence files: the same bytes with --workers 1, 2 and 4" \
    "($nfull with more flows than the pool's slots not compared)"

# one lock per batch: http-mix.pcap's frames go to the ring in fewer batches than frames
"$FLOWMEDIC" -r "$top_srcdir/samples/http-mix.pcap" --no-db -q -v --workers 2 \
    --evidence-dir "$tmp/ev2" >/dev/null 2>"$tmp/err" || true
line=$(grep "evidence: the workers handed" "$tmp/err")
set -- $(echo "$line" | sed -n 's/.*handed \([0-9]*\) frames to the ring in \([0-9]*\) batches.*/\1 \2/p')
if [ $# -eq 2 ] && [ "$1" -gt 0 ] && [ "$2" -gt 0 ] && [ "$2" -lt "$1" ]; then
    echo "ok   two workers: $1 frames handed to the ring in $2 batches"
else
    echo "FAIL two workers: no batching of evidence frames: '${line:-no -v line}'"
    fails=$((fails + 1))
fi
[ $fails -eq 0 ]
