#!/bin/sh
# tmux.sh - drive the real `flowmedic --tui` in a tmux pane: every panel, the keys (sort, filter,
# detail, Tab, help, pause, quit), resize to 80x24, colours vs NO_COLOR, the final state after a
# replay, and the refusal without a terminal. Skips (exit 77) only when tmux is not installed.
set -u

. "$(dirname "$0")/../lib.sh"
fm_need tmux
fm_need_flowmedic --fail

S=fmtui-$$                       # session name
run=0                            # flowmedic runs so far; each gets its own tmux server socket
SOCK=$S-$run                     # private tmux server socket of the current run
fm_tmpdir
TMUX_TMPDIR=$tmp                 # the tmux sockets go away with $tmp
export TMUX_TMPDIR
unset TMUX                       # also when make check runs inside a tmux session
failed=0
checks=0

tm() { tmux -L "$SOCK" -f /dev/null "$@"; }
fm_at_exit 'tm kill-server 2>/dev/null'
screen() { tm capture-pane -p -t "$S"; }

fail() {
    failed=$((failed + 1))
    echo "FAIL: $*"
    echo "---- screen ----"
    screen
    echo "----------------"
}

# wait_for TEXT [SECONDS]: poll the screen until TEXT (fixed string) shows up.
wait_for() {
    checks=$((checks + 1))
    n=0
    limit=$((${2:-10} * 10))
    while [ "$n" -lt "$limit" ]; do
        if screen | grep -qF -e "$1"; then
            return 0
        fi
        sleep 0.1
        n=$((n + 1))
    done
    fail "'$1' did not appear within ${2:-10} s"
    return 1
}

# wait_gone TEXT [SECONDS]: poll until TEXT is no longer on the screen.
wait_gone() {
    checks=$((checks + 1))
    n=0
    limit=$((${2:-10} * 10))
    while [ "$n" -lt "$limit" ]; do
        if ! screen | grep -qF -e "$1"; then
            return 0
        fi
        sleep 0.1
        n=$((n + 1))
    done
    fail "'$1' was still on the screen after ${2:-10} s"
    return 1
}

# has TEXT / hasnt TEXT: assert on the current screen.
has() {
    checks=$((checks + 1))
    screen | grep -qF -e "$1" || fail "expected '$1' on the screen"
}
hasnt() {
    checks=$((checks + 1))
    if screen | grep -qF -e "$1"; then fail "did not expect '$1' on the screen"; fi
}

keys() { tm send-keys -t "$S" "$@"; }

# start W H ENV ARGS...: run flowmedic in a fresh session; the pane stays after it exits.
start() {
    w=$1
    h=$2
    envs=$3
    shift 3
    tm kill-server 2>/dev/null
    run=$((run + 1))
    SOCK=$S-$run
    cmd="cd '$tmp' && env -u NO_COLOR TERM=xterm-256color $envs '$FLOWMEDIC' $* 2>'$tmp/stderr';"
    cmd="$cmd echo \"EXITED rc=\$?\"; sleep 600"
    tm new-session -d -s "$S" -x "$w" -y "$h" "$cmd"
}

sample() { echo "$top_srcdir/samples/$1"; }

# ---- 1. without a terminal --tui refuses with a clear message ----
checks=$((checks + 1))
if "$FLOWMEDIC" -r "$(sample refused.pcap)" --tui --no-db >"$tmp/out" 2>"$tmp/err" </dev/null; then
    failed=$((failed + 1))
    echo "FAIL: --tui with stdout redirected to a file did not refuse"
elif ! grep -q "needs a terminal" "$tmp/err"; then
    failed=$((failed + 1))
    echo "FAIL: --tui without a terminal: unclear message: $(cat "$tmp/err")"
fi

start 120 40 "TERM=dumb" -r "$(sample refused.pcap)" --tui --no-db
wait_for "EXITED rc="
hasnt "EXITED rc=0"
checks=$((checks + 1))
grep -q "TERM is \"dumb\"" "$tmp/stderr" || fail "TERM=dumb: unclear message: $(cat "$tmp/stderr")"

