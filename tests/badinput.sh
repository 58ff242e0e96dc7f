#!/bin/sh
# badinput.sh - every kind of bad input gets one clear message naming the problem and a
# non-zero exit, never a crash: missing/empty/truncated/corrupt captures, an unknown link type,
# a bad filter, a missing interface, bad options.
. "$(dirname "$0")/lib.sh"
fm_tmpdir
sample="$top_srcdir/samples/http-clean.pcap"

# expect NAME WANT_RC PATTERN -- ARGS...: run flowmedic, check the exit code and that stderr
# matches PATTERN (a grep -E expression) and is a single line unless told otherwise.
expect() {
    name=$1 want=$2 pat=$3
    shift 4
    "$FLOWMEDIC" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL $name: exit $rc, wanted $want; stderr: $(cat "$tmp/err")"
        fail=$((fail + 1))
    elif ! grep -Eq "$pat" "$tmp/err"; then
        echo "FAIL $name: message does not match /$pat/: $(cat "$tmp/err")"
        fail=$((fail + 1))
    elif grep -q "Sanitizer\|runtime error" "$tmp/err"; then
        echo "FAIL $name: sanitizer report"
        fail=$((fail + 1))
    else
        echo "ok   $name: $(head -n 1 "$tmp/err")"
    fi
}

# A capture file: the classic pcap header (little endian) with a given link type, then the
# records given as hex on stdin.
mkpcap() {
    python3 - "$1" "$2" <<'PY'
import struct, sys
path, linktype = sys.argv[1], int(sys.argv[2])
hdr = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, linktype)
rec = bytes.fromhex("4500002800010000400600000a0000010a00000204d201bb0000000100000000500220000000000000")
with open(path, "wb") as f:
    f.write(hdr + struct.pack("<IIII", 1, 0, len(rec), len(rec)) + rec)
PY
}

expect missing-file 1 'nosuch\.pcap.*(No such file|cannot open|not found)' -- -r "$tmp/nosuch.pcap" --no-db
: >"$tmp/empty.pcap"
expect empty-file 1 'empty\.pcap.*empty' -- -r "$tmp/empty.pcap" --no-db
printf 'this is not a capture file at all, just some text\n' >"$tmp/text.pcap"
expect not-a-capture 1 'text\.pcap' -- -r "$tmp/text.pcap" --no-db
mkpcap "$tmp/user0.pcap" 147
expect unknown-linktype 1 'user0\.pcap.*(link|USER0|147)' -- -r "$tmp/user0.pcap" --no-db
if [ -f "$sample" ]; then
    size=$(wc -c <"$sample")
    head -c $((size - 7)) "$sample" >"$tmp/cut.pcap"
    expect truncated-tail 3 'cut\.pcap.*(truncat|ends early|short)' -- -r "$tmp/cut.pcap" --no-db -q
    # a record header that claims 200000 bytes: corrupt in the middle of the file
    python3 - "$sample" "$tmp/corrupt.pcap" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
off, n = 24, 0
while off + 16 <= len(data) and n < 5:
    incl = struct.unpack_from("<I", data, off + 8)[0]
    off += 16 + incl
    n += 1
struct.pack_into("<I", data, off + 8, 200000)
open(sys.argv[2], "wb").write(bytes(data))
PY
    expect corrupt-record 3 'corrupt\.pcap.*(after frame 5|frame 5)' -- -r "$tmp/corrupt.pcap" --no-db -q
    expect bad-filter 1 "(filter|tcp port and).*" -- -r "$sample" --no-db -f 'tcp port and'
else
    echo "FAIL: sample $sample missing"
    fail=$((fail + 1))
fi
expect no-such-interface 1 'fmnosuch0' -- -i fmnosuch0 --no-db
expect unknown-option 2 'unknown option.*--bogus' -- --bogus
expect bad-number 2 'max-flows.*abc' -- -r x.pcap --max-flows abc
expect bad-server 2 'server.*not-an-address' -- -r x.pcap --server not-an-address
expect missing-value 2 "needs a value" -- -r
expect nothing-to-do 2 'nothing to analyse' --
expect bad-db-dir 1 'nosuchdir' -- -r "$sample" -w "$tmp/nosuchdir/x.db"
# JSON lines to a full device: the error names the cause of the first failed write (errno
# used to be stale by the time the sink closed: "No such file or directory").
if [ -w /dev/full ] && [ -f "$sample" ]; then
    "$FLOWMEDIC" -r "$sample" --no-db --json -q >/dev/full 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne 1 ] || ! grep -q 'writing JSON to stdout failed: No space left on device' "$tmp/err"; then
        echo "FAIL json-dev-full: exit $rc; stderr: $(cat "$tmp/err")"
        fail=$((fail + 1))
    else
        echo "ok   json-dev-full: $(head -n 1 "$tmp/err")"
    fi
fi
echo "badinput: $fail failed"
[ "$fail" -eq 0 ]
