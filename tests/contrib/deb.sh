#!/bin/sh
# deb.sh - the Debian package, end to end (`make check-deb`; minutes, so not in `make check`):
# unpack the release tarball (TARBALL, made by `make dist`) in a scratch directory, build it
# with `dpkg-buildpackage -us -uc -b`, check what the .deb holds, install it on this machine
# with dpkg -i, check the flowmedic system user, run the installed flowmedic on a sample and
# `flowmedic report`, verify the installed unit with systemd-analyze, then purge the package
# (and remove the user if this test created it). Needs root, dpkg-buildpackage, and
# flowmedic not installed as a package already.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
[ -n "${TARBALL:-}" ] && [ -f "$TARBALL" ] || { echo "FAIL: set TARBALL to a release tarball (make check-deb does)"; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: installing a package needs root"; exit 77; }
command -v dpkg-buildpackage >/dev/null 2>&1 || { echo "SKIP: dpkg-buildpackage is not installed (Debian: dpkg-dev debhelper)"; exit 77; }
if dpkg-query -W -f='${Status}' flowmedic 2>/dev/null | grep -q installed; then
    echo "FAIL: a flowmedic package is already installed here; this test will not replace it"
    exit 1
fi
tmp=$(mktemp -d)
had_user=
getent passwd flowmedic >/dev/null && had_user=yes
installed=
cleanup() {
    if [ -n "$installed" ]; then
        dpkg --purge flowmedic >/dev/null 2>&1
    fi
    if [ -z "$had_user" ] && getent passwd flowmedic >/dev/null; then
        deluser --quiet --system flowmedic >/dev/null 2>&1
        getent group flowmedic >/dev/null && delgroup --quiet --system flowmedic >/dev/null 2>&1
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
    echo "FAIL: $*"
    exit 1
}

tar -xzf "$TARBALL" -C "$tmp" || fail "cannot unpack $TARBALL"
src=$(find "$tmp" -mindepth 1 -maxdepth 1 -type d)
[ -f "$src/debian/rules" ] || fail "the tarball has no debian/ (EXTRA_DIST)"
echo "building the package in $src"
start=$(date +%s)
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1 || {
    tail -n 40 "$tmp/build.log"
    fail "dpkg-buildpackage -us -uc -b"
}
deb=$(ls "$tmp"/flowmedic_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "no flowmedic_*.deb built"
echo "ok: built $(basename "$deb") in $(($(date +%s) - start)) s"

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$tmp/files"
for f in /usr/bin/flowmedic /usr/share/man/man1/flowmedic.1.gz /lib/systemd/system/flowmedic@.service \
    /etc/flowmedic.conf /usr/libexec/flowmedic/flowmedic-zabbix \
    /usr/share/flowmedic/prometheus/flowmedic-rules.yml /usr/share/flowmedic/grafana/flowmedic-dashboard.json \
    /usr/share/flowmedic/zabbix/flowmedic-template.yaml /usr/share/flowmedic/zabbix/flowmedic.conf; do
    grep -qx "$f" "$tmp/files" || fail "the package lacks $f"
done
dpkg-deb -I "$deb" conffiles | grep -qx /etc/flowmedic.conf || fail "/etc/flowmedic.conf is not a conffile"
echo "ok: the package holds the binary, man page, unit, configuration and integrations"

dpkg -i "$deb" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "dpkg -i"; }
installed=yes
uid=$(getent passwd flowmedic | cut -d: -f3)
[ -n "$uid" ] || fail "postinst created no flowmedic user"
[ "$uid" -lt 1000 ] || fail "the flowmedic user is not a system user (uid $uid)"
echo "ok: installed; system user flowmedic (uid $uid)"

/usr/bin/flowmedic -r "$top_srcdir/samples/refused.pcap" -w "$tmp/t.db" >"$tmp/run.out" 2>&1 ||
    { cat "$tmp/run.out"; fail "the installed flowmedic -r samples/refused.pcap"; }
/usr/bin/flowmedic report "$tmp/t.db" >"$tmp/report.out" 2>&1 || fail "flowmedic report"
grep -q conn_refused "$tmp/report.out" || fail "the report of refused.pcap names no conn_refused"
echo "ok: the installed flowmedic analyses refused.pcap and reports conn_refused"
man -w flowmedic >/dev/null 2>&1 || fail "man flowmedic finds no page"
if command -v systemd-analyze >/dev/null 2>&1; then
    out=$(cd "$tmp" && systemd-analyze verify /lib/systemd/system/flowmedic@lo.service 2>&1)
    [ $? -eq 0 ] && [ -z "$out" ] || fail "systemd-analyze verify of the installed unit: $out"
    echo "ok: systemd-analyze verify flowmedic@lo.service (installed)"
fi
grep -q '/usr/libexec/flowmedic/flowmedic-zabbix -d /var/lib/flowmedic' \
    /usr/share/flowmedic/zabbix/flowmedic.conf || fail "the Zabbix agent configuration has wrong paths"

dpkg --purge flowmedic >"$tmp/purge.log" 2>&1 || { cat "$tmp/purge.log"; fail "dpkg --purge"; }
installed=
for f in /usr/bin/flowmedic /etc/flowmedic.conf /lib/systemd/system/flowmedic@.service /usr/share/flowmedic; do
    [ ! -e "$f" ] || fail "$f is still there after the purge"
done
echo "ok: purged"
