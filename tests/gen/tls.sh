#!/bin/bash
# tests/gen/tls.sh CASE: one TLS sample, samples/CASE.pcap (+ CASE.keylog: the client's
# SSLKEYLOGFILE, for TLS 1.3 decryption). Certificates are made fresh by tlscerts.sh; the
# client is always
#   openssl s_client -connect 10.99.1.2:PORT -servername invoice.test -verify_return_error
#                    -verify_hostname invoice.test -CAfile ca.crt -keylogfile ... -ign_eof
# and sends one HTTP/1.1 GET when the handshake completes; the server is openssl s_server -www
# (one connection) or, for the last two cases, fmgen.py silent-server.
# tls13-expired uses gnutls-cli (GnuTLS encrypts its alert under the handshake keys; OpenSSL 3.0
# sends it in the clear: that variant is tls13-expired-openssl).
# CASE: tls12-ok tls13-ok tls12-expired tls13-expired tls13-expired-openssl tls-unknown-ca tls-self-signed
#       tls-name-mismatch tls-version-mismatch tls-no-shared-cipher tls-no-server-hello
#       tls-reset-mid-handshake tls-hostile-cert
#       tls-chain-incomplete tls-chain-untrusted tls-chain-ok (run by tls-chain.sh, which makes
#       their PKI in $CHAIN_CERTS: the client trusts its root, -CAfile root.crt)
CASE=${1:?usage: $0 CASE}
PORT=8443
CERT=good
SOPTS=""
COPTS=""
CTIMEOUT=15
SERVER=s_server
CLIENT=openssl
NOINC=""
CHAIN=""
case "$CASE" in
tls12-ok) SOPTS="-tls1_2"; COPTS="-tls1_2"; NOINC=--no-incidents
	EXP="TLS 1.2 handshake completes, certificate invoice.test valid and trusted, one HTTP GET answered, clean close" ;;
tls13-ok) PORT=443; SOPTS="-tls1_3"; COPTS="-tls1_3"; NOINC=--no-incidents
	EXP="TLS 1.3 handshake completes (certificate encrypted), one HTTP GET answered, clean close" ;;
tls12-expired) CERT=expired; SOPTS="-tls1_2"; COPTS="-tls1_2"
	EXP="TLS 1.2: server certificate invoice.test expired 2024-12-31; the client aborts with a fatal certificate_expired alert (in the clear) after the server's flight" ;;
tls13-expired) CERT=expired; SOPTS="-tls1_3"; CLIENT=gnutls
	EXP="TLS 1.3: server certificate expired (encrypted); the GnuTLS client aborts with a fatal bad_certificate (42) alert sent encrypted under its handshake keys (one encrypted record with a 19-byte payload: 2 alert bytes, 1 inner type, 16-byte tag), then closes; no application data; decryptable with the .keylog file" ;;
tls13-expired-openssl) CERT=expired; SOPTS="-tls1_3"; COPTS="-tls1_3"
	EXP="TLS 1.3: server certificate expired (encrypted); the OpenSSL 3.0 client aborts with a fatal certificate_expired alert that it sends in the clear (it has not switched to its handshake keys yet); no application data" ;;
tls-unknown-ca) CERT=unknownca; SOPTS="-tls1_2"; COPTS="-tls1_2"
	EXP="TLS 1.2: certificate invoice.test issued by 'untrusted test CA', not in the client's CAfile: the client aborts with a fatal unknown_ca alert" ;;
tls-self-signed) CERT=selfsigned; SOPTS="-tls1_2"; COPTS="-tls1_2"
	EXP="TLS 1.2: self-signed certificate invoice.test: the client aborts with a fatal unknown_ca alert (verify error: self-signed certificate)" ;;
tls-name-mismatch) CERT=wrongname; SOPTS="-tls1_2"; COPTS="-tls1_2"
	EXP="TLS 1.2: SNI invoice.test but the certificate is for other.test (trusted CA, valid dates): the client aborts (hostname mismatch) with a fatal handshake alert" ;;
