#!/bin/sh
# systemd.sh - contrib/systemd/flowmedic@.service.in, made as `make install` makes it (paths
# pointed at this build), passes `systemd-analyze verify` without a warning (its man page
# link resolved against ./flowmedic.1), keeps to its promises (dedicated user, only
# CAP_NET_RAW and CAP_NET_ADMIN, state directory, read-only system, restart on failure) with
# an exposure level under 3 in `systemd-analyze security --offline`, and its ExecStart line
# (specifiers expanded for the instance "lo") runs: it captures, and SIGTERM leaves the
# database and the metrics file behind.
. "$(dirname "$0")/../lib.sh"
fm_need systemd-analyze
fm_tmpdir
bindir=$(cd "$(dirname "$FLOWMEDIC")" && pwd)
unit=$tmp/flowmedic@.service
sed -e "s|@FM_BINDIR@|$bindir|g" -e "s|@FM_SYSCONFDIR@|$tmp/etc|g" \
    "$top_srcdir/contrib/systemd/flowmedic@.service.in" >"$unit"
mkdir -p "$tmp/man/man1" "$tmp/etc"
cp "$top_srcdir/flowmedic.1" "$tmp/man/man1/"
cp "$top_srcdir/contrib/flowmedic.conf" "$tmp/etc/flowmedic.conf"

# Can systemd-analyze verify work here at all? Try a unit that must pass.
printf '[Service]\nExecStart=/bin/true\n' >"$tmp/fmprobe.service"
if ! out=$(cd "$tmp" && systemd-analyze verify --man=no "$tmp/fmprobe.service" 2>&1) || [ -n "$out" ]; then
    echo "SKIP: systemd-analyze verify cannot run in this environment: $out"
    exit 77
fi
fail=0
out=$(cd "$tmp" && MANPATH=$tmp/man systemd-analyze verify "$tmp/flowmedic@lo.service" 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
    echo "FAIL: systemd-analyze verify flowmedic@lo.service (exit $rc):"
    echo "$out"
    fail=1
else
    echo "ok: systemd-analyze verify flowmedic@lo.service: no warning"
fi

# What the unit promises, line by line.
want() {
    if grep -qx "$1" "$unit"; then echo "ok: $1"; else echo "FAIL: the unit has no line '$1'"; fail=1; fi
}
want 'User=flowmedic'
want 'AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN'
want 'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN'
want 'NoNewPrivileges=yes'
want 'StateDirectory=flowmedic'
want 'ProtectSystem=strict'
want 'ProtectHome=yes'
want 'Restart=on-failure'
n=$(grep -c '^\(AmbientCapabilities\|CapabilityBoundingSet\)=' "$unit")
[ "$n" -eq 2 ] || { echo "FAIL: capabilities set on $n lines, expected 2"; fail=1; }

out=$(cd "$tmp" && systemd-analyze security --offline=yes --no-pager "$tmp/flowmedic@lo.service" 2>&1)
level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for flowmedic@lo.service: \([0-9.]*\).*/\1/p')
if [ -z "$level" ]; then
    echo "FAIL: systemd-analyze security gave no exposure level:"
    printf '%s\n' "$out" | tail -5
    fail=1
elif awk -v l="$level" 'BEGIN { exit !(l < 3.0) }'; then
    echo "ok: exposure level $level (systemd-analyze security --offline)"
else
    echo "FAIL: exposure level $level, expected under 3.0"
    printf '%s\n' "$out" | grep '✗'
    fail=1
fi

# The ExecStart line, specifiers expanded for flowmedic@lo, runs as written.
if [ "$(id -u)" -eq 0 ]; then
    cmd=$(sed -n 's/^ExecStart=//p' "$unit" | sed -e "s|%S|$tmp/state|g" -e 's|%[iI]|lo|g' \
        -e 's|\$FLOWMEDIC_OPTS|--interval 1 tcp port 80|')
    mkdir -p "$tmp/state/flowmedic"
    # shellcheck disable=SC2086
    timeout --preserve-status -s TERM 3 $cmd >"$tmp/exec.out" 2>&1
    rc=$?
    if [ $rc -ne 0 ] || [ ! -s "$tmp/state/flowmedic/lo.db" ] || ! grep -q '^flowmedic_packets_total ' "$tmp/state/flowmedic/lo.prom" 2>/dev/null; then
        echo "FAIL: ExecStart ($cmd) exit $rc, or no database and metrics file:"
        tail -5 "$tmp/exec.out"
        fail=1
    else
        echo "ok: ExecStart runs: $cmd"
    fi
else
    echo "note: not root, the ExecStart line was not run"
fi
exit $fail
