#!/bin/sh
# diskfull.sh - a full file system is named as such (issue 14, item 8): for an existing and a
# new database, with 0 to 64 KiB left, the one message says "the disk is full" (SQLITE_FULL,
# or an I/O error whose errno is ENOSPC: SQLite says only "disk I/O error" when the -shm or
# -wal file cannot be created or grown), the exit status is 1, and the database is intact.
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
fm_need python3
fm_tmpdir
mnt=
fm_at_exit 'if [ -n "$mnt" ]; then umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null; fi'
mkdir "$tmp/mnt"
if [ "$(id -u)" -ne 0 ] || ! mount -t tmpfs -o size=1m tmpfs "$tmp/mnt" 2>/dev/null; then
    echo "SKIP: cannot mount a small tmpfs (not root?)"
    exit 77
fi
mnt="$tmp/mnt"
small="$top_srcdir/samples/refused.pcap"
big="$tmp/big.pcap"
python3 "$top_srcdir/bench/mkbig.py" "$big" 3000 >/dev/null 2>&1 || big="$small"
"$FLOWMEDIC" -q -r "$small" -w "$tmp/good.db" >/dev/null 2>&1 || {
    echo "FAIL: could not make a database to start from"
    exit 1
}
fail=0
for kind in existing new; do
    for left in 0 8 16 24 32 64; do
        rm -f "$mnt"/*
        [ "$kind" = existing ] && cp "$tmp/good.db" "$mnt/x.db"
        dd if=/dev/zero of="$mnt/fill" bs=4k 2>/dev/null
        truncate -s "-${left}k" "$mnt/fill"
        "$FLOWMEDIC" -q -r "$big" -w "$mnt/x.db" >/dev/null 2>"$tmp/err"
        rc=$?
        name="$kind database, ${left} KiB left"
        if [ "$rc" -ne 1 ]; then
            echo "FAIL $name: exit $rc, wanted 1: $(cat "$tmp/err")"
            fail=1
        elif ! grep -q "x\.db.*the disk is full" "$tmp/err" || [ "$(grep -c . "$tmp/err")" -ne 1 ]; then
            echo "FAIL $name: wanted one line naming the full disk, got: $(cat "$tmp/err")"
            fail=1
        elif grep -q "Sanitizer\|runtime error" "$tmp/err"; then
            echo "FAIL $name: sanitizer report"
            fail=1
        else
            echo "ok   $name: $(cat "$tmp/err")"
        fi
        rm -f "$mnt/fill"
        if [ -f "$mnt/x.db" ] && ! python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); assert c.execute("PRAGMA integrity_check").fetchone()[0]=="ok"' "$mnt/x.db"; then
            echo "FAIL $name: the database is damaged afterwards"
            fail=1
        fi
    done
done
exit "$fail"
