#!/usr/bin/env python3
"""dbdump.py DB - every row of every table of a flowmedic database as sorted text lines, each
value with its SQLite type (reals exact, as float.hex), so that two databases written by two
builds from the same captures compare with diff. The columns that differ from run to run
(runs.started, runs.ended: wall clock; runs.options: the command line) are left out."""
import sqlite3
import sys

SKIP = {("runs", "started"), ("runs", "ended"), ("runs", "options")}


def val(v):
    if v is None:
        return "NULL"
    if isinstance(v, float):
        return "r:" + v.hex()
    if isinstance(v, int):
        return "i:%d" % v
    if isinstance(v, bytes):
        return "b:" + v.hex()
    return "t:" + repr(v)


def main():
    db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
    tables = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name")]
    for t in tables:
        cols = [r[1] for r in db.execute("SELECT * FROM pragma_table_info(?)", (t,))]
        keep = [c for c in cols if (t, c) not in SKIP]
        sel = ", ".join('"%s"' % c for c in keep)
        lines = sorted("%s: %s" % (t, " ".join("%s=%s" % (c, val(v)) for c, v in zip(keep, row)))
                       for row in db.execute("SELECT %s FROM \"%s\"" % (sel, t)))
        print("%s: %d rows" % (t, len(lines)))
        for line in lines:
            print(line)


if __name__ == "__main__":
    main()
