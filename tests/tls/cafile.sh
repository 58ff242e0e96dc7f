#!/bin/sh
# cafile.sh - the trust anchors of the chain checks: --ca-file (repeatable, a bundle too), the
# ca-file configuration key and --set, the system trust store (X509_STORE_set_default_paths,
# which honours SSL_CERT_FILE), and a --ca-file that cannot be used (a usage error, exit 2).
. "$(dirname "$0")/../lib.sh"
fm_need_flowmedic
S="$top_srcdir/samples"
root="$S/tls-chain-root.pem"
[ -f "$root" ] || { echo "FAIL: $root is missing"; exit 1; }
fm_tmpdir
# chain findings of a run: "kind severity trust" per line, "none" when there is none
chain() {
    s=$1
    shift
    "$FLOWMEDIC" -r "$S/$s.pcap" --json --no-db -q "$@" 2>"$tmp/err" |
        python3 -c '
import json, sys
out = ["%s %s %s" % (r["kind"], r["severity"], r["trust"]) for r in map(json.loads, sys.stdin)
       if r.get("kind") in ("cert_untrusted", "cert_chain_incomplete")]
print("\n".join(out) if out else "none")'
}
expect() { # WHAT WANT GOT
    if [ "$2" = "$3" ]; then
        echo "ok   $1: $3"
    else
        echo "FAIL $1: want '$2', got '$3' ($(cat "$tmp/err"))"
        fail=1
    fi
}
expect "system store, good chain to a private root" "cert_chain_incomplete warn system" \
    "$(chain tls-chain-ok)"
expect "--ca-file, good chain" "none" "$(chain tls-chain-ok --ca-file "$root")"
expect "--ca-file, leaf only" "cert_chain_incomplete error ca_file" \
    "$(chain tls-chain-incomplete --ca-file "$root")"
# a bundle: some other CA first, the root last; and the option twice
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$tmp/o.key" \
    -subj "/CN=another test CA" -days 30 -out "$tmp/other.pem" 2>/dev/null
cat "$tmp/other.pem" "$root" >"$tmp/bundle.pem"
expect "--ca-file bundle" "none" "$(chain tls-chain-ok --ca-file "$tmp/bundle.pem")"
expect "--ca-file twice" "none" "$(chain tls-chain-ok --ca-file "$tmp/other.pem" --ca-file "$root")"
expect "--ca-file without the root" "cert_chain_incomplete error ca_file" \
    "$(chain tls-chain-ok --ca-file "$tmp/other.pem")"
# incidents: against --ca-file a chain finding is evidence by itself (the client accepted this
# handshake, but the operator says the clients trust only that file); against the system store
# it is not, while the client accepts the chain
incidents() {
    s=$1
    shift
    "$FLOWMEDIC" -r "$S/$s.pcap" --json --no-db -q "$@" 2>"$tmp/err" |
        python3 -c '
import json, sys
out = ["%s %s" % (r["cause"], r["severity"]) for r in map(json.loads, sys.stdin)
       if r["type"] == "incident" and r["event"] == "open"]
print("\n".join(out) if out else "none")'
}
expect "incident, --ca-file without the root" "tls_certificate error" \
    "$(incidents tls-chain-ok --ca-file "$tmp/other.pem")"
expect "incident, system store, the client accepts" "none" "$(incidents tls-chain-ok)"
# the configuration file and --set
printf 'ca-file = %s\n' "$root" >"$tmp/fm.conf"
expect "ca-file in --config" "none" "$(chain tls-chain-ok --config "$tmp/fm.conf")"
expect "--set ca-file=" "none" "$(chain tls-chain-ok --set "ca-file=$root")"
# the system store is OpenSSL's default paths: SSL_CERT_FILE replaces its bundle
expect "SSL_CERT_FILE as the system store" "none" \
    "$(SSL_CERT_FILE="$root" SSL_CERT_DIR="$tmp" chain tls-chain-ok)"
# an empty system store is said (once), and every chain is then found wanting
mkdir "$tmp/nocerts"
expect "empty system store" "cert_chain_incomplete warn system" \
    "$(SSL_CERT_FILE="$tmp/none.pem" SSL_CERT_DIR="$tmp/nocerts" chain tls-chain-ok)"
SSL_CERT_FILE="$tmp/none.pem" SSL_CERT_DIR="$tmp/nocerts" \
    "$FLOWMEDIC" -r "$S/tls-chain-ok.pcap" --no-db >/dev/null 2>"$tmp/err"
if grep -q "no CA certificate in the system trust store's bundle $tmp/none.pem" "$tmp/err"; then
    echo "ok   empty system store: warned"
else
    echo "FAIL empty system store: no warning in $(cat "$tmp/err")"
    fail=1
fi
# an unusable --ca-file: exit 2 and a message naming it, before any analysis
for bad in "$tmp/missing.pem" "$S/tls-chain-ok.pcap"; do
    "$FLOWMEDIC" -r "$S/tls-chain-ok.pcap" --no-db -q --ca-file "$bad" >/dev/null 2>"$tmp/err"
    rc=$?
    if [ "$rc" -eq 2 ] && grep -q -- "--ca-file $bad" "$tmp/err"; then
        echo "ok   --ca-file $(basename "$bad"): exit 2, $(head -n 1 "$tmp/err")"
    else
        echo "FAIL --ca-file $bad: exit $rc: $(cat "$tmp/err")"
        fail=1
    fi
done
exit "$fail"
