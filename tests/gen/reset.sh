#!/bin/bash
# tests/gen/reset.sh server|client: samples/reset-server.pcap (the server aborts mid-transfer:
# SO_LINGER {1,0} close after sending 64 KiB of an announced 200000 bytes) or
# samples/reset-client.pcap (the client aborts with SO_LINGER {1,0} after receiving 40000 of
# 300000 bytes while the server is still sending). No loss.
# With "afterfin": samples/reset-after-fin.pcap - the server sends 3000 bytes and close()s at
# once (FIN); 0.2 s after reading EOF the client sends more data, which the server's kernel
# answers with RST (data for a closed socket).
WHO=${1:-server}
case "$WHO" in server|client|afterfin) ;; *) echo "usage: $0 server|client|afterfin" >&2; exit 2;; esac
. "$(dirname "$0")/lib.sh"
if [ "$WHO" = afterfin ]; then gen_init reset-after-fin; else gen_init "reset-$WHO"; fi
gen_pair
PORT=5002
if [ "$WHO" = server ]; then
	bg_s "$GEN_PY" "$GEN_TOOL" bulk-server --host 0.0.0.0 --port $PORT --mode abort --abort-after 65536 \
		--abort-wait 0.2 --chunk 8192 --pace 0.01 --log "$GEN_TMP/server.jsonl" --lifetime 30
	CMODE=download; BYTES=200000
	EXP="one connection to $S4:$PORT: the client asks for $BYTES bytes; the server sends 65536, waits 0.2 s and aborts (SO_LINGER 0): one RST from the server mid-transfer (after data, no FIN); the client's recv() fails with ECONNRESET"
elif [ "$WHO" = afterfin ]; then
	bg_s "$GEN_PY" "$GEN_TOOL" bulk-server --host 0.0.0.0 --port $PORT --mode source-close \
		--log "$GEN_TMP/server.jsonl" --lifetime 30
	CMODE=download-then-send; BYTES=3000
	EXP="one connection to $S4:$PORT: the server sends $BYTES bytes and closes (FIN); the client ACKs, 0.2 s later sends 12 bytes: the server's kernel answers with RST (reset after FIN, by the server); the client's next send fails with EPIPE/ECONNRESET"
else
	bg_s "$GEN_PY" "$GEN_TOOL" bulk-server --host 0.0.0.0 --port $PORT --mode source-until-error \
		--chunk 8192 --pace 0.01 --log "$GEN_TMP/server.jsonl" --lifetime 30
	CMODE=download-abort; BYTES=300000
	EXP="one connection to $S4:$PORT: the client asks for $BYTES bytes, reads at least 40000, then aborts (SO_LINGER 0): RST from the client mid-transfer; the server's next send() fails (EPIPE/ECONNRESET); data the server had in flight may draw further RSTs from the client's kernel"
fi
wait_port "$NS_S" $PORT
cap_start
in_c timeout 60 "$GEN_PY" "$GEN_TOOL" bulk-client --host "$S4" --port $PORT --mode $CMODE --bytes $BYTES \
	--abort-after 40000 --abort-wait "$([ "$WHO" = afterfin ] && echo 0.2 || echo 0.05)" --out "$GEN_TMP/client.json" || true
sleep 0.5
cap_stop
gen_finish --part client="$GEN_TMP/client.json" --part server="$GEN_TMP/server.jsonl" \
	--set "loss_rule=none (no packet is dropped; a retransmission tshark shows is a Linux tail loss probe during the paced send)" --set "reset_by=$([ "$WHO" = afterfin ] && echo server || echo "$WHO")" --set "expected=$EXP"