tls-version-mismatch) SOPTS="-tls1_3"; COPTS="-tls1_2"
	EXP="client offers only TLS 1.2, server accepts only TLS 1.3: the server answers the ClientHello with a fatal protocol_version alert, no ServerHello" ;;
tls-no-shared-cipher) SOPTS="-tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384"; COPTS="-tls1_2 -cipher ECDHE-ECDSA-CHACHA20-POLY1305"
	EXP="TLS 1.2, server allows only ECDHE-ECDSA-AES256-GCM-SHA384, client offers only ECDHE-ECDSA-CHACHA20-POLY1305 (+ SCSV): the server answers with a fatal handshake_failure alert, no ServerHello" ;;
tls-no-server-hello) SERVER=silent; CTIMEOUT=3
	EXP="a plain TCP server accepts and never answers: the ClientHello is ACKed but no ServerHello comes; the client gives up after 3 s (killed by timeout, its socket closes with FIN); the server closes ~5 s after accepting" ;;
tls-reset-mid-handshake) SERVER=rst
	EXP="a plain TCP server reads the ClientHello and closes with SO_LINGER 0: RST from the server during the handshake, the client reports a connection reset / unexpected EOF" ;;
tls-hostile-cert) CERT=hostile; SOPTS="-tls1_2"; COPTS="-tls1_2"
	EXP="TLS 1.2: server certificate invoice.test whose notAfter has month 13 (not a date) and whose subject O holds ESC [2J and U+009B (8-bit CSI); its signature no longer verifies: the client aborts with a fatal alert after the server's flight" ;;
tls-chain-incomplete) CHAIN=incomplete; SOPTS="-tls1_2"; COPTS="-tls1_2"
	EXP="TLS 1.2: the server sends only its leaf invoice.test (issued by 'flowmedic chain test intermediate'), not the intermediate; the client trusts only the root (tls-chain-root.pem): verify error 'unable to get local issuer certificate', fatal unknown_ca alert" ;;
tls-chain-untrusted) CHAIN=untrusted; SOPTS="-tls1_2"; COPTS="-tls1_2"
	EXP="TLS 1.2: the server sends leaf + intermediate + root of 'Elsewhere chain root', a CA the client does not trust (it trusts tls-chain-root.pem): verify error 'self-signed certificate in certificate chain', fatal unknown_ca alert" ;;
tls-chain-ok) CHAIN=ok; SOPTS="-tls1_2"; COPTS="-tls1_2"; NOINC=--no-incidents
	EXP="TLS 1.2: the server sends leaf + intermediate, the client verifies them to its root (tls-chain-root.pem); one HTTP GET answered, clean close" ;;
*) echo "unknown case $CASE" >&2; exit 2 ;;
esac
. "$(dirname "$0")/lib.sh"
. "$GEN_DIR/tlscerts.sh"
gen_init "$CASE"
command -v openssl >/dev/null || gen_die "missing openssl"
tls_certs "$GEN_TMP/certs"
C="$GEN_TMP/certs"
CACERT="$C/ca.crt"
SCERT="$C/$CERT.crt"
SKEY="$C/$CERT.key"
if [ -n "$CHAIN" ]; then
	[ -n "${CHAIN_CERTS:-}" ] && [ -s "$CHAIN_CERTS/root.crt" ] || gen_die "$CASE: run tests/gen/tls-chain.sh (it makes \$CHAIN_CERTS)"
	CACERT="$CHAIN_CERTS/root.crt"
	case "$CHAIN" in
	incomplete) CERT=chain-leaf-only; SCERT="$CHAIN_CERTS/leaf.crt"; SKEY="$CHAIN_CERTS/leaf.key" ;;
	untrusted) CERT=chain-elsewhere; SCERT="$CHAIN_CERTS/oleaf.crt"; SKEY="$CHAIN_CERTS/oleaf.key"
		SOPTS="$SOPTS -cert_chain $CHAIN_CERTS/ochain.pem" ;;
	ok) CERT=chain-leaf-intermediate; SCERT="$CHAIN_CERTS/leaf.crt"; SKEY="$CHAIN_CERTS/leaf.key"
		SOPTS="$SOPTS -cert_chain $CHAIN_CERTS/chain.pem" ;;
	esac
