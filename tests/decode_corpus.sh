#!/bin/sh
# decode_corpus.sh - decode every frame of the shared corpus captures (in place) and compare the
# TCP frame count with tshark's tcp_pkts column of MANIFEST.tsv. Damaged and unreadable files
# must give a message, not a crash. Skipped (exit 77) when the corpus is absent.
. "$(dirname "$0")/lib.sh"
: "${top_builddir:=$top_srcdir}"
: "${FM_CORPUS:=/work/shared/corpus}"
bin="$top_builddir/tests/unit/decode_count"
manifest="$FM_CORPUS/MANIFEST.tsv"
if [ ! -f "$manifest" ]; then
    echo "decode_corpus: $manifest absent: skipped"
    exit 77
fi

# Deliberate differences: path, flowmedic's TCP count, reason.
known() {
    case $1 in
    zeek/tcp/truncated-header.pcap) echo "23 frame 1: TCP options cut by snaplen: truncated" ;;
    tcpdump/heapoverflow-tcp_print.pcap) echo "0 the TCP header (60 bytes) is cut by snaplen: truncated" ;;
    *) echo "" ;;
    esac
}

fm_tmpdir
awk -F'\t' 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "tcp_pkts") c = i; if ($i == "file_type") t = i } next }
            { print $1 "\t" $t "\t" $c }' "$manifest" >"$tmp/list"
while IFS='	' read -r path ftype want; do
    file="$FM_CORPUS/$path"
    [ -f "$file" ] || continue
    case $path in
    *.gz) gzip -dc "$file" | "$bin" - >"$tmp/out" 2>"$tmp/err" ;;
    *) "$bin" "$file" >"$tmp/out" 2>"$tmp/err" ;;
    esac
    rc=$?
    got=$(sed -n 's/.*tcp=\([0-9]*\).*/\1/p' "$tmp/out")
    if grep -q "Sanitizer\|runtime error" "$tmp/err" || [ "$rc" -gt 3 ]; then
        echo "FAIL $path: crashed (exit $rc): $(cat "$tmp/err")"
        fail=$((fail + 1))
        continue
    fi
    case $ftype in
    *damaged* | *unsupported* | *unreadable*)
        if [ "$rc" -eq 0 ] || [ ! -s "$tmp/err" ]; then
            echo "FAIL $path: damaged file read without a message"
            fail=$((fail + 1))
        else
            echo "ok   $path: $(head -n 1 "$tmp/err")"
        fi
        continue
        ;;
    esac
    k=$(known "$path")
    if [ -n "$k" ]; then
        want=${k%% *}
        why=" (known: ${k#* })"
    else
        why=""
    fi
    # A cut-off tail (exit 3) is fine when it is said and the frames before it agree.
    if [ "$got" != "$want" ] || [ "$rc" -eq 1 ] || { [ "$rc" -eq 3 ] && [ ! -s "$tmp/err" ]; }; then
        echo "FAIL $path: tcp=$got, tshark tcp_pkts=$want, exit $rc: $(cat "$tmp/err")"
        fail=$((fail + 1))
    elif [ "$rc" -eq 3 ]; then
        echo "ok   $path: tcp=$got$why; $(head -n 1 "$tmp/err")"
    else
        echo "ok   $path: tcp=$got$why"
    fi
done <"$tmp/list"
echo "decode_corpus: $fail failed"
[ "$fail" -eq 0 ]
