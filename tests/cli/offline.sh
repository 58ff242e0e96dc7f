#!/bin/sh
# offline.sh - an offline run writes no database unless asked (-w FILE, or the configuration's
# db = PATH; --no-db overrides the file): it works in a read-only directory, prints the summary
# from memory and creates nothing. And -q prints only the problems: nothing for a clean capture,
# one line per incident, per error/warning kind and server, and per capture problem otherwise,
# with the exit status of the run without -q (issue 13).
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
fm_tmpdir 755
fm_at_exit 'chmod -R u+w "$tmp" 2>/dev/null'
fm=$(cd "$(dirname "$FLOWMEDIC")" && pwd)/$(basename "$FLOWMEDIC")
samples=$(cd "$top_srcdir/samples" && pwd)

# 1. A read-only working directory. Root ignores directory modes, so run as nobody there.
mkdir "$tmp/ro"
chmod 555 "$tmp/ro"
as_user=
if [ "$(id -u)" -eq 0 ]; then
    if ! command -v setpriv >/dev/null 2>&1 || ! getent passwd nobody >/dev/null 2>&1; then
        echo "SKIP: root, and no setpriv or no user nobody to run as"
        exit 77
    fi
    as_user="setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups"
    # nobody must reach the binary and the sample (a private checkout may not let it)
    if ! $as_user test -x "$fm" || ! $as_user test -r "$samples/refused.pcap"; then
        cp "$fm" "$tmp/flowmedic" && cp "$samples/refused.pcap" "$tmp/refused.pcap" &&
            chmod 755 "$tmp/flowmedic" && chmod 644 "$tmp/refused.pcap" || exit 1
        fm="$tmp/flowmedic"
        samples="$tmp"
    fi
fi
if (cd "$tmp/ro" && : >probe) 2>/dev/null && [ -z "$as_user" ]; then
    echo "SKIP: cannot make a directory read-only for this user"
    exit 77
fi
rm -f "$tmp/ro/probe" 2>/dev/null
(cd "$tmp/ro" && FLOWMEDIC_CONFIG= $as_user "$fm" -r "$samples/refused.pcap") \
    >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 0 ]; then
    bad "read-only directory: exit $rc: $(cat "$tmp/err")"
elif ! grep -q "^flowmedic summary: 20 frames" "$tmp/out" ||
    ! grep -q "incident error service_down 10.99.1.2:8081" "$tmp/out"; then
    bad "read-only directory: no summary with the incident: $(cat "$tmp/out")"
elif [ -n "$(ls -A "$tmp/ro")" ]; then
    bad "read-only directory: files appeared: $(ls -A "$tmp/ro")"
else
    echo "ok   offline run in a read-only directory: exit 0, summary printed, nothing created"
fi
# The same in a writable directory: still nothing written without -w.
mkdir "$tmp/rw"
(cd "$tmp/rw" && FLOWMEDIC_CONFIG= "$FLOWMEDIC" -r "$top_srcdir/samples/refused.pcap") \
    >"$tmp/out" 2>"$tmp/err" || bad "writable directory: exit $?: $(cat "$tmp/err")"
if [ -n "$(ls -A "$tmp/rw")" ]; then
    bad "an offline run without -w created: $(ls -A "$tmp/rw")"
elif ! grep -q "Nothing stored (-w FILE.db" "$tmp/out"; then
    bad "no hint that nothing was stored: $(tail -n 2 "$tmp/out")"
else
    echo "ok   no database without -w, and the summary says so"
fi

# 2. The configuration's db = PATH writes a database; -w wins over it; --no-db disables it.
printf 'db = %s\n' "$tmp/conf.db" >"$tmp/db.conf"
FLOWMEDIC_CONFIG="$tmp/db.conf" "$FLOWMEDIC" -q -r "$top_srcdir/samples/refused.pcap" \
    >/dev/null 2>"$tmp/err" || bad "db = PATH: exit $?: $(cat "$tmp/err")"
[ -s "$tmp/conf.db" ] && echo "ok   db = PATH in the configuration writes $tmp/conf.db" ||
    bad "db = PATH: no database written"
"$FLOWMEDIC" --config "$tmp/db.conf" -w "$tmp/cli.db" -q -r "$top_srcdir/samples/refused.pcap" \
    >/dev/null 2>"$tmp/err" || bad "-w with db =: exit $?: $(cat "$tmp/err")"
[ -s "$tmp/cli.db" ] && echo "ok   -w wins over db = PATH" || bad "-w did not win over db ="
rm -f "$tmp/conf.db"*
"$FLOWMEDIC" --config "$tmp/db.conf" --no-db -q -r "$top_srcdir/samples/refused.pcap" \
    >/dev/null 2>"$tmp/err" || bad "--no-db with db =: exit $?: $(cat "$tmp/err")"
[ -e "$tmp/conf.db" ] && bad "--no-db did not override db = PATH" ||
    echo "ok   --no-db overrides db = PATH"
FLOWMEDIC_CONFIG= "$FLOWMEDIC" --set "db=$tmp/set.db" -q -r "$top_srcdir/samples/refused.pcap" \
    >/dev/null 2>"$tmp/err" || bad "--set db=: exit $?: $(cat "$tmp/err")"
