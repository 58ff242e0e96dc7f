#!/bin/sh
# sandbox.sh - the seccomp sandbox (cli/sandbox.c) confines flowmedic without breaking it:
#  1. offline: --sandbox gives the same JSON lines and database rows as a run without it;
#  2. a forbidden call is refused: socket() fails with EPERM, execve kills the process (SIGSYS);
#  3. the live view (tmux) runs confined to the end: Seccomp 2 and NoNewPrivs 1 in
#     /proc/PID/status, screen drawn, q quits with status 0, database written;
#  4. the metrics endpoint and file test suites (tests/metrics/) pass with --sandbox;
#  5. live capture with -Z nobody (sandbox on by default), the metrics endpoint and the
#     database writer: Seccomp 2 / NoNewPrivs 1, a scrape answers, SIGINT ends it with
#     status 0 and the flows are in the database. Needs root and ip netns (run under
#     flock /tmp/fm-netns.lock); that part skips with a message otherwise.
. "$(dirname "$0")/lib.sh"
fm_need_flowmedic --fail
fm_need python3 sqlite3
if "$FLOWMEDIC" --sandbox --sandbox-selftest socket --no-db -r "$top_srcdir/samples/refused.pcap" \
    2>&1 | grep -q "built without libseccomp"; then
    echo "SKIP: this flowmedic was built without libseccomp"
    exit 77
fi
fm_tmpdir 777 # -Z nobody writes the database here
nsc=fmsbx-$$-c
nss=fmsbx-$$-s
vs=fmbs$$
SOCK=fmsbx-$$
unset TMUX
TMUX_TMPDIR=$tmp
export TMUX_TMPDIR
fm_at_exit 'tmux -L "$SOCK" kill-server 2>/dev/null'

# confined PID: true when the process runs under a seccomp filter with no_new_privs
confined() {
    grep -q '^Seccomp:[[:space:]]*2' "/proc/$1/status" &&
        grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$1/status"
}

# ---- 1. offline, same results ----
for pcap in tls12-expired http-clean loss-bulk-c2s; do
    s="$top_srcdir/samples/$pcap.pcap"
    "$FLOWMEDIC" -r "$s" -w "$tmp/plain.db" --json >"$tmp/plain.json" 2>"$tmp/plain.err"
    rp=$?
    "$FLOWMEDIC" --sandbox -r "$s" -w "$tmp/sbx.db" --json >"$tmp/sbx.json" 2>"$tmp/sbx.err"
    rs=$?
    [ $rp -eq $rs ] || bad "$pcap: exit status $rs with the sandbox, $rp without: $(cat "$tmp/sbx.err")"
    grep -v '"type":"summary"' "$tmp/plain.json" >"$tmp/a"
    grep -v '"type":"summary"' "$tmp/sbx.json" >"$tmp/b"
    cmp -s "$tmp/a" "$tmp/b" || bad "$pcap: JSON lines differ with the sandbox"
    [ -s "$tmp/b" ] || bad "$pcap: no JSON output with the sandbox"
done
q="SELECT (SELECT count(*) FROM flows) || ' ' || (SELECT count(*) FROM findings) || ' ' ||
   (SELECT count(*) FROM runs WHERE status = 'complete')"
[ "$(sqlite3 "$tmp/plain.db" "$q")" = "$(sqlite3 "$tmp/sbx.db" "$q")" ] ||
    bad "database rows differ: $(sqlite3 "$tmp/plain.db" "$q") without, $(sqlite3 "$tmp/sbx.db" "$q") with the sandbox"
[ "$(sqlite3 "$tmp/sbx.db" "SELECT count(*) FROM runs WHERE status = 'complete'")" = 3 ] ||
    bad "sandboxed runs not all complete in the database"
[ $fail -eq 0 ] && echo "ok   offline: same JSON lines and database rows with --sandbox"

# ---- 2. forbidden calls ----
s="$top_srcdir/samples/refused.pcap"
"$FLOWMEDIC" --sandbox --sandbox-selftest socket --no-db -q -r "$s" >/dev/null 2>"$tmp/err"
rc=$?
{ [ $rc -eq 0 ] && grep -q "socket refused: Operation not permitted" "$tmp/err"; } ||
    bad "socket() under the sandbox: status $rc, $(cat "$tmp/err")"
"$FLOWMEDIC" --sandbox --sandbox-selftest execve --no-db -q -r "$s" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc -eq $((128 + 31)) ] || bad "execve under the sandbox: status $rc (want 159, SIGSYS): $(cat "$tmp/err")"
"$FLOWMEDIC" --sandbox-selftest socket --no-db -q -r "$s" >/dev/null 2>"$tmp/err"
grep -q "socket allowed" "$tmp/err" || bad "without the sandbox socket() should work: $(cat "$tmp/err")"
echo "ok   forbidden calls: socket EPERM, execve killed (status $((128 + 31)))"

