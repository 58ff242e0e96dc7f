# tests/lib.sh - the shell tests' common preamble and helpers (POSIX sh; sourced, not run).
#
#   . "$(dirname "$0")/../lib.sh"     # from tests/DIR/x.sh ("$(dirname "$0")/lib.sh" in tests/)
#   fm_need_flowmedic                 # SKIP (77) when the binary is not built (--fail: FAIL)
#   fm_need python3 sqlite3           # SKIP (77) when a tool is missing
#   fm_tmpdir                         # $tmp, removed at exit with everything registered below
#   fm_at_exit 'kill "$pid" 2>/dev/null'   # run at exit (last registered first), $vars then
#   bad "message"                     # prints FAIL: message, sets fail=1; ok "message" prints ok
#
# Network namespaces (root; under /tmp/fm-netns.lock, COMMON.md):
#   fm_need_netns                     # SKIP unless root with iproute2; takes the lock (fm_netns_lock)
#   fm_ns NAME [--try]                # a namespace with lo up, deleted at exit (SKIP if impossible)
#   fm_veth NS_A IF_A NS_B IF_B       # a veth pair (NS "" = this namespace), offloads off, no
#                                     # IPv6, up; deleted at exit
#   fm_pair NSC VC NSS VS NET         # fm_ns both, fm_veth between them, NET.1/24 on VC, NET.2/24 on VS
#   fm_httpd NS ADDR PORT UNIT COUNT  # an HTTP/1.0 server in NS answering GET with UNIT x COUNT (60 s)
#   fm_in NS CMD...                   # run CMD in NS (not for a background process to be
#                                     # signalled: $! would be a subshell's; ip netns exec NS)
# At exit every process left in those namespaces is killed, then the namespaces and the veths
# are deleted and $tmp removed, on success, failure and INT/TERM/HUP alike.
#
# Paths: make check exports top_srcdir and FLOWMEDIC (Makefile.am, AM_TESTS_ENVIRONMENT; a
# VPATH build runs the scripts from the source tree). Run by hand, top_srcdir is the directory
# holding tests/lib.sh above the script and FLOWMEDIC the binary built there.

if [ -z "${top_srcdir:-}" ]; then
    top_srcdir=$(cd "$(dirname "$0")" && pwd)
    while [ "$top_srcdir" != / ] && [ ! -f "$top_srcdir/tests/lib.sh" ]; do
        top_srcdir=$(dirname "$top_srcdir")
    done
fi
: "${FLOWMEDIC:=${top_builddir:-$top_srcdir}/flowmedic}"
fail=0
tmp=
FM_AT_EXIT=
FM_NETNS=
FM_LINKS=

fm_skip() {
    echo "SKIP: $*"
    exit 77
}

bad() {
    echo "FAIL: $*"
    fail=1
}

ok() { echo "ok   $*"; }

# fm_need_flowmedic [--fail]: the binary must be built; a skip unless --fail.
fm_need_flowmedic() {
    [ -x "$FLOWMEDIC" ] && return 0
    if [ "${1:-}" = --fail ]; then
        echo "FAIL: $FLOWMEDIC is not built"
        exit 1
    fi
    fm_skip "$FLOWMEDIC is not built"
}

# fm_need TOOL...: every tool on PATH, else a skip naming the first missing one.
fm_need() {
    for fm_t in "$@"; do
        command -v "$fm_t" >/dev/null 2>&1 || fm_skip "$fm_t is needed"
    done
}

# fm_at_exit CMD: evaluate CMD at exit (before the namespaces and $tmp go), last first.
fm_at_exit() {
    FM_AT_EXIT="$1
$FM_AT_EXIT"
}

fm_exit() {
    fm_rc=$?
    set +e
    trap - EXIT INT TERM HUP
    eval "$FM_AT_EXIT"
    fm_netns_cleanup
    [ -n "$tmp" ] && [ -d "$tmp" ] && rm -rf "$tmp"
    exit "$fm_rc"
}

# fm_traps: the exit trap (also after INT, TERM and HUP); fm_tmpdir and fm_ns install it.
fm_traps() {
    trap fm_exit EXIT
    trap 'exit 1' INT TERM HUP
}

# fm_tmpdir [MODE]: a fresh temporary directory in $tmp (chmod MODE when given), removed at exit.
fm_tmpdir() {
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/fmtest.XXXXXX") || {
        echo "FAIL: mktemp -d"
        exit 1
    }
    fm_traps
    [ -z "${1:-}" ] || chmod "$1" "$tmp"
}

# ---- network namespaces ----

