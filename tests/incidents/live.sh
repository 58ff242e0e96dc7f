#!/bin/sh
# tests/incidents/live.sh - an incident seen live: replays failure samples (default
# service-down-window and firewall-window, the stretch around each fault) at the recorded pace with
# tcpreplay onto a veth in a throw-away network namespace, runs `flowmedic -i <veth> --json` and
# the live view (--tui, in tmux) on the peer veth, and checks (tests/incidents/live_check.py) that
# the expected incident's open event arrives within 15 s of wall time after the fault's first
# packet was replayed and that the live view's row for that server is not `ok` while it is open.
# Needs root and ip netns (skips, 77, with a message when they cannot work here) and tcpreplay.
# Takes /tmp/fm-netns.lock itself unless it already runs under it (flock /tmp/fm-netns.lock ...).
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${FLOWMEDIC:=$top_srcdir/flowmedic}"
SAMPLES=${INCIDENT_LIVE_SAMPLE:-service-down-window firewall-window}
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1; then
	echo "SKIP: the live incident test needs root and iproute2"
	exit 77
fi
for t in tcpreplay python3; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "FAIL: $t is missing (Debian package: $t)"
		exit 1
	fi
done
for s in $SAMPLES; do
	if [ ! -f "$top_srcdir/samples/$s.pcap" ] || [ ! -f "$top_srcdir/samples/$s.truth.json" ]; then
		echo "FAIL: the committed sample $s (pcap or truth file) is missing"
		exit 1
	fi
done
if [ ! -x "$FLOWMEDIC" ]; then
	echo "FAIL: no flowmedic binary at $FLOWMEDIC"
	exit 1
fi
# the netns lock: inherited from `flock /tmp/fm-netns.lock make check ...`, or taken here
held=0
for fd in /proc/$$/fd/*; do
	[ "$(readlink "$fd" 2>/dev/null)" = /tmp/fm-netns.lock ] && held=1
done
if [ "$held" -eq 0 ]; then
	exec 9>>/tmp/fm-netns.lock
	if ! flock -w 900 9; then
		echo "FAIL: could not take /tmp/fm-netns.lock within 15 minutes"
		exit 1
	fi
fi
id=$$
ns=fminc-$id
va=fmia$id
vb=fmib$id
sock=fminc-$id
tmp=$(mktemp -d)
chmod 755 "$tmp"
cleanup() {
	tmux -L "$sock" -f /dev/null kill-server 2>/dev/null
	for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
	ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
if ! ip netns add "$ns" 2>/dev/null; then
	echo "SKIP: cannot create network namespaces here"
	exit 77
fi
if ! ip netns exec "$ns" true 2>/dev/null; then
	echo "SKIP: cannot run commands in a network namespace here (ip netns exec failed)"
	exit 77
fi
if ! ip -n "$ns" link add "$va" type veth peer name "$vb"; then
	echo "FAIL: cannot create a veth pair in $ns"
	exit 1
fi
ip -n "$ns" link set "$va" up
ip -n "$ns" link set "$vb" up
ip netns exec "$ns" ethtool -K "$vb" gro off >/dev/null 2>&1 || true
ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$va.disable_ipv6=1" "net.ipv6.conf.$vb.disable_ipv6=1" >/dev/null 2>&1 || true
TMUX_TMPDIR=$tmp
export TMUX_TMPDIR
unset TMUX
failed=0
for s in $SAMPLES; do
	echo "== $s"
	mkdir -p "$tmp/$s"
	python3 "$top_srcdir/tests/incidents/live_check.py" "$ns" "$va" "$vb" "$top_srcdir/samples/$s.pcap" \
		"$top_srcdir/samples/$s.truth.json" "$FLOWMEDIC" "$sock" "$tmp/$s" || failed=$((failed + 1))
	tmux -L "$sock" -f /dev/null kill-server 2>/dev/null
done
[ "$failed" -eq 0 ]
