#!/bin/sh
# zabbix.sh - contrib/zabbix with the real Zabbix agent 2: the user parameters
# (flowmedic.conf.in, paths pointed at this tree) in zabbix_agent2's test mode (-t), then the
# agent on a loopback port answering the template's items over the passive-check protocol,
# and the template's triggers firing at the runbook's thresholds on the samples
# (tests/contrib/zabbix_check.py).
. "$(dirname "$0")/../lib.sh"
fm_need zabbix_agent2
python3 -c 'import yaml' 2>/dev/null || fm_skip "python3-yaml is not installed"
fm_tmpdir
agent=
fm_at_exit '[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null'
mkdir "$tmp/state" "$tmp/prom"

# Metrics files: a sensor that has just started (no packet matched), and each sample.
"$FLOWMEDIC" -r "$top_srcdir/samples/http-clean.pcap" --no-db -q --metrics-file "$tmp/prom/zero.prom" \
    'tcp port 1' >/dev/null 2>&1 || { echo "FAIL: flowmedic (zero run)"; exit 1; }
for s in http-clean http-503 http-slow refused tls12-expired; do
    "$FLOWMEDIC" -r "$top_srcdir/samples/$s.pcap" --no-db -q --metrics-file "$tmp/prom/$s.prom" \
        >/dev/null 2>"$tmp/err" || { echo "FAIL: flowmedic -r $s.pcap"; cat "$tmp/err"; exit 1; }
done

sed -e "s|@FM_LIBEXECDIR@|$top_srcdir/contrib/zabbix|g" -e "s|@FM_STATEDIR@|$tmp/state|g" \
    "$top_srcdir/contrib/zabbix/flowmedic.conf.in" >"$tmp/flowmedic.conf"
# A free port in the range the agent accepts (1024..32767).
port=$(python3 -c '
import random, socket
for p in random.sample(range(20000, 32000), 200):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(p)
    break')
cat >"$tmp/agent.conf" <<CFG
LogType=file
LogFile=$tmp/agent.log
Server=127.0.0.1
ServerActive=
ListenIP=127.0.0.1
ListenPort=$port
Hostname=flowmedic-test
ControlSocket=$tmp/agent.sock
Include=$tmp/flowmedic.conf
CFG

# Test mode: the agent runs the user parameter itself.
cp "$tmp/prom/http-503.prom" "$tmp/state/eth1.prom"
out=$(zabbix_agent2 -c "$tmp/agent.conf" -t 'flowmedic.get[eth1,flowmedic_server_error_ratio,10.99.1.2:8080]')
echo "$out"
case "$out" in *'[s|0.25]'*) ;; *) echo "FAIL: zabbix_agent2 -t gave no error ratio 0.25"; exit 1 ;; esac
out=$(zabbix_agent2 -c "$tmp/agent.conf" -t 'flowmedic.discovery[eth1]')
echo "$out"
case "$out" in *'"{#SERVER}":"10.99.1.2:8080"'*) ;; *) echo "FAIL: zabbix_agent2 -t discovery"; exit 1 ;; esac

# The agent in the background, checked over the passive protocol.
zabbix_agent2 -c "$tmp/agent.conf" >"$tmp/agent.out" 2>&1 &
agent=$!
i=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), timeout=1)" 2>/dev/null; do
    i=$((i + 1))
    if [ $i -ge 50 ] || ! kill -0 $agent 2>/dev/null; then
        echo "FAIL: zabbix_agent2 did not listen on 127.0.0.1:$port"
        cat "$tmp/agent.out" "$tmp/agent.log" 2>/dev/null | tail -20
        exit 1
    fi
    sleep 0.1
done
python3 "$top_srcdir/tests/contrib/zabbix_check.py" "$top_srcdir/contrib/zabbix/flowmedic-template.yaml" \
    "$tmp/flowmedic.conf" "$port" "$tmp/state" "$tmp/prom"
