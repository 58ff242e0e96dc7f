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

want=$(sed -n 's/.*"CREATE INDEX \([a-z_0-9]*\) ON.*/\1/p' "$top_srcdir/store/schema.c" | sort)
indexes() {
    sqlite3 "$1" "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
                  ORDER BY name"
}
pending() {
    sqlite3 "$1" "SELECT count(*) FROM sqlite_master WHERE name = 'pending_indexes'"
}

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
if [ "$(indexes "$db")" = "$want" ] && [ "$(pending "$db")" = 0 ]; then
    ok "live run: every index exists while it runs"
else
    bad "live run: indexes $(indexes "$db" | tr '\n' ' ') pending $(pending "$db"): $(cat "$tmp/live.err")"
fi
kill -TERM "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
pid=
if [ "$(indexes "$db")" = "$want" ] && [ "$(pending "$db")" = 0 ] &&
    [ "$(sqlite3 "$db" "SELECT status FROM runs")" != running ]; then
    ok "live run: stopped, every index, nothing pending"
else
    bad "live run after stop: indexes $(indexes "$db" | tr '\n' ' ') pending $(pending "$db")"
fi
exit "$fail"