fi
gen_pair
case "$SERVER" in
s_server)
	bg_s timeout 40 openssl s_server -accept "$PORT" -cert "$SCERT" -key "$SKEY" -www -naccept 1 \
		$SOPTS >"$GEN_TMP/server.out" 2>&1 ;;
silent)
	bg_s "$GEN_PY" "$GEN_TOOL" silent-server --port "$PORT" --hold 5 --lifetime 30 --log "$GEN_TMP/server.jsonl" ;;
rst)
	bg_s "$GEN_PY" "$GEN_TOOL" silent-server --port "$PORT" --rst --lifetime 30 --log "$GEN_TMP/server.jsonl" ;;
esac
wait_port "$NS_S" "$PORT"
cap_start
set +e
if [ "$CLIENT" = gnutls ]; then
	command -v gnutls-cli >/dev/null || gen_die "this case needs gnutls-cli (apt-get install gnutls-bin)"
	CLIENT_CMD="gnutls-cli $S4 -p $PORT --sni-hostname invoice.test --verify-hostname invoice.test --x509cafile ca.crt --priority NORMAL:-VERS-ALL:+VERS-TLS1.3 (SSLKEYLOGFILE set)"
	printf 'GET / HTTP/1.1\r\nHost: invoice.test\r\nConnection: close\r\n\r\n' |
		SSLKEYLOGFILE="$GEN_TMP/keys.log" in_c timeout "$CTIMEOUT" gnutls-cli "$S4" -p "$PORT" --sni-hostname invoice.test \
		--verify-hostname invoice.test --x509cafile "$C/ca.crt" --priority NORMAL:-VERS-ALL:+VERS-TLS1.3 \
		>"$GEN_TMP/client.out" 2>&1
else
	CLIENT_CMD="openssl s_client -connect $S4:$PORT -servername invoice.test -verify_return_error -verify_hostname invoice.test -CAfile $([ -n "$CHAIN" ] && echo "root.crt (samples/tls-chain-root.pem)" || echo ca.crt) -ign_eof $COPTS"
	printf 'GET / HTTP/1.1\r\nHost: invoice.test\r\nConnection: close\r\n\r\n' |
	in_c timeout "$CTIMEOUT" openssl s_client -connect "$S4:$PORT" -servername invoice.test -verify_return_error \
		-verify_hostname invoice.test -CAfile "$CACERT" -keylogfile "$GEN_TMP/keys.log" -ign_eof $COPTS \
		>"$GEN_TMP/client.out" 2>&1
fi
CRC=$?
set -e
[ "$SERVER" = s_server ] || sleep 5.5
[ "$CLIENT" != gnutls ] || sleep 2
cap_stop
[ -f "$GEN_TMP/server.out" ] || : >"$GEN_TMP/server.out"
[ -f "$GEN_TMP/server.jsonl" ] || : >"$GEN_TMP/server.jsonl"
"$GEN_PY" - "$GEN_TMP/client.out" "$GEN_TMP/server.out" "$CRC" "$C" "${CHAIN:+$CHAIN_CERTS}" >"$GEN_TMP/tls.json" <<'PY'
import json, re, subprocess, sys
def lines(p):
    out, pem = [], False
    for l in open(p, errors="replace").read().splitlines():
        if "-----BEGIN" in l: pem = True; continue
        if "-----END" in l: pem = False; continue
        if not pem and l.strip(): out.append(l.rstrip())
    return out