# fm_netns_lock [SECONDS]: hold /tmp/fm-netns.lock for the rest of the script (default: wait
# up to 900 s, then FAIL), unless this process or one it runs under already holds it (e.g.
# `flock /tmp/fm-netns.lock make check`), where taking it again would wait forever.
fm_netns_lock() {
    command -v flock >/dev/null 2>&1 || fm_skip "flock (util-linux) is needed for /tmp/fm-netns.lock"
    for fm_fd in /proc/$$/fd/*; do
        [ "$(readlink "$fm_fd" 2>/dev/null)" = /tmp/fm-netns.lock ] && return 0
    done
    fm_p=$PPID
    while [ -n "$fm_p" ] && [ "$fm_p" -gt 1 ] 2>/dev/null; do
        tr '\0' ' ' <"/proc/$fm_p/cmdline" 2>/dev/null | grep -q 'flock.*fm-netns\.lock' && return 0
        fm_p=$(awk '{print $4}' "/proc/$fm_p/stat" 2>/dev/null)
    done
    exec 9>>/tmp/fm-netns.lock
    if ! flock -w "${1:-900}" 9; then
        echo "FAIL: /tmp/fm-netns.lock stayed busy for ${1:-900} s"
        exit 1
    fi
}

# fm_need_netns [WHY]: root and iproute2, else a skip; then the netns lock.
fm_need_netns() {
    if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1; then
        fm_skip "${1:-this test} needs root and iproute2 (network namespaces)"
    fi
    fm_netns_lock
}

# fm_ns NAME [--try]: a new namespace, loopback up; a skip when namespaces do not work here
# (with --try: status 1 instead, for a test whose other parts have run).
fm_ns() {
    fm_traps
    if ! ip netns add "$1" 2>/dev/null; then
        [ "${2:-}" = --try ] && return 1
        fm_skip "cannot create network namespaces here"
    fi
    FM_NETNS="$FM_NETNS $1"
    if ! ip netns exec "$1" true 2>/dev/null; then
        [ "${2:-}" = --try ] && return 1
        fm_skip "cannot run commands in a network namespace here (ip netns exec failed)"
    fi
    ip -n "$1" link set lo up
}

fm_in() {
    fm_ns_=$1
    shift
    ip netns exec "$fm_ns_" "$@"
}

# fm_ip NS ARGS...: ip in NS, or in this namespace when NS is "".
fm_ip() {
    if [ -n "$1" ]; then
        fm_ns_=$1
        shift
        ip -n "$fm_ns_" "$@"
    else
        shift
        ip "$@"
    fi
}

# fm_quiet NS IF: offloads off (frames as on the wire: no TSO/GSO super-frames, no GRO
# merging before the capture), and no IPv6 on IF (no router solicitation, DAD or MLD chatter).
fm_quiet() {
    fm_x=
    [ -z "$1" ] || fm_x="ip netns exec $1"
    $fm_x ethtool -K "$2" tso off gso off gro off tx off rx off >/dev/null 2>&1 ||
        $fm_x ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1 || true
    $fm_x sysctl -qw "net.ipv6.conf.$2.disable_ipv6=1" >/dev/null 2>&1 || true
}

# fm_veth NS_A IF_A NS_B IF_B: a veth pair between two namespaces ("" = this one), quiet, up.
# A FAIL when it cannot be made (fm_ns already showed that namespaces work).
fm_veth() {
    fm_traps
    set -- "$1" "$2" "$3" "$4" "${1:+netns $1}" "${3:+netns $3}"
    # shellcheck disable=SC2086 # $5 / $6: "netns NS" or nothing
    if ! ip link add "$2" $5 type veth peer name "$4" $6; then
        echo "FAIL: cannot create the veth pair $2/$4"
        exit 1
    fi
    [ -n "$1" ] || FM_LINKS="$FM_LINKS $2"
    [ -n "$3" ] || FM_LINKS="$FM_LINKS $4"
    fm_quiet "$1" "$2"
    fm_quiet "$3" "$4"
    fm_ip "$1" link set "$2" up
    fm_ip "$3" link set "$4" up
}

# fm_pair NSC VC NSS VS NET: a client and a server namespace joined by the veth pair VC/VS,
# with NET.1/24 on VC and NET.2/24 on VS (NET: the first three octets, e.g. 10.98.1).
fm_pair() {
    fm_ns "$1"
    fm_ns "$3"
    fm_veth "$1" "$2" "$3" "$4"
    ip -n "$1" addr add "$5.1/24" dev "$2" && ip -n "$3" addr add "$5.2/24" dev "$4" || {
        echo "FAIL: cannot address the veth pair $2/$4"
        exit 1
    }
}

# fm_httpd NS ADDR PORT UNIT COUNT: in the background in NS for at most 60 s, an HTTP server
# on ADDR:PORT answering every GET with 200 and UNIT (backslash escapes allowed) COUNT times.
fm_httpd() {
    ip netns exec "$1" timeout 60 python3 -c '
import codecs, http.server, socketserver, sys
body = codecs.decode(sys.argv[3], "unicode_escape").encode() * int(sys.argv[4])
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
socketserver.TCPServer.allow_reuse_address = True
socketserver.TCPServer((sys.argv[1], int(sys.argv[2])), H).serve_forever()' "$2" "$3" "$4" "$5" &
}

# fm_wait_listen NS PROTO PORT [SECONDS]: until something listens on PORT (tcp or udp) in NS
# ("" = here); 1 if nothing did within SECONDS (default 10).
fm_wait_listen() {
    fm_x=
    [ -z "$1" ] || fm_x="ip netns exec $1"
    fm_f=-Hltn
    [ "$2" = udp ] && fm_f=-Hlun
    fm_i=0
    while [ "$fm_i" -lt $((${4:-10} * 10)) ]; do
        $fm_x ss $fm_f "sport = :$3" 2>/dev/null | grep -q . && return 0
        sleep 0.1
        fm_i=$((fm_i + 1))
    done
    return 1
}

# fm_wait_listening ERRFILE [SECONDS]: wait (default 10 s) until flowmedic -v -i (or
# tcpdump), whose stderr is ERRFILE, says "listening on": its capture handles are open with their filter, and
# the kernel queues what the interface sees from then on (a fixed sleep was too short for an
# ASan build's start on a loaded machine); 1 if it did not say so. Remove ERRFILE before
# starting the process: the shell truncates it only once the process starts.
fm_wait_listening() {
    fm_i=0
    while ! grep -q "listening on" "$1" 2>/dev/null && [ "$fm_i" -lt $((${2:-10} * 10)) ]; do
        sleep 0.1
        fm_i=$((fm_i + 1))
    done
    grep -q "listening on" "$1" 2>/dev/null
}

# fm_wait_exit PID [SECONDS]: wait until PID ends (default 5 s); 1 if it still runs.
fm_wait_exit() {
    fm_i=0
    while kill -0 "$1" 2>/dev/null && [ "$fm_i" -lt $((${2:-5} * 10)) ]; do
        sleep 0.1
        fm_i=$((fm_i + 1))
    done
    ! kill -0 "$1" 2>/dev/null
}

# fm_workers_same PCAP - run PCAP with --workers 1, 2 and 4 (JSON lines, no database), sorted
# into $tmp/out1, out2, out4, and say whether 2 and 4 give the lines of 1 (ok / bad).
fm_workers_same() {
    for n in 1 2 4; do
        "$FLOWMEDIC" -r "$1" --json --no-db -q --workers "$n" >"$tmp/raw$n" 2>"$tmp/err$n"
        rc=$?
        [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || bad "--workers $n exited $rc: $(head -c 300 "$tmp/err$n")"
        LC_ALL=C sort "$tmp/raw$n" >"$tmp/out$n"
    done
    for n in 2 4; do
        if cmp -s "$tmp/out1" "$tmp/out$n"; then
            ok "--workers $n gives the lines of --workers 1"
        else
            bad "--workers $n differs from --workers 1:"
            diff "$tmp/out1" "$tmp/out$n" | head -n 10
        fi
    done
}

# The named indexes of database $1, one a line, sorted (tests/store/deferidx.sh, liveidx.sh).
fm_db_indexes() {
    sqlite3 "$1" "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL
                  ORDER BY name"
}

# 1 when database $1 has a pending_indexes table (indexes deferred and not built yet), else 0.
fm_db_pending() {
    sqlite3 "$1" "SELECT count(*) FROM sqlite_master WHERE name = 'pending_indexes'"
}

# Every index the schema defines, sorted: the names of store/schema.c's CREATE INDEX lines
# less those a later step drops (DROP INDEX).
fm_schema_indexes() {
    fm_dropped=$(sed -n 's/.*"DROP INDEX IF EXISTS \([a-z_0-9]*\);.*/\1/p' \
        "$top_srcdir/store/schema.c")
    sed -n 's/.*"CREATE INDEX \([a-z_0-9]*\) ON.*/\1/p' "$top_srcdir/store/schema.c" | sort |
        while read -r fm_x; do printf '%s\n' "$fm_dropped" | grep -qx "$fm_x" || echo "$fm_x"; done
}

fm_netns_cleanup() {
    for fm_n in $FM_NETNS; do
        for fm_p in $(ip netns pids "$fm_n" 2>/dev/null); do kill -KILL "$fm_p" 2>/dev/null; done
    done
    for fm_n in $FM_NETNS; do
        fm_i=0
        while [ -n "$(ip netns pids "$fm_n" 2>/dev/null)" ] && [ "$fm_i" -lt 20 ]; do
            sleep 0.1
            fm_i=$((fm_i + 1))
        done
        ip netns del "$fm_n" 2>/dev/null
    done
    for fm_n in $FM_LINKS; do ip link del "$fm_n" 2>/dev/null; done
    FM_NETNS=
    FM_LINKS=
}
