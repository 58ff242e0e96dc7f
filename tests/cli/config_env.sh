#!/bin/sh
# config_env.sh - FLOWMEDIC_CONFIG names the default configuration file; set but empty, none is
# read (make check sets it empty so an installed /etc/flowmedic.conf cannot change test results).
. "$(dirname "$0")/../lib.sh"
sample="$top_srcdir/samples/http-clean.pcap"
fm_tmpdir
printf 'no-such-key = 1\n' >"$tmp/bad.conf"
FLOWMEDIC_CONFIG="$tmp/bad.conf" "$FLOWMEDIC" -r "$sample" --no-db -q >/dev/null 2>"$tmp/err"
rc=$?
if [ "$rc" -eq 0 ] || ! grep -q "bad.conf" "$tmp/err"; then
    echo "FAIL: FLOWMEDIC_CONFIG file not read (exit $rc): $(cat "$tmp/err")"; fail=1
else
    echo "ok   FLOWMEDIC_CONFIG read: $(head -n 1 "$tmp/err")"
fi
FLOWMEDIC_CONFIG= "$FLOWMEDIC" -r "$sample" --no-db -q >/dev/null 2>"$tmp/err" ||
    { echo "FAIL: empty FLOWMEDIC_CONFIG: $(cat "$tmp/err")"; fail=1; }
# --config wins over the variable
printf 'interval = 5s\n' >"$tmp/good.conf"
FLOWMEDIC_CONFIG="$tmp/bad.conf" "$FLOWMEDIC" --config "$tmp/good.conf" -r "$sample" --no-db -q \
    >/dev/null 2>"$tmp/err" || { echo "FAIL: --config did not override: $(cat "$tmp/err")"; fail=1; }
[ "$fail" -eq 0 ] && echo "config_env: ok"
exit "$fail"
