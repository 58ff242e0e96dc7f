#!/bin/sh
# user.sh - -Z USER: an account that does not exist is a usage error (exit 2, one clear line,
# nothing opened or written), found before any capture is opened (issue 14, item 8).
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
fm_tmpdir
sample="$top_srcdir/samples/refused.pcap"
[ -f "$sample" ] || { echo "FAIL: $sample is missing"; exit 1; }
fail=0
user=flowmedic-no-such-user-$$
if getent passwd "$user" >/dev/null 2>&1; then
    echo "SKIP: $user exists"
    exit 77
fi
"$FLOWMEDIC" -r "$sample" -w "$tmp/x.db" -Z "$user" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 2 ]; then
    echo "FAIL: -Z $user exited $rc, wanted 2 (usage error): $(cat "$tmp/err")"
    fail=1
elif ! grep -q -- "-Z $user: no such user" "$tmp/err" || [ "$(grep -c . "$tmp/err")" -ne 1 ]; then
    echo "FAIL: -Z $user: wanted one line naming the missing user, got: $(cat "$tmp/err")"
    fail=1
elif [ -e "$tmp/x.db" ]; then
    echo "FAIL: -Z $user: the database was created although the command line was refused"
    fail=1
else
    echo "ok   -Z $user: exit 2: $(cat "$tmp/err")"
fi
# The same check on a live interface: refused before the interface is opened (no root needed).
"$FLOWMEDIC" -i lo -Z "$user" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 2 ] || ! grep -q "no such user" "$tmp/err"; then
    echo "FAIL: -i lo -Z $user exited $rc, wanted 2: $(cat "$tmp/err")"
    fail=1
else
    echo "ok   -i lo -Z $user: exit 2"
fi
# An existing account still works (offline; as root this really drops to it).
if getent passwd nobody >/dev/null 2>&1; then
    if ! "$FLOWMEDIC" -q --no-db -r "$sample" -Z nobody >"$tmp/out" 2>"$tmp/err"; then
        echo "FAIL: -Z nobody: $(cat "$tmp/err")"
        fail=1
    else
        echo "ok   -Z nobody: analysed"
    fi
fi
exit "$fail"
