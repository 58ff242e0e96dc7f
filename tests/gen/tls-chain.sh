#!/bin/bash
# tests/gen/tls-chain.sh: the three certificate chain samples from one test PKI
# (tlscerts.sh tls_chain_certs), so that one root verifies them all:
#   tls-chain-incomplete  the server sends its leaf only (the intermediate is missing)
#   tls-chain-untrusted   the server sends leaf + intermediate + root of a CA nobody trusts
#   tls-chain-ok          the server sends leaf + intermediate: verifies with the root
# and samples/tls-chain-root.pem, that root (the --ca-file of their golden tests). Needs root.
set -euo pipefail
D=$(cd "$(dirname "$0")" && pwd)
GEN_SAMPLES=${GEN_SAMPLES:-$(cd "$D/../.." && pwd)/samples}
command -v openssl >/dev/null || { echo "missing openssl" >&2; exit 1; }
gen_die() { echo "tls-chain.sh: $*" >&2; exit 1; }
. "$D/tlscerts.sh"
CHAIN_CERTS=$(mktemp -d)
trap 'rm -rf "$CHAIN_CERTS"' EXIT INT TERM
tls_chain_certs "$CHAIN_CERTS"
export CHAIN_CERTS
for c in tls-chain-incomplete tls-chain-untrusted tls-chain-ok; do
	"$D/tls.sh" "$c"
done
cp "$CHAIN_CERTS/root.crt" "$GEN_SAMPLES/tls-chain-root.pem"
chmod 644 "$GEN_SAMPLES/tls-chain-root.pem"