[ -s "$tmp/set.db" ] && echo "ok   --set db=PATH writes it" || bad "--set db=PATH wrote nothing"

# 2b. The configuration's workers = N|auto (also --set); --workers wins; a bad value is a usage
#     error naming the line. -v says how many workers run and why.
printf 'workers = 2\n' >"$tmp/wk.conf"
FLOWMEDIC_CONFIG="$tmp/wk.conf" "$FLOWMEDIC" -v --no-db -q -r "$top_srcdir/samples/refused.pcap" \
    >/dev/null 2>"$tmp/err" || bad "workers = 2: exit $?: $(cat "$tmp/err")"
grep -q "2 analysis workers (the configuration's workers key)" "$tmp/err" &&
    echo "ok   workers = 2 in the configuration runs two workers" ||
    bad "workers = 2: not two workers: $(cat "$tmp/err")"
"$FLOWMEDIC" --config "$tmp/wk.conf" --workers 1 -v --no-db -q -r "$top_srcdir/samples/refused.pcap" \
    >/dev/null 2>"$tmp/err" || bad "--workers 1 with workers =: exit $?: $(cat "$tmp/err")"
grep -q "1 analysis worker (--workers)" "$tmp/err" && echo "ok   --workers wins over workers = 2" ||
    bad "--workers 1 did not win over workers = 2: $(cat "$tmp/err")"
FLOWMEDIC_CONFIG= "$FLOWMEDIC" --set workers=auto -v --no-db -q -r "$top_srcdir/samples/refused.pcap" \
    >/dev/null 2>"$tmp/err" || bad "--set workers=auto: exit $?: $(cat "$tmp/err")"
# auto says the measured reason: the online CPUs, and why (at most 2 CPUs: one thread)
ncpu=$(getconf _NPROCESSORS_ONLN)
if [ "$ncpu" -le 2 ]; then
    want="1 analysis worker (auto: $ncpu online CPU.*2 workers measured slower than 1 on 2 CPUs"
else
    want="analysis workers (auto: $ncpu online CPUs less one for the aggregator"
fi
grep -q "$want" "$tmp/err" && echo "ok   --set workers=auto, -v says why" ||
    bad "--set workers=auto: -v does not say why ($want): $(cat "$tmp/err")"
for v in 0 9 1.5 many; do
    printf 'workers = %s\n' "$v" >"$tmp/wkbad.conf"
    FLOWMEDIC_CONFIG="$tmp/wkbad.conf" "$FLOWMEDIC" --no-db -q -r "$top_srcdir/samples/refused.pcap" \
        >/dev/null 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 2 ] && grep -q "wkbad.conf:1: workers: '$v' is not auto or a whole number between 1 and 8" "$tmp/err"; then
        echo "ok   workers = $v is refused with the line named"
    else
        bad "workers = $v: exit $rc: $(cat "$tmp/err")"
    fi
done

# 3. -q: nothing for clean captures; only problem lines otherwise; the same exit status.
for s in http-clean tls13-ok keepalive; do
    [ -f "$top_srcdir/samples/$s.pcap" ] || continue
    FLOWMEDIC_CONFIG= "$FLOWMEDIC" -q -r "$top_srcdir/samples/$s.pcap" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne 0 ] || [ -s "$tmp/out" ] || [ -s "$tmp/err" ]; then
        bad "-q on clean $s: exit $rc, output: $(cat "$tmp/out" "$tmp/err")"
    else
        echo "ok   -q on clean $s: no output, exit 0"
    fi
done
# want SAMPLE PATTERN...: every line is a problem line; each PATTERN matches one of them
want() {
    s=$1
    shift
    FLOWMEDIC_CONFIG= "$FLOWMEDIC" -r "$top_srcdir/samples/$s.pcap" >/dev/null 2>&1
    full_rc=$?
    FLOWMEDIC_CONFIG= "$FLOWMEDIC" -q -r "$top_srcdir/samples/$s.pcap" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    if [ "$rc" -ne "$full_rc" ]; then
        bad "-q on $s: exit $rc, without -q $full_rc"
        return
    fi
    if [ ! -s "$tmp/out" ] || grep -Evq '^(incident (error|warn|info) |error |warn  |capture |\.\.\. and [0-9])' \
        "$tmp/out"; then
        bad "-q on $s: not only problem lines: $(cat "$tmp/out")"
        return
    fi
    for p in "$@"; do
        grep -Eq -- "$p" "$tmp/out" || { bad "-q on $s: no line matches /$p/: $(cat "$tmp/out")"; return; }
    done
    echo "ok   -q on $s: $(wc -l <"$tmp/out") problem lines, exit $rc: $(head -n 1 "$tmp/out")"
}
want refused '^incident error service_down 10\.99\.1\.2:8081 since .* until .*: 4 of 4 connection' \
    '^error conn_refused 10\.99\.1\.2:8081 x4: SYN answered by RST'
want http-503 '^incident error http_errors 10\.99\.1\.2:8080 since ' '^error health_alert 10\.99\.1\.2:8080 x1: '
want http-clean-truncated '^capture input ended early'
[ "$fail" -eq 0 ] && echo "offline: ok"
exit "$fail"
