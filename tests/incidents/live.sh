#!/bin/sh
# tests/incidents/live.sh - an incident seen live: replays failure samples (default
# service-down-window and firewall-window, the stretch around each fault) at the recorded pace with
# tcpreplay onto a veth in a throw-away network namespace, runs `flowmedic -i <veth> --json` and
# the live view (--tui, in tmux) on the peer veth, and checks (tests/incidents/live_check.py) that
# the expected incident's open event arrives within 15 s of wall time after the fault's first
# packet was replayed and that the live view's row for that server is not `ok` while it is open.
# Needs root and ip netns (skips, 77, with a message when they cannot work here) and tcpreplay.
# Takes /tmp/fm-netns.lock itself unless it already runs under it (flock /tmp/fm-netns.lock ...).
. "$(dirname "$0")/../lib.sh"
SAMPLES=${INCIDENT_LIVE_SAMPLE:-service-down-window firewall-window}
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
fm_need_flowmedic --fail
fm_need_netns "the live incident test"
ns=fminc-$$
va=fmia$$
vb=fmib$$
sock=fminc-$$
fm_tmpdir 755
fm_at_exit 'tmux -L "$sock" -f /dev/null kill-server 2>/dev/null'
fm_ns "$ns"
fm_veth "$ns" "$va" "$ns" "$vb"
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
