#!/bin/sh
# tests/workers-exit.sh - the warnings said at exit (HTTP pipeline overflow, connections whose
# request slots were reclaimed, TLS connections not analysed ...) are said once, summed over
# the workers, in one engine's words: the same stderr lines with --workers 1, 2 and 4, not one
# line per worker ("worker 1: warning: ..."). The capture: http-mix.pcap's connection that
# pipelines more than 4 requests (client port 39411), copied to 4 client ports so that the
# workers each get some of them: 4 connections overflow whatever N.
. "$(dirname "$0")/lib.sh"
fm_need_flowmedic
fm_need tshark tcprewrite mergecap
fm_tmpdir
fail=0
tshark -r "$top_srcdir/samples/http-mix.pcap" -Y "tcp.port == 39411" -w "$tmp/one.pcap" 2>/dev/null ||
    bad "tshark could not select the pipelining connection"
for p in 40001 40002 40003 40004; do
    tcprewrite --portmap=39411:$p -i "$tmp/one.pcap" -o "$tmp/p$p.pcap" || bad "tcprewrite $p"
done
mergecap -w "$tmp/four.pcap" "$tmp"/p4000?.pcap || bad "mergecap"

say() { # $1: workers; the warnings flowmedic says at exit
    "$FLOWMEDIC" -r "$tmp/four.pcap" --no-db --json --workers "$1" >/dev/null 2>"$tmp/err$1"
    grep "warning" "$tmp/err$1"
}
want="flowmedic: warning: http records: 4 HTTP connections had more than 4 pipelined requests awaiting answers (records in state pipeline_overflow; later requests on them not followed)"
one=$(say 1)
[ "$one" = "$want" ] && ok "--workers 1 says: $one" || bad "--workers 1 says '$one', not '$want'"
for n in 2 4; do
    got=$(say $n)
    [ "$got" = "$one" ] && ok "--workers $n says the same line once" ||
        bad "--workers $n says
$got
not
$one"
done
# TLS: the sessions of every worker are said (2048 with the default stream-buffers, as one
# engine), and the connections not analysed summed, once
tls="$top_srcdir/samples/tls13-client-cert-rejected.pcap"
for n in 1 2; do
    "$FLOWMEDIC" -r "$tls" --no-db --json --workers $n --stream-cap 65536 --stream-budget 140000 \
        >/dev/null 2>"$tmp/tls$n"
done
for n in 1 2; do
    c=$(grep -c "warning: TLS: [0-9]* TLS connections not analysed: all 2048 stream sessions" "$tmp/tls$n")
    w=$(grep -c "worker [0-9]*:" "$tmp/tls$n")
    [ "$c" = 1 ] && [ "$w" = 0 ] && ok "TLS, --workers $n: one line, 2048 sessions" ||
        bad "TLS, --workers $n: $(cat "$tmp/tls$n")"
done
exit $fail