# ---- 2. replay of refused.pcap: panels and final state ----
start 120 40 "" -r "$(sample refused.pcap)" --tui --speed max --no-db
wait_for "replay finished - q to quit" 20
has "flowmedic  replay "
has "samples/refused.pcap"
has "packets 20 "
has "no database"
has "elapsed 1.2s"
# server panel: the closed port is red, from its refused connections
has "Servers ("
has "10.99.1.2:8081"
screen | grep -F "10.99.1.2:8081" | grep -v "service_down" | head -1 | grep -q "BAD" ||
    fail "server 10.99.1.2:8081 is not marked BAD"
# the incident panel above the servers names the cause
has "Incidents open (1)"
has "ERROR service_down 10.99.1.2:8081"
checks=$((checks + 1))
# flow table: 5 flows, the refused ones first (sort: worst)
has "Flows (5)  sort: worst"
has "conn_refused"
first_flow=$(screen | grep -A1 -F " client " | sed -n 2p)
echo "$first_flow" | grep -q "refused.*conn_refused" || fail "worst flow is not a refused one: $first_flow"
checks=$((checks + 1))
# findings feed, severity shown
has "Findings ("
screen | grep -q "ERROR conn_refused 10.99.1.1:[0-9]* -> 10.99.1.2:8081" ||
    fail "no ERROR conn_refused line in the findings feed"
checks=$((checks + 1))
has "q quit  p pause  Tab panel  s sort  / filter  Enter detail  Esc back  ? help"

# sort cycles worst -> bytes -> age -> retrans -> worst
keys s
wait_for "sort: bytes"
first_flow=$(screen | grep -A1 -F " client " | sed -n 2p)
echo "$first_flow" | grep -q "10.99.1.2:8080" || fail "sort by bytes: the HTTP flow is not first"
checks=$((checks + 1))
keys s
wait_for "sort: age"
keys s
wait_for "sort: retrans"
keys s
wait_for "sort: worst"

# filter: by port, then Esc clears it
keys /
wait_for "filter: _"
tm send-keys -t "$S" -l ":8080"
wait_for "filter: :8080_"
keys Enter
wait_for "Flows (1)  sort: worst  filter: :8080"
hasnt "conn_refused 10.99"
keys Escape
wait_for "Flows (5)  sort: worst"
# filter by finding kind
keys / && tm send-keys -t "$S" -l "refused" && keys Enter
wait_for "Flows (4)  sort: worst  filter: refused"
keys Escape
wait_for "Flows (5)"

# detail of the worst flow: its timeline
keys Enter
wait_for "Timeline ("
has "Detail  (Esc back)"
has "ended: refused"
screen | grep -q "SYN 10.99.1.1:[0-9]* -> 10.99.1.2:8081" || fail "no SYN in the timeline"
checks=$((checks + 1))
has "conn_refused:"
has "Zeek conn_state REJ, history Sr;  Wireshark filter: ip.addr==10.99.1.1 && tcp.port=="
keys Escape
wait_for "Flows (5)"

# Tab to the findings feed: the newest finding is the server's health alert (no single flow)
keys Tab
keys Enter
wait_for "Finding: health_alert (error)"
has "a server-level finding"
has "Server 10.99.1.2:8081: BAD since"
has "History (1 intervals, oldest first)"
has "Wireshark filter: ip.addr==10.99.1.2 && tcp.port==8081"
keys Escape
wait_for "Findings ("
# the next one down is a refused connection: its detail carries the flow's timeline
keys Down
keys Enter
wait_for "Finding: conn_refused (error)"
has "Timeline ("
has "ended: refused"
keys Escape
wait_for "Findings ("
# Tab to the server panel; Enter filters by the selected server
keys Tab
keys Enter
wait_for "filter: 10.99.1.2:8081"
has "Flows (4)"
keys Escape
wait_for "Flows (5)"

# help
keys "?"
wait_for "flowmedic live view - keys"
has "Help  (Esc or ? back)"
keys Escape
wait_for "Flows (5)"

# pause: the display freezes and says so
keys p
wait_for "PAUSED - p to resume"
keys p
wait_gone "PAUSED"
wait_for "replay finished - q to quit"

# resize to 80x24: every panel still there, nothing wider than 80
tm resize-window -t "$S" -x 80 -y 24
sleep 0.5
wait_for "Servers ("
has "Flows (5)"
has "Findings ("
has "q quit  p pause"
has "conn_refused"
wide=$(screen | awk 'length > 80' | wc -l)
lines=$(screen | wc -l)
checks=$((checks + 1))
[ "$wide" -eq 0 ] || fail "$wide lines wider than 80 columns after resize"
checks=$((checks + 1))
[ "$lines" -le 24 ] || fail "$lines lines after resize to 24"
tm resize-window -t "$S" -x 120 -y 40
sleep 0.3
wait_for "Flows (5)"

