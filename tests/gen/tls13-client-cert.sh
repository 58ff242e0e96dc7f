#!/bin/bash
# tests/gen/tls13-client-cert.sh: samples/tls13-client-cert-rejected.pcap - openssl s_server on
# :8443, TLS 1.3 only, requiring a client certificate from the test CA (-Verify 1 -CAfile ca.crt
# -verify_return_error -www; without -verify_return_error s_server accepts an untrusted one). Ten connections from openssl s_client, 1 s apart: 2 present a valid client certificate
# (EKU clientAuth, signed by the CA) and get their HTTP answer; then 4 present none and 4 present
# one from a CA the server does not trust. Under TLS 1.3 the server rejects them after its own
# Finished, when the client's certificate flight arrives: its alert (certificate_required 116 /
# unknown_ca 48) is encrypted, and no application data flows from the server. Key log included.
# Expected: tls_handshake on 10.99.1.2:8443 from the first rejected connection to the end.
. "$(dirname "$0")/lib.sh"
. "$GEN_DIR/tlscerts.sh"
gen_init tls13-client-cert-rejected
command -v openssl >/dev/null || gen_die "missing openssl"
tls_certs "$GEN_TMP/certs"
C="$GEN_TMP/certs"
(
	cd "$C" || exit 1
	for n in client otherclient; do openssl ecparam -name prime256v1 -genkey -noout -out "$n.key" 2>/dev/null; done
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' >client.ext
	openssl req -new -key client.key -subj "/CN=billing-client" -out client.csr
	openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 -sha256 -extfile client.ext \
		-out client.crt 2>/dev/null
	openssl req -new -key otherclient.key -subj "/CN=billing-client" -out otherclient.csr
	openssl x509 -req -in otherclient.csr -CA otherca.crt -CAkey otherca.key -CAcreateserial -days 365 -sha256 \
		-extfile client.ext -out otherclient.crt 2>/dev/null
)
[ -s "$C/client.crt" ] && [ -s "$C/otherclient.crt" ] || gen_die "client certificates not made"
gen_pair
PORT=8443
bg_s timeout 60 openssl s_server -accept $PORT -tls1_3 -cert "$C/good.crt" -key "$C/good.key" -Verify 1 \
	-CAfile "$C/ca.crt" -verify_return_error -www >"$GEN_TMP/server.out" 2>&1
wait_port "$NS_S" $PORT
cap_start tcp
: >"$GEN_TMP/clients.jsonl"
: >"$GEN_TMP/keys.log"
i=0
for who in good good none none none none other other other other; do
	i=$((i + 1))
	case $who in
	good) CERTOPT="-cert $C/client.crt -key $C/client.key" ;;
	other) CERTOPT="-cert $C/otherclient.crt -key $C/otherclient.key" ;;
	none) CERTOPT="" ;;
	esac
	T=$("$GEN_PY" -c 'import time; print("%.6f" % time.time())')
	set +e
	# shellcheck disable=SC2086 # CERTOPT is a list of options
	printf 'GET / HTTP/1.1\r\nHost: invoice.test\r\nConnection: close\r\n\r\n' |
		in_c timeout 5 openssl s_client -connect "$S4:$PORT" -servername invoice.test -tls1_3 -CAfile "$C/ca.crt" \
			-verify_return_error $CERTOPT -keylogfile "$GEN_TMP/keys.$i" -ign_eof >"$GEN_TMP/client.$i" 2>&1
	RC=$?
	set -e
	cat "$GEN_TMP/keys.$i" >>"$GEN_TMP/keys.log" 2>/dev/null || true
	"$GEN_PY" - "$GEN_TMP/client.$i" "$i" "$who" "$T" "$RC" >>"$GEN_TMP/clients.jsonl" <<'PY'
import json, re, sys
out = open(sys.argv[1], errors="replace").read()
print(json.dumps({"i": int(sys.argv[2]), "client_certificate": {"good": "valid (test CA, clientAuth)", "none": "none",
                  "other": "from the untrusted CA"}[sys.argv[3]], "t_start": float(sys.argv[4]),
                  "exit_code": int(sys.argv[5]), "http_status": re.findall(r"HTTP/1\.[01] [0-9]+[^\r\n]*", out)[:1],
                  "alerts_and_errors": [l.strip() for l in out.splitlines() if re.search(r"alert|error", l, re.I)][:4]},
                 sort_keys=True))
PY
	sleep 1
done
cap_stop
cp "$GEN_TMP/keys.log" "$GEN_SAMPLES/$GEN_NAME.keylog"
SINCE=$("$GEN_PY" -c '
import json, sys
print(min(r["t_start"] for r in map(json.loads, open(sys.argv[1])) if r["client_certificate"] != "valid (test CA, clientAuth)"))' \
	"$GEN_TMP/clients.jsonl")
ALERTS=$(tshark -2 -n -r "$GEN_PCAP" -o "tls.keylog_file:$GEN_TMP/keys.log" -Y tls.alert_message -T fields -E separator=, \
	-e frame.number -e ip.src -e tls.alert_message.desc 2>/dev/null | tr '\n' ' ')
gen_finish --part clients="$GEN_TMP/clients.jsonl" \
	--set "server=openssl s_server -accept $PORT -tls1_3 -cert good.crt -key good.key -Verify 1 -CAfile ca.crt -verify_return_error -www" \
	--set "client=openssl s_client -connect $S4:$PORT -servername invoice.test -tls1_3 -CAfile ca.crt -verify_return_error [-cert C -key K] -ign_eof, one GET" \
	--set "openssl_version=$(openssl version)" --set "keylog=samples/$GEN_NAME.keylog (the clients' SSLKEYLOGFILE)" \
	--set "tshark_alerts_with_keylog=frame,src,description: $ALERTS" --set loss_rule=none \
	--set "expected=connections 1-2 (valid client certificate) complete and get HTTP 200; connections 3-6 (no client certificate) and 7-10 (certificate from an untrusted CA) are rejected by the server after its Finished with an encrypted alert (certificate_required 116 / unknown_ca 48 when decrypted), no application data from the server: failed TLS 1.3 handshakes (client certificate)" \
	--incident "{\"cause\":\"tls_handshake\",\"server\":\"$S4:$PORT\",\"since\":$SINCE,\"until\":null}"