# ---- 3. the live view, confined ----
if command -v tmux >/dev/null 2>&1; then
    cmd="cd '$tmp' && TERM=xterm-256color '$FLOWMEDIC' --tui --sandbox --speed max -w '$tmp/tui.db'"
    cmd="$cmd -r '$top_srcdir/samples/http-slow.pcap' 2>'$tmp/tui.err'; echo \"EXITED rc=\$?\"; sleep 60"
    tmux -L "$SOCK" -f /dev/null new-session -d -s t -x 120 -y 40 "$cmd"
    pid=
    i=0
    while [ $i -lt 100 ]; do
        pid=$(pgrep -n -f "tui --sandbox --speed max -w $tmp/tui.db")
        [ -n "$pid" ] && tmux -L "$SOCK" capture-pane -p -t t | grep -q "replay finished" && break
        sleep 0.1
        i=$((i + 1))
    done
    screen=$(tmux -L "$SOCK" capture-pane -p -t t)
    if [ -z "$pid" ]; then
        bad "the live view did not start: $screen $(cat "$tmp/tui.err")"
    else
        confined "$pid" || bad "the live view is not confined: $(grep -E 'Seccomp|NoNewPrivs' /proc/$pid/status)"
        echo "$screen" | grep -q "Servers (" || bad "the live view drew no server panel: $screen"
        tmux -L "$SOCK" send-keys -t t Tab
        sleep 0.3
        tmux -L "$SOCK" send-keys -t t q
        i=0
        while [ $i -lt 50 ] && ! tmux -L "$SOCK" capture-pane -p -t t | grep -q "EXITED rc="; do
            sleep 0.1
            i=$((i + 1))
        done
        tmux -L "$SOCK" capture-pane -p -t t | grep -q "EXITED rc=0" ||
            bad "the confined live view did not quit cleanly: $(tmux -L "$SOCK" capture-pane -p -t t | tail -3) $(cat "$tmp/tui.err")"
        [ "$(sqlite3 "$tmp/tui.db" "SELECT count(*) FROM flows")" -gt 0 ] 2>/dev/null ||
            bad "the confined live view wrote no flows to its database"
        echo "ok   live view: confined, drawn, quit with status 0, database written"
    fi
    tmux -L "$SOCK" kill-server 2>/dev/null
else
    echo "skip live view: tmux is not installed"
fi

# ---- 4. the metrics endpoint and file suites, confined ----
# tests/metrics/ (slowloris, 1000 idle connections, a 1 MB request line, dual stack, TLS and
# basic auth; the symlink-safe metrics file) run with every flowmedic call under --sandbox.
printf '#!/bin/sh\nexec "%s" --sandbox "$@"\n' "$FLOWMEDIC" >"$tmp/fm-sandboxed"
chmod 755 "$tmp/fm-sandboxed"
for t in endpoint file; do
    [ -f "$top_srcdir/tests/metrics/$t.sh" ] || continue
    FLOWMEDIC="$tmp/fm-sandboxed" top_srcdir="$top_srcdir" sh "$top_srcdir/tests/metrics/$t.sh" \
        >"$tmp/metrics-$t.log" 2>&1
    rc=$?
    if [ $rc -eq 0 ]; then
        echo "ok   tests/metrics/$t.sh passes with --sandbox"
    elif [ $rc -eq 77 ]; then
        echo "skip tests/metrics/$t.sh: $(tail -1 "$tmp/metrics-$t.log")"
    else
        bad "tests/metrics/$t.sh fails with --sandbox (status $rc):"
        grep -v '^ok' "$tmp/metrics-$t.log" | tail -15
    fi
done

# ---- 5. live capture with -Z nobody, metrics and database ----
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1; then
    echo "skip live capture: needs root and network namespaces"
    exit $fail
fi
fm_netns_lock
if ! fm_ns "$nsc-probe" --try; then
    echo "skip live capture: network namespaces do not work here"
    exit $fail
fi
fm_pair "$nsc" fmbc$$ "$nss" "$vs" 10.97.1
fm_httpd "$nss" 10.97.1.2 8080 'ok\n' 50
# with --workers 2 the two capture handles are read by the workers, confined too
for n in 1 2; do
    ip netns exec "$nss" "$FLOWMEDIC" -i "$vs" --workers "$n" -Z nobody -w "$tmp/live$n.db" \
        --server 10.97.1.2 --interval 1 --metrics-listen 127.0.0.1:9809 'tcp port 8080' >"$tmp/live.out" 2>"$tmp/live.err" &
    fm_pid=$!
    sleep 1.5
    ip netns exec "$nsc" timeout 30 python3 -c '
import urllib.request
for i in range(4):
    urllib.request.urlopen("http://10.97.1.2:8080/x%d" % i, timeout=5).read()'
    sleep 1.5
    if ! kill -0 "$fm_pid" 2>/dev/null; then
        bad "flowmedic -i -Z nobody died: $(cat "$tmp/live.err")"
        exit 1
    fi
    confined "$fm_pid" || bad "live capture with -Z is not confined: $(grep -E 'Seccomp|NoNewPrivs' /proc/$fm_pid/status)"
    ip netns exec "$nss" curl -sf --max-time 5 http://127.0.0.1:9809/metrics >"$tmp/metrics" ||
        bad "no answer on /metrics from the confined process"
    grep -q '^flowmedic_packets_total [1-9]' "$tmp/metrics" || bad "/metrics from the confined process: $(head -5 "$tmp/metrics")"
    kill -INT "$fm_pid"
    i=0
    while kill -0 "$fm_pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    wait "$fm_pid"
    rc=$?
    fm_pid=
    [ $rc -eq 0 ] || bad "confined live capture ended with status $rc: $(cat "$tmp/live.err")"
    nf=$(sqlite3 "$tmp/live$n.db" "SELECT count(*) FROM flows WHERE server = '10.97.1.2:8080'" 2>&1)
    [ "$nf" = 4 ] || bad "confined live capture, --workers $n: $nf flows in the database, want 4"
    [ $fail -eq 0 ] && echo "ok   live capture with -Z nobody, --workers $n: confined, /metrics answered, 4 flows stored, status 0"
done
exit $fail