# colours are used (server BAD row, ERROR findings)
checks=$((checks + 1))
tm capture-pane -e -p -t "$S" | grep -q "$(printf '\033')\[31m" || fail "no red on a colour terminal"

# q quits, the process exits cleanly
keys q
wait_for "EXITED rc=0"
# the view has given the terminal back: the summary an offline run prints is on it, before
# the exit (issue 13)
wait_for "flowmedic summary: 20 frames (20 TCP) over 1.246 s, 5 flows"
has "Findings: 5 error, 0 warn, 4 info"
has "incident error service_down 10.99.1.2:8081 since "
has "Top servers (2 seen):"
checks=$((checks + 1))
screen | awk '/flowmedic summary:/ { s = NR } /EXITED rc=0/ { e = NR } END { exit !(s && e > s) }' ||
    fail "the summary is not printed before the exit, after the view"
hasnt "Flows (5)  sort: worst"

# ---- 3. NO_COLOR, --no-color and a terminal without colours: monochrome ----
for how in "NO_COLOR=1" "--no-color" "TERM=vt100"; do
    case $how in
    --*) start 100 30 "" -r "$(sample refused.pcap)" --tui --speed max --no-db "$how" ;;
    *) start 100 30 "$how" -r "$(sample refused.pcap)" --tui --speed max --no-db ;;
    esac
    wait_for "replay finished - q to quit" 20
    has "BAD"
    has "ERROR conn_refused"
    checks=$((checks + 1))
    if tm capture-pane -e -p -t "$S" | grep -q "$(printf '\033')\[3[1-7]m"; then
        fail "$how: colours used"
    fi
    keys q
    wait_for "EXITED rc=0"
done

# ---- 4. with a database: the header shows the writer's state ----
start 120 40 "" -r "$(sample refused.pcap)" --tui --speed max -w "$tmp/tui.db"
wait_for "replay finished - q to quit" 20
has "tui.db"
has "written"
keys q
wait_for "EXITED rc=0"
has "flowmedic summary: 20 frames"
has "Findings stored in $tmp/tui.db"

# ---- 4b. -q: after the view, only the problem lines ----
start 120 40 "" -r "$(sample refused.pcap)" --tui --speed max --no-db -q
wait_for "replay finished - q to quit" 20
keys q
wait_for "EXITED rc=0"
has "incident error service_down 10.99.1.2:8081 since "
has "error conn_refused 10.99.1.2:8081 x4: "
hasnt "flowmedic summary:"

# ---- 5. paced replay: pause freezes the display while the capture continues ----
start 120 40 "" -r "$(sample refused.pcap)" --tui --speed 0.25 --no-db
wait_for "Flows (" 10
keys p
wait_for "PAUSED - p to resume"
frozen=$(screen | sed -n 2p)
sleep 1.5
checks=$((checks + 1))
[ "$(screen | sed -n 2p)" = "$frozen" ] || fail "the header changed while paused"
hasnt "replay finished"
hasnt "EXITED"
# the replay (1.25 s of capture at 0.25x = 5 s) ends while paused; after p the final state shows
sleep 4
keys p
wait_for "replay finished - q to quit" 10
has "packets 20 "
has "Flows (5)"
keys q
wait_for "EXITED rc=0"

# ---- 6. TLS: drill into a failed handshake ----
tls=$(sample tls-unknown-ca.pcap)
if [ -f "$tls" ]; then
    start 120 40 "" -r "$tls" --tui --speed max --no-db
    wait_for "replay finished - q to quit" 20
    keys Enter
    wait_for "Timeline ("
    has "TLS ClientHello"
    has "unknown_ca"
    keys q
    wait_for "EXITED rc=0"
fi

