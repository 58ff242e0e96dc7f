#!/bin/sh
# tests/evidence/live.sh - --evidence-dir on a live capture: two network namespaces joined by a
# veth pair, a server with one closed port (refused connections: error findings) and a long
# HTTP download (many packets, no error), flowmedic -i on the server's veth with -w and
# --evidence-dir, ended by SIGINT. Checks that exactly the refused flows got evidence files,
# and that `flowmedic extract` on the live run (no capture files) takes them from the
# evidence directory and that they give the same findings again. Runs with --workers 1, then
# with 2 (two capture handles, each read by its worker; FM_WORKERS=N runs one). Needs root and
# ip netns; skips (77) otherwise. Takes /tmp/fm-netns.lock (tests/lib.sh).
. "$(dirname "$0")/../lib.sh"
fm_need_netns "the live evidence test"
if [ -z "${FM_WORKERS:-}" ]; then
    echo "== --workers 1"
    FM_WORKERS=1 sh "$0" || exit $?
    echo "== --workers 2"
    FM_WORKERS=2 exec sh "$0"
fi
fm_tmpdir
nsc=fmev-$$-c
nss=fmev-$$-s
vs=fmes$$
fm_pair "$nsc" fmec$$ "$nss" "$vs" 10.97.1
mkdir "$tmp/ev"

# the server: HTTP on 8080 with a 200 kB body; 8081 stays closed (refused)
fm_httpd "$nss" 10.97.1.2 8080 x 200000

ip netns exec "$nss" "$FLOWMEDIC" -i "$vs" --workers "$FM_WORKERS" --json -w "$tmp/live.db" \
    --server 10.97.1.2 \
    --evidence-dir "$tmp/ev" --evidence-packets 8,8 \
    'tcp port 8080 or tcp port 8081' >"$tmp/out.json" 2>"$tmp/err" &
fm_pid=$!
sleep 1.5
ip netns exec "$nsc" timeout 30 python3 -c '
import socket, time, urllib.request
urllib.request.urlopen("http://10.97.1.2:8080/big", timeout=5).read()
for i in range(3):
    s = socket.socket()
    try:
        s.connect(("10.97.1.2", 8081))
    except ConnectionRefusedError:
        pass
    s.close()
time.sleep(0.5)'
sleep 1
kill -INT "$fm_pid"
if ! fm_wait_exit "$fm_pid" 5; then
    echo "FAIL: flowmedic did not end within 5 s of SIGINT"
    exit 1
fi
wait "$fm_pid"
rc=$?
fm_pid=
python3 - "$tmp" "$rc" "$FLOWMEDIC" <<'PY'
import json, os, re, sqlite3, subprocess, sys
tmp, rc, fm = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bad = []
if rc != 0:
    bad.append("flowmedic -i exit status %d: %s" % (rc, open(tmp + "/err").read()))
if re.search(r"handle \d+ \(worker \d+\)", open(tmp + "/err").read()):
    bad.append("per-handle counters printed without -v: %s" % open(tmp + "/err").read())
if "received by the kernel" not in open(tmp + "/err").read():
    bad.append("no kernel counters at exit: %s" % open(tmp + "/err").read())
objs = [json.loads(l) for l in open(tmp + "/out.json") if l.startswith("{")]
flows = {o["flow_id"]: o for o in objs if o["type"] == "flow"}
errors = sorted({o["flow_id"] for o in objs
                 if o["type"] == "finding" and o["severity"] == "error" and o["flow_id"]})
run = sqlite3.connect(tmp + "/live.db").execute("SELECT id, inputs, evidence_dir FROM runs").fetchone()
if run[1] is not None or run[2] != os.path.realpath(tmp + "/ev"):
    bad.append("runs row: inputs %r, evidence_dir %r" % (run[1], run[2]))
files = sorted(os.listdir(tmp + "/ev"))
want = ["%d-%d.pcap" % (run[0], f) for f in errors]
refused = [f for f in errors if flows[f]["close"] == "refused"]
if len(refused) != 3 or files != want:
    bad.append("evidence files %s, expected one per refused flow %s" % (files, want))
big = [f for f in flows.values() if f["server"].endswith(":8080")]
if len(big) != 1 or big[0]["packets"]["c2s"] + big[0]["packets"]["s2c"] <= 16:
    bad.append("the download flow: %s" % big)

def norm(o):
    o = dict(o)
    o.pop("flow_id"); o.pop("frames")
    o["detail"] = re.sub(r"frame \d+", "frame N", o["detail"])
    return json.dumps(o, sort_keys=True)

for fid in errors:
    out = "%s/x%d.pcap" % (tmp, fid)
    r = subprocess.run([fm, "extract", tmp + "/live.db", "--flow", "%d:%d" % (run[0], fid),
                        "-o", out], capture_output=True, text=True)
    if r.returncode != 0:
        bad.append("extract %d: %s" % (fid, r.stderr)); continue
    a = subprocess.run([fm, "-r", out, "--json", "--no-db", "-q", "--server", "10.97.1.2"],
                       capture_output=True, text=True).stdout
    again = [json.loads(l) for l in a.splitlines() if l.startswith("{")]
    f1 = sorted(norm(o) for o in objs if o["type"] == "finding" and o["flow_id"] == fid)
    f2 = sorted(norm(o) for o in again if o["type"] == "finding" and o["flow_id"])
    if not f1 or f1 != f2:
        bad.append("flow %d: findings differ after extract:\n  %s\n  %s" % (fid, f1, f2))
    else:
        print("ok   live flow %d: evidence extracted, %d findings again" % (fid, len(f1)))
for b in bad: print("FAIL", b)
if not bad: print("ok   live: evidence only for the %d refused flows, extract reads it" % len(refused))
sys.exit(1 if bad else 0)
PY
