#!/bin/bash
# tests/gen/loss-bulk.sh c2s|s2c: samples/loss-bulk-c2s.pcap (300 KB upload) or
# samples/loss-bulk-s2c.pcap (300 KB download) with deterministic drops on the receiver's INPUT
# chain: every 40th data segment of the flow (fast retransmissions), plus a burst of consecutive
# segments (conntrack byte counter in a window) so that some repairs need an RTO.
# The tap is on the client veth: every dropped segment was seen by the tap (lost downstream).
# With a second argument "ipv6": the same over IPv6 with ip6tables, samples/loss-bulk-DIR-ipv6.pcap.
DIR=${1:-c2s}
FAM=${2:-ipv4}
case "$DIR:$FAM" in c2s:ipv4|s2c:ipv4|c2s:ipv6|s2c:ipv6) ;; *) echo "usage: $0 c2s|s2c [ipv6]" >&2; exit 2;; esac
. "$(dirname "$0")/lib.sh"
if [ "$FAM" = ipv6 ]; then gen_init "loss-bulk-$DIR-ipv6"; else gen_init "loss-bulk-$DIR"; fi
gen_pair
IPT=iptables
DST=$S4
if [ "$FAM" = ipv6 ]; then IPT=ip6tables; DST=$S6; fi
PORT=5001
BYTES=300000
PAUSE="--pause-after-chunk 10 --pause 0.6"
SPAUSE=""; CPAUSE=""
if [ "$DIR" = c2s ]; then
	CPAUSE=$PAUSE
	RNS=$NS_S; MODE=sink; CMODE=upload; MATCH="--dport $PORT"; CDIR=original
else
	SPAUSE=$PAUSE
	RNS=$NS_C; MODE=source; CMODE=download; MATCH="--sport $PORT"; CDIR=reply
fi
# receiver INPUT: a burst window (the conntrack byte counter of this direction is counted
# before INPUT, so a retransmission arriving after the window passes), then every 40th
# data segment (payload > 0: IP total length > 52 with timestamps).
RULE1="-p tcp $MATCH -m connbytes --connbytes ${BURST:-122:125} --connbytes-dir $CDIR --connbytes-mode packets -j DROP"
RULE2="-p tcp $MATCH -m length --length $([ "$FAM" = ipv6 ] && echo 120 || echo 100):65535 -m statistic --mode nth --every 40 --packet 39 -j DROP"
ip netns exec "$RNS" $IPT -A INPUT $RULE1
ip netns exec "$RNS" $IPT -A INPUT $RULE2
bg_s "$GEN_PY" "$GEN_TOOL" $SPAUSE bulk-server --host "$([ "$FAM" = ipv6 ] && echo :: || echo 0.0.0.0)" --port $PORT --mode $MODE --chunk 16384 --pace 0.02 \
	--log "$GEN_TMP/server.jsonl" --lifetime 60
wait_port "$NS_S" $PORT
cap_start
in_c timeout 90 "$GEN_PY" "$GEN_TOOL" $CPAUSE bulk-client --host "$DST" --port $PORT --mode $CMODE --bytes $BYTES --chunk 16384 --pace 0.02 \
	--out "$GEN_TMP/client.json"
sleep 0.5
cap_stop
ip netns exec "$RNS" $IPT -L INPUT -v -n -x >"$GEN_TMP/ipt.txt"
DROPS=$(awk '$3=="DROP"{printf "%s%s", sep, $1; sep=","}' "$GEN_TMP/ipt.txt")
cat "$GEN_TMP/ipt.txt" >&2
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" \
	--set "loss_rule=receiver ($([ "$DIR" = c2s ] && echo server || echo client) ns) $IPT INPUT: [1] $RULE1 ; [2] $RULE2" \
	--set "iptables_drop_packets=$DROPS (rule 1 burst, rule 2 nth)" \
	--set "sender=sends 16384-byte chunks 20 ms apart and pauses 0.6 s after the 10th chunk (the burst drop hits the end of that chunk, so it is repaired by TLP and RTO, not by SACK)" \
	--set "expected=one TCP connection, $CMODE of $BYTES bytes to $DST port $PORT completes; the $DIR direction has retransmissions (fast retransmissions for the nth drops, RTO retransmissions for the burst), originals seen at the tap, no RST"
