#!/bin/sh
# liveidx.sh - a live run (-i) creates its database with every index from the start (it is
# queried while it runs), never a pending_indexes table; see deferidx.sh for offline runs.
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
fm_need sqlite3
fm_need_netns
fm_tmpdir
ns=fmlidx$$
fm_ns "$ns"
pid=
fm_at_exit '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null'

want=$(fm_schema_indexes)
[ -n "$want" ] || { echo "FAIL: no CREATE INDEX found in store/schema.c"; exit 1; }

db="$tmp/live.db"
ip netns exec "$ns" "$FLOWMEDIC" -i lo -w "$db" >/dev/null 2>"$tmp/live.err" &
pid=$!
i=0
while [ "$i" -lt 100 ]; do
    [ "$(sqlite3 "$db" "SELECT count(*) FROM runs" 2>/dev/null)" = 1 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
    i=$((i + 1))
done
if [ "$(fm_db_indexes "$db")" = "$want" ] && [ "$(fm_db_pending "$db")" = 0 ]; then
    ok "live run: every index exists while it runs"
else
    bad "live run: indexes $(fm_db_indexes "$db" | tr '\n' ' ') pending $(fm_db_pending "$db"): $(cat "$tmp/live.err")"
fi
kill -TERM "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
pid=
if [ "$(fm_db_indexes "$db")" = "$want" ] && [ "$(fm_db_pending "$db")" = 0 ] &&
    [ "$(sqlite3 "$db" "SELECT status FROM runs")" != running ]; then
    ok "live run: stopped, every index, nothing pending"
else
    bad "live run after stop: indexes $(fm_db_indexes "$db" | tr '\n' ' ') pending $(fm_db_pending "$db")"
fi
exit "$fail"