cl, sl = lines(sys.argv[1]), lines(sys.argv[2])
def grab(ls, pat): return [l.strip() for l in ls if re.search(pat, l, re.I)]
certs = {}
for n in ("ca", "good", "expired", "wrongname", "unknownca", "selfsigned", "hostile"):
    r = subprocess.run(["openssl", "x509", "-in", "%s/%s.crt" % (sys.argv[4], n), "-noout", "-subject", "-issuer",
                        "-startdate", "-enddate", "-serial", "-fingerprint", "-sha256"], capture_output=True, text=True)
    certs[n] = r.stdout.strip().splitlines()
if len(sys.argv) > 5 and sys.argv[5]:
    for n in ("root", "inter", "leaf", "oroot", "ointer", "oleaf"):
        r = subprocess.run(["openssl", "x509", "-in", "%s/%s.crt" % (sys.argv[5], n), "-noout", "-subject",
                            "-issuer", "-startdate", "-enddate", "-serial", "-fingerprint", "-sha256"],
                           capture_output=True, text=True)
        certs["chain_" + n] = r.stdout.strip().splitlines()
print(json.dumps({
    "client_exit_code": int(sys.argv[3]),
    "client_verify": grab(cl, r"verify (return|error)|Verification|verify_return|certificate (is|has)|Status:|Certificate is"),
    "client_errors_and_alerts": grab(cl, r"alert|error|errno|unexpected eof|reset"),
    "client_protocol_cipher": grab(cl, r"^\s*(Protocol|Cipher)\s*:|^New, |Server certificate|^subject=|^issuer="),
    "client_http_status": grab(cl, r"^HTTP/1\.[01] "),
    "client_output": cl[:80],
    "server_errors_and_alerts": grab(sl, r"alert|error|ERROR|shared cipher|version"),
    "server_output": sl[:40],
    "certificates": certs,
}, indent=1))
PY
KEYS=""
if [ -s "$GEN_TMP/keys.log" ] && grep -qv '^#' "$GEN_TMP/keys.log"; then
	cp "$GEN_TMP/keys.log" "$GEN_SAMPLES/$CASE.keylog"
	KEYS="samples/$CASE.keylog (client SSLKEYLOGFILE)"
else
	rm -f "$GEN_SAMPLES/$CASE.keylog"
	KEYS="none (no secrets were derived)"
fi
# alerts as tshark sees them, without and with the key log
ALERTS=$("$GEN_PY" - "$GEN_PCAP" "$GEN_TMP/keys.log" <<'PY'
import json, os, subprocess, sys
def alerts(extra):
    r = subprocess.run(["tshark", "-2", "-n", "-r", sys.argv[1]] + extra + ["-Y", "tls.alert_message", "-T", "fields",
                        "-E", "separator=,", "-e", "frame.number", "-e", "ip.src", "-e", "tls.alert_message.level",
                        "-e", "tls.alert_message.desc"], capture_output=True, text=True)
    return [dict(zip(("frame", "src", "level", "description"), l.split(","))) for l in r.stdout.splitlines() if l]
out = {"without_keylog": alerts([])}
if os.path.exists(sys.argv[2]) and any(l.strip() and not l.startswith("#") for l in open(sys.argv[2])):
    out["with_keylog"] = alerts(["-o", "tls.keylog_file:" + sys.argv[2]])
print(json.dumps(out))
PY
)
gen_finish --json "tshark_alerts=$ALERTS" --part tls="$GEN_TMP/tls.json" --part server_log="$GEN_TMP/server.jsonl" \
	--set "server=$([ "$SERVER" = s_server ] && echo "openssl s_server -accept $PORT -cert $CERT.crt -key $CERT.key -www -naccept 1 $SOPTS" || echo "fmgen.py silent-server ($SERVER) on $PORT")" \
	--set "client=$CLIENT_CMD (timeout ${CTIMEOUT}s)" \
	--set "server_certificate=$CERT" --set "keylog=$KEYS" --set "openssl_version=$(openssl version)" \
	--set loss_rule=none --set "expected=$EXP" $NOINC
