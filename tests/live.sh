#!/bin/sh
# live.sh - live capture end to end: two network namespaces joined by a veth pair, a real HTTP
# server and client, flowmedic -i on the server's veth with a BPF filter and -Z nobody, ended by
# SIGINT, with a Prometheus scrape of /metrics while it runs. Checks the flows and findings it
# reports, the metrics, that the filter held, and that kernel drop
# counters are printed at exit. Needs root and ip netns; skips (77) with a message otherwise.
. "$(dirname "$0")/lib.sh"
fm_need_netns "the live capture test"
fm_tmpdir 755
nsc=fmlive-$$-c
nss=fmlive-$$-s
vs=fmls$$
fm_pair "$nsc" fmlc$$ "$nss" "$vs" 10.98.1

# the server: HTTP on 8080; 8081 stays closed (refused)
fm_httpd "$nss" 10.98.1.2 8080 'ok\n' 100

ip netns exec "$nss" "$FLOWMEDIC" -i "$vs" -Z nobody --json --no-db --server 10.98.1.2 \
    --interval 1 --metrics-listen 127.0.0.1:9808 \
    'tcp port 8080 or tcp port 8081' >"$tmp/out.json" 2>"$tmp/err" &
fm_pid=$!
sleep 1.5
ip netns exec "$nsc" timeout 30 python3 -c '
import socket, time, urllib.request
for i in range(5):
    urllib.request.urlopen("http://10.98.1.2:8080/x%d" % i, timeout=5).read()
for i in range(3):
    s = socket.socket()
    try:
        s.connect(("10.98.1.2", 8081))
    except ConnectionRefusedError:
        pass
    s.close()
s = socket.socket(); s.settimeout(0.5)
try:
    s.connect(("10.98.1.2", 9999))   # not in the filter
except OSError:
    pass
time.sleep(0.5)'
sleep 2
# Prometheus scrape during the live capture, from inside the server's namespace
mfail=0
if ! ip netns exec "$nss" curl -sf --max-time 5 http://127.0.0.1:9808/metrics >"$tmp/metrics"; then
    echo "FAIL: no answer on /metrics during the live capture"
    mfail=1
elif ! python3 "$top_srcdir/tests/health/promcheck.py" "$tmp/metrics" \
    'flowmedic_packets_total>=40' \
    'flowmedic_server_connection_attempts_total{server="10.98.1.2:8080"}>=5' \
    'flowmedic_server_failed_total{server="10.98.1.2:8081",reason="refused"}>=3'; then
    echo "FAIL: /metrics during the live capture:"
    cat "$tmp/metrics"
    mfail=1
else
    echo "ok   /metrics scraped during the live capture"
fi
kill -INT "$fm_pid"
if ! fm_wait_exit "$fm_pid" 5; then
    echo "FAIL: flowmedic did not end within 5 s of SIGINT"
    exit 1
fi
wait "$fm_pid"
rc=$?
fm_pid=
python3 - "$tmp/out.json" "$tmp/err" "$rc" <<'PY'
import json, sys
out, err, rc = sys.argv[1], open(sys.argv[2]).read(), int(sys.argv[3])
objs = [json.loads(l) for l in open(out)]
flows = [o for o in objs if o["type"] == "flow"]
finds = [o for o in objs if o["type"] == "finding"]
summ = [o for o in objs if o["type"] == "summary"]
bad = []
if rc != 0: bad.append("exit status %d: %s" % (rc, err))
ok = [f for f in flows if f["server"] == "10.98.1.2:8080" and f["close"] == "fin"]
if len(ok) != 5: bad.append("expected 5 closed HTTP flows, got %d" % len(ok))
ref = [f for f in finds if f["kind"] == "conn_refused" and f["server"] == "10.98.1.2:8081"]
if len(ref) != 3: bad.append("expected 3 conn_refused findings, got %d" % len(ref))
if any(f["server"].endswith(":9999") for f in flows): bad.append("the BPF filter let port 9999 through")
if len(summ) != 1: bad.append("no summary line")
if "received by the kernel" not in err or "dropped by the kernel" not in err:
    bad.append("kernel drop counters not printed at exit: %r" % err)
if "Sanitizer" in err: bad.append("sanitizer report")
for b in bad: print("FAIL", b)
if not bad: print("ok live capture: 5 flows, 3 refused, filter held, drops reported:", err.strip().splitlines()[-1])
sys.exit(1 if bad else 0)
PY
[ $? -eq 0 ] && [ "$mfail" -eq 0 ]
