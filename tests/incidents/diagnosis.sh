#!/bin/sh
# diagnosis.sh - the diagnosis of every bundled sample: the incidents each opens (cause and
# severity), and nothing on the clean ones. Also: ids unique, every open closed, the JSON
# members of the contract present, since <= ts, and timely (open within 15 s of capture time
# after since).
set -u
. "$(dirname "$0")/../lib.sh"
fm_tmpdir
n=0
# sample  expected incidents (cause:severity, comma separated; - for none)  [options]
while read -r sample want opts; do
	case "$sample" in '' | '#'*) continue ;; esac
	n=$((n + 1))
	pcap="$top_srcdir/samples/$sample.pcap"
	if [ ! -f "$pcap" ]; then
		echo "FAIL $sample: samples/$sample.pcap is missing"
		fail=$((fail + 1))
		continue
	fi
	opts=$(printf '%s' "$opts" | sed "s|samples/|$top_srcdir/samples/|g")
	# shellcheck disable=SC2086
	"$FLOWMEDIC" -r "$pcap" --json --no-db -q $opts >"$tmp/out" 2>/dev/null
	rc=$?
	if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
		echo "FAIL $sample: flowmedic exited $rc"
		fail=$((fail + 1))
		continue
	fi
	if got=$(python3 - "$tmp/out" "$want" <<'PY'
import json, sys
want = sorted(x for x in sys.argv[2].split(",") if x != "-")
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
inc = [r for r in recs if r["type"] == "incident"]
keys = ["type", "id", "event", "ts", "server", "cause", "layer", "severity", "since", "until",
        "connections_affected", "connections_total", "clients_affected", "summary", "advice",
        "evidence", "confidence"]
opened, closed, errs = {}, set(), []
for r in inc:
    for k in keys:
        if k not in r:
            errs.append("member %s missing" % k)
    # requests: only http_errors lists them (its http_5xx requests, with their status)
    ev_keys = {"kinds", "flows", "frames"} | ({"requests"} if r["cause"] == "http_errors" else set())
    if set(r["evidence"]) != ev_keys:
        errs.append("evidence members %s" % sorted(r["evidence"]))
    if r["cause"] == "http_errors":
        reqs = r["evidence"].get("requests", [])
        if not reqs or any(not 500 <= q["status"] <= 599 or not q["path"] for q in reqs):
            errs.append("#%d http_errors requests %r" % (r["id"], reqs))
        if r["clients_affected"] < 1:
            errs.append("#%d http_errors with clients_affected 0" % r["id"])
    if r["since"] > r["ts"] + 1e-6:
        errs.append("#%d since after ts" % r["id"])
    if r["event"] == "open":
        if r["id"] in opened:
            errs.append("#%d opened twice" % r["id"])
        opened[r["id"]] = "%s:%s" % (r["cause"], r["severity"])
        if r["ts"] - r["since"] > 15:
            errs.append("#%d opened %.1f s after its first evidence" % (r["id"], r["ts"] - r["since"]))
        if r["until"] is not None:
            errs.append("#%d open with an until" % r["id"])
    elif r["event"] == "close":
        closed.add(r["id"])
        if r.get("close_reason") not in ("recovered", "no_traffic", "end_of_input"):
            errs.append("#%d close_reason %r" % (r["id"], r.get("close_reason")))
        if r["until"] is None:
            errs.append("#%d closed without until" % r["id"])
    if not r["advice"] or len(r["advice"]) < 80:
        errs.append("#%d advice too short" % r["id"])
if set(opened) != closed:
    errs.append("opened %s, closed %s" % (sorted(opened), sorted(closed)))
got = sorted(opened.values())
print(",".join(got) if got else "-")
if errs:
    print("; ".join(errs))
    sys.exit(1)
sys.exit(0 if got == want else 1)
PY
	); then
		echo "ok   $sample: $got"
	else
		echo "FAIL $sample: want $want, got $got"
		fail=$((fail + 1))
	fi
done <<'LIST'
syn-backlog syn_queue_overflow:error
syn-backlog syn_queue_overflow:error --interval 1
accept-overflow-abort accept_queue_overflow:error,syn_queue_overflow:warn
unreachable host_unreachable:error
refused service_down:error
middlebox-reset forged_resets:warn
reset-server server_resets:warn
zero-window network_loss:info,receiver_stall:warn
http-503 http_errors:error
http-slow slow_responses:warn
http-clean-caploss capture_loss:warn
tls12-expired tls_certificate:error
tls13-expired tls_certificate:error --tls-keylog samples/tls13-expired.keylog
tls13-expired tls_handshake:error
tls13-expired-openssl tls_certificate:error
tls-name-mismatch tls_certificate:error
tls-self-signed tls_certificate:error
tls-unknown-ca tls_certificate:error
tls-version-mismatch tls_handshake:error
tls-no-shared-cipher tls_handshake:error
tls-no-server-hello tls_handshake:error
tls-reset-mid-handshake tls_handshake:error
tls-chain-incomplete tls_certificate:error
tls-chain-incomplete tls_certificate:error --ca-file samples/tls-chain-root.pem
tls-chain-untrusted tls_certificate:error
tls-chain-untrusted tls_certificate:error --ca-file samples/tls-chain-root.pem
tls-chain-ok -
tls-chain-ok - --ca-file samples/tls-chain-root.pem
clean-with-loss network_loss:info
loss-bulk-c2s network_loss:info
loss-bulk-s2c network_loss:info
loss-bulk-s2c-ipv6 network_loss:info
loss-upstream network_loss:info,network_loss:info
http-clean -
http-clean-dup -
http-clean-oneway -
http-clean-qinq -
http-clean-snaplen96 -
http-clean-truncated -
http-clean-vlan -
http-sll -
ipv6-http -
keepalive -
reset-after-fin -
tls12-ok -
tls13-ok -
tls13-ok - --tls-keylog samples/tls13-ok.keylog
LIST
echo "incident samples: $n, $fail failed"
[ "$fail" -eq 0 ]
