#!/bin/sh
# tests/metrics/file.sh - --metrics-file in a directory other users may write to (issue 14,
# item 1): a symbolic link planted at the old temporary name PATH.tmp by user nobody in a
# group-writable directory must not make flowmedic (root) overwrite the file it points to;
# a target that is itself a link is refused unless --metrics-file-follow; an unusable
# directory is a one-line error at start; the file is 0644 whatever the umask, and no
# temporary file is left behind. As root the link is planted by nobody; otherwise by us.
set -u
. "$(dirname "$0")/../lib.sh"
pcap="$top_srcdir/samples/http-clean.pcap"
if [ ! -f "$pcap" ]; then
	echo "FAIL: $pcap missing"
	exit 1
fi
fm_tmpdir 755
d=$tmp
failed=0
fail() {
	echo "FAIL: $*"
	failed=1
}
mkdir "$d/tf"
printf 'SECRET\n' >"$d/victim"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	chown root:nogroup "$d/tf" 2>/dev/null || chown root:65534 "$d/tf"
	chmod 775 "$d/tf"
	as_nobody="setpriv --reuid=65534 --regid=65534 --groups=65534"
else
	as_nobody=""
fi

echo "== a link planted at the old temporary name"
$as_nobody ln -s "$d/victim" "$d/tf/flowmedic.prom.tmp" || fail "cannot plant the link"
"$FLOWMEDIC" -r "$pcap" --no-db -q --metrics-file "$d/tf/flowmedic.prom" >/dev/null 2>"$d/err" ||
	fail "flowmedic failed: $(cat "$d/err")"
[ "$(cat "$d/victim")" = SECRET ] && echo "ok   the victim is intact" ||
	fail "the victim was overwritten: $(head -1 "$d/victim")"
[ -L "$d/tf/flowmedic.prom.tmp" ] || fail "the planted link was removed or replaced"
grep -q '^flowmedic_packets_total 85$' "$d/tf/flowmedic.prom" && echo "ok   the metrics file is written" ||
	fail "no metrics in $d/tf/flowmedic.prom"
left=$(find "$d/tf" -name '*.tmp?*' | wc -l)
[ "$left" = 0 ] && echo "ok   no temporary file left" || fail "$left temporary files left"

echo "== the mode does not depend on the umask"
rm -f "$d/tf/flowmedic.prom"
(umask 077 && "$FLOWMEDIC" -r "$pcap" --no-db -q --metrics-file "$d/tf/flowmedic.prom" >/dev/null)
mode=$(stat -c %a "$d/tf/flowmedic.prom")
[ "$mode" = 644 ] && echo "ok   mode 644" || fail "mode $mode, want 644"

echo "== a target that is a link"
rm -f "$d/tf/flowmedic.prom"
$as_nobody ln -s "$d/victim" "$d/tf/flowmedic.prom"
"$FLOWMEDIC" -r "$pcap" --no-db -q --metrics-file "$d/tf/flowmedic.prom" >"$d/out" 2>"$d/err"
rc=$?
if [ $rc -ne 0 ] && [ "$(wc -l <"$d/err")" = 1 ] && grep -q 'is a symbolic link' "$d/err" &&
	[ ! -s "$d/out" ]; then
	echo "ok   refused at start (exit $rc): $(cat "$d/err")"
else
	fail "a link as the target: exit $rc, $(cat "$d/err")"
fi
[ "$(cat "$d/victim")" = SECRET ] || fail "the victim was overwritten through the target link"
echo "== --metrics-file-follow writes where the link points"
printf 'old\n' >"$d/real.prom"
ln -sf "$d/real.prom" "$d/link.prom"
"$FLOWMEDIC" -r "$pcap" --no-db -q --metrics-file "$d/link.prom" --metrics-file-follow \
	>/dev/null 2>"$d/err" || fail "--metrics-file-follow: $(cat "$d/err")"
if [ -L "$d/link.prom" ] && grep -q '^flowmedic_packets_total 85$' "$d/real.prom"; then
	echo "ok   the link stays, its target has the metrics"
else
	fail "--metrics-file-follow did not write through the link"
fi

echo "== an unusable directory"
for target in "$d/nodir/x.prom" "$d/victim/x.prom"; do
	"$FLOWMEDIC" -r "$pcap" --no-db -q --metrics-file "$target" >"$d/out" 2>"$d/err"
	rc=$?
	if [ $rc -ne 0 ] && [ "$(wc -l <"$d/err")" = 1 ] && [ ! -s "$d/out" ] &&
		grep -q "directory $(dirname "$target")" "$d/err"; then
		echo "ok   $target: exit $rc: $(cat "$d/err")"
	else
		fail "$target: exit $rc, $(cat "$d/err")"
	fi
done
if [ -n "$as_nobody" ]; then
	mkdir "$d/ro"
	chmod 755 "$d/ro"
	$as_nobody "$FLOWMEDIC" -r "$pcap" --no-db -q --metrics-file "$d/ro/x.prom" >"$d/out" 2>"$d/err"
	rc=$?
	if [ $rc -ne 0 ] && [ "$(wc -l <"$d/err")" = 1 ] && grep -q 'cannot create a temporary file' "$d/err"; then
		echo "ok   a directory nobody cannot write: exit $rc: $(cat "$d/err")"
	else
		fail "a directory nobody cannot write: exit $rc, $(cat "$d/err")"
	fi
fi
exit $failed
