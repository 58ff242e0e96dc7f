#!/bin/sh
# signal_close.sh - a SIGTERM that arrives while the run is shutting down is harmless (issue 14,
# item 9). gdb stops flowmedic just after the capture source was freed (inside cap_close,
# before the caller forgot it) and delivers SIGTERM there; the handler must not reach the
# freed source (it used to call cap_break on it), and the run must still end normally.
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
fm_need gdb
if [ "$(uname -m)" != x86_64 ]; then
    echo "SKIP: the gdb script reads the first argument of free() from %rdi (x86-64 only)"
    exit 77
fi
if ! gdb -q -batch -ex run --args /bin/true 2>&1 | grep -q "exited normally"; then
    echo "SKIP: gdb cannot run programs here (ptrace not permitted?)"
    exit 77
fi
fm_tmpdir
sample="$top_srcdir/samples/refused.pcap"
[ -f "$sample" ] || { echo "FAIL: $sample is missing"; exit 1; }

# Stop at cap_close, then at the free() of that same source, step out of free(), and deliver
# SIGTERM there. Any call of cap_break from then on reaches freed memory.
cat >"$tmp/gdb.cmd" <<'GDB'
set pagination off
set confirm off
handle SIGTERM nostop noprint pass
break cap_close
run
set $src = s
delete
break free if $rdi == $src
continue
delete
finish
break cap_break
echo >>> delivering SIGTERM after the source was freed\n
signal SIGTERM
echo >>> after the signal\n
continue
GDB
ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0 timeout 120 gdb -q -batch -x "$tmp/gdb.cmd" \
    --args "$FLOWMEDIC" -q --no-db -r "$sample" >"$tmp/out" 2>&1
fail=0
if ! grep -q "delivering SIGTERM after the source was freed" "$tmp/out"; then
    echo "FAIL: gdb did not reach the point after the source was freed:"
    tail -n 20 "$tmp/out"
    exit 1
fi
if grep -q "Breakpoint [0-9]*, cap_break" "$tmp/out"; then
    echo "FAIL: the signal handler called cap_break on the freed capture source"
    fail=1
fi
if grep -q "AddressSanitizer\|runtime error" "$tmp/out"; then
    echo "FAIL: sanitizer report:"
    grep -A5 "AddressSanitizer\|runtime error" "$tmp/out" | head -n 20
    fail=1
fi
if ! grep -Eq "exited normally|exited with code 0[0-9]" "$tmp/out"; then
    echo "FAIL: flowmedic did not exit by itself after the signal:"
    tail -n 10 "$tmp/out"
    fail=1
fi
[ "$fail" -eq 0 ] && echo "ok   SIGTERM after the capture source was freed: no use of it, exit: $(grep -Eo 'exited [a-z ]*[0-9]*' "$tmp/out" | tail -n 1)"
exit "$fail"
