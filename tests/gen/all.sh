#!/bin/bash
# tests/gen/all.sh [NAME...]: regenerate every sample (or the named ones) into samples/ (or
# $GEN_SAMPLES), one
# scenario after another, then the derived bad-input variants. Needs root. Each scenario cleans
# up its own namespaces; at the end no fmgen-* namespace may remain.
# Regenerating changes ports, timestamps and sometimes counts: update the golden files after.
set -uo pipefail
D=$(cd "$(dirname "$0")" && pwd)
ALL="http-clean loss-bulk-c2s loss-bulk-s2c reset-server reset-client refused ipv6-http syn-backlog
accept-overflow-abort unreachable clean-with-loss tls12-ok tls13-ok tls12-expired tls13-expired
tls13-expired-openssl tls-unknown-ca tls-self-signed tls-name-mismatch tls-version-mismatch
tls-no-shared-cipher tls-no-server-hello tls-reset-mid-handshake tls-hostile-cert http-slow http-503 http-mix loss-upstream
zero-window keepalive middlebox-reset http-sll loss-bulk-s2c-ipv6 reset-after-fin service-down-window
firewall-window network-loss server-resets slow-window http-5xx-window receiver-stall tiny-retrans scan
rst-before-synack dependency pool tls13-client-cert-rejected tls-chain derived"
[ "$(id -u)" -eq 0 ] || { echo "all.sh: needs root" >&2; exit 1; }
run() { # NAME -> the script and its argument
	case "$1" in
	loss-bulk-c2s | loss-bulk-s2c) "$D/loss-bulk.sh" "${1#loss-bulk-}" ;;
	loss-bulk-c2s-ipv6 | loss-bulk-s2c-ipv6) n=${1#loss-bulk-}; "$D/loss-bulk.sh" "${n%-ipv6}" ipv6 ;;
	reset-server | reset-client) "$D/reset.sh" "${1#reset-}" ;;
	reset-after-fin) "$D/reset.sh" afterfin ;;
	syn-backlog) "$D/syn-backlog.sh" ;;
	accept-overflow-abort) "$D/syn-backlog.sh" abort ;;
	service-down-window | firewall-window | network-loss | server-resets | slow-window | http-5xx-window | receiver-stall)
		"$D/window.sh" "$1" ;;
	tls13-client-cert-rejected) "$D/tls13-client-cert.sh" ;;
	tls-chain) "$D/tls-chain.sh" ;;
	tls*) "$D/tls.sh" "$1" ;;
	derived) "$D/derived.sh" ;;
	*) [ -x "$D/$1.sh" ] || { echo "no scenario $1" >&2; return 2; }; "$D/$1.sh" ;;
	esac
}
fail=0
if [ $# -eq 0 ]; then
	# shellcheck disable=SC2086 # the list is split on purpose
	set -- $ALL
fi
for n in "$@"; do
	echo "=== $n" >&2
	if ! timeout 300 bash -c "$(declare -f run); D='$D'; run '$n'"; then
		echo "=== $n FAILED" >&2
		fail=1
	fi
	if ip netns list | grep -q '^fmgen-'; then
		echo "=== namespaces left after $n: $(ip netns list | grep '^fmgen-' | tr '\n' ' ')" >&2
		fail=1
	fi
done
exit $fail
