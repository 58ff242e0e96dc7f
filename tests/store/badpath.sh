#!/bin/sh
# badpath.sh - bad database paths get one clear message and a non-zero exit: a missing
# directory, a read-only file, a read-only directory, a file that is not SQLite, another
# program's SQLite file, a database from a newer flowmedic, and a full disk (a small tmpfs,
# when we may mount one). Also `flowmedic report` on bad files and bad options.
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
fm_need python3
fm_tmpdir
mnt=
immutable=
fm_at_exit '[ -n "$immutable" ] && chattr -i "$immutable" 2>/dev/null
if [ -n "$mnt" ]; then umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null; fi'
small="$top_srcdir/samples/refused.pcap"
[ -f "$small" ] || small=$(ls "$top_srcdir"/samples/*.pcap | head -n 1)

# expect NAME WANT_RC PATTERN -- ARGS...: exit code, stderr matching PATTERN (grep -E), one
# line of stderr, no sanitizer report.
expect() {
    name=$1 want=$2 pat=$3
    shift 4
    "$FLOWMEDIC" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    lines=$(grep -c . "$tmp/err")
    if [ "$rc" -ne "$want" ]; then
        echo "FAIL $name: exit $rc, wanted $want; stderr: $(cat "$tmp/err")"
        fail=$((fail + 1))
    elif ! grep -Eq -- "$pat" "$tmp/err"; then
        echo "FAIL $name: message does not match /$pat/: $(cat "$tmp/err")"
        fail=$((fail + 1))
    elif grep -q "Sanitizer\|runtime error" "$tmp/err"; then
        echo "FAIL $name: sanitizer report"
        fail=$((fail + 1))
    elif [ "$lines" -ne 1 ] && [ "$want" -ne 2 ]; then
        echo "FAIL $name: $lines lines on stderr, wanted one: $(cat "$tmp/err")"
        fail=$((fail + 1))
    else
        echo "ok   $name: $(head -n 1 "$tmp/err")"
    fi
}

sql() { python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()' "$@"; }

# A good database to spoil in various ways.
"$FLOWMEDIC" -q -r "$small" -w "$tmp/good.db" >/dev/null 2>&1 ||
    { echo "FAIL: cannot write a database at all"; exit 1; }

expect missing-dir 1 "directory .*nosuchdir.* does not exist" -- -q -r "$small" -w "$tmp/nosuchdir/x.db"

printf 'this is not a database\n%.0s' $(seq 1 100) >"$tmp/text.db"
cp "$tmp/text.db" "$tmp/text.orig"
expect not-sqlite 1 "text\.db is not a flowmedic database \(it is not a SQLite database\)" -- \
    -q -r "$small" -w "$tmp/text.db"
cmp -s "$tmp/text.db" "$tmp/text.orig" || { echo "FAIL not-sqlite: the file was changed"; fail=$((fail + 1)); }

sql "$tmp/other.db" "CREATE TABLE notes (t TEXT); INSERT INTO notes VALUES ('mine');"
expect other-sqlite 1 "other\.db is a SQLite database but not a flowmedic database" -- \
    -q -r "$small" -w "$tmp/other.db"

cp "$tmp/good.db" "$tmp/newer.db"
sql "$tmp/newer.db" "PRAGMA user_version = 99;"
expect newer-schema 1 "newer\.db was written by a newer flowmedic \(schema version 99" -- \
    -q -r "$small" -w "$tmp/newer.db"

# Read-only file. Root ignores file modes, so use the immutable attribute.
cp "$tmp/good.db" "$tmp/ro.db"
if [ "$(id -u)" -ne 0 ]; then
    chmod 0444 "$tmp/ro.db"
    expect readonly-file 1 "ro\.db is read-only" -- -q -r "$small" -w "$tmp/ro.db"
elif chattr +i "$tmp/ro.db" 2>/dev/null; then
    immutable="$tmp/ro.db"
    expect readonly-file 1 "ro\.db is read-only" -- -q -r "$small" -w "$tmp/ro.db"
    chattr -i "$tmp/ro.db"
    immutable=
else
    echo "skip readonly-file: chattr +i is not supported here"
fi

# A read-only file system (and a full one), on a small tmpfs when we may mount.
mkdir "$tmp/mnt"
if [ "$(id -u)" -eq 0 ] && mount -t tmpfs -o size=1m tmpfs "$tmp/mnt" 2>/dev/null; then
    mnt="$tmp/mnt"
    cp "$tmp/good.db" "$mnt/ro.db"
    mount -o remount,ro "$mnt"
    expect readonly-fs 1 "ro\.db is read-only|read-only" -- -q -r "$small" -w "$mnt/ro.db"
    expect readonly-fs-new 1 "cannot create database .*new\.db.*read-only" -- \
        -q -r "$small" -w "$mnt/new.db"
    mount -o remount,rw "$mnt"
    rm -f "$mnt/ro.db"

    # Full disk: a fresh database, then the file system filled up to a few pages.
    cp "$tmp/good.db" "$mnt/full.db"
    dd if=/dev/zero of="$mnt/fill" bs=4k 2>/dev/null
    truncate -s -160k "$mnt/fill" # the -shm (32 KiB) and a few 16 KiB pages of WAL
    big="$tmp/big.pcap"
    if python3 "$top_srcdir/bench/mkbig.py" "$big" 3000 >/dev/null 2>&1; then
        expect disk-full 1 "full\.db.*(disk is full|full).*[0-9]+ records were not written" -- \
            -q -r "$big" -w "$mnt/full.db"
    else
        expect disk-full 1 "full\.db.*(disk is full|full).*[0-9]+ records were not written" -- \
            -q -r "$small" -r "$small" -r "$small" -w "$mnt/full.db"
    fi
    rm -f "$mnt/fill"
    if python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); assert c.execute("PRAGMA integrity_check").fetchone()[0]=="ok"' "$mnt/full.db"; then
        echo "ok   disk-full: the database is intact afterwards"
    else
        echo "FAIL disk-full: the database is damaged afterwards"
        fail=$((fail + 1))
    fi
    umount "$mnt" && mnt=
else
    echo "skip readonly-fs, disk-full: cannot mount a tmpfs (not root?)"
fi

# The report on bad files and with bad options.
expect report-missing 1 "cannot open database .*nosuch\.db" -- report "$tmp/nosuch.db"
expect report-text 1 "text\.db is not a flowmedic database" -- report "$tmp/text.db"
expect report-other 1 "other\.db is not a flowmedic database" -- report "$tmp/other.db"
expect report-newer 1 "newer flowmedic" -- report "$tmp/newer.db"
expect report-no-db 2 "which database" -- report
expect report-bad-option 2 "unknown option --bogus" -- report "$tmp/good.db" --bogus
expect report-bad-run 2 "--run x" -- report "$tmp/good.db" --run x
expect report-bad-time 2 "--since yesterday" -- report "$tmp/good.db" --since yesterday
expect report-bad-server 2 "--server 10.0.0.300" -- report "$tmp/good.db" --server 10.0.0.300
exit $((fail != 0))