# ---- 6a. SYN retries: the SYN-ACK follows the SYN it answered, not the first one ----
# client port 57027 sent SYNs at +0, +1.01 s and +3.03 s; the server answered the third 0.1 ms
# later (the server RTT is timed from that SYN)
start 120 40 "" -r "$(sample accept-overflow-abort.pcap)" --tui --speed max --no-db
wait_for "replay finished - q to quit" 20
keys / && tm send-keys -t "$S" -l ":57027" && keys Enter
wait_for "Flows (1)  sort: worst  filter: :57027"
keys Enter
wait_for "Timeline ("
has "3 SYNs sent (2 retries)"
checks=$((checks + 1))
screen | grep -q "+3.03s .*SYN-ACK from server after 0.1ms" ||
    fail "SYN-ACK not placed after the answered (third) SYN: $(screen | grep SYN-ACK)"
checks=$((checks + 1))
screen | grep -q "+3.03s .*ACK from client: handshake complete" ||
    fail "handshake ACK not placed after the SYN-ACK: $(screen | grep 'ACK from client')"
keys q
wait_for "EXITED rc=0"

# ---- 6b. TLS: a chain the server sent without its intermediate, the suite by name ----
chain=$(sample tls-chain-incomplete.pcap)
if [ -f "$chain" ]; then
    start 140 50 "" -r "$chain" --tui --speed max --no-db --ca-file "$(sample tls-chain-root.pem)"
    wait_for "replay finished - q to quit" 20
    has "cert_chain_incomplete"
    keys Enter
    wait_for "Timeline ("
    has "cipher TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 (0xc02c)"
    keys Escape
    wait_for "Findings ("
    # the findings feed: down to the chain finding, whose detail says what was sent and why
    keys Tab
    for i in 1 2 3 4 5 6; do
        keys Enter
        sleep 0.3
        screen | grep -q "Finding: cert_chain_incomplete" && break
        keys Escape
        sleep 0.2
        keys Down
    done
    wait_for "Finding: cert_chain_incomplete (error)"
    has "chain: 1 certificate sent; verify: unable to get local issuer certificate (OpenSSL 20)"
    has "trust anchors: --ca-file"
    keys q
    wait_for "EXITED rc=0"
fi

# ---- 7a. --workers 2: the open flows come from the aggregator's merged view ----
for n in 1 2; do
    start 120 40 "" -r "$(sample syn-backlog.pcap)" --tui --speed 0.5 --no-db --workers $n
    wait_for "Flows (25)  sort: worst" 10
    wait_for "flows 25 tracked" 10
    has "10.99.1.2:9000"
    keys q
    wait_for "EXITED rc=0" 10
done

# ---- 7. live capture (-i) on a veth pair, frames injected from a sample ----
tns=fmtui-$$
va=fmt$$a
vb=fmt$$b
if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
    echo "note: live test skipped (needs root, ip and python3)"
elif ! fm_netns_lock || ! fm_ns "$tns" --try; then
    echo "note: live test skipped (cannot use a network namespace here)"
else
    fm_veth "$tns" "$va" "$tns" "$vb"
    for n in 1 2; do # 2: two capture handles, each read by its worker
    start 120 40 "ip netns exec $tns" -i "$va" --tui --no-db --workers $n tcp
    wait_for "flowmedic  live $va  filter: tcp" 10
    # send every frame of refused.pcap out of the peer, 50 ms apart
    ip netns exec "$tns" python3 - "$(sample refused.pcap)" "$vb" <<'PY' || fail "could not inject frames"
import socket, struct, sys, time
data = open(sys.argv[1], "rb").read()
le = data[:4] == b"\xd4\xc3\xb2\xa1"
frames, off = [], 24
while off + 16 <= len(data):
    incl = struct.unpack("<I" if le else ">I", data[off + 8:off + 12])[0]
    frames.append(data[off + 16:off + 16 + incl])
    off += 16 + incl
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[2], 0))
for f in frames:
    s.send(f)
    time.sleep(0.05)
PY
    checks=$((checks + 1))
    wait_for "10.99.1.2:8081" 10
    wait_for "conn_refused" 10
    screen | grep -q "packets [1-9][0-9]* " || fail "live: no packets counted"
    hasnt "replay finished"
    keys q
    wait_for "EXITED rc=0" 10
    has "flowmedic summary: "
    has "incident error service_down 10.99.1.2:8081"
    checks=$((checks + 1))
    grep -q "dropped by the kernel" "$tmp/stderr" || fail "live: no drop report at exit"
    done
fi

echo "$checks checks, $failed failed"
[ "$failed" -eq 0 ]
